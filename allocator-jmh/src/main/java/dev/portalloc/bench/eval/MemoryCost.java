package dev.portalloc.bench.eval;

import dev.portalloc.Destination;
import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;

import java.lang.ref.Reference;

/**
 * Metric 9: heap bytes per allocator of an algorithm, measured as the growth of the used heap (after repeated
 * {@link System#gc()}) while {@code count} allocators are built and used once by this thread. The figure is an
 * estimate (the collector may not settle exactly), good to a few percent for counts of 50 or more; for exact
 * footprints run {@code MemoryFootprint} with {@code -XX:+UseSerialGC} as the benchmark README says.
 *
 * <p>Thread-safety: stateless; call from one thread with nothing else allocating.
 */
final class MemoryCost {
    private MemoryCost() {
    }

    /**
     * @param spec the algorithm
     * @param ports the automatic set
     * @param reserved the reserved set
     * @param count allocators to build
     * @return bytes per allocator
     * @throws InterruptedException if interrupted while letting the collector settle
     */
    static double bytesPerAllocator(AlgorithmSpec spec, PortSet ports, PortSet reserved, int count)
        throws InterruptedException {
        final Destination d = Destinations.workload(0);
        final PortAllocator[] allocators = new PortAllocator[count];
        final long before = usedAfterGc();
        for (int i = 0; i < count; i++) {
            allocators[i] = PortAllocator.builder().ports(ports).reserved(reserved).seed(i)
                .algorithm(spec.algorithm()).build();
            allocators[i].release(allocators[i].acquire());
        }
        final long after = usedAfterGc();
        Reference.reachabilityFence(allocators);
        Reference.reachabilityFence(d);
        return (after - before) / (double) count;
    }

    /**
     * Heap bytes per live IPv4 5-tuple and per quarantined entry: one connect-mode allocator gets {@code tuples}
     * tuples to 1,000 destinations (heap growth from before the allocator was built / tuples = per live tuple,
     * the allocator and its fixed flow layer included), then releases them all with a one-hour
     * quarantine (growth since the live state / tuples = what a quarantined entry adds over a freed live one;
     * the live tuple's own bytes may be reused by it, so this is not the entry's whole size).
     *
     * @param spec the algorithm
     * @param ports the automatic set
     * @param reserved the reserved set
     * @param tuples tuples to create
     * @return {bytes per live tuple, bytes per quarantined entry relative to the freed live tuple}
     * @throws InterruptedException if interrupted while letting the collector settle
     */
    static double[] bytesPerTuple(AlgorithmSpec spec, PortSet ports, PortSet reserved, int tuples)
        throws InterruptedException {
        final SimulatedClock clock = new SimulatedClock();
        final Destination[] destinations = new Destination[1000];
        for (int i = 0; i < destinations.length; i++) {
            destinations[i] = Destinations.workload(i);
        }
        // The baseline precedes the allocator: its flow layer (the 4 MiB IPv4 tuple table, per-port counts,
        // the quarantine ring) is a fixed cost of connect-style use, counted per tuple here.
        final long empty = usedAfterGc();
        final PortAllocator a = PortAllocator.builder().ports(ports).reserved(reserved).seed(1).algorithm(spec.algorithm())
            .clock(clock).quarantine(java.time.Duration.ofHours(1)).build();
        a.release(a.acquire(destinations[0]), destinations[0]); // thread state, flow table created
        clock.advanceTo(7200); // ... and its quarantine entry expired
        a.release(a.acquire(destinations[1]), destinations[1]);
        clock.advanceTo(14400);
        final int[] granted = new int[tuples];
        for (int i = 0; i < tuples; i++) {
            granted[i] = a.acquire(destinations[i % destinations.length]);
        }
        final long live = usedAfterGc();
        for (int i = 0; i < tuples; i++) {
            a.release(granted[i], destinations[i % destinations.length]);
        }
        final long quarantined = usedAfterGc();
        Reference.reachabilityFence(a);
        return new double[] {(live - empty) / (double) tuples, (quarantined - live) / (double) tuples};
    }

    /**
     * @return the smallest used heap seen after each of 4 {@code System.gc()} calls (a full, stop-the-world
     *     collection with the default G1 and with Serial; the short pause only lets reference processing finish)
     */
    static long usedAfterGc() throws InterruptedException {
        final Runtime runtime = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(10);
            used = Math.min(used, runtime.totalMemory() - runtime.freeMemory());
        }
        return used;
    }
}
