package dev.portalloc.internal.jfr;

import dev.portalloc.internal.flow.QuarantineQueue;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
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
 * <p>Usage: {@code begin()} before the pass, then {@link #finish(Origin, int, QuarantineQueue)}. Not thread-safe (one
 * instance per thread, as every JFR event).
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
     * Ends the pass and commits the event if it is enabled and took at least the threshold; otherwise does
     * nothing.
     */
    public void finish(Origin origin, int expiredEntries, QuarantineQueue queue) {
        end();
        if (shouldCommit()) {
            protocol = origin.protocol();
            localAddress = origin.localAddress();
            expired = expiredEntries;
            remaining = queue.size();
            commit();
        }
    }
}
