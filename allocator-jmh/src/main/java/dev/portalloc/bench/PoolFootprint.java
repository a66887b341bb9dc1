package dev.portalloc.bench;

import dev.portalloc.PortSet;
import dev.portalloc.nat.AddressPool;
import dev.portalloc.nat.ParityPreserving;
import dev.portalloc.nat.PortBlockAllocator;
import dev.portalloc.nat.PortPreservation;

import java.lang.ref.Reference;

/**
 * Build time and heap of an {@link AddressPool} of {@value #ADDRESSES} external addresses, without JOL: the
 * growth of the used heap after repeated {@link System#gc()} (as {@link MemoryFootprint} measures one
 * allocator), for the port sets 1..65535 and 1024-65535, and 1024-65535 with three reserved ports (a selectable
 * set that is not one range costs each allocator a word mask of up to 16 KiB):
 * <ol>
 * <li>as built (allocators are built lazily, so this is the pool's fixed cost);</li>
 * <li>after one acquire + release on every address by the calling thread (every allocator built, and that
 *     thread's per-allocator generator and counters registered): the fully used pool;</li>
 * <li>a {@link PortBlockAllocator} over 1024-65535 with blocks of 512 ports (126 per address) in which every
 *     block of every address is owned (516,096 subscribers holding one port each): the fully used block
 *     allocator;</li>
 * <li>the parity views of {@link ParityPreserving} per address, measured on {@value #PARITY_ADDRESSES}
 *     addresses.</li>
 * </ol>
 * Build time is the wall time of {@code build()}: the first build of the run (class loading included) and
 * the best of {@value #BUILDS} more.
 *
 * <p>Run: {@code java -XX:+UseSerialGC -Xmx4g -cp allocator-jmh/target/benchmarks.jar dev.portalloc.bench.PoolFootprint}
 */
public final class PoolFootprint {
    private static final int ADDRESSES = 4096;
    private static final String EXTERNAL = "198.18.0.0/20";
    private static final int BUILDS = 20;
    private static final int PARITY_ADDRESSES = 64;
    private static final double MIB = 1024.0 * 1024.0;

    private PoolFootprint() {
    }

    public static void main(String[] args) throws InterruptedException {
        pool(PortSet.range(1, 65535), PortSet.empty());
        pool(PortSet.RFC6056_RECOMMENDED, PortSet.empty());
        pool(PortSet.RFC6056_RECOMMENDED, PortSet.parse("5060-5061,8080"));
        blocks();
        parity();
    }

    private static void pool(PortSet ports, PortSet reserved) throws InterruptedException {
        System.out.printf("%nAddressPool of %,d addresses, ports %s, reserved [%s]%n", ADDRESSES, ports, reserved);
        long first = System.nanoTime();
        AddressPool warm = AddressPool.builder().external(EXTERNAL).ports(ports).reserved(reserved).build();
        first = System.nanoTime() - first;
        long best = Long.MAX_VALUE;
        for (int i = 0; i < BUILDS; i++) {
            long t = System.nanoTime();
            warm = AddressPool.builder().external(EXTERNAL).ports(ports).reserved(reserved).build();
            best = Math.min(best, System.nanoTime() - t);
        }
        Reference.reachabilityFence(warm);
        System.out.printf("  build time: first %.3f ms (class loading, SecureRandom), best of %d %.3f ms%n",
            first / 1e6, BUILDS, best / 1e6);

        final long empty = usedAfterGc();
        final AddressPool pool = AddressPool.builder().external(EXTERNAL).ports(ports).reserved(reserved).build();
        final long built = usedAfterGc();
        long touch = System.nanoTime();
        for (int i = 0; i < pool.size(); i++) {
            pool.allocator(i).release(pool.allocator(i).acquire());
        }
        touch = System.nanoTime() - touch;
        final long used = usedAfterGc();
        Reference.reachabilityFence(pool);
        System.out.printf("  heap as built:                 %,12d bytes = %7.3f MiB%n", built - empty, (built - empty) / MIB);
        System.out.printf("  heap with every allocator used: %,12d bytes = %7.3f MiB (%,.0f bytes per address; "
            + "building and first use of all took %.1f ms)%n", used - empty, (used - empty) / MIB,
            (used - built) / (double) ADDRESSES, touch / 1e6);
    }

    private static void blocks() throws InterruptedException {
        System.out.printf("%nPortBlockAllocator of %,d addresses, ports 1024-65535, blocks of 512, every block owned%n",
            ADDRESSES);
        final long empty = usedAfterGc();
        final PortBlockAllocator blocks = PortBlockAllocator.builder(AddressPool.builder().external(EXTERNAL)
                .ports(PortSet.RFC6056_RECOMMENDED).whenFull(AddressPool.WhenFull.NEXT_ADDRESS).seed(1))
            .blockSize(512).maxBlocksPerSubscriber(4).build();
        final long built = usedAfterGc();
        final int total = ADDRESSES * blocks.blocksPerAddress();
        long fill = System.nanoTime();
        for (int s = 0; s < total; s++) {
            if (blocks.tryAcquire(0x0A00_0000 + s) < 0) {
                throw new IllegalStateException("subscriber " + s + " got no block");
            }
        }
        fill = System.nanoTime() - fill;
        final long used = usedAfterGc();
        Reference.reachabilityFence(blocks);
        System.out.printf("  heap as built:      %,12d bytes = %7.3f MiB%n", built - empty, (built - empty) / MIB);
        System.out.printf("  heap, %,d blocks owned by as many subscribers: %,d bytes = %.3f MiB "
            + "(%,.0f bytes per block, allocators and subscriber state included; filling took %.0f ms)%n",
            blocks.blocksInUse(), used - empty, (used - empty) / MIB, (used - built) / (double) total, fill / 1e6);
    }

    private static void parity() throws InterruptedException {
        System.out.printf("%nParity views (ParityPreserving) of %d addresses, ports 1024-65535%n", PARITY_ADDRESSES);
        final AddressPool pool = AddressPool.builder().external("198.18.0.0/26").preserveParity(true).seed(2).build();
        for (int i = 0; i < pool.size(); i++) {
            pool.allocator(i).release(pool.allocator(i).acquire()); // allocators first, measured apart
        }
        final long before = usedAfterGc();
        int subscriber = 0;
        for (int built = 0; built < PARITY_ADDRESSES; subscriber++) {
            // one parity-preserving acquisition per address builds its two views
            final int index = pool.primaryIndex(subscriber);
            final long m = pool.tryAcquire(subscriber, 40_000 + index * 2, PortPreservation.OFF);
            pool.release(m);
            built = countParityBuilt(pool, subscriber);
        }
        final long after = usedAfterGc();
        Reference.reachabilityFence(pool);
        System.out.printf("  parity views: %,.0f bytes per address (%,d bytes for %d addresses)%n",
            (after - before) / (double) PARITY_ADDRESSES, after - before, PARITY_ADDRESSES);
    }

    /** Addresses reached by subscribers 0..last: those whose parity views exist. */
    private static int countParityBuilt(AddressPool pool, int last) {
        final boolean[] seen = new boolean[pool.size()];
        int n = 0;
        for (int s = 0; s <= last; s++) {
            final int i = pool.primaryIndex(s);
            if (!seen[i]) {
                seen[i] = true;
                n++;
            }
        }
        return n;
    }

    private static long usedAfterGc() throws InterruptedException {
        final Runtime runtime = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(50);
            used = Math.min(used, runtime.totalMemory() - runtime.freeMemory());
        }
        return used;
    }
}
