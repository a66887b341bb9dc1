package dev.portalloc;

import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * Finds {@link PortLease}s that became unreachable while still open, and reports each one once through
 * {@link System.Logger} (logger {@code dev.portalloc.PortLease}, level {@code WARNING}). Not part of the API.
 *
 * <p>Why not a {@link java.lang.ref.Cleaner}: {@code Cleaner.create()} starts a thread, and the library never
 * starts threads. The mechanism is the one a Cleaner uses inside, a {@link PhantomReference} per lease on a
 * {@link ReferenceQueue} that the JVM's own reference handler fills after a collection, but the queue is drained
 * by the library's own calls instead of a thread of ours: every lease creation (before it tracks the new lease),
 * every {@link PortLease#close()} (after it released the port) and every {@link PortAllocator#stats()} (so a
 * metrics scrape surfaces leaks) reports what the collector has found since (as Netty's
 * {@code ResourceLeakDetector} does on each new tracked buffer). A leak is therefore reported at the next such
 * call, on any allocator, after the collection that found it, by whichever thread makes it.
 *
 * <p>A tracker holds the lease's description (a string), not its allocator: the set of open trackers is static,
 * and a leaked lease must not keep its allocator (and what observes it, such as metrics gauges) alive for good.
 *
 * <p>The cost, off the allocation hot path: a phantom reference, its description string and an entry in a
 * concurrent set per lease; with
 * {@value #TRACE_PROPERTY}{@code =true}, also a stack trace captured at acquisition.
 *
 * <p>Thread-safe: the set and the queue are concurrent, and a tracker leaves the set exactly once (closed or
 * reported), so a leak is reported at most once.
 */
final class LeaseLeaks {
    /** System property: when {@code true}, leases capture where they were acquired, and leak reports show it. */
    static final String TRACE_PROPERTY = "portalloc.leaseLeakTrace";

    private static final ReferenceQueue<PortLease> QUEUE = new ReferenceQueue<>();
    /** Keeps every open lease's tracker reachable (a phantom reference that is itself garbage is never queued). */
    private static final Set<Tracker> OPEN = ConcurrentHashMap.newKeySet();
    private static final System.Logger LOGGER = System.getLogger(PortLease.class.getName());

    /**
     * Test seam (package-private, so not visible outside the module): receives every report besides the logger.
     * Null in production.
     */
    static volatile BiConsumer<String, Throwable> reportSink;

    private LeaseLeaks() {
    }

    /** What a leak report needs once the lease itself is gone; the referent is the lease. */
    static final class Tracker extends PhantomReference<PortLease> {
        /** The lease's protocol, local address, port and destination, as {@link PortLease#describe} gives them. */
        final String description;
        /** Where the lease was acquired, or null unless {@value #TRACE_PROPERTY} was on. */
        final Throwable acquiredAt;

        Tracker(PortLease lease, String description, Throwable acquiredAt) {
            super(lease, QUEUE);
            this.description = description;
            this.acquiredAt = acquiredAt;
        }
    }

    /** Starts tracking an open lease; reports earlier leaks first. */
    static Tracker track(PortLease lease, PortAllocator allocator, int port, Destination destination) {
        reportLeaks();
        final Throwable acquiredAt = Boolean.getBoolean(TRACE_PROPERTY)
            ? new Throwable("lease of port " + port + " acquired here") : null;
        final Tracker t = new Tracker(lease, PortLease.describe(allocator, port, destination), acquiredAt);
        OPEN.add(t);
        return t;
    }

    /** Stops tracking a lease that was closed: it will never be reported. */
    static void untrack(Tracker t) {
        OPEN.remove(t);
        t.clear(); // a cleared reference is never queued
    }

    /**
     * Reports every lease the collector found unreachable and still open. A report never throws: a failing logger
     * must not make lease creation or closing fail (and so leak the port being handed out).
     */
    static void reportLeaks() {
        for (Reference<? extends PortLease> r = QUEUE.poll(); r != null; r = QUEUE.poll()) {
            final Tracker t = (Tracker) r;
            if (OPEN.remove(t)) { // absent: closed meanwhile (close untracks before the lease can become garbage)
                report(t);
            }
        }
    }

    private static void report(Tracker t) {
        final String message = "PortLease leaked: " + t.description
            + " was never closed and stays held: the allocator does not release it, since a socket may still use"
            + " the port. Close every lease (try-with-resources)"
            + (t.acquiredAt == null ? "; run with -D" + TRACE_PROPERTY + "=true to see where it was acquired."
                : "; it was acquired at the stack trace below.");
        try {
            LOGGER.log(System.Logger.Level.WARNING, message, t.acquiredAt);
        } catch (RuntimeException e) {
            // the report is best effort: see the method's comment
        }
        final BiConsumer<String, Throwable> sink = reportSink;
        if (sink != null) {
            sink.accept(message, t.acquiredAt);
        }
    }
}
