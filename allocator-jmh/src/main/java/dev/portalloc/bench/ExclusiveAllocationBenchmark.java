package dev.portalloc.bench;

import dev.portalloc.Algorithm;
import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;
import dev.portalloc.internal.random.RandomSource;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Exclusive allocation at steady occupancy: one operation is an automatic acquisition immediately followed by
 * the release of the acquired port, so the occupancy never changes. At {@code occupancy=full} the operation is
 * a failed acquisition ({@link PortAllocator#NONE}). The port range is {@link PortSet#LINUX_DEFAULT}
 * (32768-60999, 28,232 ports), pre-filled with a fixed random subset (see {@link Occupancy}).
 *
 * <p>Measured in the same run, so that ratios compare like with like:
 * <ul>
 * <li>{@code allocator*}: {@link PortAllocator}, 1 thread and 2 threads sharing one allocator;</li>
 * <li>{@code local*}: the same through each thread's {@link PortAllocator.Local} handle, which skips the look-up
 *     of the calling thread's state (50 % and 99 %, 1 and 2 threads);</li>
 * <li>{@code randomStart*}: the same with {@link Algorithm#randomStart()} (RFC 6056 Algorithm 1, the baseline's
 *     own algorithm: random start + sequential scan), 1 and 2 threads;</li>
 * <li>{@code control*}: the physical costs the allocator is judged against: one {@link ThreadLocalRandom}
 *     draw, one draw of the allocator's own generator ({@link RandomSource#nextIndex}, the batched AES/CTR keystream
 *     that selection draws from), a CAS on a
 *     thread-private padded slot, a CAS at a random index of one shared 8 KiB array (1 and 2 threads), and the
 *     rejection loop of uniform selection alone at 50 %, one draw and one branch per probe
 *     ({@code controlUniformRejection}) and in the allocator's rounds of four probes per draw
 *     ({@code controlUniformRounds}); the floors of the targets, which do, in the simplest way, only the work
 *     an exactly uniform lock-free allocator cannot skip: those rounds with a claim and a release by CAS at 50 %
 *     ({@code controlUniformRoundsCas*}, 1 and 2 threads), and a rank drawn over exact per-block counts with
 *     two CAS and two atomic adds at 99 % and one free port ({@code controlExactCountsCas});</li>
 * <li>{@code bitSet*}, {@code concurrentSet}, {@code operatingSystem}: what users would otherwise write
 *     ({@link SynchronizedBitSetPorts}, {@link ConcurrentSetPorts}, {@link LoopbackUdpPorts}).</li>
 * </ul>
 * Every benchmark returns its result so that JMH consumes it.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ExclusiveAllocationBenchmark {
    /** The automatic port range of every benchmark. */
    static final PortSet RANGE = PortSet.LINUX_DEFAULT;
    /** {@link ConcurrentSetPorts}'s probe limit when one port or none is free (instead of the range size). */
    static final int CAPPED_PROBES = 1024;

    // ---------------------------------------------------------------------------------------------------------
    // Fixtures: implementations pre-filled to an occupancy, shared by all threads (Scope.Benchmark).
    // Subclasses declare the occupancies: all of them at 1 thread, 50 % and 99 % at 2 threads.

    /** A {@link PortAllocator} over {@link #RANGE}, pre-filled; checks at the end that the occupancy held. */
    public abstract static class AllocatorFixture {
        PortAllocator ports;
        private int held;

        abstract String occupancy();

        /** @return the allocator's algorithm; uniform unless a fixture says otherwise */
        Algorithm algorithm() {
            return Algorithm.uniform();
        }

        @Setup(Level.Trial)
        public void fill() {
            ports = PortAllocator.builder().ports(RANGE).algorithm(algorithm()).seed(Occupancy.SEED).build();
            held = Occupancy.fill(occupancy(), RANGE, ports::tryAcquire);
        }

        @TearDown(Level.Trial)
        public void checkSteady() {
            Occupancy.checkSteady(held, ports.stats().heldPorts());
        }
    }

    @State(Scope.Benchmark)
    public static class Allocator extends AllocatorFixture {
        @Param({"0", "0.5", "0.9", "0.99", "one-free", "full"})
        public String occupancy;

        @Override
        String occupancy() {
            return occupancy;
        }
    }

    @State(Scope.Benchmark)
    public static class SharedAllocator extends AllocatorFixture {
        @Param({"0.5", "0.99"})
        public String occupancy;

        @Override
        String occupancy() {
            return occupancy;
        }
    }

    /**
     * The benchmark thread's {@link PortAllocator.Local} handle on the shared allocator at 50 % or 99 %: obtained
     * by each JMH worker thread in its own set-up (thread-scoped states are set up by the thread that uses them).
     */
    @State(Scope.Thread)
    public static class Handle {
        PortAllocator.Local local;

        @Setup(Level.Trial)
        public void obtain(SharedAllocator shared) {
            local = shared.ports.local();
        }
    }

    /** An {@link AllocatorFixture} with {@link Algorithm#randomStart()}, the baseline's own algorithm. */
    public abstract static class RandomStartFixture extends AllocatorFixture {
        @Override
        Algorithm algorithm() {
            return Algorithm.randomStart();
        }
    }

    @State(Scope.Benchmark)
    public static class RandomStartAllocator extends RandomStartFixture {
        @Param({"0.5", "0.99"})
        public String occupancy;

        @Override
        String occupancy() {
            return occupancy;
        }
    }

    @State(Scope.Benchmark)
    public static class SharedRandomStartAllocator extends RandomStartFixture {
        @Param({"0.5"})
        public String occupancy;

        @Override
        String occupancy() {
            return occupancy;
        }
    }

    /** A {@link SynchronizedBitSetPorts} over {@link #RANGE}, pre-filled. */
    public abstract static class BitSetFixture {
        SynchronizedBitSetPorts ports;
        private int held;

        abstract String occupancy();

        @Setup(Level.Trial)
        public void fill() {
            ports = new SynchronizedBitSetPorts(RANGE);
            held = Occupancy.fill(occupancy(), RANGE, ports::tryAcquire);
        }

        @TearDown(Level.Trial)
        public void checkSteady() {
            Occupancy.checkSteady(held, ports.heldCount());
        }
    }

    @State(Scope.Benchmark)
    public static class LockedBitSet extends BitSetFixture {
        @Param({"0", "0.5", "0.9", "0.99", "one-free", "full"})
        public String occupancy;

        @Override
        String occupancy() {
            return occupancy;
        }
    }

    @State(Scope.Benchmark)
    public static class SharedLockedBitSet extends BitSetFixture {
        @Param({"0.5", "0.99"})
        public String occupancy;

        @Override
        String occupancy() {
            return occupancy;
        }
    }

    /**
     * A {@link ConcurrentSetPorts} over {@link #RANGE}, pre-filled. The probe limit is the range size, except
     * at {@code one-free} and {@code full} where that would be O(range) per operation: there it is
     * {@link #CAPPED_PROBES}, so at {@code one-free} most operations are false exhaustions.
     */
    @State(Scope.Benchmark)
    public static class ConcurrentSet {
        @Param({"0", "0.5", "0.9", "0.99", "one-free", "full"})
        public String occupancy;
        ConcurrentSetPorts ports;
        private int held;

        @Setup(Level.Trial)
        public void fill() {
            final boolean saturated = occupancy.equals("one-free") || occupancy.equals("full");
            ports = new ConcurrentSetPorts(RANGE, saturated ? CAPPED_PROBES : RANGE.size());
            held = Occupancy.fill(occupancy, RANGE, ports::tryAcquire);
        }

        @TearDown(Level.Trial)
        public void checkSteady() {
            Occupancy.checkSteady(held, ports.heldCount());
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Control states.

    /** The draw bound, read from a field so that the JIT cannot fold it into a constant. */
    @State(Scope.Thread)
    public static class Bound {
        int bound = RANGE.size();
    }

    /** The allocator's per-thread generator, seeded as in the allocator fixtures. */
    @State(Scope.Thread)
    public static class Generator {
        final RandomSource random = RandomSource.fromSeed(Occupancy.SEED, 0);
        int bound = RANGE.size();
    }

    /** One long with 128 bytes of padding on each side (two cache lines, against adjacent-line prefetch). */
    @State(Scope.Thread)
    public static class PrivateSlot {
        static final VarHandle CELL = MethodHandles.arrayElementVarHandle(long[].class);
        static final int SLOT = 16;
        final long[] cells = new long[2 * SLOT + 1];
    }

    /**
     * A plain {@code long[]} bitmap of {@link #RANGE} (one bit per port) held at 50 % by {@link Occupancy}: the
     * floors of exactly uniform selection by rejection.
     */
    public abstract static class HalfFullBitsFixture {
        final int size = RANGE.size();
        /** The smallest 2^k - 1 at least {@code size - 1}: the offsets that {@code controlUniformRounds} draws. */
        final int cover = -1 >>> Integer.numberOfLeadingZeros(size - 1);
        /** One bit per index of the cover (indices past {@code size} stay 0 and are rejected by range). */
        final long[] bits = new long[(cover >>> 6) + 1];

        @Setup(Level.Trial)
        public void fill() {
            holdSubset(bits, "0.5");
        }
    }

    /**
     * Sets the bits of {@link Occupancy}'s subset of {@link #RANGE} for {@code occupancy} in a one-bit map indexed
     * by offset into the range (set = held), as the allocator fixtures hold the same ports.
     */
    static void holdSubset(long[] bits, String occupancy) {
        final int first = RANGE.first();
        Occupancy.fill(occupancy, RANGE, port -> {
            final int i = port - first;
            final boolean free = (bits[i >>> 6] & 1L << i) == 0;
            bits[i >>> 6] |= 1L << i;
            return free;
        });
    }

    /**
     * The bitmap private to each thread: probed at {@link ThreadLocalRandom} indices until a free port turns up
     * (2 probes on average, each a draw, a load and a branch no predictor can guess), or in rounds.
     */
    @State(Scope.Thread)
    public static class HalfFullBits extends HalfFullBitsFixture {
    }

    /** The bitmap shared by all threads, claimed and released by CAS ({@code controlUniformRoundsCas*}). */
    @State(Scope.Benchmark)
    public static class SharedHalfFullBits extends HalfFullBitsFixture {
    }

    /**
     * {@code controlExactCountsCas}'s state, shared by all threads: one bit per port of {@link #RANGE} (set = held;
     * the bits past the range stay set), filled to {@code occupancy} like the allocator, and the exact count of
     * free ports of each block of {@value #WORDS_PER_BLOCK} words (1,024 ports): 28 ints, dense, as the
     * allocator's bounds.
     */
    @State(Scope.Benchmark)
    public static class CountedBits {
        static final int WORDS_PER_BLOCK = 16;
        @Param({"0.99", "one-free"})
        public String occupancy;
        final long[] bits = new long[(RANGE.size() + 63) >>> 6];
        int[] counts;
        private int held;

        @Setup(Level.Trial)
        public void fill() {
            holdSubset(bits, occupancy);
            for (int i = RANGE.size(); i < bits.length * 64; i++) {
                bits[i >>> 6] |= 1L << i;
            }
            counts = freeCounts();
            held = RANGE.size() - Arrays.stream(counts).sum();
        }

        /** @return the free ports of each block, counted from the bits */
        private int[] freeCounts() {
            final int[] free = new int[(bits.length + WORDS_PER_BLOCK - 1) / WORDS_PER_BLOCK];
            for (int w = 0; w < bits.length; w++) {
                free[w / WORDS_PER_BLOCK] += Long.bitCount(~bits[w]);
            }
            return free;
        }

        /** The operation must leave every count exact and the occupancy where set-up put it. */
        @TearDown(Level.Trial)
        public void checkSteady() {
            final int[] recount = freeCounts();
            if (!Arrays.equals(recount, counts)) {
                throw new IllegalStateException("controlExactCountsCas left counts " + Arrays.toString(counts)
                    + " over free ports " + Arrays.toString(recount));
            }
            Occupancy.checkSteady(held, RANGE.size() - Arrays.stream(counts).sum());
        }
    }

    /** One 8 KiB array of 1,024 longs shared by all threads: 128 cache lines, about the allocator's span. */
    @State(Scope.Benchmark)
    public static class SharedWords {
        final AtomicLongArray words = new AtomicLongArray(1024);
    }

    // ---------------------------------------------------------------------------------------------------------
    // The allocator.

    @Benchmark
    public int allocator(Allocator s) {
        return Operations.acquireRelease(s.ports);
    }

    @Benchmark
    @Threads(2)
    public int allocatorTwoThreads(SharedAllocator s) {
        return Operations.acquireRelease(s.ports);
    }

    @Benchmark
    public int local(Handle h) {
        return Operations.acquireRelease(h.local);
    }

    @Benchmark
    @Threads(2)
    public int localTwoThreads(Handle h) {
        return Operations.acquireRelease(h.local);
    }

    @Benchmark
    public int randomStart(RandomStartAllocator s) {
        return Operations.acquireRelease(s.ports);
    }

    @Benchmark
    @Threads(2)
    public int randomStartTwoThreads(SharedRandomStartAllocator s) {
        return Operations.acquireRelease(s.ports);
    }


    // ---------------------------------------------------------------------------------------------------------
    // Controls.

    @Benchmark
    public int controlThreadLocalRandom(Bound s) {
        return ThreadLocalRandom.current().nextInt(s.bound);
    }

    @Benchmark
    public int controlRandomSource(Generator s) {
        return s.random.nextIndex(s.bound);
    }

    @Benchmark
    public boolean controlPrivateCas(PrivateSlot s) {
        final long v = (long) PrivateSlot.CELL.get(s.cells, PrivateSlot.SLOT);
        return PrivateSlot.CELL.compareAndSet(s.cells, PrivateSlot.SLOT, v, v + 1);
    }

    @Benchmark
    public int controlUniformRejection(HalfFullBits s) {
        final long[] bits = s.bits;
        final ThreadLocalRandom random = ThreadLocalRandom.current();
        for (;;) {
            final int i = random.nextInt(s.size);
            if ((bits[i >>> 6] & 1L << i) == 0) {
                return i;
            }
        }
    }

    /**
     * The floor of the allocator's probe rounds at 50 %: four 16-bit offsets per 64-bit draw over the range's
     * power-of-two cover, tested without a branch, the first accepted one taken; on a plain bitmap with
     * {@link ThreadLocalRandom}, no CAS, no claim.
     */
    @Benchmark
    public int controlUniformRounds(HalfFullBits s) {
        final long[] bits = s.bits;
        final int last = s.size - 1;
        final int cover = s.cover;
        final ThreadLocalRandom random = ThreadLocalRandom.current();
        for (;;) {
            final long r = random.nextLong();
            final int ok = acceptedProbes(bits, last, cover, r);
            if (ok != 0) {
                return (int) (r >>> (16 * Integer.numberOfTrailingZeros(ok))) & cover;
            }
        }
    }

    /**
     * The floor of any exactly uniform lock-free acquire + release at 50 %: {@link #controlUniformRounds}'s probe
     * rounds on a bitmap shared by all threads, the first accepted port claimed by a CAS on its word (a round
     * whose claim finds the port taken starts again) and released by a CAS. No bounds, marks, counters or
     * per-thread state: only the draws, the probe loads and the two CAS.
     */
    @Benchmark
    public int controlUniformRoundsCas(SharedHalfFullBits s) {
        return uniformRoundsCas(s);
    }

    @Benchmark
    @Threads(2)
    public int controlUniformRoundsCasTwoThreads(SharedHalfFullBits s) {
        return uniformRoundsCas(s);
    }

    /**
     * The floor of an exactly uniform lock-free acquire + release at high occupancy ({@link CountedBits}: 99 % or
     * one free port), where probes would mostly miss: the free ports' exact counts per block of 1,024 summed, a
     * {@link ThreadLocalRandom} rank drawn below the total, the block of that rank found by a scan of the counts
     * and the word by a walk over the block's words, the port claimed by a CAS and its block's count lowered by an
     * atomic add; the release raises the count, then frees the port by a CAS. At these occupancies nearly every
     * claim and release changes a count, so the counts' two atomic adds are unavoidable; what the control leaves
     * out is everything else the allocator does, including its linearizable "nothing is free" verdict (the
     * epoch and the dirty marks) and the tolerance of bounds that overstate.
     */
    @Benchmark
    public int controlExactCountsCas(CountedBits s) {
        final long[] bits = s.bits;
        final int[] counts = s.counts;
        final ThreadLocalRandom random = ThreadLocalRandom.current();
        for (;;) {
            int total = 0;
            for (int b = 0; b < counts.length; b++) {
                total += counts[b]; // plain loads, as the allocator's pass
            }
            if (total == 0) {
                return -1;
            }
            int r = random.nextInt(total);
            int b = 0;
            while (b < counts.length - 1 && r >= counts[b]) {
                r -= counts[b++];
            }
            final int end = Math.min(bits.length, (b + 1) * CountedBits.WORDS_PER_BLOCK);
            int w = b * CountedBits.WORDS_PER_BLOCK;
            long value = 0L;
            for (; w < end; w++) {
                value = bits[w];
                final int count = Long.bitCount(~value);
                if (r < count) {
                    break;
                }
                r -= count;
            }
            if (w == end) {
                continue; // the counts moved between the two reads (another thread): draw again
            }
            long free = ~value;
            for (; r > 0; r--) {
                free &= free - 1;
            }
            final long bit = Long.lowestOneBit(free);
            if (!BIT_WORD.compareAndSet(bits, w, value, value | bit)) {
                continue;
            }
            COUNT.getAndAdd(counts, b, -1);
            COUNT.getAndAdd(counts, b, 1); // the release: the count first, then the port
            long cur = value | bit;
            for (;;) {
                final long was = (long) BIT_WORD.compareAndExchange(bits, w, cur, cur & ~bit);
                if (was == cur) {
                    return (w << 6) + Long.numberOfTrailingZeros(bit);
                }
                cur = was;
            }
        }
    }

    /**
     * One round of the controls' probes: the four 16-bit offsets of {@code r} over {@code 0..cover}, tested
     * without a branch (plain loads, as the allocator's).
     *
     * @return bit j set if offset j is at most {@code last} and free in {@code bits}
     */
    static int acceptedProbes(long[] bits, int last, int cover, long r) {
        int ok = 0;
        for (int j = 0; j < 4; j++) {
            final int i = (int) (r >>> (16 * j)) & cover;
            final int inside = (last - i) >>> 31 ^ 1; // i <= last
            ok |= ((int) (~bits[i >>> 6] >>> i) & inside & 1) << j;
        }
        return ok;
    }

    private static final VarHandle BIT_WORD = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle COUNT = MethodHandles.arrayElementVarHandle(int[].class);

    private static int uniformRoundsCas(SharedHalfFullBits s) {
        final long[] bits = s.bits;
        final int last = s.size - 1;
        final int cover = s.cover;
        final ThreadLocalRandom random = ThreadLocalRandom.current();
        for (;;) {
            final long r = random.nextLong();
            final int ok = acceptedProbes(bits, last, cover, r);
            if (ok == 0) {
                continue;
            }
            final int i = (int) (r >>> (16 * Integer.numberOfTrailingZeros(ok))) & cover;
            final int w = i >>> 6;
            final long bit = 1L << i;
            long cur = (long) BIT_WORD.getAcquire(bits, w);
            while ((cur & bit) == 0) {
                final long witness = (long) BIT_WORD.compareAndExchange(bits, w, cur, cur | bit);
                if (witness == cur) {
                    cur |= bit; // claimed: release it again
                    for (;;) {
                        final long was = (long) BIT_WORD.compareAndExchange(bits, w, cur, cur & ~bit);
                        if (was == cur) {
                            return i;
                        }
                        cur = was;
                    }
                }
                cur = witness;
            }
        }
    }

    @Benchmark
    public boolean controlRandomWordCas(SharedWords s) {
        return Operations.casRandomWord(s.words);
    }

    @Benchmark
    @Threads(2)
    public boolean controlRandomWordCasTwoThreads(SharedWords s) {
        return Operations.casRandomWord(s.words);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Baselines.

    @Benchmark
    public int bitSet(LockedBitSet s) {
        final SynchronizedBitSetPorts b = s.ports;
        final int p = b.tryAcquire();
        if (p != PortAllocator.NONE) {
            b.release(p);
        }
        return p;
    }

    @Benchmark
    @Threads(2)
    public int bitSetTwoThreads(SharedLockedBitSet s) {
        final SynchronizedBitSetPorts b = s.ports;
        final int p = b.tryAcquire();
        if (p != PortAllocator.NONE) {
            b.release(p);
        }
        return p;
    }

    @Benchmark
    public int concurrentSet(ConcurrentSet s) {
        final ConcurrentSetPorts c = s.ports;
        final int p = c.tryAcquire();
        if (p != PortAllocator.NONE) {
            c.release(p);
        }
        return p;
    }

    @Benchmark
    public int operatingSystem() throws IOException {
        return LoopbackUdpPorts.acquireAndRelease();
    }
}
