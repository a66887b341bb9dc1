package dev.portalloc.net;

import dev.portalloc.Destination;
import dev.portalloc.PortAllocator;
import dev.portalloc.PortExhaustedException;
import dev.portalloc.PortLease;
import dev.portalloc.Protocol;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Binds NIO channels to the allocator's local address and ports it chooses, retrying when the kernel refuses a
 * port, and ties each port to its channel with a {@link LeasedChannel}.
 *
 * <pre>{@code
 * PortBinder binder = PortBinder.of(ports);
 * try (LeasedChannel<SocketChannel> c = binder.openSocketChannel()) {      // bind()-style: the port is c's alone
 *     c.channel().connect(server);
 * }                                                                        // closes the channel, releases the port
 * try (LeasedChannel<SocketChannel> c = binder.connect(backend)) {         // connect()-style: the port may also
 *     ...                                                                  // carry connections to other peers
 * }
 * }</pre>
 *
 * <h2>Retry</h2>
 * The allocator knows only the ports it handed out; other programs of the host (or sockets this program opened
 * without the allocator) may hold ports of its range, and the kernel then refuses them with a
 * {@link BindException} ({@code EADDRINUSE}, "Address already in use"; or, for {@link #connect}, a live 4-tuple:
 * {@code EADDRNOTAVAIL}, "Cannot assign requested address"). On a {@code BindException} the binder takes another
 * port from the allocator, up to {@link #maxAttempts()} ports per call ({@value #DEFAULT_ATTEMPTS} by default).
 * Java does not tell the kernel's error codes apart, so every {@code BindException} is retried, including one
 * that another port cannot cure (a privileged port, an address the host does not have); the attempts bound the
 * cost, and the final exception carries every refusal.
 *
 * <p>Refused ports stay held by the call until it ends, so one call never tries a port twice; then they go back to
 * the allocator (into its quarantine, if it has one), because the allocator cannot know when the other program
 * lets go of them, and keeping them would leak them for good. A port another program holds for long therefore
 * costs an extra bind each time it is drawn: {@link PortAllocator#reserve reserve} such ports, or give the
 * allocator a range the host does not use (outside {@link dev.portalloc.PortSet#hostEphemeralRange()}, for
 * instance). Refused attempts count as acquisitions and releases in the allocator's statistics.
 *
 * <h2>Failures</h2>
 * <ul>
 * <li>The allocator has no free port at the first attempt: {@link PortExhaustedException}, as
 *     {@link PortAllocator#lease()}.</li>
 * <li>Every attempt refused, or the allocator ran out after some refusals: a {@link BindException} naming the
 *     refused ports and the kernel's message, with each refusal as a suppressed exception.</li>
 * <li>Any other failure (an {@code IOException} from opening the channel, {@code bind} or {@code connect}, such
 *     as a refused connection; a {@link RuntimeException} or an {@link Error}, from a {@link ChannelSetup} for
 *     instance): the port is released and the exception rethrown at once.</li>
 * <li>A call whose sockets are not of the allocator's protocol ({@link #connect} and {@link #openSocketChannel}
 *     with other than {@code Protocol.TCP}, {@link #openDatagramChannel} with other than {@code Protocol.UDP},
 *     {@link #bind} of a {@code SocketChannel}, {@code ServerSocketChannel} or {@code DatagramChannel} likewise):
 *     {@link IllegalArgumentException} naming the protocol, before any port is taken.</li>
 * </ul>
 * No failure leaves a port held. Channels the binder opened are closed on failure; a channel given to
 * {@link #bind} stays open and unbound, the caller's to close.
 *
 * <h2>Thread-safety</h2>
 * Immutable and thread-safe: calls from any number of threads share the allocator, which is lock-free. Each call
 * binds its own channel; a channel must not be bound by two calls at once.
 */
public final class PortBinder {
    /** Ports tried per call unless {@link #of(PortAllocator, int)} says otherwise. */
    public static final int DEFAULT_ATTEMPTS = 8;

    private final PortAllocator allocator;
    private final int maxAttempts;

    private PortBinder(PortAllocator allocator, int maxAttempts) {
        this.allocator = allocator;
        this.maxAttempts = maxAttempts;
    }

    /**
     * @param allocator where ports come from; its local address is what channels bind to
     * @return a binder trying up to {@value #DEFAULT_ATTEMPTS} ports per call
     */
    public static PortBinder of(PortAllocator allocator) {
        return of(allocator, DEFAULT_ATTEMPTS);
    }

    /**
     * @param allocator where ports come from; its local address is what channels bind to
     * @param maxAttempts ports tried per call before giving up, at least 1
     * @return a binder
     * @throws IllegalArgumentException if {@code maxAttempts} is below 1
     */
    public static PortBinder of(PortAllocator allocator, int maxAttempts) {
        Objects.requireNonNull(allocator, "allocator");
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts " + maxAttempts + " must be at least 1");
        }
        return new PortBinder(allocator, maxAttempts);
    }

    /** @return the allocator ports come from */
    public PortAllocator allocator() {
        return allocator;
    }

    /** @return ports tried per call at most */
    public int maxAttempts() {
        return maxAttempts;
    }

    /**
     * Binds {@code channel} to the allocator's local address and a port held exclusively ({@code bind()}-style):
     * a {@code SocketChannel} before {@code connect}, a {@code DatagramChannel}, a {@code ServerSocketChannel}
     * (default backlog). Socket options set on the channel beforehand apply; without {@code SO_REUSEADDR} the
     * kernel refuses a port that any other socket, even one in {@code TIME_WAIT}, has bound.
     *
     * @param channel an open, unbound channel
     * @param <C> the channel type
     * @return the channel with its lease; close it to close the channel and release the port
     * @throws PortExhaustedException if the allocator has no free port
     * @throws IllegalArgumentException if the allocator's protocol is not the channel's (see the class comment)
     * @throws BindException if the kernel refused every port tried (see the class comment)
     * @throws IOException if binding failed otherwise (the port is released)
     */
    public <C extends NetworkChannel> LeasedChannel<C> bind(C channel) throws IOException {
        Objects.requireNonNull(channel, "channel");
        if (channel instanceof SocketChannel || channel instanceof ServerSocketChannel) {
            requireProtocol(Protocol.TCP, "binding a " + channel.getClass().getSimpleName());
        } else if (channel instanceof DatagramChannel) {
            requireProtocol(Protocol.UDP, "binding a " + channel.getClass().getSimpleName());
        }
        final Refusals refusals = new Refusals();
        Throwable failure = null;
        LeasedChannel<C> result = null;
        try {
            for (int attempt = 0; attempt < maxAttempts; attempt++) {
                final PortLease lease = attempt == 0 ? allocator.lease() : allocator.tryLease();
                if (lease == null) {
                    break;
                }
                try {
                    channel.bind(lease.socketAddress());
                } catch (BindException e) {
                    refusals.add(lease, e);
                    continue;
                } catch (Throwable e) { // an Error or unexpected RuntimeException too: no failure keeps the port
                    releaseAfterFailure(lease, e);
                    throw e;
                }
                result = new LeasedChannel<>(channel, lease);
                return result;
            }
            throw refusals.exception(null);
        } catch (Throwable e) {
            failure = e;
            throw e;
        } finally {
            refusals.release(failure, result);
        }
    }

    /**
     * Opens a {@link SocketChannel} of the local address's family and {@link #bind binds} it; connect it
     * afterwards. For a connection from a port that other connections may share, use {@link #connect}.
     *
     * @return the bound channel with its lease
     * @throws PortExhaustedException if the allocator has no free port
     * @throws IllegalArgumentException if the allocator's protocol is not the channel's (see the class comment)
     * @throws BindException if the kernel refused every port tried
     * @throws IOException if opening or binding failed otherwise
     */
    public LeasedChannel<SocketChannel> openSocketChannel() throws IOException {
        requireProtocol(Protocol.TCP, "openSocketChannel");
        return bindOrClose(SocketChannel.open(family()));
    }

    /**
     * Opens a {@link DatagramChannel} of the local address's family and {@link #bind binds} it.
     *
     * @return the bound channel with its lease
     * @throws PortExhaustedException if the allocator has no free port
     * @throws IllegalArgumentException if the allocator's protocol is not the channel's (see the class comment)
     * @throws BindException if the kernel refused every port tried
     * @throws IOException if opening or binding failed otherwise
     */
    public LeasedChannel<DatagramChannel> openDatagramChannel() throws IOException {
        requireProtocol(Protocol.UDP, "openDatagramChannel");
        return bindOrClose(DatagramChannel.open(family()));
    }

    private <C extends NetworkChannel> LeasedChannel<C> bindOrClose(C channel) throws IOException {
        try {
            return bind(channel);
        } catch (Throwable e) {
            closeAfterFailure(channel, e);
            throw e;
        }
    }

    /**
     * Opens a TCP connection to {@code d} from a connect-style lease ({@link PortAllocator#lease(Destination)}):
     * the local port may carry connections to other destinations at the same time, as {@code connect()} shares
     * ports. The socket gets {@code SO_REUSEADDR} (which lets connected sockets share a local port) and binds to
     * the allocator's local address and the port, then connects; the kernel refuses the connect if the 4-tuple is
     * live (another program's connection, or one of ours in {@code TIME_WAIT}), and the binder tries another port.
     * The allocator must be {@code Protocol.TCP}, and should have a specific local address (with the wildcard, the
     * kernel chooses the source address at connect time, and the allocator's tuples are not the kernel's).
     *
     * @param d the destination
     * @return the connected channel with its lease; close it to close the channel and release the tuple
     * @throws PortExhaustedException if the allocator has no port left for {@code d}
     * @throws IllegalArgumentException if the allocator's protocol is not the channel's (see the class comment)
     * @throws BindException if the kernel refused every port tried
     * @throws IOException if connecting failed otherwise ({@link java.net.ConnectException} for a refused
     *     connection), the tuple released
     */
    public LeasedChannel<SocketChannel> connect(Destination d) throws IOException {
        return connect(d, channel -> { });
    }

    /**
     * Like {@link #connect(Destination)}, with socket options set by {@code setup} on each fresh channel before it
     * is bound. A {@code setup} that makes the channel non-blocking gets it back with the connection pending:
     * finish it with {@link SocketChannel#finishConnect()} (Linux checks the 4-tuple within {@code connect} itself,
     * so a refused tuple is retried either way).
     *
     * @param d the destination
     * @param setup prepares each channel before it is bound
     * @return the channel, connected or (non-blocking) connecting, with its lease
     * @throws PortExhaustedException if the allocator has no port left for {@code d}
     * @throws IllegalArgumentException if the allocator's protocol is not the channel's (see the class comment)
     * @throws BindException if the kernel refused every port tried
     * @throws IOException if connecting or {@code setup} failed otherwise, the tuple released
     */
    public LeasedChannel<SocketChannel> connect(Destination d, ChannelSetup<SocketChannel> setup) throws IOException {
        Objects.requireNonNull(d, "d");
        Objects.requireNonNull(setup, "setup");
        requireProtocol(Protocol.TCP, "connect");
        final Refusals refusals = new Refusals();
        Throwable failure = null;
        LeasedChannel<SocketChannel> result = null;
        try {
            for (int attempt = 0; attempt < maxAttempts; attempt++) {
                final PortLease lease = attempt == 0 ? allocator.lease(d) : allocator.tryLease(d);
                if (lease == null) {
                    break;
                }
                SocketChannel channel = null;
                try {
                    // A socket whose connect failed is closed by the JDK, so every attempt needs a fresh one; opening
                    // it inside the try releases the tuple when opening fails (too many open files, for instance).
                    channel = SocketChannel.open(family());
                    channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                    setup.configure(channel);
                    channel.bind(lease.socketAddress());
                    channel.connect(d.toSocketAddress());
                    result = new LeasedChannel<>(channel, lease);
                    return result;
                } catch (BindException e) {
                    closeAfterFailure(channel, e);
                    refusals.add(lease, e);
                } catch (Throwable e) { // an Error or unexpected RuntimeException too: no failure keeps the tuple
                    closeAfterFailure(channel, e);
                    releaseAfterFailure(lease, e);
                    throw e;
                }
            }
            throw refusals.exception(d);
        } catch (Throwable e) {
            failure = e;
            throw e;
        } finally {
            refusals.release(failure, result);
        }
    }

    /** Rejects a call whose sockets are of another protocol than the allocator's ports. */
    private void requireProtocol(Protocol expected, String call) {
        if (!allocator.protocol().equals(expected)) {
            throw new IllegalArgumentException(call + " requires a Protocol." + expected + " allocator, but it is "
                + allocator.protocol());
        }
    }

    private ProtocolFamily family() {
        return allocator.localAddress() instanceof Inet6Address ? StandardProtocolFamily.INET6
            : StandardProtocolFamily.INET;
    }

    /** Closes {@code channel} (if opened) after {@code failure}; a failure to close is added to it, not thrown. */
    private static void closeAfterFailure(NetworkChannel channel, Throwable failure) {
        if (channel == null) {
            return;
        }
        try {
            channel.close();
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    /** Releases {@code lease} after {@code failure}; a failure to release is added to it, not thrown. */
    private static void releaseAfterFailure(PortLease lease, Throwable failure) {
        try {
            lease.close();
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    /** The ports the kernel refused during one call, held until the call ends. Not thread-safe (one per call). */
    private final class Refusals {
        private final List<PortLease> leases = new ArrayList<>(2);
        private final List<BindException> errors = new ArrayList<>(2);

        void add(PortLease lease, BindException e) {
            leases.add(lease);
            errors.add(e);
        }

        /**
         * Gives every refused port back to the allocator, each on its own, so one failing release does not keep
         * the rest. With a {@code failure} of the call, release failures are added to it (the call's own exception
         * matters more); without one, the first is thrown with the others suppressed, after closing the call's
         * {@code result} (if any), which the caller then never gets.
         */
        void release(Throwable failure, LeasedChannel<?> result) {
            RuntimeException first = null;
            for (PortLease lease : leases) {
                try {
                    lease.close();
                } catch (RuntimeException e) {
                    if (failure != null) {
                        failure.addSuppressed(e);
                    } else if (first == null) {
                        first = e;
                    } else {
                        first.addSuppressed(e);
                    }
                }
            }
            if (first != null) {
                if (result != null) {
                    try {
                        result.close();
                    } catch (IOException | RuntimeException e) {
                        first.addSuppressed(e);
                    }
                }
                throw first;
            }
        }

        /** The exception for a call that found no port the kernel accepted; {@code d} null for exclusive calls. */
        BindException exception(Destination d) {
            final StringBuilder ports = new StringBuilder();
            for (PortLease lease : leases) {
                ports.append(ports.length() == 0 ? "" : ", ").append(lease.port());
            }
            final String message = "the kernel refused "
                + (leases.size() == 1 ? "port " : leases.size() + " ports ") + ports
                + " of " + allocator.protocol() + " " + allocator.localAddress().getHostAddress()
                + (d == null ? "" : " to " + d) + " ("
                + errors.get(errors.size() - 1).getMessage() + ")"
                + (leases.size() >= maxAttempts ? ", the most this binder tries per call (" + maxAttempts + ")"
                    : ", and the allocator has no other " + (d == null ? "free port" : "port left for " + d))
                + ": other sockets of the host hold them; reserve those ports or choose a range the host does not use";
            final BindException e = new BindException(message);
            for (BindException refusal : errors) {
                e.addSuppressed(refusal);
            }
            return e;
        }
    }
}
