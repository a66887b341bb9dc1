package dev.portalloc.internal.jfr;

import dev.portalloc.Algorithm;
import dev.portalloc.Destination;
import dev.portalloc.internal.bitmap.PortBitmap;
import dev.portalloc.internal.bitmap.Selection;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Label;
import jdk.jfr.Name;

/**
 * JFR event {@code dev.portalloc.PortExhausted}: an automatic acquisition found no suitable port (the
 * failure that {@code acquire()} reports with a {@code PortExhaustedException} and {@code tryAcquire()} with
 * {@code NONE}). Recorded on the failure branch only; explicit {@code tryAcquire(port)} refusals are not
 * exhaustion and are not recorded.
 *
 * <p>Not thread-safe (one instance per recording thread, as every JFR event); {@link #record} is thread-safe.
 */
@Name("dev.portalloc.PortExhausted")
@Label("Port Exhausted")
@Category({"portalloc"})
@Description("An automatic port acquisition found no suitable free port")
public final class PortExhaustedEvent extends Event {
    @Label("Protocol")
    String protocol;

    @Label("Local Address")
    String localAddress;

    @Label("Destination")
    @Description("The remote address and port of a connect-style acquisition; empty for an exclusive one")
    String destination;

    @Label("Algorithm")
    @Description("The allocator's algorithm, as its factory call; \"uniform() (subset view)\" for a subset view, "
        + "which always selects uniformly")
    String algorithm;

    @Label("Selectable Ports")
    @Description("Ports automatic selection could choose from: the automatic set (of the subset view) minus "
        + "reserved ports")
    int selectablePorts;

    @Label("Held Selectable Ports")
    @Description("Selectable ports held at the moment of recording (exclusively, in quarantine or by tuples); "
        + "below Selectable Ports for a connect-style failure, where the destination's own tuples fill the rest")
    int heldSelectablePorts;

    /**
     * Records the event if it is enabled in a running recording; otherwise does nothing: before JFR is first
     * started in this JVM, a read of one static flag; after that, an event object the JIT's escape analysis
     * removes (the interpreter and C1 still allocate it).
     *
     * @param algorithm the allocator's algorithm, or null for a subset view
     * @param view the selection the acquisition used (the allocator's, or a subset view's)
     * @param d the destination of a connect-style acquisition, or null
     */
    public static void record(Origin origin, Algorithm algorithm, Destination d, PortBitmap bitmap, Selection view) {
        if (!FlightRecorder.isInitialized()) {
            return; // JFR never started in this JVM: no event can be enabled; not even the event object is made
        }
        final PortExhaustedEvent e = new PortExhaustedEvent();
        if (e.shouldCommit()) {
            e.protocol = origin.protocol();
            e.localAddress = origin.localAddress();
            e.destination = d == null ? "" : d.toString();
            e.algorithm = algorithm == null ? "uniform() (subset view)" : algorithm.toString();
            e.selectablePorts = view.size();
            e.heldSelectablePorts = bitmap.heldCount(view);
            e.commit();
        }
    }
}
