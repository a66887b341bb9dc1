package dev.portalloc.internal.jfr;

import dev.portalloc.internal.flow.QuarantineQueue;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Threshold;

/**
 * JFR duration event {@code dev.portalloc.QuarantineExpiry}: a full expiry pass, in which an acquisition that
 * would otherwise fail expires every due quarantine entry (including the wait for another thread's pass to
 * finish). Expiry is lazy, so after a quiet spell one such pass may expire many thousands of entries in the
 * calling thread. Recorded only when the pass took at least the event's threshold, 10 ms by default
 * ({@code jfr configure} or a recording's settings can lower it to {@code 0 ms} to see every pass). The
 * bounded share of four entries that every acquisition expires is not recorded.
 *
 * <p>Usage: {@link #startPass()} before the pass, {@link #endPass} after it. Not thread-safe (one instance per
 * thread, as every JFR event); the static methods are thread-safe.
 */
@Name("dev.portalloc.QuarantineExpiry")
@Label("Quarantine Expiry Pass")
@Category({"portalloc"})
@Description("A full pass over a port allocator's due quarantine entries that took at least the threshold")
@Threshold("10 ms")
public final class QuarantineExpiryEvent extends Event {
    @Label("Protocol")
    String protocol;

    @Label("Local Address")
    String localAddress;

    @Label("Expired")
    @Description("Entries this pass expired")
    int expired;

    @Label("Remaining")
    @Description("Entries still in quarantine after the pass (not yet due; weakly consistent)")
    long remaining;

    /**
     * @return the event, begun, or null if JFR was never started in this JVM (then no event can be enabled, and
     *     no object is made)
     */
    public static QuarantineExpiryEvent startPass() {
        if (!FlightRecorder.isInitialized()) {
            return null;
        }
        final QuarantineExpiryEvent e = new QuarantineExpiryEvent();
        e.begin();
        return e;
    }

    /**
     * Ends the pass and commits the event if it is enabled and took at least the threshold; otherwise does
     * nothing.
     *
     * @param pass what {@link #startPass()} returned (null: nothing to do)
     */
    public static void endPass(QuarantineExpiryEvent pass, Origin origin, int expiredEntries, QuarantineQueue queue) {
        if (pass == null) {
            return;
        }
        pass.end();
        if (pass.shouldCommit()) {
            pass.protocol = origin.protocol();
            pass.localAddress = origin.localAddress();
            pass.expired = expiredEntries;
            pass.remaining = queue.size();
            pass.commit();
        }
    }
}
