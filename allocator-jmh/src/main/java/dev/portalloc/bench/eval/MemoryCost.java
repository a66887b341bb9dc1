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

    static long usedAfterGc() throws InterruptedException {
        final Runtime runtime = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(30);
            used = Math.min(used, runtime.totalMemory() - runtime.freeMemory());
        }
        return used;
    }
}
