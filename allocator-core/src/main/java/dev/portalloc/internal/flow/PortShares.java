package dev.portalloc.internal.flow;

import dev.portalloc.internal.bitmap.PortBitmap;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The per-port share state of the flow layer: how many live or quarantined connect-style tuples use each
 * port, and the transitions that move a port between the bitmap's FREE and SHARED states
 * (docs/design/connect-style.md).
 *
 * <h2>State</h2>
 * One {@code int} per port: a count {@code n >= 0} of the tuples (live and quarantined) on the port, or one of
 * three transient or special values:
 * <ul>
 * <li>{@link #JOINING}: one thread is turning the FREE port SHARED (it will store 1, or 0 if an exclusive
 *     claim won the port first);</li>
 * <li>{@link #LEAVING}: the last tuple's leaver is turning the SHARED port FREE (it will store 0);</li>
 * <li>{@link #EXCLUSIVE_QUARANTINED}: the port is still held exclusively in the bitmap but its holder
 *     released it into quarantine; it is granted to nobody until the quarantine expires.</li>
 * </ul>
 * Invariants: {@code n >= 1} implies the bitmap word says SHARED; the word changes FREE to SHARED only
 * while this slot is JOINING and SHARED to FREE only while it is LEAVING, and exactly one thread owns each
 * of those states (it won the CAS into it), so the two word CASes can never act on a stale view. A join to
 * a port that already has tuples is a single CAS {@code n -> n+1}; whatever happened to the port before,
 * a successful CAS from {@code n >= 1} means the port is SHARED at that instant (no episode counter needed:
 * the count is only a count).
 *
 * <h2>Thread-safety and progress</h2>
 * Thread-safe. Joins and leaves are CAS loops that fail only when another thread's CAS succeeded, except
 * that the owner of JOINING or LEAVING has one more store to make: other threads never wait for it in
 * {@link #join} (they get {@link #BUSY} and try another port); only an exhaustion verdict, whose
 * remaining candidates are all in such a state, and {@link #quarantineExclusive}, whose caller may have
 * claimed the port exclusively just after a last leaver freed it (or while a joiner is about to lose it),
 * spin until the store lands. All accesses are volatile.
 */
public final class PortShares {
    /** {@link #join} result: the caller now counts as a user of the port. */
    public static final int JOINED = 0;
    /** {@link #join} result: the port is held exclusively (or quarantined so). */
    public static final int UNSUITABLE = 1;
    /** {@link #join} result: the port is between FREE and SHARED; try another or retry. */
    public static final int BUSY = 2;

    static final int JOINING = -1;
    static final int LEAVING = -2;
    static final int EXCLUSIVE_QUARANTINED = -3;

    private static final VarHandle SHARE = MethodHandles.arrayElementVarHandle(int[].class);

    private static final int COUNT_STRIDE = 16;

    private final PortBitmap bitmap;
    private final int[] shares = new int[PortBitmap.MAX_PORT + 1];
    /**
     * SHARED ports per 1,024-port block at {@code (b + 1) * COUNT_STRIDE}, one per cache line: with the
     * bitmap's free counts it tells how many ports of a block are not held exclusively. Changed only when a
     * port turns SHARED or FREE (once per port episode, not per tuple).
     */
    private final int[] sharedCounts = new int[(PortBitmap.BLOCKS + 1) * COUNT_STRIDE];
    private static final VarHandle COUNT = MethodHandles.arrayElementVarHandle(int[].class);

    public PortShares(PortBitmap bitmap) {
        this.bitmap = bitmap;
    }

    /**
     * Adds one user to the port, making a FREE port SHARED if needed.
     *
     * @return {@link #JOINED}, {@link #UNSUITABLE} or {@link #BUSY}
     */
    public int join(int port) {
        final int[] shares = this.shares;
        for (;;) {
            final int s = (int) SHARE.getVolatile(shares, port);
            if (s >= 1) {
                if (SHARE.compareAndSet(shares, port, s, s + 1)) {
                    return JOINED;
                }
            } else if (s == 0) {
                if (bitmap.isExclusive(port)) { // a read that reports nothing free, so it owes no epoch increment
                    return UNSUITABLE;
                }
                if (SHARE.compareAndSet(shares, port, 0, JOINING)) {
                    // We own JOINING: no one else changes this slot until we store again.
                    if (bitmap.tryClaimShared(port)) {
                        COUNT.getAndAdd(sharedCounts, countIndex(port), 1);
                        SHARE.setVolatile(shares, port, 1);
                        return JOINED;
                    }
                    SHARE.setVolatile(shares, port, 0); // an exclusive claim took the FREE port first
                    return UNSUITABLE;
                }
            } else if (s == EXCLUSIVE_QUARANTINED && bitmap.isExclusive(port)) {
                return UNSUITABLE;
            } else {
                return BUSY; // JOINING, LEAVING, or a quarantine being set up or undone
            }
        }
    }

    /** Removes one user; the last one frees the port in the bitmap. The caller must be a user. */
    public void leave(int port) {
        final int[] shares = this.shares;
        for (;;) {
            final int s = (int) SHARE.getVolatile(shares, port);
            if (s > 1) {
                if (SHARE.compareAndSet(shares, port, s, s - 1)) {
                    return;
                }
            } else if (s == 1) {
                if (SHARE.compareAndSet(shares, port, 1, LEAVING)) {
                    // We own LEAVING: the word is SHARED and only we may free it.
                    COUNT.getAndAdd(sharedCounts, countIndex(port), -1);
                    if (!bitmap.releaseShared(port)) {
                        throw new AssertionError("port " + port + " had a user but was not SHARED");
                    }
                    SHARE.setVolatile(shares, port, 0);
                    return;
                }
            } else {
                throw new AssertionError("leave of port " + port + " without users (state " + s + ")");
            }
        }
    }

    /**
     * Puts an exclusively held port into quarantine: it stays held in the bitmap (so no exclusive claim and
     * no join gets it) until {@link #expireExclusive}.
     *
     * @return false (and no change) if the port is not held exclusively or is already quarantined
     */
    public boolean quarantineExclusive(int port) {
        final int[] shares = this.shares;
        for (;;) {
            final int s = (int) SHARE.getVolatile(shares, port);
            if (s == JOINING || s == LEAVING) {
                // A joiner about to find the word held and store 0 again, or the last leaver, which freed the
                // word (so that the caller could claim it) and has only its store of 0 left: one store either way.
                Thread.onSpinWait();
                continue;
            }
            if (s != 0 || bitmap.state(port) != PortBitmap.EXCLUSIVE) {
                return false;
            }
            if (SHARE.compareAndSet(shares, port, 0, EXCLUSIVE_QUARANTINED)) {
                if (bitmap.state(port) == PortBitmap.EXCLUSIVE) {
                    return true;
                }
                SHARE.setVolatile(shares, port, 0); // a racing second release freed it meanwhile
                return false;
            }
        }
    }

    /** Ends the quarantine of an exclusive port: the port becomes FREE. */
    public void expireExclusive(int port) {
        if (!SHARE.compareAndSet(shares, port, EXCLUSIVE_QUARANTINED, 0) || !bitmap.release(port)) {
            throw new AssertionError("port " + port + " was not in exclusive quarantine");
        }
    }

    private static int countIndex(int port) {
        return ((port >>> 10) + 1) * COUNT_STRIDE;
    }

    /** @return SHARED ports in the block (volatile read; may lag the bitmap by a transition in progress) */
    public int sharedCount(int block) {
        return (int) COUNT.getVolatile(sharedCounts, (block + 1) * COUNT_STRIDE);
    }

    /** @return whether the port is in exclusive quarantine */
    public boolean isExclusivelyQuarantined(int port) {
        return (int) SHARE.getVolatile(shares, port) == EXCLUSIVE_QUARANTINED;
    }
}
