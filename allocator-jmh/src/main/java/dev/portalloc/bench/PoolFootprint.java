package dev.portalloc.bench;

import dev.portalloc.PortSet;
import dev.portalloc.nat.AddressPool;
import dev.portalloc.nat.PortBlockAllocator;
import dev.portalloc.nat.PortPreservation;

import java.lang.ref.Reference;

/**
 * Build time and heap of an {@link AddressPool} of {@value #ADDRESSES} external addresses, without JOL: the
 * growth of the used heap after repeated {@link System#gc()} (as {@link MemoryFootprint} measures one
 * allocator), for the port sets 1..65535 and 1024-65535, and 1024-65535 with three reserved ports:
 * <ol>
 * <li>as built (an address's port bits are built on its first use, so this is the pool's fixed cost);</li>
 * <li>after one explicit acquire + release on every address by the calling thread (every address's bits
 *     built): the fully used pool;</li>
 * <li>the same with parity preservation, after a parity-preserving acquisition on every address (parity is a
 *     mask over the same bits: it should cost nothing more);</li>
 * <li>a {@link PortBlockAllocator} over 1024-65535 with blocks of 512 ports (126 per address) in which every
 *     block of every address is owned (516,096 subscribers holding one port each): the fully used block
 *     allocator.</li>
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
    private static final double MIB = 1024.0 * 1024.0;

    private PoolFootprint() {
    }

    public static void main(String[] args) throws InterruptedException {
        pool(PortSet.range(1, 65535), PortSet.empty(), false);
        pool(PortSet.RFC6056_RECOMMENDED, PortSet.empty(), false);
        pool(PortSet.RFC6056_RECOMMENDED, PortSet.parse("5060-5061,8080"), false);
        pool(PortSet.range(1, 65535), PortSet.empty(), true);
        blocks();
    }

    private static void pool(PortSet ports, PortSet reserved, boolean parity) throws InterruptedException {
        System.out.printf("%nAddressPool of %,d addresses, ports %s, reserved [%s]%s%n", ADDRESSES, ports, reserved,
            parity ? ", parity preserved" : "");
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
        final AddressPool pool = AddressPool.builder().external(EXTERNAL).ports(ports).reserved(reserved)
            .preserveParity(parity).seed(3).build();
        final long built = usedAfterGc();
        long touch = System.nanoTime();
        final int port = ports.first();
        for (int i = 0; i < pool.size(); i++) {
            if (!pool.tryAcquire(pool.addressAt(i), port)) {
                throw new IllegalStateException("port " + port + " of address " + i + " was held");
            }
            pool.release(pool.addressAt(i), port);
        }
        if (parity) {
            // a parity-preserving acquisition through a subscriber of each address
            int done = 0;
            final boolean[] seen = new boolean[pool.size()];
            for (int s = 0; done < pool.size(); s++) {
                final int index = pool.primaryIndex(s);
                if (!seen[index]) {
                    seen[index] = true;
                    done++;
                    pool.release(pool.tryAcquire(s, 40_001, PortPreservation.OFF));
                }
            }
        }
        touch = System.nanoTime() - touch;
        final long used = usedAfterGc();
        Reference.reachabilityFence(pool);
        System.out.printf("  heap as built:                 %,12d bytes = %7.3f MiB%n", built - empty, (built - empty) / MIB);
        System.out.printf("  heap with every address used:  %,12d bytes = %7.3f MiB (%,.0f bytes per address; "
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
            + "(%,.0f bytes per block, port bits and subscriber state included; filling took %.0f ms)%n",
            blocks.blocksInUse(), used - empty, (used - empty) / MIB, (used - built) / (double) total, fill / 1e6);
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
