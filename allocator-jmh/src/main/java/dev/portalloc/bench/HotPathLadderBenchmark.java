package dev.portalloc.bench;

import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;
import dev.portalloc.internal.bitmap.PortBitmap;
import dev.portalloc.internal.bitmap.Selection;
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
import org.openjdk.jmh.annotations.Warmup;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Where one thread's acquire + release goes, rung by rung: from the floor control of
 * {@code ExclusiveAllocationBenchmark.controlUniformRoundsCas} up to the plain API, one difference per rung, all
 * on {@link ExclusiveAllocationBenchmark#RANGE}. Each rung's cost minus the one below is what its difference
 * costs (within the noise: compare rungs of one run, several forks).
 * <ol>
 * <li>{@link #floorThreadLocalRandom}: probe rounds over a one-bit map (64 ports a word), {@link ThreadLocalRandom},
 *     a CAS to claim and a CAS from the known value to release.</li>
 * <li>{@link #floorGenerator}: the same with the allocator's generator ({@link RandomSource#nextBits()}).</li>
 * <li>{@link #separateRelease}: the release as its own step, as an API's release must be: a read of the word, a
 *     check that the port is held, the CAS.</li>
 * <li>{@link #twoBitLayout}: {@link PortBitmap}'s layout (32 ports a word, held bits low, marks high), claim
 *     clearing the mark, release checking it, and the probe tally; none of the bounds, dirty-mark or selection
 *     checks.</li>
 * <li>{@link #bitmap}: {@link PortBitmap#select} and {@link PortBitmap#release} themselves.</li>
 * <li>{@link #local}: through {@link PortAllocator.Local}: the allocator's layer without the thread look-up.</li>
 * <li>{@link #allocator}: the plain API ({@code ExclusiveAllocationBenchmark.allocator}).</li>
 * </ol>
 * The first four rungs run at 50 % only ({@link Half}); the last three at every occupancy of {@link Filled}, where
 * from about 90 % the exact pass does the work.
 *
 * <p>Thread-safety: one thread per fork (each state is its thread's own, the rungs are single-threaded).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class HotPathLadderBenchmark {
    private static final PortSet RANGE = ExclusiveAllocationBenchmark.RANGE;
    private static final VarHandle WORD = MethodHandles.arrayElementVarHandle(long[].class);
    private static final long HELD_BITS = 0xFFFF_FFFFL;

    /** The hand-written rungs' maps at 50 %: the same subset of {@link #RANGE} held in both layouts. */
    @State(Scope.Thread)
    public static class Half {
        final int first = RANGE.first();
        final int last = RANGE.size() - 1;
        /** The smallest 2^k - 1 at least {@code last}: the offsets the probe rounds draw. */
        final int cover = -1 >>> Integer.numberOfLeadingZeros(last);
        /** One bit per offset into the range (set = held). */
        final long[] oneBit = new long[(cover >>> 6) + 1];
        /** {@link PortBitmap}'s layout: word {@code port >>> 5}, held bit {@code port & 31}, mark 32 above it. */
        final long[] twoBit = new long[PortBitmap.WORDS];
        final RandomSource random = RandomSource.fromSeed(Occupancy.SEED, 0);
        private int held;

        @Setup(Level.Trial)
        public void fill() {
            ExclusiveAllocationBenchmark.holdSubset(oneBit, "0.5");
            held = Occupancy.fill("0.5", RANGE, port -> {
                final long bit = 1L << (port & 31);
                final boolean free = (twoBit[port >>> 5] & bit) == 0;
                twoBit[port >>> 5] |= bit;
                return free;
            });
        }

        @TearDown(Level.Trial)
        public void checkSteady() {
            int oneBitHeld = 0;
            int twoBitHeld = 0;
            for (long w : oneBit) {
                oneBitHeld += Long.bitCount(w);
            }
            for (long w : twoBit) {
                twoBitHeld += Long.bitCount(w & HELD_BITS);
            }
            Occupancy.checkSteady("one-bit map", held, oneBitHeld);
            Occupancy.checkSteady("two-bit map", held, twoBitHeld);
        }
    }

    /** A {@link PortBitmap} and a {@link PortAllocator} (with its handle) over {@link #RANGE}, each filled alike. */
    @State(Scope.Thread)
    public static class Filled {
        @Param({"0.5", "0.99", "one-free"})
        String occupancy;
        PortBitmap bitmap;
        final RandomSource random = RandomSource.fromSeed(Occupancy.SEED, 0);
        PortAllocator ports;
        PortAllocator.Local local;
        private int held;

        @Setup(Level.Trial)
        public void fill() {
            bitmap = new PortBitmap(new Selection(RANGE, PortSet.empty()));
            held = Occupancy.fill(occupancy, RANGE, bitmap::tryClaim);
            ports = PortAllocator.builder().ports(RANGE).seed(Occupancy.SEED).build();
            Occupancy.fill(occupancy, RANGE, ports::tryAcquire);
            local = ports.local();
        }

        @TearDown(Level.Trial)
        public void checkSteady() {
            int bitmapHeld = 0;
            for (int w = 0; w < PortBitmap.WORDS; w++) {
                bitmapHeld += Long.bitCount(bitmap.word(w) & HELD_BITS);
            }
            Occupancy.checkSteady("bitmap", held, bitmapHeld);
            Occupancy.checkSteady(held, ports.stats().heldPorts());
        }
    }

    @Benchmark
    public int floorThreadLocalRandom(Half s) {
        final ThreadLocalRandom random = ThreadLocalRandom.current();
        for (;;) {
            final int i = claimAndReleaseOneBit(s, random.nextLong());
            if (i >= 0) {
                return i;
            }
        }
    }

    @Benchmark
    public int floorGenerator(Half s) {
        final RandomSource random = s.random;
        for (;;) {
            final int i = claimAndReleaseOneBit(s, random.nextBits());
            if (i >= 0) {
                return i;
            }
        }
    }

    @Benchmark
    public int separateRelease(Half s) {
        final RandomSource random = s.random;
        int i;
        do {
            i = claimOneBit(s, random.nextBits());
        } while (i < 0);
        final long[] bits = s.oneBit;
        final int w = i >>> 6;
        final long bit = 1L << i;
        for (;;) {
            final long cur = (long) WORD.getAcquire(bits, w);
            if ((cur & bit) == 0) {
                throw new IllegalStateException("offset " + i + " is not held");
            }
            if (WORD.compareAndSet(bits, w, cur, cur & ~bit)) {
                return i;
            }
        }
    }

    @Benchmark
    public int twoBitLayout(Half s) {
        final int port = claimTwoBit(s);
        final long[] words = s.twoBit;
        final int w = port >>> 5;
        final long bit = 1L << (port & 31);
        final long mark = bit << 32;
        for (;;) {
            final long cur = (long) WORD.getAcquire(words, w);
            if ((cur & (bit | mark)) != bit) {
                throw new IllegalStateException("port " + port + " is not held exclusively");
            }
            if (WORD.compareAndSet(words, w, cur, cur & ~bit & ~mark)) {
                return port;
            }
        }
    }

    @Benchmark
    public int bitmap(Filled s) {
        final PortBitmap b = s.bitmap;
        final int port = b.select(s.random);
        if (port != PortBitmap.NONE && !b.release(port)) {
            throw new IllegalStateException("port " + port + " was not held");
        }
        return port;
    }

    @Benchmark
    public int local(Filled s) {
        return Operations.acquireRelease(s.local);
    }

    @Benchmark
    public int allocator(Filled s) {
        return Operations.acquireRelease(s.ports);
    }

    /**
     * One round of four probes in the one-bit map; the first free offset is claimed and released at once. The same
     * round as {@code ExclusiveAllocationBenchmark.uniformRoundsCas}'s, written again on purpose: one helper shared
     * by both benchmarks made every floor that called it 7-13 % slower (paired runs, 2026-12-07), and a floor must
     * not move because of where its code lives.
     */
    private static int claimAndReleaseOneBit(Half s, long r) {
        final int i = acceptedOffset(s, r);
        if (i < 0) {
            return -1;
        }
        final long[] bits = s.oneBit;
        final int w = i >>> 6;
        final long bit = 1L << i;
        long cur = (long) WORD.getAcquire(bits, w);
        while ((cur & bit) == 0) {
            final long witness = (long) WORD.compareAndExchange(bits, w, cur, cur | bit);
            if (witness == cur) {
                cur |= bit;
                for (;;) { // the release, from the value the claim wrote
                    final long was = (long) WORD.compareAndExchange(bits, w, cur, cur & ~bit);
                    if (was == cur) {
                        return i;
                    }
                    cur = was;
                }
            }
            cur = witness;
        }
        return -1;
    }

    /** One round of four probes in the one-bit map; the first free offset is claimed. */
    private static int claimOneBit(Half s, long r) {
        final int i = acceptedOffset(s, r);
        if (i < 0) {
            return -1;
        }
        final long[] bits = s.oneBit;
        final long bit = 1L << i;
        long cur = (long) WORD.getAcquire(bits, i >>> 6);
        while ((cur & bit) == 0) {
            final long witness = (long) WORD.compareAndExchange(bits, i >>> 6, cur, cur | bit);
            if (witness == cur) {
                return i;
            }
            cur = witness;
        }
        return -1;
    }

    /** @return the first of the four 16-bit offsets of {@code r} that is in the range and free, or -1 */
    private static int acceptedOffset(Half s, long r) {
        final int ok = ExclusiveAllocationBenchmark.acceptedProbes(s.oneBit, s.last, s.cover, r);
        return ok == 0 ? -1 : (int) (r >>> (16 * Integer.numberOfTrailingZeros(ok))) & s.cover;
    }

    /** Probe rounds over the two-bit layout, as {@link PortBitmap#select} makes them; the first free port claimed. */
    private static int claimTwoBit(Half s) {
        final long[] words = s.twoBit;
        final RandomSource random = s.random;
        final int first = s.first;
        final int last = s.last;
        final int cover = s.cover;
        for (;;) {
            final long r = random.nextBits();
            int ok = 0;
            for (int j = 0; j < 4; j++) {
                final int offset = (int) (r >>> (16 * j)) & cover;
                final int port = first + offset;
                final long candidate = ~words[(port >>> 5) & (PortBitmap.WORDS - 1)] & HELD_BITS;
                final int inside = (last - offset) >>> 31 ^ 1; // offset <= last
                ok |= ((int) (candidate >>> (port & 31)) & inside & 1) << j;
            }
            if (ok == 0) {
                continue;
            }
            final int port = first + ((int) (r >>> (16 * Integer.numberOfTrailingZeros(ok))) & cover);
            final int w = port >>> 5;
            final long bit = 1L << (port & 31);
            long cur = (long) WORD.getAcquire(words, w);
            while ((cur & bit) == 0) {
                final long witness = (long) WORD.compareAndExchange(words, w, cur, (cur | bit) & ~(bit << 32));
                if (witness == cur) {
                    random.countProbes(1);
                    return port;
                }
                cur = witness;
            }
        }
    }
}
