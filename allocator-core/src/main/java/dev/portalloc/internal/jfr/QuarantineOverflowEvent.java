package dev.portalloc.internal.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Timespan;

/**
 * JFR event {@code dev.portalloc.QuarantineOverflow}: the quarantine's allocation-free ring was full, so a
 * released tuple or port went to the overflow queue (one node allocated per entry from then on). Recorded
 * when the overflow queue goes from empty to non-empty, once per overflow episode, not per entry.
 *
 * <p>Not thread-safe (one instance per recording thread, as every JFR event); {@link #record} is thread-safe.
 */
@Name("dev.portalloc.QuarantineOverflow")
@Label("Quarantine Overflow")
@Category({"portalloc"})
@Description("A port allocator's quarantine outgrew its allocation-free ring; further entries allocate a node "
    + "each until the overflow queue empties")
public final class QuarantineOverflowEvent extends Event {
    @Label("Protocol")
    String protocol;

    @Label("Local Address")
    String localAddress;

    @Label("Ring Capacity")
    @Description("Entries the allocation-free ring holds")
    int ringCapacity;

    @Label("Quarantined")
    @Description("Entries in quarantine when the ring overflowed (weakly consistent)")
    long quarantined;

    @Label("Quarantine")
    @Description("The allocator's quarantine duration")
    @Timespan(Timespan.NANOSECONDS)
    long quarantine;

    /** Records the event if it is enabled in a running recording; otherwise does nothing. */
    public static void record(Origin origin, int ringCapacity, long quarantined, long quarantineNanos) {
        if (!FlightRecorder.isInitialized()) {
            return; // JFR never started in this JVM: no event can be enabled; not even the event object is made
        }
        final QuarantineOverflowEvent e = new QuarantineOverflowEvent();
        if (e.shouldCommit()) {
            e.protocol = origin.protocol();
            e.localAddress = origin.localAddress();
            e.ringCapacity = ringCapacity;
            e.quarantined = quarantined;
            e.quarantine = quarantineNanos;
            e.commit();
        }
    }
}
