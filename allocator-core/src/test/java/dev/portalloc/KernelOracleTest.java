package dev.portalloc;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * The kernel as the oracle (Linux only): Linux refuses a second connection with the same 4-tuple (local
 * address, local port, remote address, remote port) with {@code EADDRNOTAVAIL}, "Cannot assign requested
 * address", so real TCP connections whose local ports the allocator chose prove, connection by connection,
 * that the allocator never hands out a live tuple twice.
 *
 * <p>Setup: TCP servers on {@value #ADDRESSES} loopback addresses (127.0.0.1, 127.0.0.2, ...; Linux routes
 * all of 127/8 to {@code lo}), {@value #SERVERS_PER_ADDRESS} listening ports each: that many destinations.
 * Clients bind to {@code 127.0.0.1} (not the wildcard: with a fixed local address the kernel's 4-tuple is
 * exactly the allocator's 5-tuple, whereas a wildcard bind would let the kernel pick the source address at
 * connect time) and to the local port the allocator chose for the destination, with {@code SO_REUSEADDR}
 * (which lets several connected sockets share a local port, as {@code connect()} does), then connect. The
 * allocator's range is {@value #RANGE_SIZE} ports outside the host's ephemeral range, each checked unused
 * before the test.
 *
 * <p>The churn: {@value #THREADS} threads open connections (allocator {@code tryAcquire(d)} for a random
 * destination) up to {@value #HOLD} at once, at least 4 x the range, so ports must be shared, and close random
 * ones ({@code SO_LINGER} 0: an RST, no TIME_WAIT; the accepted server side is closed too) before releasing
 * their tuple. Any bind or connect failure fails the test: it can only come from a duplicate tuple. A control
 * test deliberately duplicates a tuple and checks that the kernel refuses it (the oracle can fail).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KernelOracleTest {
    static final int ADDRESSES = 4;
    static final int SERVERS_PER_ADDRESS = 2;
    static final int RANGE_SIZE = 16;
    static final int THREADS = 4;
    /** Connections held at once at most, in all (≥ 4 x RANGE_SIZE; ≤ RANGE_SIZE x destinations). */
    static final int HOLD = 96;
    /** Open-or-close operations per thread; tune for the time budget. */
    static final int OPS_PER_THREAD = 1_500;
    /** Where the search for an unused range starts. */
    static final int SEARCH_FROM = 23_456;

    private static final InetAddress LOCAL = loopback(1);

    private final List<ServerSocketChannel> servers = new ArrayList<>();
    private final List<Thread> acceptors = new ArrayList<>();
    private final List<Destination> destinations = new ArrayList<>();
    /** Accepted server sides by "server index/client port". */
    private final Map<String, SocketChannel> accepted = new ConcurrentHashMap<>();
    private final List<Throwable> acceptFailures = Collections.synchronizedList(new ArrayList<>());
    private volatile boolean closing;

    private static InetAddress loopback(int host) {
        try {
            return InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) host});
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @BeforeEach
    void startServers() throws IOException {
        assumeThat(System.getProperty("os.name", "")).as("the kernel oracle needs Linux's TCP stack").startsWith("Linux");
        for (int host = 1; host <= ADDRESSES; host++) {
            for (int k = 0; k < SERVERS_PER_ADDRESS; k++) {
                final ServerSocketChannel server = ServerSocketChannel.open();
                try {
                    server.bind(new InetSocketAddress(loopback(host), 0), HOLD * 2);
                } catch (IOException e) {
                    server.close();
                    assumeThat(e).as("cannot listen on 127.0.0.%d (is 127/8 routed to lo?)", host).isNull();
                }
                servers.add(server);
                destinations.add(Destination.of((InetSocketAddress) server.getLocalAddress()));
                final int index = servers.size() - 1;
                final Thread acceptor = new Thread(() -> accept(index, server), "acceptor-" + index);
                acceptor.setDaemon(true);
                acceptors.add(acceptor);
                acceptor.start();
            }
        }
    }

    private void accept(int index, ServerSocketChannel server) {
        try {
            while (!closing) {
                final SocketChannel s = server.accept();
                final int clientPort = ((InetSocketAddress) s.getRemoteAddress()).getPort();
                final SocketChannel previous = accepted.put(index + "/" + clientPort, s);
                if (previous != null) {
                    acceptFailures.add(new AssertionError("two accepted connections from port " + clientPort
                        + " to " + destinations.get(index)));
                }
            }
        } catch (IOException e) {
            if (!closing) {
                acceptFailures.add(e);
            }
        }
    }

    @AfterEach
    void stopServers() throws Exception {
        closing = true;
        for (ServerSocketChannel server : servers) {
            server.close();
        }
        for (Thread acceptor : acceptors) {
            acceptor.join(5_000);
        }
        for (SocketChannel s : accepted.values()) {
            s.close();
        }
    }

    /** A client socket bound to 127.0.0.1:port with SO_REUSEADDR, connected to the destination's server. */
    private static SocketChannel connect(int port, Destination d) throws IOException {
        final SocketChannel c = SocketChannel.open();
        try {
            c.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            c.setOption(StandardSocketOptions.SO_LINGER, 0);
            c.bind(new InetSocketAddress(LOCAL, port));
            c.connect(d.toSocketAddress());
            return c;
        } catch (IOException e) {
            c.close();
            throw e;
        }
    }

    /** Waits for the server side of a connection, removes it from the accepted map and returns it. */
    private SocketChannel serverSide(int serverIndex, int clientPort) throws InterruptedException {
        final String key = serverIndex + "/" + clientPort;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        SocketChannel s;
        while ((s = accepted.remove(key)) == null) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("connection " + LOCAL.getHostAddress() + ":" + clientPort + " -> "
                    + destinations.get(serverIndex) + " never accepted");
            }
            Thread.sleep(1);
        }
        return s;
    }

    /** Finds RANGE_SIZE consecutive ports outside the host's ephemeral range that nothing uses. */
    private static PortSet unusedRange() throws IOException {
        final PortSet ephemeral = PortSet.hostEphemeralRange();
        int first = SEARCH_FROM;
        search:
        while (first + RANGE_SIZE - 1 <= 65535) {
            for (int p = first; p < first + RANGE_SIZE; p++) {
                if (ephemeral.contains(p) || !unused(p)) {
                    first = p + 1;
                    continue search;
                }
            }
            return PortSet.range(first, first + RANGE_SIZE - 1);
        }
        throw new AssertionError("no unused range of " + RANGE_SIZE + " ports from " + SEARCH_FROM);
    }

    /** @return whether nothing is bound to the port on any address (a bind without SO_REUSEADDR succeeds) */
    private static boolean unused(int port) {
        try (ServerSocketChannel probe = ServerSocketChannel.open()) {
            probe.setOption(StandardSocketOptions.SO_REUSEADDR, false);
            probe.bind(new InetSocketAddress(port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Skips unless {@code ulimit -n} leaves room for {@code needed} more descriptors (read from /proc). */
    private static void assumeEnoughFileDescriptors(int needed) throws IOException {
        long max = Long.MAX_VALUE;
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                final String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                max = soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
            }
        }
        final String[] fds = new File("/proc/self/fd").list();
        final long used = fds == null ? 0 : fds.length;
        assumeThat(max - used).as("free file descriptors (ulimit -n %d, %d open) for %d sockets", max, used, needed)
            .isGreaterThan(needed);
    }

    @Test
    void theKernelRefusesADuplicateTuple() throws Exception {
        final PortSet range = unusedRange();
        final int port = range.first();
        final Destination d = destinations.get(0);
        final SocketChannel first = connect(port, d);
        final SocketChannel firstServer = serverSide(0, port);
        try {
            assertThat(((InetSocketAddress) first.getLocalAddress())).isEqualTo(new InetSocketAddress(LOCAL, port));
            // The same local port to another destination is fine: that is the sharing the allocator relies on.
            final SocketChannel other = connect(port, destinations.get(destinations.size() - 1));
            serverSide(destinations.size() - 1, port).close();
            other.close();
            // The same 4-tuple again is refused.
            assertThatThrownBy(() -> connect(port, d)).isInstanceOf(java.net.BindException.class)
                .hasMessageContaining("Cannot assign requested address");
        } finally {
            first.close();
            firstServer.close();
        }
    }

    @Test
    void theKernelAcceptsEveryTupleTheAllocatorGrants() throws Exception {
        assumeEnoughFileDescriptors(2 * HOLD + servers.size() + 64);
        final PortSet range = unusedRange();
        final PortAllocator allocator = PortAllocator.builder().ports(range).localAddress(LOCAL)
            .protocol(Protocol.TCP).build();
        final AtomicInteger open = new AtomicInteger();
        final AtomicInteger peak = new AtomicInteger();
        final AtomicLong connections = new AtomicLong();
        final AtomicLong exhausted = new AtomicLong();
        final List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        final CyclicBarrier start = new CyclicBarrier(THREADS);
        final List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            final int id = t;
            final Thread thread = new Thread(() -> {
                final SplittableRandom rnd = new SplittableRandom(id);
                final List<Object[]> mine = new ArrayList<>(); // {client, server side, port, server index}
                try {
                    start.await();
                    for (int i = 0; i < OPS_PER_THREAD && failures.isEmpty(); i++) {
                        // Fill up first, then churn around HOLD: open while under it, else close.
                        final boolean openOne = open.get() < HOLD && (mine.isEmpty() || rnd.nextInt(4) != 0);
                        if (openOne) {
                            final int index = rnd.nextInt(destinations.size());
                            final Destination d = destinations.get(index);
                            final int port = allocator.tryAcquire(d);
                            if (port == PortAllocator.NONE) {
                                exhausted.incrementAndGet();
                                continue;
                            }
                            final SocketChannel client;
                            try {
                                client = connect(port, d);
                            } catch (IOException e) {
                                throw new AssertionError("the kernel refused " + LOCAL.getHostAddress() + ":" + port
                                    + " -> " + d + " that the allocator granted: " + e, e);
                            }
                            mine.add(new Object[] {client, serverSide(index, port), port, index});
                            connections.incrementAndGet();
                            peak.accumulateAndGet(open.incrementAndGet(), Math::max);
                        } else if (!mine.isEmpty()) {
                            close(allocator, mine.remove(rnd.nextInt(mine.size())));
                            open.decrementAndGet();
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                } finally {
                    for (Object[] c : mine) {
                        try {
                            close(allocator, c);
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    }
                }
            }, "kernel-oracle-" + t);
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(failures).as("failures").isEmpty();
        assertThat(acceptFailures).as("server failures").isEmpty();
        assertThat(peak.get()).as("connections held at once (%d connections, %d exhausted)", connections.get(),
            exhausted.get()).isGreaterThanOrEqualTo(4 * RANGE_SIZE);
        System.out.printf("KernelOracleTest: range %s, %d destinations, %d connections, %d held at most, "
            + "%d exhaustions%n", range, destinations.size(), connections.get(), peak.get(), exhausted.get());
        final AllocatorStats s = allocator.stats();
        assertThat(s.liveTuples()).isZero();
        assertThat(s.heldPorts()).isZero();
    }

    private void close(PortAllocator allocator, Object[] c) throws IOException {
        final SocketChannel client = (SocketChannel) c[0];
        final SocketChannel server = (SocketChannel) c[1];
        final int port = (Integer) c[2];
        client.close(); // SO_LINGER 0: RST, no TIME_WAIT
        server.close();
        allocator.release(port, destinations.get((Integer) c[3]));
    }
}
