package dev.portalloc.internal.flow;

import dev.portalloc.internal.jfr.Origin;
import dev.portalloc.internal.jfr.QuarantineOverflowEvent;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The FIFO of quarantined releases: entries {@code (release time, key, ref)} in release order, expired lazily by
 * whichever allocating thread finds the oldest one due.
 *
 * <p>Due: an entry released at clock reading {@code r} is due at reading {@code now} when
 * {@code now - r >= duration}, the difference computed with wrap-around and read as signed, as
 * {@link System#nanoTime()} prescribes. So the clock may start anywhere and overflow, and a clock that went
 * backwards (a negative difference) never makes an entry due. (Comparing {@code now} with a precomputed
 * {@code r + duration} instead, even wrap-around safely, gets one case wrong: for a difference in
 * {@code [-2^63, -2^63 + duration)}, a clock gone back by almost 2^63, for instance from 0 to
 * {@link Long#MIN_VALUE}, {@code r + duration - now} wraps to negative and the entry expired early.)
 *
 * <p>Storage: a bounded ring of {@value #RING_CAPACITY} slots in plain arrays (Vyukov's sequence-number
 * scheme: a producer claims a slot by CAS on the tail, writes it, then publishes it with a release store of
 * the slot's sequence), so an offer allocates nothing. When the ring is full an entry goes to an unbounded
 * overflow queue instead (one node per entry: releases beyond {@value #RING_CAPACITY} quarantined entries
 * allocate; the first entry of each such episode records a JFR {@code dev.portalloc.QuarantineOverflow} event
 * when that is enabled). Expiry order: both queues are FIFO and every entry has the same duration, so they are nearly
 * sorted. A producer that read the clock earlier but published later, or a clock that went backwards, can
 * place an earlier release behind a later one; that entry then expires late (when the one before it does),
 * never early.
 *
 * <p>Thread-safety: {@link #offer} is lock-free for any number of producers. {@link #drain} admits one
 * thread at a time through a try-flag: a thread that finds another draining returns at once (it never
 * waits), so the consumer side is single-threaded without a lock.
 */
public final class QuarantineQueue {
    /** Ring slots; beyond this, entries overflow into a linked queue. */
    static final int RING_CAPACITY = 1 << 14;
    private static final int MASK = RING_CAPACITY - 1;
    private static final VarHandle SEQUENCE = MethodHandles.arrayElementVarHandle(long[].class);

    /** What to do with an entry whose time has come. */
    @FunctionalInterface
    public interface Expiry {
        void expire(long key, Object ref);
    }

    private final long[] sequence = new long[RING_CAPACITY];
    /** Clock reading at each slot's release. */
    private final long[] releasedAt = new long[RING_CAPACITY];
    private final long[] keys = new long[RING_CAPACITY];
    private final Object[] refs = new Object[RING_CAPACITY];
    private final AtomicLong tail = new AtomicLong();
    /** Next slot to consume; written only by the drainer, volatile so {@link #size()} can read it. */
    private volatile long head;
    private final AtomicInteger draining = new AtomicInteger();
    private final ConcurrentLinkedQueue<Entry> overflow = new ConcurrentLinkedQueue<>();
    private final AtomicLong overflowSize = new AtomicLong();

    /** The quarantine duration in nanoseconds, positive. */
    private final long duration;
    /** The allocator, for JFR events. */
    private final Origin origin;

    private record Entry(long releasedAt, long key, Object ref) {
    }

    /** @param duration the quarantine in nanoseconds: positive, below 2^63 */
    public QuarantineQueue(long duration) {
        this(duration, Origin.UNKNOWN);
    }

    /**
     * @param duration the quarantine in nanoseconds: positive, below 2^63
     * @param origin the allocator, named in JFR events
     */
    public QuarantineQueue(long duration, Origin origin) {
        this.origin = Objects.requireNonNull(origin, "origin");
        if (duration <= 0) {
            throw new IllegalArgumentException("quarantine duration " + duration + " ns is not positive");
        }
        this.duration = duration;
        for (int i = 0; i < RING_CAPACITY; i++) {
            sequence[i] = i;
        }
    }

    /**
     * Appends an entry (lock-free; allocation-free unless the ring is full).
     *
     * @param releasedAt the clock reading at the release
     */
    public void offer(long releasedAt, long key, Object ref) {
        long t = tail.get();
        for (;;) {
            final int slot = (int) (t & MASK);
            final long seq = (long) SEQUENCE.getAcquire(sequence, slot);
            if (seq == t) {
                final long witness = tail.compareAndExchange(t, t + 1);
                if (witness == t) {
                    this.releasedAt[slot] = releasedAt;
                    keys[slot] = key;
                    refs[slot] = ref;
                    SEQUENCE.setRelease(sequence, slot, t + 1); // publishes the plain writes above
                    return;
                }
                t = witness;
            } else if (seq < t) {
                // Full: the consumer has not freed this slot yet.
                if (overflowSize.incrementAndGet() == 1) { // an overflow episode starts: tell JFR, once
                    QuarantineOverflowEvent.record(origin, RING_CAPACITY, size(), duration);
                }
                overflow.add(new Entry(releasedAt, key, ref));
                return;
            } else {
                t = tail.get(); // another producer took the slot
            }
        }
    }

    /** @return whether any entry may be waiting (a cheap check before reading the clock) */
    public boolean isEmpty() {
        return tail.get() == head && overflowSize.get() == 0;
    }

    /** @return whether a thread is draining (it may have taken entries off the queue and not expired them yet) */
    public boolean isDraining() {
        return draining.get() != 0;
    }

    /** @return whether an entry released at {@code releasedAt} is due at {@code now} (see the class description) */
    private boolean isDue(long releasedAt, long now) {
        return now - releasedAt >= duration;
    }

    /**
     * Expires up to {@code max} entries that are due at clock reading {@code now}, oldest first, stopping at the
     * first entry that is not, unless another thread is draining.
     *
     * @return the number expired, or -1 if another thread was draining
     */
    public int drain(long now, int max, Expiry action) {
        if (!draining.compareAndSet(0, 1)) {
            return -1;
        }
        int done = 0;
        try {
            long h = head;
            while (done < max) {
                final int slot = (int) (h & MASK);
                if ((long) SEQUENCE.getAcquire(sequence, slot) != h + 1 || !isDue(releasedAt[slot], now)) {
                    break; // empty (or not yet published), or not due
                }
                final long key = keys[slot];
                final Object ref = refs[slot];
                refs[slot] = null;
                head = ++h;
                SEQUENCE.setRelease(sequence, slot, h - 1 + RING_CAPACITY); // frees the slot for producers
                action.expire(key, ref);
                done++;
            }
            while (done < max) {
                final Entry e = overflow.peek();
                if (e == null || !isDue(e.releasedAt, now)) {
                    break;
                }
                overflow.poll(); // the only consumer: peek and poll see the same entry
                overflowSize.decrementAndGet();
                action.expire(e.key, e.ref);
                done++;
            }
        } finally {
            draining.set(0);
        }
        return done;
    }

    /** @return entries waiting (weakly consistent) */
    public long size() {
        return tail.get() - head + overflowSize.get();
    }
}
