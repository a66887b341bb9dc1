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
 * selection ranks the ports it does not use by block bounds and reads one block's words.
 *
 * <p>Thread-safety: lock-free (JCTools maps). Lookups cost one volatile read while no destination is hot.
 */
final class HotDestinations {
    private final NonBlockingHashMapLong<DestinationPorts> ipv4 = new NonBlockingHashMapLong<>();
    private final NonBlockingHashMap<Destination, DestinationPorts> ipv6 = new NonBlockingHashMap<>();
    private final AtomicInteger hot = new AtomicInteger();
    /**
     * The hint of the most recently promoted or found destination, checked before the maps: the
     * load-balancer-to-backend case has one hot destination, looked up twice per connection. Volatile; a hint
     * that was demoted (retired) is ignored. Replacing it allocates nothing (the hint knows its destination).
     */
    private volatile DestinationPorts last;

    /** @return the hint of {@code d}, or null if it is not hot */
    DestinationPorts get(Destination d) {
        if (hot.get() == 0) {
            return null;
        }
        final DestinationPorts cached = last;
        if (cached != null && cached.destination().equals(d) && !cached.isRetired()) {
            return cached;
        }
        final DestinationPorts ports = d.isIpv4() ? ipv4.get(d.ipv4Key()) : ipv6.get(d);
        if (ports != null) {
            last = ports;
        }
        return ports;
    }

    /** @return the hint of {@code d}, creating it (empty) if needed, and whether this call created it */
    DestinationPorts promote(Destination d) {
        final DestinationPorts fresh = new DestinationPorts(d);
        final DestinationPorts existing = d.isIpv4() ? ipv4.putIfAbsent(d.ipv4Key(), fresh) : ipv6.putIfAbsent(d, fresh);
        if (existing != null) {
            return existing;
        }
        hot.incrementAndGet();
        last = fresh;
        return fresh;
    }

    /** Removes the hint of {@code d} if it is still {@code ports}. */
    void demote(Destination d, DestinationPorts ports) {
        final boolean removed = d.isIpv4() ? ipv4.remove(d.ipv4Key(), ports) : ipv6.remove(d, ports);
        if (removed) {
            // Retired after the removal: a reader that still gets it raced with the demotion, as a map lookup
            // can; the flag keeps a late write of the entry to `last` from reviving it.
            ports.retire();
            hot.decrementAndGet();
        }
    }

    /** @return the number of hot destinations (weakly consistent) */
    int size() {
        return hot.get();
    }
}
