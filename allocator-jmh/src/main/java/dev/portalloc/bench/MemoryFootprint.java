package dev.portalloc.bench;

import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;
import dev.portalloc.internal.bitmap.PortBitmap;

import java.lang.ref.Reference;

/**
 * Bytes per allocator over the whole port space 1..65535, without JOL: the growth of the used heap (after
 * repeated {@link System#gc()}) while {@value #COUNT} allocators are built, then while the calling thread
 * uses each of them once (which registers that thread's generator and counters in each allocator).
 * Prints the computed bitmap state ({@link PortBitmap#stateBytes()}) next to the measurements.
 *
 * <p>Run: {@code java -XX:+UseSerialGC -cp allocator-jmh/target/benchmarks.jar dev.portalloc.bench.MemoryFootprint}
 * (a stop-the-world collector makes the used-heap figure exact after each collection).
 */
public final class MemoryFootprint {
    private static final int COUNT = 1000;
    private static final PortSet ALL = PortSet.range(PortAllocator.MIN_PORT, PortAllocator.MAX_PORT);

    private MemoryFootprint() {
    }

    public static void main(String[] args) throws InterruptedException {
        acquireAndRelease(PortAllocator.builder().ports(ALL).build()); // load classes, SecureRandom, thread locals
        final PortAllocator[] allocators = new PortAllocator[COUNT];

        final long empty = usedAfterGc();
        for (int i = 0; i < COUNT; i++) {
            allocators[i] = PortAllocator.builder().ports(ALL).build();
        }
        final long built = usedAfterGc();
        for (PortAllocator a : allocators) {
            acquireAndRelease(a);
        }
        final long used = usedAfterGc();
        Reference.reachabilityFence(allocators);

        System.out.printf("bitmap words (2 bits per port):        %,9d bytes%n", 8L * PortBitmap.WORDS);
        System.out.printf("PortBitmap.stateBytes():               %,9d bytes (words, block bounds, headers, padded epoch)%n",
            PortBitmap.stateBytes());
        System.out.printf("measured per allocator, as built:      %,11.1f bytes (mean of %d)%n",
            (built - empty) / (double) COUNT, COUNT);
        System.out.printf("measured per allocator, after one use: %,11.1f bytes (%+.1f: the thread's generator and counters)%n",
            (used - empty) / (double) COUNT, (used - built) / (double) COUNT);
    }

    private static void acquireAndRelease(PortAllocator a) {
        a.release(a.acquire());
    }

    private static long usedAfterGc() throws InterruptedException {
        final Runtime runtime = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) { // repeat until stable: finalisation and reference processing settle
            System.gc();
            Thread.sleep(50);
            used = Math.min(used, runtime.totalMemory() - runtime.freeMemory());
        }
        return used;
    }
}
