package dev.portalloc.internal.jfr;

import dev.portalloc.Algorithm;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Label;
import jdk.jfr.Name;

/**
 * JFR event {@code dev.portalloc.Rekey}: {@code PortAllocator.rekey()} replaced the secret key of the
 * hash-based algorithms. The key itself is never recorded.
 *
 * <p>Not thread-safe (one instance per recording thread, as every JFR event); {@link #record} is thread-safe.
 */
@Name("dev.portalloc.Rekey")
@Label("Rekey")
@Category({"portalloc"})
@Description("A port allocator replaced the secret key of its hash-based algorithms (RFC 6056 section 3.4)")
public final class RekeyEvent extends Event {
    @Label("Protocol")
    String protocol;

    @Label("Local Address")
    String localAddress;

    @Label("Algorithm")
    String algorithm;

    @Label("Deterministic")
    @Description("Whether the new key was derived from the builder's seed (tests, simulations) instead of "
        + "drawn from SecureRandom")
    boolean deterministic;

    /** Records the event if it is enabled in a running recording; otherwise does nothing. */
    public static void record(Origin origin, Algorithm algorithm, boolean deterministic) {
        if (!FlightRecorder.isInitialized()) {
            return; // JFR never started in this JVM: no event can be enabled; not even the event object is made
        }
        final RekeyEvent e = new RekeyEvent();
        if (e.shouldCommit()) {
            e.protocol = origin.protocol();
            e.localAddress = origin.localAddress();
            e.algorithm = algorithm.toString();
            e.deterministic = deterministic;
            e.commit();
        }
    }
}
