package dev.portalloc.internal.flow;

import dev.portalloc.Destination;
import org.jctools.maps.NonBlockingHashMap;

/**
 * The live and quarantined connect-style tuples of one allocator, keyed exactly by (local port, remote
 * address, remote port); protocol and local address are the allocator's own.
 *
 * <p>IPv4 tuples live in an {@link Ipv4TupleTable} under the key {@code (destination.ipv4Key() << 16) |
 * localPort} (remote address 32 bits, remote port 16, local port 16): one word per tuple, slots of released
 * tuples reused, no allocation per operation. IPv6 tuples live in a JCTools {@link NonBlockingHashMap} keyed
 * by an exact {@link Ipv6Tuple} (one small object per operation), with two shared sentinels as values.
 *
 * <p>Thread-safety: lock-free; every method is one atomic table operation.
 */
public final class TupleTable {
    /** {@link #insertLive} result: the tuple is now live. */
    static final int INSERTED = Ipv4TupleTable.INSERTED;
    /** {@link #insertLive} result: the tuple is already live or quarantined. */
    static final int PRESENT = Ipv4TupleTable.PRESENT;
    /** {@link #insertLive} result: another insert of the same tuple is in flight. */
    static final int BUSY = Ipv4TupleTable.BUSY;

    private static final Object LIVE = new Object() {
        @Override
        public String toString() {
            return "LIVE";
        }
    };
    private static final Object QUARANTINED = new Object() {
        @Override
        public String toString() {
            return "QUARANTINED";
        }
    };

    private final Ipv4TupleTable ipv4;
    private final NonBlockingHashMap<Ipv6Tuple, Object> ipv6 = new NonBlockingHashMap<>();

    /**
     * @param salt random bits for the IPv4 table's key mixer (keeps remote parties from choosing collisions)
     * @param ipv4BucketBits log2 of the IPv4 table's main buckets
     */
    TupleTable(long salt, int ipv4BucketBits) {
        this.ipv4 = new Ipv4TupleTable(salt, ipv4BucketBits);
    }

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
        return d.isIpv4() ? ipv4.state(ipv4Key(port, d)) != 0 : ipv6.containsKey(ipv6Key(port, d));
    }

    /** @return whether the tuple is live */
    public boolean isLive(int port, Destination d) {
        return d.isIpv4() ? ipv4.state(ipv4Key(port, d)) == Ipv4TupleTable.LIVE : ipv6.get(ipv6Key(port, d)) == LIVE;
    }

    /** @return {@link #INSERTED}, {@link #PRESENT} or {@link #BUSY} */
    int insertLive(int port, Destination d) {
        if (d.isIpv4()) {
            return ipv4.insert(ipv4Key(port, d));
        }
        return ipv6.putIfAbsent(ipv6Key(port, d), LIVE) == null ? INSERTED : PRESENT;
    }

    /** @return true if the tuple was live and is now gone */
    boolean removeLive(int port, Destination d) {
        return d.isIpv4() ? ipv4.transition(ipv4Key(port, d), Ipv4TupleTable.LIVE, 0)
            : ipv6.remove(ipv6Key(port, d), LIVE);
    }

    /** @return true if the tuple was live and is now quarantined */
    boolean quarantine(int port, Destination d) {
        return d.isIpv4() ? ipv4.transition(ipv4Key(port, d), Ipv4TupleTable.LIVE, Ipv4TupleTable.QUARANTINED)
            : ipv6.replace(ipv6Key(port, d), LIVE, QUARANTINED);
    }

    /** @return true if the quarantined IPv4 tuple was removed */
    boolean expireIpv4(long key) {
        return ipv4.transition(key, Ipv4TupleTable.QUARANTINED, 0);
    }

    /** @return true if the quarantined IPv6 tuple was removed */
    boolean expireIpv6(Ipv6Tuple key) {
        return ipv6.remove(key, QUARANTINED);
    }

    /** @return live and quarantined tuples (weakly consistent) */
    public long size() {
        return ipv4.size() + ipv6.size();
    }

    /** @return bytes of the IPv4 table (main buckets and overflow chunks so far) */
    long ipv4Bytes() {
        return ipv4.bytes();
    }
}
