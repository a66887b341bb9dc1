package dev.portalloc.net;

import dev.portalloc.PortLease;

import java.io.IOException;
import java.nio.channels.Channel;
import java.nio.channels.NetworkChannel;

/**
 * A channel bound to a leased port: closing it closes the channel, then releases the port.
 *
 * <p>NIO channels have no close listener, so the port goes back to the allocator when <em>this</em> object is
 * closed, not when the channel alone is: close the {@code LeasedChannel} (try-with-resources, or from whatever
 * closes the connection), not {@link #channel()}. A channel closed directly keeps its port held until this object
 * is closed too (closing it again is harmless); one dropped without being closed is reported by the lease's leak
 * detection (see {@link PortLease}), and its port stays held.
 *
 * <p>The channel is closed before the port is released, so the allocator never hands the port to someone else
 * while this channel still has it bound. (With TCP, a connection closed normally leaves the kernel's
 * {@code TIME_WAIT} state on the port for a while; give the allocator a {@code quarantine} for that, or close with
 * {@code SO_LINGER} 0.)
 *
 * <p>Thread-safe: {@link #close()} may be called from any threads, any number of times; the channel's own
 * thread-safety is the channel's.
 *
 * @param <C> the channel type
 */
public final class LeasedChannel<C extends NetworkChannel> implements Channel {
    private final C channel;
    private final PortLease lease;

    LeasedChannel(C channel, PortLease lease) {
        this.channel = channel;
        this.lease = lease;
    }

    /** @return the bound channel (connected too, when it came from {@link PortBinder#connect}) */
    public C channel() {
        return channel;
    }

    /** @return the lease of the channel's local port */
    public PortLease lease() {
        return lease;
    }

    /** @return the channel's local port */
    public int port() {
        return lease.port();
    }

    /** @return whether {@link #close()} has not been called yet (the channel itself may have been closed already) */
    @Override
    public boolean isOpen() {
        return lease.isOpen();
    }

    /**
     * Closes the channel, then releases its port, even if closing the channel failed. Later calls do nothing
     * more (closing an NIO channel twice is harmless, and the lease releases once).
     *
     * @throws IOException if closing the channel failed (the port is released all the same)
     */
    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            lease.close();
        }
    }

    @Override
    public String toString() {
        return "LeasedChannel[" + lease + ", " + channel + "]";
    }
}
