package dev.portalloc.bench;

import dev.portalloc.Algorithm;
import dev.portalloc.Destination;
import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;
import dev.portalloc.internal.hash.SipHash;
import org.jctools.maps.NonBlockingHashMapLong;

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

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Connect-style (5-tuple) allocation of IPv4 tuples at steady occupancy: one operation is
 * {@code tryAcquire(d)} immediately followed by {@code release(port, d)} of the tuple it created, so the live
 * tuples never change (each fixture checks that at tear-down). The port range is {@link PortSet#LINUX_DEFAULT}
 * (28,232 ports); every allocator is seeded, and {@code algorithm} selects its {@link Algorithm}.
 *
 * <ul>
 * <li>{@code manyDestinations*}: {@code destinations} distinct IPv4 destinations (random addresses, port
 *     443); set-up gives each port of a fixed random half of the range ({@link Occupancy}, {@code "0.5"}) one
 *     live tuple to a random destination, so half the ports are SHARED and half FREE; each operation draws
 *     its destination with {@link ThreadLocalRandom} (the draw is part of the measured cost). The allocator
 *     has the default tuple table (4 MiB); {@code manyDestinationsSizedTable} is the same with the table sized
 *     for the range ({@code expectedTuples(28_232)}, 512 KiB).</li>
 * <li>{@code hotDestination*}: one destination (the load-balancer-to-backend case) already holding the
 *     fraction {@code fill} of the range; each operation acquires and releases one more tuple to it.</li>
 * <li>{@code control*}, measured in the same run: SipHash-2-4 of 16 bytes (and of 40 bytes, the length the
 *     keyed algorithms hash), a {@link NonBlockingHashMapLong} {@code putIfAbsent} + {@code remove} of a
 *     fresh random key at a steady size (key draw included; and, as a diagnostic, of a key drawn from 28,232
 *     recurring ones, which never makes the map resize), and the exclusive acquire + release at 50 % of
 *     {@link ExclusiveAllocationBenchmark}. The map is the control the issue names; the allocator's IPv4
 *     tuples no longer live in it but in the package-private {@code Ipv4TupleTable}, which is measured only
 *     through the allocator (docs/design/connect-style.md explains the replacement).</li>
 * </ul>
 *
 * <p>Thread-safety: the {@code Scope.Benchmark} fixtures are shared by the benchmark's threads (the allocator
 * and the map are thread-safe); the {@code Scope.Thread} states are confined to one thread. Threads are
 * symmetric (each runs the same operation), hence {@code @Threads(2)} rather than {@code @Group}. Every
 * benchmark returns its result so that JMH consumes it.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(2)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ConnectAllocationBenchmark {
    /** The automatic port range of every benchmark. */
    static final PortSet RANGE = PortSet.LINUX_DEFAULT;
    /** Ports held by tuples in the many-destinations fixtures. */
    static final String MANY_DESTINATIONS_OCCUPANCY = "0.5";
    /** Remote port of every generated destination. */
    static final int REMOTE_PORT = 443;

    /**
     * @param name an {@code algorithm} parameter value: the name of an {@link Algorithm} factory
     * @return that algorithm with its default parameters
     */
    static Algorithm algorithm(String name) {
        return switch (name) {
            case "uniform" -> Algorithm.uniform();
            case "bsdSequential" -> Algorithm.bsdSequential();
            case "randomStart" -> Algorithm.randomStart();
            case "randomProbe" -> Algorithm.randomProbe();
            case "hash" -> Algorithm.hash();
            case "doubleHash" -> Algorithm.doubleHash();
            case "randomIncrements" -> Algorithm.randomIncrements();
            case "linux" -> Algorithm.linux();
            default -> throw new IllegalArgumentException("unknown algorithm: " + name);
        };
    }

    /** @return {@code count} distinct IPv4 destinations with random addresses (fixed seed), port 443 */
    static Destination[] destinations(int count, long seed) {
        final SplittableRandom random = new SplittableRandom(seed);
        final Set<Integer> addresses = new HashSet<>();
        final Destination[] destinations = new Destination[count];
        int n = 0;
        while (n < count) {
            final int address = random.nextInt();
            if (addresses.add(address)) {
                destinations[n++] = Destination.ipv4(address, REMOTE_PORT);
            }
        }
        return destinations;
    }

    /** @return a seeded allocator over {@link #RANGE} using the named algorithm */
    static PortAllocator allocator(String algorithm) {
        return builder(algorithm).build();
    }

    /** @return a builder of {@link #allocator(String)}'s allocator, for fixtures that configure more */
    static PortAllocator.Builder builder(String algorithm) {
        return PortAllocator.builder().ports(RANGE).algorithm(algorithm(algorithm)).seed(Occupancy.SEED);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Fixtures, shared by all threads (Scope.Benchmark).

    /** An allocator whose range is half held by one tuple per port to random destinations. */
    @State(Scope.Benchmark)
    public static class ManyDestinations {
        @Param({"uniform", "bsdSequential", "randomStart", "randomProbe", "hash", "doubleHash", "randomIncrements",
            "linux"})
        public String algorithm;
        @Param({"10000"})
        public int destinations;

        PortAllocator ports;
        Destination[] targets;
        private int tuples;

        @Setup(Level.Trial)
        public void fill() {
            ports = build();
            targets = destinations(destinations, Occupancy.SEED);
            final SplittableRandom pick = new SplittableRandom(Occupancy.SEED + 1);
            tuples = Occupancy.fill(MANY_DESTINATIONS_OCCUPANCY, RANGE,
                port -> ports.tryAcquire(port, targets[pick.nextInt(targets.length)]));
        }

        @TearDown(Level.Trial)
        public void checkSteady() {
            Occupancy.checkSteady("live tuples", tuples, ports.stats().liveTuples());
        }

        /** @return the allocator to fill: {@link #allocator(String)}'s, with the default tuple table (4 MiB) */
        PortAllocator build() {
            return allocator(algorithm);
        }
    }

    /**
     * {@link ManyDestinations} with the tuple table sized for one tuple per port of the range
     * ({@code expectedTuples(28_232)}: 2^13 buckets, 512 KiB, which the fixture's 14,116 tuples fill to a quarter):
     * what a user who knows the load configures.
     */
    public static class ManyDestinationsSizedTable extends ManyDestinations {
        @Param({"28232"})
        public int expectedTuples;

        @Override
        PortAllocator build() {
            return builder(algorithm).expectedTuples(expectedTuples).build();
        }
    }

    /** An allocator where one destination holds tuples on the fraction {@link #heldFraction()} of the range. */
    public abstract static class HotDestinationFixture {
        PortAllocator ports;
        final Destination destination = Destination.ipv4(0x0A000001, 8080); // 10.0.0.1:8080, the backend
        private int tuples;

        abstract String algorithm();

        /** @return the {@code fill} parameter: the fraction of the range held by the destination's tuples */
        abstract String heldFraction();

        @Setup(Level.Trial)
        public void fill() {
            ports = allocator(algorithm());
            tuples = Occupancy.fill(heldFraction(), RANGE, port -> ports.tryAcquire(port, destination));
        }

        @TearDown(Level.Trial)
        public void checkSteady() {
            Occupancy.checkSteady("live tuples", tuples, ports.stats().liveTuples());
        }
    }

    @State(Scope.Benchmark)
    public static class HotDestination extends HotDestinationFixture {
        @Param({"uniform", "bsdSequential", "randomStart", "randomProbe", "hash", "doubleHash", "randomIncrements",
            "linux"})
        public String algorithm;
        @Param({"0.01", "0.5", "0.99"})
        public String fill;

        @Override
        String algorithm() {
            return algorithm;
        }

        @Override
        String heldFraction() {
            return fill;
        }
    }

    @State(Scope.Benchmark)
    public static class SharedHotDestination extends HotDestinationFixture {
        @Param({"uniform", "bsdSequential", "randomStart", "randomProbe", "hash", "doubleHash", "randomIncrements",
            "linux"})
        public String algorithm;
        @Param({"0.01", "0.99"})
        public String fill;

        @Override
        String algorithm() {
            return algorithm;
        }

        @Override
        String heldFraction() {
            return fill;
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Control states.

    /** The exclusive control: {@link ExclusiveAllocationBenchmark}'s allocator at 50 % occupancy (uniform). */
    @State(Scope.Benchmark)
    public static class ExclusiveHalf extends ExclusiveAllocationBenchmark.AllocatorFixture {
        @Override
        String occupancy() {
            return "0.5";
        }
    }

    /**
     * A {@link NonBlockingHashMapLong} (the reference control; the allocator's tuple table was one
     * before {@code Ipv4TupleTable} replaced it) holding as many random keys as the many-destinations fixture
     * holds tuples (14,116), with one shared value; and {@link #recurringKeys},
     * 28,232 other random keys (one per port of the range, like the tuples of one destination) that the
     * recurring-key control inserts and removes again and again.
     */
    @State(Scope.Benchmark)
    public static class TupleMap {
        static final Object LIVE = new Object();
        final NonBlockingHashMapLong<Object> map = new NonBlockingHashMapLong<>();
        long[] recurringKeys;
        private int size;

        @Setup(Level.Trial)
        public void fill() {
            size = Occupancy.heldCount(MANY_DESTINATIONS_OCCUPANCY, RANGE.size());
            final SplittableRandom random = new SplittableRandom(Occupancy.SEED);
            while (map.size() < size) {
                map.putIfAbsent(random.nextLong(), LIVE);
            }
            recurringKeys = new long[RANGE.size()];
            for (int i = 0; i < recurringKeys.length; i++) {
                long key;
                do {
                    key = random.nextLong();
                } while (map.containsKey(key));
                recurringKeys[i] = key;
            }
        }

        @TearDown(Level.Trial)
        public void checkSteady() {
            Occupancy.checkSteady("map entries", size, map.size());
        }
    }

    /**
     * SipHash inputs: a key and message words read from fields (not constants), the first word advanced by
     * each call so that no two calls hash the same message.
     */
    @State(Scope.Thread)
    public static class SipHashInput {
        long k0 = 0x0706050403020100L;
        long k1 = 0x0F0E0D0C0B0A0908L;
        long m0;
        long m1 = 0xFFFF_0A00_0001L; // an IPv4-mapped address's low word, like the tuple's remote address
        long m2 = 0x1234_5678_9ABC_DEF0L;
        long m3;
        long m4 = 0x0100_007F_FFFF_0000L;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Connect-style allocation.

    @Benchmark
    public int manyDestinations(ManyDestinations s) {
        final Destination[] targets = s.targets;
        return Operations.acquireRelease(s.ports, targets[ThreadLocalRandom.current().nextInt(targets.length)]);
    }

    @Benchmark
    public int manyDestinationsSizedTable(ManyDestinationsSizedTable s) {
        final Destination[] targets = s.targets;
        return Operations.acquireRelease(s.ports, targets[ThreadLocalRandom.current().nextInt(targets.length)]);
    }

    @Benchmark
    @Threads(2)
    public int manyDestinationsTwoThreads(ManyDestinations s) {
        final Destination[] targets = s.targets;
        return Operations.acquireRelease(s.ports, targets[ThreadLocalRandom.current().nextInt(targets.length)]);
    }

    @Benchmark
    public int hotDestination(HotDestination s) {
        return Operations.acquireRelease(s.ports, s.destination);
    }

    @Benchmark
    @Threads(2)
    public int hotDestinationTwoThreads(SharedHotDestination s) {
        return Operations.acquireRelease(s.ports, s.destination);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Controls.

    @Benchmark
    public long controlSipHash16(SipHashInput s) {
        return SipHash.hash16(s.k0, s.k1, s.m0++, s.m1);
    }

    @Benchmark
    public long controlSipHash40(SipHashInput s) {
        return SipHash.hash40(s.k0, s.k1, s.m0++, s.m1, s.m2, s.m3, s.m4);
    }

    @Benchmark
    public boolean controlMapPutRemove(TupleMap s) {
        return Operations.putRemove(s.map, ThreadLocalRandom.current().nextLong(), TupleMap.LIVE);
    }

    @Benchmark
    public boolean controlMapPutRemoveRecurringKey(TupleMap s) {
        final long[] keys = s.recurringKeys;
        return Operations.putRemove(s.map, keys[ThreadLocalRandom.current().nextInt(keys.length)], TupleMap.LIVE);
    }

    @Benchmark
    @Threads(2)
    public boolean controlMapPutRemoveTwoThreads(TupleMap s) {
        return Operations.putRemove(s.map, ThreadLocalRandom.current().nextLong(), TupleMap.LIVE);
    }

    @Benchmark
    public int controlExclusive(ExclusiveHalf s) {
        return Operations.acquireRelease(s.ports);
    }

    @Benchmark
    @Threads(2)
    public int controlExclusiveTwoThreads(ExclusiveHalf s) {
        return Operations.acquireRelease(s.ports);
    }
}
