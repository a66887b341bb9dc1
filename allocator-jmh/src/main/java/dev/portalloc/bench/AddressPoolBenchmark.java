package dev.portalloc.bench;

import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;
import dev.portalloc.nat.AddressPool;
import dev.portalloc.nat.PortBlockAllocator;

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

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Acquire + release through an {@link AddressPool} of {@value #ADDRESSES} external addresses with a random
 * subscriber per operation (hence a random address, and a random 8 KiB bitmap: the working set is 32 MiB,
 * far beyond the caches), against a single {@link PortAllocator}, in the same run. Each address has the port
 * range {@link PortSet#LINUX_DEFAULT} (28,232 ports) pre-filled to the same occupancy as the single
 * allocator (the same fixed-seed subset, {@link Occupancy}), so the difference is the pool's own cost: one
 * SipHash of the subscriber, the table of per-address bits, and cache misses on a cold bitmap. Both
 * benchmarks draw the subscriber, the single allocator ignores it.
 *
 * <p>{@code addresses=64} runs the pool with 64 addresses (512 KiB of bitmaps) to separate the pool's fixed costs
 * from the cache misses of a large one.
 *
 * <p>{@code blocks}: the same through a {@link PortBlockAllocator} (blocks of 512 ports over 1024-65535) whose
 * {@value #BLOCK_SUBSCRIBERS} subscribers each hold one port, so that their block stays while a random one of
 * them acquires and releases a second port (no block churn: no listener event per operation).
 *
 * <p>{@code allocatorPerAddress}: the same acquire + release on one of {@value #ADDRESSES} separate
 * {@link PortAllocator}s (one per address, each filled like the single one), chosen at random per operation
 * with no hash: one allocator per address used directly, as a NAT would without the pool.
 *
 * <p>Controls, the memory floor of any structure this large:
 * <ul>
 * <li>{@code controlColdWordCas}: a CAS at a random index of one 32 MiB {@code AtomicLongArray}, the size of
 *     the pool's bitmaps, draw included. A body this short lets the processor overlap the misses of
 *     consecutive operations, so this is a throughput floor, not the latency of a miss.</li>
 * <li>{@code controlHashColdCas}: what the pool cannot avoid: the pool's own subscriber hash
 *     ({@link AddressPool#primaryIndex}, SipHash-2-4) picks the address, then two CASes (acquire and
 *     release) on a random word of that address's 8 KiB in the same 32 MiB array. The hash puts enough work
 *     between consecutive misses that they no longer overlap: this is the cost of one dependent miss.</li>
 * </ul>
 *
 * <p>Every address's bits are built in set-up (the lazily built pool is measured by {@link PoolFootprint}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class AddressPoolBenchmark {
    /** External addresses of the pool. */
    static final int ADDRESSES = 4096;
    /** The automatic port range of every address and of the single allocator. */
    static final PortSet RANGE = PortSet.LINUX_DEFAULT;
    /** Subscribers of the block benchmark: 4 per address on average. */
    static final int BLOCK_SUBSCRIBERS = 4 * ADDRESSES;
    /** First subscriber address of the block benchmark: 100.64.0.0 (RFC 6598 shared address space). */
    static final int FIRST_SUBSCRIBER = 0x6440_0000;

    /** The pool, every address's bits built and filled to the occupancy. */
    @State(Scope.Benchmark)
    public static class Pool {
        @Param({"0", "0.5"})
        public String occupancy;
        /** 4,096 (32 MiB of bitmaps), or 64 (512 KiB: within the L2 cache of this machine's cores). */
        @Param({"4096", "64"})
        public int addresses;
        AddressPool pool;
        private int held;

        @Setup(Level.Trial)
        public void fill() {
            pool = AddressPool.builder().external("198.18.0.0/" + (32 - Integer.numberOfTrailingZeros(addresses)))
                .ports(RANGE).seed(Occupancy.SEED).build();
            for (int i = 0; i < pool.size(); i++) {
                final int address = pool.addressAt(i);
                held += Occupancy.fill(occupancy, RANGE, p -> pool.tryAcquire(address, p));
            }
        }

        @TearDown(Level.Trial)
        public void checkSteady() {
            Occupancy.checkSteady(held, (int) pool.heldPorts());
        }
    }

    /** One allocator over the same range, filled to the same occupancy. */
    @State(Scope.Benchmark)
    public static class Single {
        @Param({"0", "0.5"})
        public String occupancy;
        PortAllocator ports;
        private int held;

        @Setup(Level.Trial)
        public void fill() {
            ports = PortAllocator.builder().ports(RANGE).seed(Occupancy.SEED).build();
            held = Occupancy.fill(occupancy, RANGE, ports::tryAcquire);
        }

        @TearDown(Level.Trial)
        public void checkSteady() {
            Occupancy.checkSteady(held, ports.stats().heldPorts());
        }
    }

    /** Port blocks: every subscriber holds one port, so each keeps its block. */
    @State(Scope.Benchmark)
    public static class Blocks {
        PortBlockAllocator blocks;

        @Setup(Level.Trial)
        public void fill() {
            blocks = PortBlockAllocator.builder(AddressPool.builder().external("198.18.0.0/20")
                    .ports(PortSet.RFC6056_RECOMMENDED).seed(Occupancy.SEED))
                .blockSize(512).maxBlocksPerSubscriber(4).build();
            for (int s = 0; s < BLOCK_SUBSCRIBERS; s++) {
                if (blocks.tryAcquire(FIRST_SUBSCRIBER + s) < 0) {
                    throw new IllegalStateException("subscriber " + s + " got no port");
                }
            }
        }

        @TearDown(Level.Trial)
        public void checkSteady() {
            Occupancy.checkSteady(BLOCK_SUBSCRIBERS, (int) blocks.blocksInUse());
        }
    }

    /** As many words as the pool's bitmaps: 4,096 × 1,024 longs = 32 MiB. */
    @State(Scope.Benchmark)
    public static class ColdWords {
        final AtomicLongArray words = new AtomicLongArray(ADDRESSES * 1024);
    }

    /** One {@link PortAllocator} per address, built and filled like the single one. */
    @State(Scope.Benchmark)
    public static class PerAddress {
        @Param({"0", "0.5"})
        public String occupancy;
        PortAllocator[] allocators;
        private int held;

        @Setup(Level.Trial)
        public void fill() {
            allocators = new PortAllocator[ADDRESSES];
            for (int i = 0; i < ADDRESSES; i++) {
                allocators[i] = PortAllocator.builder().ports(RANGE).seed(Occupancy.SEED + i).build();
                held += Occupancy.fill(occupancy, RANGE, allocators[i]::tryAcquire);
            }
        }

        @TearDown(Level.Trial)
        public void checkSteady() {
            int now = 0;
            for (PortAllocator a : allocators) {
                now += a.stats().heldPorts();
            }
            Occupancy.checkSteady(held, now);
        }
    }

    /** The pool's mapping, for the hash control. */
    @State(Scope.Benchmark)
    public static class Mapping {
        final AddressPool pool = AddressPool.builder().external("198.18.0.0/20").seed(Occupancy.SEED).build();
    }

    @Benchmark
    public boolean controlColdWordCas(ColdWords s) {
        return Operations.casRandomWord(s.words);
    }

    @Benchmark
    public boolean controlHashColdCas(ColdWords s, Mapping m) {
        final ThreadLocalRandom random = ThreadLocalRandom.current();
        final int address = m.pool.primaryIndex(random.nextInt());
        final int i = address * 1024 + random.nextInt(1024);
        final AtomicLongArray words = s.words;
        final long v = words.get(i);
        words.compareAndSet(i, v, v + 1);
        return words.compareAndSet(i, v + 1, v);
    }

    @Benchmark
    public long allocatorPerAddress(PerAddress s) {
        final ThreadLocalRandom random = ThreadLocalRandom.current();
        final int subscriber = random.nextInt(); // drawn as in pool(), then unused
        return (long) Operations.acquireRelease(s.allocators[random.nextInt(ADDRESSES)]) ^ subscriber;
    }

    @Benchmark
    public long pool(Pool s) {
        return Operations.acquireRelease(s.pool, ThreadLocalRandom.current().nextInt());
    }

    @Benchmark
    @Threads(2)
    public long poolTwoThreads(Pool s) {
        return Operations.acquireRelease(s.pool, ThreadLocalRandom.current().nextInt());
    }

    @Benchmark
    public long allocator(Single s) {
        final int subscriber = ThreadLocalRandom.current().nextInt(); // drawn as in pool(), then unused
        return (long) Operations.acquireRelease(s.ports) ^ subscriber;
    }

    @Benchmark
    @Threads(2)
    public long allocatorTwoThreads(Single s) {
        final int subscriber = ThreadLocalRandom.current().nextInt();
        return (long) Operations.acquireRelease(s.ports) ^ subscriber;
    }

    @Benchmark
    public long blocks(Blocks s) {
        final PortBlockAllocator blocks = s.blocks;
        final int subscriber = FIRST_SUBSCRIBER + ThreadLocalRandom.current().nextInt(BLOCK_SUBSCRIBERS);
        final long m = blocks.tryAcquire(subscriber);
        if (m >= 0) {
            blocks.release(subscriber, m);
        }
        return m;
    }
}
