package dev.portalloc.examples.sockets;

import dev.portalloc.Destination;
import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;
import dev.portalloc.Protocol;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntPredicate;
import java.util.stream.IntStream;

/**
 * Real TCP connections on loopback, every local port chosen by the allocator, and the Linux kernel as the
 * judge: a client opens more concurrent connections than its port range has ports, because a local port can
 * carry one connection per destination, exactly as {@code connect()} shares ports.
 *
 * <p>Run it from the repository root (Linux only):
 * <pre>{@code
 * mvn -B -q -DskipTests -pl examples -am package exec:java -Dexample.main=dev.portalloc.examples.sockets.LoopbackConnections
 * }</pre>
 *
 * <h2>What happens</h2>
 * <ol>
 * <li>A few servers listen on 127.0.0.1, 127.0.0.2, ... (Linux routes all of 127.0.0.0/8 to the loopback
 *     interface, so every one of these addresses works without configuration).</li>
 * <li>The client's allocator gets a small port range <em>outside</em> the host's own ephemeral range
 *     ({@link PortSet#hostEphemeralRange()}), so the kernel's automatic choices never collide with ours, and
 *     that no other socket has bound.</li>
 * <li>For each connection: {@code port = allocator.tryAcquire(destination)}, then a socket with
 *     {@code SO_REUSEADDR} binds to {@code 127.0.0.1:port} and connects. {@code SO_REUSEADDR} lets several
 *     sockets bind the same local port (as long as none listens); {@code connect()} then checks that the
 *     4-tuple (local address, local port, remote address, remote port) is unique and fails with
 *     {@code EADDRNOTAVAIL} ("Cannot assign requested address", a {@link BindException} in Java) if it is not.
 *     So every refusal would be an allocator bug: it gave a port whose tuple to that destination was live.</li>
 * <li>It fills every (port, destination) pair, churns a share of the connections (close, release, reconnect),
 *     checks the kernel's own view of every local port, and runs a control that deliberately duplicates a live
 *     tuple to show that the kernel does refuse it.</li>
 * </ol>
 * Sockets close with {@code SO_LINGER} 0: a reset instead of a FIN, so no socket is left in {@code TIME_WAIT}
 * and the port is free for the next run at once. (A client that closes normally should configure the
 * allocator's {@code quarantine} to at least the kernel's {@code TIME_WAIT}, 60 s on Linux: the kernel would
 * refuse the tuple during that time.)
 *
 * <h2>Threads</h2>
 * None besides the caller's: the servers never need a thread, because the kernel completes the TCP handshake
 * on its own and queues the connection for {@code accept()}; the client drains those queues with non-blocking
 * accepts between connects. {@code run} and {@code main} are not meant to be called concurrently (two runs
 * would compete for the same port range); they share no state otherwise.
 */
public final class LoopbackConnections {

    private static final InetAddress CLIENT_ADDRESS = loopback(1);
    /** File descriptors per connection: the client socket and the server's accepted socket. */
    private static final int FDS_PER_CONNECTION = 2;
    /** File descriptors left for the JVM, Maven, jars, ... */
    private static final int FD_HEADROOM = 512;

    private LoopbackConnections() {
    }

    /**
     * What the kernel said. Immutable, so thread-safe.
     *
     * @param ports ports in the client's range
     * @param servers destinations
     * @param portRange the client's port range
     * @param peakConnections most connections open at once
     * @param connectsTotal successful connects, churn included
     * @param refusedBinds {@code bind()} calls the kernel refused (must be 0)
     * @param refusedConnects {@code connect()} calls the kernel refused (must be 0)
     * @param wrongLocalPorts connections whose kernel-reported local port differed from the allocator's (must be 0)
     * @param distinctPortsUsed local ports that carried at least one connection
     * @param controlRefused whether the deliberate duplicate of a live tuple was refused (must be true)
     * @param controlMessage the kernel's error for the duplicate
     */
    public record Result(int ports, int servers, PortSet portRange, int peakConnections, long connectsTotal,
                         long refusedBinds, long refusedConnects, long wrongLocalPorts, int distinctPortsUsed,
                         boolean controlRefused, String controlMessage) {
    }

    public static void main(String[] args) throws IOException {
        if (!isLinux()) {
            System.out.println("This example needs Linux (loopback addresses beyond 127.0.0.1, "
                + "/proc/sys/net/ipv4/ip_local_port_range); os.name is " + System.getProperty("os.name"));
            return;
        }
        run(64, 8, 3, 42, System.out);
    }

    /** @return whether this is Linux, where the example's assumptions hold */
    public static boolean isLinux() {
        return System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).startsWith("linux");
    }

    /**
     * @param ports ports in the client's range
     * @param servers destinations (127.0.0.1 onwards); fewer if the file descriptor limit requires it
     * @param churnRounds rounds of closing a quarter of the connections and reconnecting
     * @param seed seeds the allocator and the choice of connections to churn
     * @param out where to print
     * @return the counts
     * @throws IOException if a server cannot start or a socket fails otherwise than by a refusal
     */
    public static Result run(int ports, int servers, int churnRounds, long seed, PrintStream out) throws IOException {
        // 1. A port range the kernel never picks by itself: outside ip_local_port_range.
        final PortSet ephemeral = PortSet.hostEphemeralRange();
        final PortSet range = rangeOutside(ephemeral, ports, LoopbackConnections::isUnbound);
        out.println("host ephemeral range " + ephemeral + "; the client's range " + range);

        // 2. Respect the process's file descriptor limit (ulimit -n): each connection costs two.
        final long maxFds = maxFileDescriptors();
        final int affordable = (int) Math.min(servers, (maxFds - FD_HEADROOM) / ((long) FDS_PER_CONNECTION * ports));
        if (affordable < 2) {
            throw new IllegalStateException("ulimit -n is " + maxFds + ": too low for " + ports + " ports x 2 servers");
        }
        if (affordable < servers) {
            out.println("ulimit -n is " + maxFds + ": using " + affordable + " servers instead of " + servers);
        }

        final List<Server> serverList = new ArrayList<>();
        final List<Connection> open = new ArrayList<>();
        try {
            for (int i = 0; i < affordable; i++) {
                serverList.add(new Server(loopback(i + 1), ports + 16));
            }
            out.println(serverList.size() + " servers: " + serverList.get(0).destination + " .. "
                + serverList.get(serverList.size() - 1).destination);

            // 3. The client's allocator: connect-style, for TCP from 127.0.0.1, over the chosen range.
            final PortAllocator allocator = PortAllocator.builder()
                .ports(range)
                .protocol(Protocol.TCP)
                .localAddress(CLIENT_ADDRESS)
                .seed(seed)
                .build();
            final Client client = new Client(allocator);

            // 4. Fill: every destination gets connections until the allocator has no port left for it.
            for (Server server : serverList) {
                while (client.connect(server, open)) {
                    server.acceptPending();
                }
            }
            int peak = open.size();
            out.printf("filled: %,d concurrent connections from %d local ports (%.1f per port), "
                + "allocator stats %s%n", open.size(), ports, open.size() / (double) ports, allocator.stats());

            // 5. Churn: close a random quarter (reset, release the tuple), then fill again.
            final SplittableRandom random = new SplittableRandom(seed);
            for (int round = 0; round < churnRounds; round++) {
                for (int k = open.size() / 4; k > 0; k--) {
                    final Connection c = open.remove(random.nextInt(open.size()));
                    client.close(c);
                }
                for (Server server : serverList) {
                    while (client.connect(server, open)) {
                        server.acceptPending();
                    }
                }
                peak = Math.max(peak, open.size());
            }

            // 6. The kernel's view: the local port of every open socket is the one the allocator chose.
            long wrongPorts = 0;
            final boolean[] used = new boolean[65536];
            for (Connection c : open) {
                final int kernelPort = ((InetSocketAddress) c.channel.getLocalAddress()).getPort();
                if (kernelPort != c.port) {
                    wrongPorts++;
                }
                used[kernelPort] = true;
            }
            int distinct = 0;
            for (boolean u : used) {
                distinct += u ? 1 : 0;
            }

            // 7. Control: bind a live connection's port again and connect to the same server. The kernel must
            //    refuse it, or the zero refusals above would prove nothing.
            final Connection victim = open.get(0);
            final String control = client.duplicate(victim);

            final Result result = new Result(ports, serverList.size(), range, peak, client.connects,
                client.refusedBinds, client.refusedConnects, wrongPorts, distinct, control != null,
                control == null ? "accepted (!)" : control);
            out.printf("connects: %,d in total (%d churn rounds), peak %,d concurrent; kernel refusals: "
                + "%d bind, %d connect; %d sockets on another port than chosen; %d distinct local ports%n",
                result.connectsTotal(), churnRounds, result.peakConnections(), result.refusedBinds(),
                result.refusedConnects(), result.wrongLocalPorts(), result.distinctPortsUsed());
            out.println("control: a second socket on " + victim.port + " -> " + victim.destination + ": "
                + result.controlMessage());
            out.println(result.refusedBinds() + result.refusedConnects() == 0 && result.controlRefused()
                ? "verdict: the kernel accepted every tuple the allocator chose and refused the deliberate duplicate"
                : "verdict: FAILED");
            return result;
        } finally {
            for (Connection c : open) {
                closeQuietly(c.channel);
            }
            for (Server s : serverList) {
                s.close();
            }
        }
    }

    /** A listening socket and the connections it accepted, keyed by the client's port. Not thread-safe. */
    private static final class Server {
        final ServerSocketChannel channel;
        final Destination destination;
        final Map<Integer, SocketChannel> accepted = new HashMap<>();

        Server(InetAddress address, int backlog) throws IOException {
            channel = ServerSocketChannel.open();
            // The kernel picks the server's port; a backlog above the connections it will queue between drains.
            channel.bind(new InetSocketAddress(address, 0), backlog);
            channel.configureBlocking(false);
            // One Destination instance per server, reused for every call: no allocation per acquire/release.
            destination = Destination.of((InetSocketAddress) channel.getLocalAddress());
        }

        /** Accepts every queued connection (non-blocking: returns when the queue is empty). */
        void acceptPending() throws IOException {
            for (SocketChannel s = channel.accept(); s != null; s = channel.accept()) {
                s.setOption(StandardSocketOptions.SO_LINGER, 0);
                accepted.put(((InetSocketAddress) s.getRemoteAddress()).getPort(), s);
            }
        }

        /** Closes the server side of the connection from {@code clientPort}, once it has been accepted. */
        void closeAccepted(int clientPort) throws IOException {
            acceptPending();
            final SocketChannel s = accepted.remove(clientPort);
            if (s != null) {
                s.close();
            }
        }

        void close() {
            for (SocketChannel s : accepted.values()) {
                closeQuietly(s);
            }
            closeQuietly(channel);
        }
    }

    /**
     * One client connection: its socket, the allocator's port, the destination and its server. Immutable
     * references, but the socket is not meant to be shared between threads.
     */
    private record Connection(SocketChannel channel, int port, Destination destination, Server server) {
    }

    /** The client side: allocator, sockets and the kernel's refusals. Not thread-safe. */
    private static final class Client {
        final PortAllocator allocator;
        long connects;
        long refusedBinds;
        long refusedConnects;

        Client(PortAllocator allocator) {
            this.allocator = allocator;
        }

        /** Opens one more connection to {@code server}; false when the allocator has no port left for it. */
        boolean connect(Server server, List<Connection> open) throws IOException {
            final int port = allocator.tryAcquire(server.destination);
            if (port == PortAllocator.NONE) {
                return false;
            }
            final SocketChannel ch = SocketChannel.open();
            boolean bound = false;
            try {
                ch.setOption(StandardSocketOptions.SO_REUSEADDR, true); // share the local port, as connect() would
                ch.setOption(StandardSocketOptions.SO_LINGER, 0);       // close = reset: no TIME_WAIT
                ch.bind(new InetSocketAddress(CLIENT_ADDRESS, port));
                bound = true;
                ch.connect(server.destination.toSocketAddress());      // blocking; loopback answers at once
            } catch (BindException e) {
                // EADDRINUSE at bind, or EADDRNOTAVAIL at connect: the 4-tuple is taken. Never expected.
                if (bound) {
                    refusedConnects++;
                } else {
                    refusedBinds++;
                }
                ch.close();
                // The tuple stays live in the allocator, so the next call moves on to another port; the
                // counts report the refusal.
                return true;
            } catch (IOException | RuntimeException e) {
                ch.close();
                allocator.release(port, server.destination);
                throw e;
            }
            connects++;
            open.add(new Connection(ch, port, server.destination, server));
            return true;
        }

        /** Resets the connection, closes the server side, and only then gives the tuple back. */
        void close(Connection c) throws IOException {
            c.channel.close();
            c.server.closeAccepted(c.port);
            allocator.release(c.port, c.destination);
        }

        /** @return the kernel's refusal of a second socket with the same 4-tuple as {@code live}, or null */
        String duplicate(Connection live) throws IOException {
            try (SocketChannel ch = SocketChannel.open()) {
                ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                ch.setOption(StandardSocketOptions.SO_LINGER, 0);
                ch.bind(new InetSocketAddress(CLIENT_ADDRESS, live.port));
                ch.connect(live.destination.toSocketAddress());
                return null;
            } catch (BindException e) {
                return "refused, " + e.getClass().getSimpleName() + ": " + e.getMessage();
            }
        }
    }

    /**
     * Chooses the client's port range: consecutive ports outside the host's ephemeral range (so the kernel never
     * picks them for its own connections) that nobody has bound right now (so another program's sockets do not
     * get in the way; checked once, a program binding one of them later still could).
     *
     * @param ephemeral the host's ephemeral range
     * @param size ports wanted
     * @param unbound tells whether a port is free on the client address
     * @return {@code size} consecutive ports outside {@code ephemeral}, all of them {@code unbound}
     * @throws IllegalStateException if no candidate range qualifies
     */
    public static PortSet rangeOutside(PortSet ephemeral, int size, IntPredicate unbound) {
        // 63000 first: above Linux's default range, and away from its edge where other tools like to start.
        final int[] starts = {63_000, 62_000, 64_000, ephemeral.last() + 1, ephemeral.first() - size, 20_000,
            10_000};
        for (int first : starts) {
            if (first >= 1024 && first + size - 1 <= PortAllocator.MAX_PORT) {
                final PortSet candidate = PortSet.range(first, first + size - 1);
                if (candidate.intersect(ephemeral).isEmpty()
                    && IntStream.range(first, first + size).allMatch(unbound)) {
                    return candidate;
                }
            }
        }
        throw new IllegalStateException("no " + size + " consecutive unbound ports outside " + ephemeral);
    }

    /** @return whether {@code port} can be bound on the client address now (bound and closed at once) */
    private static boolean isUnbound(int port) {
        try (SocketChannel probe = SocketChannel.open()) {
            probe.bind(new InetSocketAddress(CLIENT_ADDRESS, port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** @return the process's open-file limit (ulimit -n), or a conservative 1024 if the JVM cannot tell */
    static long maxFileDescriptors() {
        final OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            return unix.getMaxFileDescriptorCount();
        }
        return 1024;
    }

    private static InetAddress loopback(int lastByte) {
        try {
            return InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) lastByte});
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // four bytes are always a valid IPv4 address
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing at the end of the run: nothing left to do about it
        }
    }
}
