package dev.portalloc.internal.flow;

import dev.portalloc.Destination;
import org.jctools.maps.NonBlockingHashMap;
import org.jctools.maps.NonBlockingHashMapLong;

/**
 * The live and quarantined connect-style tuples of one allocator, keyed exactly by (local port, remote
 * address, remote port); protocol and local address are the allocator's own.
 *
 * <p>IPv4 tuples live in a JCTools {@link NonBlockingHashMapLong} under the key
 * {@code (destination.ipv4Key() << 16) | localPort} (remote address 32 bits, remote port 16, local port 16):
 * no object per tuple, and no allocation per operation beyond the map's amortised resizing. IPv6 tuples live
 * in a JCTools {@link NonBlockingHashMap} keyed by an exact {@link Ipv6Tuple} (one small object per
 * operation). Values are two shared sentinels, {@link #LIVE} and {@link #QUARANTINED}.
 *
 * <p>Thread-safety: lock-free (the JCTools maps are); every method is one atomic map operation.
 */
public final class TupleTable {
    /** Value of a live tuple. */
    static final Object LIVE = new Object() {
        @Override
        public String toString() {
            return "LIVE";
        }
    };
    /** Value of a released tuple in quarantine. */
    static final Object QUARANTINED = new Object() {
        @Override
        public String toString() {
            return "QUARANTINED";
        }
    };

    private final NonBlockingHashMapLong<Object> ipv4 = new NonBlockingHashMapLong<>();
    private final NonBlockingHashMap<Ipv6Tuple, Object> ipv6 = new NonBlockingHashMap<>();

    /** The exact key of an IPv6 tuple. */
    record Ipv6Tuple(long high, long low, int remotePort, int localPort) {
    }

    /** @return the IPv4 key of the tuple (local {@code port}, {@code d}); {@code d} must be IPv4 */
    static long ipv4Key(int port, Destination d) {
        return (d.ipv4Key() << 16) | port;
    }

    /** @return the local port of an IPv4 key */
    static int portOf(long ipv4Key) {
        return (int) (ipv4Key & 0xFFFF);
    }

    static Ipv6Tuple ipv6Key(int port, Destination d) {
        return new Ipv6Tuple(d.ipv6High(), d.ipv6Low(), d.port(), port);
    }

    /** @return whether the tuple is live or quarantined */
    public boolean isUsed(int port, Destination d) {
        return d.isIpv4() ? ipv4.containsKey(ipv4Key(port, d)) : ipv6.containsKey(ipv6Key(port, d));
    }

    /** @return whether the tuple is live */
    public boolean isLive(int port, Destination d) {
        return (d.isIpv4() ? ipv4.get(ipv4Key(port, d)) : ipv6.get(ipv6Key(port, d))) == LIVE;
    }

    /** @return true if the tuple was unused and is now live */
    boolean insertLive(int port, Destination d) {
        return (d.isIpv4() ? ipv4.putIfAbsent(ipv4Key(port, d), LIVE) : ipv6.putIfAbsent(ipv6Key(port, d), LIVE)) == null;
    }

    /** @return true if the tuple was live and is now gone */
    boolean removeLive(int port, Destination d) {
        return d.isIpv4() ? ipv4.remove(ipv4Key(port, d), LIVE) : ipv6.remove(ipv6Key(port, d), LIVE);
    }

    /** @return true if the tuple was live and is now quarantined */
    boolean quarantine(int port, Destination d) {
        return d.isIpv4() ? ipv4.replace(ipv4Key(port, d), LIVE, QUARANTINED)
            : ipv6.replace(ipv6Key(port, d), LIVE, QUARANTINED);
    }

    /** @return true if the quarantined IPv4 tuple was removed */
    boolean expireIpv4(long key) {
        return ipv4.remove(key, QUARANTINED);
    }

    /** @return true if the quarantined IPv6 tuple was removed */
    boolean expireIpv6(Ipv6Tuple key) {
        return ipv6.remove(key, QUARANTINED);
    }

    /** @return live and quarantined tuples (weakly consistent; counts the maps, O(capacity)) */
    public long size() {
        return (long) ipv4.size() + ipv6.size();
    }
}
