package dev.portalloc.internal.jfr;

import dev.portalloc.PortSet;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Label;
import jdk.jfr.Name;

/**
 * JFR event {@code dev.portalloc.ReservationChange}: a call of {@code PortAllocator.reserve} or
 * {@code unreserve}, recorded once the new reserved set is published (also when it changed nothing).
 *
 * <p>Not thread-safe (one instance per recording thread, as every JFR event); {@link #record} is thread-safe.
 */
@Name("dev.portalloc.ReservationChange")
@Label("Reservation Change")
@Category({"portalloc"})
@Description("A port allocator's reserved set was changed by reserve() or unreserve()")
public final class ReservationChangeEvent extends Event {
    @Label("Protocol")
    String protocol;

    @Label("Local Address")
    String localAddress;

    @Label("Operation")
    @Description("\"reserve\" or \"unreserve\"")
    String operation;

    @Label("Ports")
    @Description("The ports passed to the call, in Linux's ip_local_reserved_ports syntax (\"40000-40010,45000\")")
    String ports;

    @Label("Requested Ports")
    @Description("How many ports were passed to the call")
    int requestedPorts;

    @Label("Changed Ports")
    @Description("How many ports entered (reserve) or left (unreserve) the reserved set; 0 for a no-op")
    int changedPorts;

    @Label("Reserved Ports")
    @Description("Size of the reserved set after the change")
    int reservedPorts;

    /**
     * Records the event if it is enabled in a running recording; otherwise does nothing.
     *
     * @param before the reserved set before the call
     * @param after the reserved set after it
     */
    public static void record(Origin origin, String operation, PortSet ports, PortSet before, PortSet after) {
        if (!FlightRecorder.isInitialized()) {
            return; // JFR never started in this JVM: no event can be enabled; not even the event object is made
        }
        final ReservationChangeEvent e = new ReservationChangeEvent();
        if (e.shouldCommit()) {
            e.protocol = origin.protocol();
            e.localAddress = origin.localAddress();
            e.operation = operation;
            e.ports = ports.toString();
            e.requestedPorts = ports.size();
            e.changedPorts = Math.abs(after.size() - before.size()); // one call only adds or only removes
            e.reservedPorts = after.size();
            e.commit();
        }
    }
}
