package dev.portalloc.net;

import dev.portalloc.Destination;
import dev.portalloc.PortAllocator;
import dev.portalloc.PortExhaustedException;
import dev.portalloc.PortLease;
import dev.portalloc.PortSet;
import dev.portalloc.Protocol;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.Closeable;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Real sockets on 127.0.0.1, the kernel deciding which ports are in use. Each test gives the allocator a few
 * consecutive ports that nobody has bound (searched for first, outside the host's ephemeral range so the kernel's
 * own choices do not land there), and occupies some of them with sockets of its own, as another program would.
 * Exclusive sockets close without connecting and connected ones with {@code SO_LINGER} 0, so nothing lingers in
 * {@code TIME_WAIT}. Tests skip where 127.0.0.1 cannot be bound; the connect-style ones also need Linux (its rules
 * for sharing a port among connected sockets).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PortBinderTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    /** Where the search for unbound ports starts (away from KernelOracleTest's 23456). */
    private static final int SEARCH_FROM = 25_000;

    /** Sockets standing for another program's; closed after each test. */
    private final List<Closeable> foreign = new ArrayList<>();

    @BeforeEach
    void loopbackWorks() {
        try (SocketChannel probe = SocketChannel.open()) {
            probe.bind(new InetSocketAddress(LOOPBACK, 0));
        } catch (IOException e) {
            assumeTrue(false, "skipped: cannot bind 127.0.0.1 here: " + e);
        }
    }

    @AfterEach
    void closeForeignSockets() throws IOException {
        for (Closeable c : foreign) {
            c.close();
        }
    }

    private static boolean isLinux() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux");
    }

    /** @return the first of {@code n} consecutive ports outside the ephemeral range that nobody has bound */
    private static int unboundPorts(int n) {
        PortSet ephemeral;
        try {
            ephemeral = PortSet.hostEphemeralRange();
        } catch (RuntimeException e) {
            ephemeral = PortSet.parse("32768-60999");
        }
        for (int first = SEARCH_FROM; first + n <= 32_000; first += n) {
            final PortSet candidate = PortSet.range(first, first + n - 1);
            if (!candidate.intersect(ephemeral).isEmpty()) {
                continue;
            }
            boolean free = true;
            for (int p = first; p < first + n && free; p++) {
                try (SocketChannel probe = SocketChannel.open()) {
                    probe.bind(new InetSocketAddress(LOOPBACK, p));
                } catch (IOException e) {
                    free = false;
                }
            }
            if (free) {
                return first;
            }
        }
        throw new IllegalStateException("no " + n + " consecutive unbound ports from " + SEARCH_FROM);
    }

    private static PortAllocator allocator(int first, int last) {
        return PortAllocator.builder().ports(PortSet.range(first, last)).protocol(Protocol.TCP)
            .localAddress(LOOPBACK).seed(11).build();
    }

    /** Binds a socket to the port as another program would: no SO_REUSEADDR, so nobody else can bind it. */
    private void occupy(int port) throws IOException {
        final SocketChannel s = SocketChannel.open();
        foreign.add(s);
        s.bind(new InetSocketAddress(LOOPBACK, port));
    }

    private static int kernelPort(java.nio.channels.NetworkChannel c) throws IOException {
        return ((InetSocketAddress) c.getLocalAddress()).getPort();
    }

    @Test
    void bindSkipsPortsTheHostAlreadyUses() throws IOException {
        final int first = unboundPorts(3);
        final PortAllocator ports = allocator(first, first + 2);
        occupy(first);
        occupy(first + 1);
        final PortBinder binder = PortBinder.of(ports);
        final int rounds = 20;
        for (int i = 0; i < rounds; i++) {
            try (LeasedChannel<SocketChannel> c = binder.openSocketChannel()) {
                assertThat(c.port()).isEqualTo(first + 2);
                assertThat(kernelPort(c.channel())).isEqualTo(first + 2);
                assertThat(((InetSocketAddress) c.channel().getLocalAddress()).getAddress()).isEqualTo(LOOPBACK);
                // the refused ports went back to the allocator when the call ended; only the bound one is held
                assertThat(ports.stats().heldPorts()).isEqualTo(1);
            }
            assertThat(ports.stats().heldPorts()).isZero();
        }
        // Two of three ports are taken, so a seeded run of 20 binds drew a refused port first many times: the
        // retry path ran (every acquisition beyond one per bind was a refused port).
        assertThat(ports.stats().acquisitions()).isGreaterThan(rounds);
        assertThat(ports.stats().releases()).isEqualTo(ports.stats().acquisitions());
    }

    @Test
    void closingTheLeasedChannelClosesTheSocketAndReleasesThePort() throws IOException {
        final int first = unboundPorts(2);
        final PortAllocator ports = allocator(first, first + 1);
        final LeasedChannel<SocketChannel> c = PortBinder.of(ports).openSocketChannel();
        final int port = c.port();
        assertThat(ports.isHeld(port)).isTrue();
        assertThat(c.isOpen()).isTrue();
        assertThat(c.toString()).startsWith("LeasedChannel[PortLease[TCP 127.0.0.1:" + port + ", open]");
        // closing the bare channel cannot tell the allocator (NIO has no close listener): the port stays held ...
        c.channel().close();
        assertThat(ports.isHeld(port)).isTrue();
        assertThat(c.isOpen()).isTrue();
        // ... until the LeasedChannel is closed
        c.close();
        c.close(); // harmless
        assertThat(c.isOpen()).isFalse();
        assertThat(c.channel().isOpen()).isFalse();
        assertThat(ports.isHeld(port)).isFalse();
        assertThat(ports.stats().releases()).isEqualTo(1);
        // and the kernel agrees that the port is free again
        try (SocketChannel again = SocketChannel.open()) {
            again.bind(new InetSocketAddress(LOOPBACK, port));
        }
    }

    @Test
    void exhaustionByTheKernelIsABindExceptionNamingThePortsAndLeaksNothing() throws IOException {
        final int first = unboundPorts(2);
        final PortAllocator ports = allocator(first, first + 1);
        occupy(first);
        occupy(first + 1);
        try (SocketChannel mine = SocketChannel.open()) {
            assertThatThrownBy(() -> PortBinder.of(ports).bind(mine))
                .isInstanceOf(BindException.class)
                .hasMessageContaining("the kernel refused 2 ports")
                .hasMessageContaining(String.valueOf(first)).hasMessageContaining(String.valueOf(first + 1))
                .hasMessageContaining("and the allocator has no other free port")
                .satisfies(e -> assertThat(e.getSuppressed()).hasSize(2).allMatch(s -> s instanceof BindException));
            // the caller's channel stays open and unbound; nothing stays held
            assertThat(mine.isOpen()).isTrue();
            assertThat(mine.getLocalAddress()).isNull();
        }
        assertThat(ports.stats().heldPorts()).isZero();
    }

    @Test
    void theAttemptBoundStopsRetrying() throws IOException {
        final int first = unboundPorts(3);
        final PortAllocator ports = allocator(first, first + 2);
        occupy(first);
        occupy(first + 1);
        occupy(first + 2);
        assertThatThrownBy(() -> PortBinder.of(ports, 2).openSocketChannel())
            .isInstanceOf(BindException.class)
            .hasMessageContaining("the kernel refused 2 ports")
            .hasMessageContaining("the most this binder tries per call (2)");
        assertThat(ports.stats().acquisitions()).isEqualTo(2);
        assertThat(ports.stats().heldPorts()).isZero();
        assertThatThrownBy(() -> PortBinder.of(ports, 0)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("maxAttempts 0");
        assertThatThrownBy(() -> PortBinder.of(null)).isInstanceOf(NullPointerException.class).hasMessage("allocator");
    }

    @Test
    void anEmptyAllocatorIsAPortExhaustedException() throws IOException {
        final int first = unboundPorts(1);
        final PortAllocator ports = PortAllocator.builder().ports(PortSet.range(first, first))
            .protocol(Protocol.UDP).localAddress(LOOPBACK).build();
        try (PortLease held = ports.lease()) {
            assertThat(held.port()).isEqualTo(first);
            assertThatThrownBy(() -> PortBinder.of(ports).openDatagramChannel())
                .isInstanceOf(PortExhaustedException.class);
        }
        assertThat(ports.stats().heldPorts()).isZero();
    }

    @Test
    void aDatagramChannelGetsTheAllocatorsPortAndWorks() throws IOException {
        final int first = unboundPorts(2);
        final PortAllocator ports = PortAllocator.builder().ports(PortSet.range(first, first + 1))
            .protocol(Protocol.UDP).localAddress(LOOPBACK).build();
        final int port;
        try (LeasedChannel<DatagramChannel> c = PortBinder.of(ports).openDatagramChannel()) {
            port = c.port();
            assertThat(kernelPort(c.channel())).isEqualTo(port);
            c.channel().send(ByteBuffer.wrap(new byte[] {42}), new InetSocketAddress(LOOPBACK, port));
            final ByteBuffer in = ByteBuffer.allocate(8);
            assertThat(c.channel().receive(in)).isEqualTo(new InetSocketAddress(LOOPBACK, port));
            assertThat(in.flip().get()).isEqualTo((byte) 42);
        }
        assertThat(ports.isHeld(port)).isFalse();
    }

    @Test
    void connectSkipsATupleTheHostAlreadyUsesAndSharesPortsAcrossDestinations() throws IOException {
        assumeTrue(isLinux(), "skipped: connect-style port sharing is tested against Linux's rules");
        final ServerSocketChannel server1 = listen();
        final ServerSocketChannel server2 = listen();
        final Destination d1 = Destination.of((InetSocketAddress) server1.getLocalAddress());
        final Destination d2 = Destination.of((InetSocketAddress) server2.getLocalAddress());
        final int first = unboundPorts(2);
        final PortAllocator ports = allocator(first, first + 1);
        // Another program's connection first -> server1 occupies that tuple (not the port: it uses SO_REUSEADDR).
        final SocketChannel other = SocketChannel.open();
        foreign.add(other);
        other.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        other.setOption(StandardSocketOptions.SO_LINGER, 0);
        other.bind(new InetSocketAddress(LOOPBACK, first));
        other.connect(d1.toSocketAddress());

        final PortBinder binder = PortBinder.of(ports);
        final ChannelSetup<SocketChannel> reset = ch -> ch.setOption(StandardSocketOptions.SO_LINGER, 0);
        final int rounds = 12;
        for (int i = 0; i < rounds; i++) {
            try (LeasedChannel<SocketChannel> c = binder.connect(d1, reset)) {
                assertThat(c.port()).isEqualTo(first + 1);
                assertThat(c.lease().destination()).isEqualTo(d1);
                assertThat(c.channel().isConnected()).isTrue();
                assertThat(kernelPort(c.channel())).isEqualTo(first + 1);
                // the port `first` still serves server2: only the tuple to server1 is taken
                try (LeasedChannel<SocketChannel> c2 = binder.connect(d2, reset);
                     LeasedChannel<SocketChannel> c3 = binder.connect(d2, reset)) {
                    assertThat(List.of(c2.port(), c3.port())).containsExactlyInAnyOrder(first, first + 1);
                }
            }
            assertThat(ports.stats().liveTuples()).isZero();
        }
        // the foreign tuple was drawn first in some of the 12 seeded rounds (1 in 2 each): retries happened
        assertThat(ports.stats().acquisitions()).isGreaterThan(3L * rounds);
        assertThat(ports.stats().heldPorts()).isZero();

        // Both tuples to server1 taken: a BindException naming the destination, nothing held afterwards.
        final SocketChannel other2 = SocketChannel.open();
        foreign.add(other2);
        other2.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        other2.setOption(StandardSocketOptions.SO_LINGER, 0);
        other2.bind(new InetSocketAddress(LOOPBACK, first + 1));
        other2.connect(d1.toSocketAddress());
        assertThatThrownBy(() -> binder.connect(d1, reset)).isInstanceOf(BindException.class)
            .hasMessageContaining("the kernel refused 2 ports").hasMessageContaining(" to " + d1)
            .hasMessageContaining("and the allocator has no other port left for " + d1);
        assertThat(ports.stats().heldPorts()).isZero();
    }

    @Test
    void aRefusedConnectionReleasesTheTupleAndIsNotRetried() throws IOException {
        assumeTrue(isLinux(), "skipped: needs Linux's connect-style rules");
        final ServerSocketChannel gone = listen();
        final Destination d = Destination.of((InetSocketAddress) gone.getLocalAddress());
        gone.close(); // nobody listens there now: connect gets a reset
        final int first = unboundPorts(2);
        final PortAllocator ports = allocator(first, first + 1);
        assertThatThrownBy(() -> PortBinder.of(ports).connect(d)).isInstanceOf(ConnectException.class);
        assertThat(ports.stats().acquisitions()).isEqualTo(1);
        assertThat(ports.stats().heldPorts()).isZero();
    }

    @Test
    void aSetupThatThrowsAnythingLeavesNoTupleHeldAndClosesTheChannel() throws IOException {
        final ServerSocketChannel server = listen();
        final Destination d = Destination.of((InetSocketAddress) server.getLocalAddress());
        final int first = unboundPorts(2);
        final PortAllocator ports = allocator(first, first + 1);
        final PortBinder binder = PortBinder.of(ports);
        final List<SocketChannel> configured = new ArrayList<>();
        final List<Throwable> failures = List.of(new IllegalStateException("setup bug"), new AssertionError("setup error"),
            new IOException("option refused"));
        for (Throwable failure : failures) {
            final ChannelSetup<SocketChannel> setup = ch -> {
                configured.add(ch);
                if (failure instanceof IOException io) {
                    throw io;
                }
                if (failure instanceof Error err) {
                    throw err;
                }
                throw (RuntimeException) failure;
            };
            assertThatThrownBy(() -> binder.connect(d, setup)).isSameAs(failure);
            assertThat(ports.stats().heldPorts()).as("after %s", failure).isZero();
            assertThat(ports.stats().liveTuples()).as("after %s", failure).isZero();
        }
        assertThat(configured).hasSize(failures.size()).noneMatch(SocketChannel::isOpen);
        assertThat(ports.stats().acquisitions()).isEqualTo(failures.size());
    }

    @Test
    void anErrorFromBindReleasesThePortAndLeavesTheCallersChannelOpen() throws IOException {
        final int first = unboundPorts(2);
        final PortAllocator ports = allocator(first, first + 1);
        // A channel whose bind throws an Error, as a broken channel provider might.
        final AssertionError boom = new AssertionError("bind blew up");
        final ThrowingChannel failing = new ThrowingChannel(boom);
        assertThatThrownBy(() -> PortBinder.of(ports).bind(failing)).isSameAs(boom);
        assertThat(failing.isOpen()).isTrue();
        assertThat(ports.stats().acquisitions()).isEqualTo(1);
        assertThat(ports.stats().heldPorts()).isZero();
    }

    @Test
    void aCallOfAnotherProtocolThanTheAllocatorsIsRejectedBeforeTakingAPort() throws IOException {
        final int first = unboundPorts(2);
        final PortAllocator udp = PortAllocator.builder().ports(PortSet.range(first, first + 1))
            .protocol(Protocol.UDP).localAddress(LOOPBACK).build();
        final PortAllocator tcp = allocator(first, first + 1);
        final Destination d = Destination.of(new InetSocketAddress(LOOPBACK, 9));
        assertThatThrownBy(() -> PortBinder.of(udp).connect(d)).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("connect requires a Protocol.TCP allocator, but it is UDP");
        assertThatThrownBy(() -> PortBinder.of(udp).connect(d, ch -> { }))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("but it is UDP");
        assertThatThrownBy(() -> PortBinder.of(udp).openSocketChannel()).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("openSocketChannel requires a Protocol.TCP allocator, but it is UDP");
        assertThatThrownBy(() -> PortBinder.of(tcp).openDatagramChannel()).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("openDatagramChannel requires a Protocol.UDP allocator, but it is TCP");
        try (DatagramChannel dc = DatagramChannel.open(); SocketChannel sc = SocketChannel.open()) {
            assertThatThrownBy(() -> PortBinder.of(tcp).bind(dc)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("requires a Protocol.UDP allocator, but it is TCP");
            assertThatThrownBy(() -> PortBinder.of(udp).bind(sc)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("requires a Protocol.TCP allocator, but it is UDP");
            assertThat(dc.getLocalAddress()).isNull();
            assertThat(sc.getLocalAddress()).isNull();
        }
        for (PortAllocator ports : List.of(udp, tcp)) {
            assertThat(ports.stats().acquisitions()).isZero();
            assertThat(ports.stats().heldPorts()).isZero();
        }
    }

    /** A channel whose {@code bind} throws the given Error; otherwise inert. */
    private static final class ThrowingChannel implements java.nio.channels.NetworkChannel {
        private final Error error;

        ThrowingChannel(Error error) {
            this.error = error;
        }

        @Override
        public java.nio.channels.NetworkChannel bind(java.net.SocketAddress local) {
            throw error;
        }

        @Override
        public <T> java.nio.channels.NetworkChannel setOption(java.net.SocketOption<T> name, T value) {
            return this;
        }

        @Override
        public java.net.SocketAddress getLocalAddress() {
            return null;
        }

        @Override
        public <T> T getOption(java.net.SocketOption<T> name) {
            return null;
        }

        @Override
        public java.util.Set<java.net.SocketOption<?>> supportedOptions() {
            return java.util.Set.of();
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    private ServerSocketChannel listen() throws IOException {
        final ServerSocketChannel s = ServerSocketChannel.open();
        foreign.add(s);
        s.bind(new InetSocketAddress(LOOPBACK, 0), 64);
        return s;
    }
}
