package dev.portalloc.internal.flow;

import dev.portalloc.Destination;
import org.jctools.maps.NonBlockingHashMap;
import org.jctools.maps.NonBlockingHashMapLong;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The registry of hot destinations: those found holding a large share of the ports (many probes of a
 * selection hit their own tuples), each with a {@link DestinationPorts} hint. A destination is promoted by
 * the selection that finds it dense and demoted when its last marked port is cleared, so memory follows the
 * number of destinations that currently hold many ports (8.5 KiB each).
 *
 * <p>Why: uniform probing for a destination that already uses a fraction {@code f} of the ports needs
 * {@code 1/(1-f)} probes, each a tuple-table lookup, and then an exhaustive pass; the load-balancer-to-backend
 * case (every connection to one destination) would slow down as the destination fills. With the hint,
 * selection ranks the ports it does not use by block counts and reads one block's words.
 *
 * <p>Thread-safety: lock-free (JCTools maps). Lookups cost one volatile read while no destination is hot.
 */
final class HotDestinations {
    private final NonBlockingHashMapLong<DestinationPorts> ipv4 = new NonBlockingHashMapLong<>();
    private final NonBlockingHashMap<Destination, DestinationPorts> ipv6 = new NonBlockingHashMap<>();
    private final AtomicInteger hot = new AtomicInteger();

    /** @return the hint of {@code d}, or null if it is not hot */
    DestinationPorts get(Destination d) {
        if (hot.get() == 0) {
            return null;
        }
        return d.isIpv4() ? ipv4.get(d.ipv4Key()) : ipv6.get(d);
    }

    /** @return the hint of {@code d}, creating it (empty) if needed, and whether this call created it */
    DestinationPorts promote(Destination d) {
        final DestinationPorts fresh = new DestinationPorts();
        final DestinationPorts existing = d.isIpv4() ? ipv4.putIfAbsent(d.ipv4Key(), fresh) : ipv6.putIfAbsent(d, fresh);
        if (existing != null) {
            return existing;
        }
        hot.incrementAndGet();
        return fresh;
    }

    /** Removes the hint of {@code d} if it is still {@code ports}. */
    void demote(Destination d, DestinationPorts ports) {
        final boolean removed = d.isIpv4() ? ipv4.remove(d.ipv4Key(), ports) : ipv6.remove(d, ports);
        if (removed) {
            hot.decrementAndGet();
        }
    }

    /** @return the number of hot destinations (weakly consistent) */
    int size() {
        return hot.get();
    }
}
