package dev.portalloc.examples;

import dev.portalloc.AllocatorStats;
import dev.portalloc.PortAllocator;
import dev.portalloc.PortExhaustedException;
import dev.portalloc.PortSet;

/**
 * A tour of the exclusive allocator in one {@code main}: automatic and explicit allocation, reservations
 * changing at run time, exhaustion, and the stats snapshot.
 *
 * <p>Run it from the repository root with
 * {@code mvn -B -q -DskipTests -pl examples -am package exec:java}.
 */
public final class QuickStart {
    private QuickStart() {
    }

    public static void main(String[] args) {
        // 1. An allocator over a small range so that exhaustion is easy to show; 40 ports are reserved.
        PortAllocator ports = PortAllocator.builder()
            .ports(PortSet.parse("32768-33023"))      // 256 ports, Linux ip_local_port_range syntax works too
            .reserved(PortSet.parse("32800-32839"))   // never chosen automatically
            .build();
        System.out.println("allocator: " + ports);

        // 2. Automatic allocation: uniform over the free, non-reserved ports.
        int first = ports.acquire();
        int second = ports.acquire();
        System.out.printf("acquired %d and %d automatically%n", first, second);

        // 3. Explicit allocation, as bind() to a named port: works for any port, reserved or not.
        System.out.println("tryAcquire(32800) [reserved, explicit] -> " + ports.tryAcquire(32800));
        System.out.println("tryAcquire(32800) again              -> " + ports.tryAcquire(32800));
        System.out.println("tryAcquire(" + first + ") [held]            -> " + ports.tryAcquire(first));

        // 4. Reservations change at run time; holders are never affected.
        ports.reserve(PortSet.of(first));
        System.out.println("reserved now: " + ports.reserved() + "; " + first + " still held: " + ports.isHeld(first));
        ports.unreserve(PortSet.of(first));

        // 5. Fill the automatic set until it is exhausted.
        int taken = 0;
        while (ports.tryAcquire() != PortAllocator.NONE) {
            taken++;
        }
        System.out.println("then took " + taken + " more ports until tryAcquire() returned NONE");
        try {
            ports.acquire();
        } catch (PortExhaustedException e) {
            System.out.println("acquire() on a full allocator: " + e.getMessage());
        }

        // 6. A release makes a port available again at once.
        ports.release(second);
        System.out.println("released " + second + ", acquire() -> " + ports.acquire());

        AllocatorStats stats = ports.stats();
        System.out.println("stats: " + stats);
    }
}
