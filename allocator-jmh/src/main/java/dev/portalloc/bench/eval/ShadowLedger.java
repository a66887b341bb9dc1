package dev.portalloc.bench.eval;

import dev.portalloc.Destination;
import dev.portalloc.PortSet;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An independent record of what a {@link Subject} has handed out, used to <em>verify</em> its answers instead of
 * trusting them: every granted port must be selectable and not already live (or quarantined) for its key, and
 * every failed allocation is compared with the ports the ledger knows to be free at that moment, which makes a
 * false exhaustion (failure while a port was free) visible. The key is the destination in connect mode and one
 * shared key in exclusive mode.
 *
 * <p>Quarantine: a released port stays unavailable for its key until {@code release + quarantine}. To be immune
 * to the allocator's choice of boundary ({@code <} or {@code ≤}) and clock rounding, a failure counts as false
 * exhaustion only if some port was free with at least {@value #EXPIRY_SLACK_NANOS} ns to spare.
 *
 * <p>Thread-safety: not thread-safe; one simulation thread owns it.
 */
final class ShadowLedger {
    /** Expired quarantine entries younger than this do not count as certainly free. */
    static final long EXPIRY_SLACK_NANOS = 1_000_000;
    private static final int MAX_MESSAGES = 10;

    private final PortSet selectable;
    private final BitSet selectableBits = new BitSet(65536);
    private final boolean perDestination;
    private final long quarantineNanos;
    /** Key number of each destination (one key, 0, in exclusive mode). */
    private final Map<Destination, Integer> keys = new HashMap<>();
    private final List<BitSet> live = new ArrayList<>();
    /** Quarantined (key, port) → expiry of its latest release, and the count per key. */
    private final Map<Long, Long> quarantineExpiry = new HashMap<>();
    private final List<int[]> quarantinedCount = new ArrayList<>();
    private final ArrayDeque<Entry> quarantineQueue = new ArrayDeque<>();
    private final List<String> violations = new ArrayList<>();
    private long violationCount;
    private long falseExhaustions;
    private long trueExhaustions;

    private record Entry(long expiry, long tuple) {
    }

    ShadowLedger(PortSet selectable, boolean perDestination, long quarantineNanos) {
        this.selectable = selectable;
        this.perDestination = perDestination;
        this.quarantineNanos = quarantineNanos;
        selectable.stream().forEach(selectableBits::set);
    }

    private int key(Destination d) {
        final Destination k = perDestination ? d : null;
        final Integer id = keys.get(k);
        if (id != null) {
            return id;
        }
        final int fresh = live.size();
        keys.put(k, fresh);
        live.add(new BitSet(65536));
        quarantinedCount.add(new int[1]);
        return fresh;
    }

    private static long tuple(int key, int port) {
        return ((long) key << 16) | port;
    }

    /**
     * Records a granted port and checks it.
     *
     * @param port the port granted
     * @param d its destination
     * @param now the simulated time in ns
     */
    void acquired(int port, Destination d, long now) {
        expire(now);
        final int k = key(d);
        if (!selectable.contains(port)) {
            violation("port " + port + " granted for " + d + " is not selectable (" + selectable + ")");
        }
        final BitSet held = live.get(k);
        if (held.get(port)) {
            violation("port " + port + " granted twice for " + (perDestination ? d : "exclusive use"));
        }
        if (quarantineExpiry.containsKey(tuple(k, port))) {
            violation("port " + port + " granted for " + d + " while quarantined");
        }
        held.set(port);
    }

    /**
     * Records a release.
     *
     * @param port the port
     * @param d its destination
     * @param now the simulated time in ns
     */
    void released(int port, Destination d, long now) {
        final int k = key(d);
        final BitSet held = live.get(k);
        if (!held.get(port)) {
            violation("release of port " + port + " for " + d + " that the ledger does not hold");
            return;
        }
        held.clear(port);
        if (quarantineNanos > 0) {
            final long t = tuple(k, port);
            if (quarantineExpiry.put(t, now + quarantineNanos) == null) {
                quarantinedCount.get(k)[0]++;
            }
            quarantineQueue.add(new Entry(now + quarantineNanos, t));
        }
    }

    /**
     * Judges a failed allocation: a false exhaustion if the ledger knows a selectable port that was free for
     * {@code d} (not live, not quarantined with the slack), otherwise a true one.
     *
     * @param d the destination
     * @param now the simulated time in ns
     * @return whether it was a false exhaustion
     */
    boolean failed(Destination d, long now) {
        final int k = key(d);
        final BitSet free = (BitSet) selectableBits.clone();
        free.andNot(live.get(k));
        // Still-quarantined ports, and those expired less than the slack ago, are not certainly free.
        for (Entry e : quarantineQueue) {
            if ((int) (e.tuple >>> 16) == k && e.expiry + EXPIRY_SLACK_NANOS > now) {
                free.clear((int) (e.tuple & 0xFFFF));
            }
        }
        final int port = free.nextSetBit(0);
        if (port >= 0) {
            falseExhaustions++;
            violation("false exhaustion for " + d + ": port " + port + " was free");
            return true;
        }
        trueExhaustions++;
        return false;
    }

    /**
     * @param d a destination
     * @param now the simulated time in ns
     * @return selectable ports neither live nor quarantined for {@code d}: the choices an ideal allocator has
     */
    int freeFor(Destination d, long now) {
        expire(now);
        final int k = key(d);
        return Math.max(0, selectable.size() - live.get(k).cardinality() - quarantinedCount.get(k)[0]);
    }

    private void expire(long now) {
        while (!quarantineQueue.isEmpty() && quarantineQueue.peekFirst().expiry <= now) {
            final Entry e = quarantineQueue.pollFirst();
            // a tuple released again before this entry expired keeps its later expiry
            if (java.util.Objects.equals(quarantineExpiry.get(e.tuple), e.expiry)) {
                quarantineExpiry.remove(e.tuple);
                quarantinedCount.get((int) (e.tuple >>> 16))[0]--;
            }
        }
    }

    private void violation(String message) {
        violationCount++;
        if (violations.size() < MAX_MESSAGES) {
            violations.add(message);
        }
    }

    /** @return violations of any kind (duplicates, unselectable ports, false exhaustions, bad releases) */
    long violationCount() {
        return violationCount;
    }

    /** @return the first violation messages */
    List<String> violationMessages() {
        return List.copyOf(violations);
    }

    /** @return failed allocations while the ledger knew a free port */
    long falseExhaustions() {
        return falseExhaustions;
    }

    /** @return failed allocations with no free port */
    long trueExhaustions() {
        return trueExhaustions;
    }
}
