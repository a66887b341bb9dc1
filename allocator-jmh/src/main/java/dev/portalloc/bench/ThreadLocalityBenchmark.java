package dev.portalloc.bench;

import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;

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

import java.util.concurrent.TimeUnit;

/**
 * The cost of {@code PortAllocator.Builder.threadLocality}'s opposite: exclusive acquire + release at steady
 * occupancy (as {@link ExclusiveAllocationBenchmark#allocator}) with thread locality off and with a few segment
 * settings, at 1 thread and with 2 threads sharing one allocator. The 2-thread scores against {@code off} are the
 * throughput gained; the 1-thread scores give the scaling (2 × 1-thread score / 2-thread score).
 *
 * <p>{@code locality} is {@code off} or {@code SEGMENTxALLOCATIONS}, e.g. {@code 64x16}: segments of 64 ports,
 * 16 acquisitions per segment. The range is {@link PortSet#LINUX_DEFAULT}, pre-filled as the other benchmarks
 * ({@link Occupancy}). Every benchmark returns its result so that JMH consumes it.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ThreadLocalityBenchmark {
    /** The settings of the {@code locality} parameter, in report order ({@code off} first). */
    public static final String[] SETTINGS = {"off", "64x16", "64x256", "1024x16", "1024x256"};

    /** A pre-filled allocator with the {@code locality} setting; checks at the end that the occupancy held. */
    @State(Scope.Benchmark)
    public static class Fixture {
        @Param({"off", "64x16", "64x256", "1024x16", "1024x256"})
        public String locality;
        @Param({"0.5"})
        public String occupancy;
        PortAllocator ports;
        private int held;

        @Setup(Level.Trial)
        public void fill() {
            final PortAllocator.Builder b = PortAllocator.builder().ports(ExclusiveAllocationBenchmark.RANGE)
                .seed(Occupancy.SEED);
            final int[] setting = parse(locality);
            if (setting != null) {
                b.threadLocality(setting[0], setting[1]);
            }
            ports = b.build();
            held = Occupancy.fill(occupancy, ExclusiveAllocationBenchmark.RANGE, ports::tryAcquire);
        }

        @TearDown(Level.Trial)
        public void checkSteady() {
            Occupancy.checkSteady(held, ports.stats().heldPorts());
        }
    }

    /**
     * @param locality {@code off} or {@code SEGMENTxALLOCATIONS}
     * @return {segmentPorts, allocationsPerSegment}, or null for {@code off}
     * @throws IllegalArgumentException if malformed
     */
    public static int[] parse(String locality) {
        if (locality.equals("off")) {
            return null;
        }
        final int x = locality.indexOf('x');
        if (x < 0) {
            throw new IllegalArgumentException("locality must be off or SEGMENTxALLOCATIONS, e.g. 64x16: " + locality);
        }
        return new int[] {Integer.parseInt(locality.substring(0, x)), Integer.parseInt(locality.substring(x + 1))};
    }

    @Benchmark
    public int oneThread(Fixture s) {
        return Operations.acquireRelease(s.ports);
    }

    @Benchmark
    @Threads(2)
    public int twoThreads(Fixture s) {
        return Operations.acquireRelease(s.ports);
    }
}
