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
 * <p>An insert is two-phase: {@link #reserve} makes the tuple PENDING (unique: no other insert of it can
 * succeed), then {@link #commit} makes it live or {@link #cancel} withdraws it. The flow layer joins the port
 * in between, so that a tuple is live exactly from the moment its port counts it. Readers that must give a
 * definite answer ({@link #isLive}, {@link #removeLive}, {@link #quarantine}) wait while the tuple is
 * PENDING (one CAS of the inserting thread away), and the two changes try again if it turned LIVE meanwhile;
 * {@link #isUsed} treats PENDING as unused, and
 * {@link #reserve} reports it as {@link #BUSY}.
 *
 * <p>Thread-safety: lock-free, except for those waits; every change is one atomic table operation.
 */
public final class TupleTable {
    /** {@link #reserve} result: the tuple is already live or quarantined. */
    static final int PRESENT = Ipv4TupleTable.PRESENT;
    /** {@link #reserve} result: another insert of the same tuple is in flight. */
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
    private static final Object PENDING = new Object() {
        @Override
        public String toString() {
            return "PENDING";
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

    /** @return whether the tuple is live or quarantined (a PENDING tuple counts as unused) */
    public boolean isUsed(int port, Destination d) {
        final long state = state(port, d);
        return state == Ipv4TupleTable.LIVE || state == Ipv4TupleTable.QUARANTINED;
    }

    /** @return whether the tuple is live, waiting while it is PENDING */
    public boolean isLive(int port, Destination d) {
        for (;;) {
            final long state = state(port, d);
            if (state != Ipv4TupleTable.PENDING) {
                return state == Ipv4TupleTable.LIVE;
            }
            Thread.onSpinWait();
        }
    }

    /**
     * @return the tuple's state in {@link Ipv4TupleTable}'s numbers ({@code LIVE}, {@code QUARANTINED} or
     *     {@code PENDING}), or 0 if it is absent; an IPv6 tuple's sentinel is mapped to the same numbers
     */
    private long state(int port, Destination d) {
        if (d.isIpv4()) {
            return ipv4.state(ipv4Key(port, d));
        }
        final Object v = ipv6.get(ipv6Key(port, d));
        return v == LIVE ? Ipv4TupleTable.LIVE : v == QUARANTINED ? Ipv4TupleTable.QUARANTINED
            : v == PENDING ? Ipv4TupleTable.PENDING : 0;
    }

    /**
     * @return a handle {@code >= 0} for {@link #commit} or {@link #cancel} if the tuple is now PENDING (for IPv4
     *     its slot in the table, so that neither mixes the key again nor scans its chain); {@link #PRESENT} or
     *     {@link #BUSY}
     */
    int reserve(int port, Destination d) {
        if (d.isIpv4()) {
            return ipv4.insert(ipv4Key(port, d));
        }
        final Object previous = ipv6.putIfAbsent(ipv6Key(port, d), PENDING);
        return previous == null ? 0 : previous == PENDING ? BUSY : PRESENT;
    }

    /** Makes the caller's PENDING tuple live; {@code handle} is what {@link #reserve} returned. */
    void commit(int port, Destination d, int handle) {
        if (d.isIpv4()) {
            ipv4.commit(handle);
        } else if (!ipv6.replace(ipv6Key(port, d), PENDING, LIVE)) {
            throw new AssertionError("tuple " + port + " -> " + d + " was not pending");
        }
    }

    /** Withdraws the caller's PENDING tuple; {@code handle} is what {@link #reserve} returned. */
    void cancel(int port, Destination d, int handle) {
        if (d.isIpv4()) {
            ipv4.cancel(handle);
        } else if (!ipv6.remove(ipv6Key(port, d), PENDING)) {
            throw new AssertionError("tuple " + port + " -> " + d + " was not pending");
        }
    }

    /** @return true if the tuple was live and is now gone (waits while it is PENDING) */
    boolean removeLive(int port, Destination d) {
        for (;;) {
            if (d.isIpv4() ? ipv4.transition(ipv4Key(port, d), Ipv4TupleTable.LIVE, 0)
                : ipv6.remove(ipv6Key(port, d), LIVE)) {
                return true;
            }
            if (!mayBeLive(port, d)) {
                return false;
            }
            Thread.onSpinWait();
        }
    }

    /** @return true if the tuple was live and is now quarantined (waits while it is PENDING) */
    boolean quarantine(int port, Destination d) {
        for (;;) {
            if (d.isIpv4() ? ipv4.transition(ipv4Key(port, d), Ipv4TupleTable.LIVE, Ipv4TupleTable.QUARANTINED)
                : ipv6.replace(ipv6Key(port, d), LIVE, QUARANTINED)) {
                return true;
            }
            if (!mayBeLive(port, d)) {
                return false;
            }
            Thread.onSpinWait();
        }
    }

    /**
     * After a removal or quarantine that did not find the tuple live: whether to try again. Yes while it is PENDING
     * (its join is one commit away), and also when it is LIVE by now: its commit landed after the failed attempt,
     * and a "not live" answer would contradict the join, which linearized at its port join, before that commit
     * (FlowTableLincheckTest.leaveBetweenJoinAndCommit). No for any other state, which is then the answer's
     * linearization point.
     */
    private boolean mayBeLive(int port, Destination d) {
        final long state = state(port, d);
        return state == Ipv4TupleTable.PENDING || state == Ipv4TupleTable.LIVE;
    }

    /** @return true if the quarantined IPv4 tuple was removed */
    boolean expireIpv4(long key) {
        return ipv4.transition(key, Ipv4TupleTable.QUARANTINED, 0);
    }

    /** @return true if the quarantined IPv6 tuple was removed */
    boolean expireIpv6(Ipv6Tuple key) {
        return ipv6.remove(key, QUARANTINED);
    }

    /** @return bytes of the IPv4 table: its main buckets and the overflow chunks allocated so far */
    public long ipv4Bytes() {
        return ipv4.bytes();
    }

    /** @return live and quarantined tuples (weakly consistent; IPv6 PENDING tuples are counted too) */
    public long size() {
        return ipv4.size() + ipv6.size();
    }
}
