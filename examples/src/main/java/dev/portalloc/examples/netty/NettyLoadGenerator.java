package dev.portalloc.examples.netty;

import dev.portalloc.Destination;
import dev.portalloc.PortAllocator;
import dev.portalloc.PortLease;
import dev.portalloc.PortSet;
import dev.portalloc.Protocol;
import dev.portalloc.examples.sockets.LoopbackConnections;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A load generator in Netty: many connections to one backend, spread over several local addresses, every local
 * port chosen by a {@link PortAllocator} and given back when the channel closes.
 *
 * <p>Run it from the repository root:
 * <pre>{@code
 * mvn -B -q -DskipTests -pl examples -am package exec:java -Dexample.main=dev.portalloc.examples.netty.NettyLoadGenerator
 * }</pre>
 *
 * <h2>Why several local addresses</h2>
 * A TCP connection is a 4-tuple; towards a single backend (one remote address and port) only the local address
 * and port vary, so one local address reaches one backend at most once per port of its range. Proxies and load
 * generators therefore add local addresses: here 127.0.0.1, 127.0.0.2 and 127.0.0.3 (Linux routes all of
 * 127.0.0.0/8 to the loopback interface), with one allocator each, so three times as many connections reach the
 * backend as one address's range allows. On a system where 127.0.0.2 and 127.0.0.3 cannot be bound (macOS and
 * Windows have only 127.0.0.1 unless configured), the example says so and runs with the addresses that work.
 *
 * <h2>How a connection gets its port</h2>
 * <ol>
 * <li>{@code lease = allocator.tryLease(backend)}: a connect-style lease, a port whose tuple to the backend is
 *     unused (the port may carry connections to other backends at the same time).</li>
 * <li>{@code bootstrap.connect(backend, lease.socketAddress())}: Netty binds the channel to that local address and
 *     port, then connects. The bootstrap sets {@code SO_REUSEADDR}, which lets connected sockets share a local
 *     port, as {@code connect()} shares ports ({@code dev.portalloc.net.PortBinder#connect} does the same for
 *     plain NIO).</li>
 * <li>{@code channel.closeFuture().addListener(f -> lease.close())}: the port goes back when the channel closes,
 *     whoever closes it; a connect that fails for good releases its lease at once.</li>
 * </ol>
 * <p>One race is the kernel's: Netty completes {@code closeFuture} when NIO's {@code close()} returns, but NIO closes a
 * socket registered with a selector only at the selector's next select. A lease released on {@code closeFuture}
 * can therefore be granted again, to the same backend, while the kernel still holds the old socket, and the new
 * connect fails with "Cannot assign requested address" (a {@link BindException}). The example then tries the same
 * lease again a few milliseconds later (see {@code Round}); a generator without that retry loses such
 * connects.
 *
 * <p>Channels close with {@code SO_LINGER} 0 (a reset, no {@code TIME_WAIT}), so a released tuple can be used again at
 * once; a client that closes normally should give the allocator a {@code quarantine} of at least the kernel's
 * {@code TIME_WAIT} (60 s on Linux), or the kernel refuses the tuple meanwhile.
 *
 * <h2>What it does</h2>
 * Each round fills every allocator's range with connections to the backend (an echo server, also Netty), all open
 * at once, checks that one more lease per address is refused (the range is full for this backend), has every
 * connection send a message and wait for its echo, closes them all, and checks that every allocator is empty
 * again. It counts what the kernel and the backend said: refused connects and local addresses other than the
 * lease's must be 0.
 *
 * <h2>Threads</h2>
 * Netty's: one event loop for the server and one for the clients; the caller waits on latches. {@code run} is not
 * meant to be called concurrently (two runs would compete for the same port range).
 */
public final class NettyLoadGenerator {
    private static final int MESSAGE_BYTES = 16;
    private static final long WAIT_SECONDS = 30;
    private static final int CONNECT_ATTEMPTS = 20;
    private static final long RETRY_MILLIS = 5;

    private NettyLoadGenerator() {
    }

    /**
     * What happened. Immutable, so thread-safe.
     *
     * @param localAddresses the local addresses used (fewer than asked where some cannot be bound)
     * @param portRange every allocator's range
     * @param rounds rounds run
     * @param peakConnections connections open at once to the one backend, at the fullest
     * @param connects successful connects in all rounds
     * @param echoes connections whose message came back intact
     * @param connectRetries connects tried again because the kernel still held the tuple (see {@code Round})
     * @param refusedConnects connects that failed, after any retries (must be 0)
     * @param wrongLocalAddresses channels whose kernel-reported local address was not the lease's (must be 0)
     * @param extraLeasesGranted leases granted beyond a full range, per round and address (must be 0)
     * @param heldAfterwards ports still held by the allocators after the last round (must be 0)
     */
    public record Result(List<InetAddress> localAddresses, PortSet portRange, int rounds, int peakConnections,
                         long connects, long echoes, long connectRetries, long refusedConnects,
                         long wrongLocalAddresses, long extraLeasesGranted, long heldAfterwards) {
    }

    public static void main(String[] args) throws Exception {
        run(3, 32, 3, System.out);
    }

    /**
     * @param addresses local addresses wanted: 127.0.0.1 onwards
     * @param ports ports per allocator (one range, the same for every local address)
     * @param rounds fill-echo-close rounds
     * @param out where to print
     * @return the counts
     * @throws IOException if the backend cannot start
     * @throws InterruptedException if interrupted while waiting for connections
     */
    public static Result run(int addresses, int ports, int rounds, PrintStream out)
        throws IOException, InterruptedException {
        final List<InetAddress> locals = bindableLoopbacks(addresses, out);
        final PortSet range = LoopbackConnections.rangeOutside(hostEphemeralRange(), ports,
            port -> locals.stream().allMatch(a -> isUnbound(a, port)));
        final List<PortAllocator> allocators = new ArrayList<>();
        for (InetAddress local : locals) {
            // One allocator per (protocol, local address): each covers that address's ports.
            allocators.add(PortAllocator.builder().ports(range).protocol(Protocol.TCP).localAddress(local).build());
        }
        out.println("local addresses " + locals.stream().map(InetAddress::getHostAddress).toList()
            + ", each with ports " + range);

        final EventLoopGroup serverGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        final EventLoopGroup clientGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        final Counts counts = new Counts();
        try {
            final Channel server = new ServerBootstrap().group(serverGroup).channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new Echo());
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
            // One Destination for every call: connect-style acquisition allocates nothing for a reused IPv4 one.
            final Destination backend = Destination.of((InetSocketAddress) server.localAddress());
            out.println("echo backend " + backend);

            final Bootstrap bootstrap = new Bootstrap().group(clientGroup).channel(NioSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true) // share local ports among connected sockets
                .option(ChannelOption.SO_LINGER, 0)       // close = reset: no TIME_WAIT
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new Client(counts));
                    }
                });

            int peak = 0;
            for (int round = 0; round < rounds; round++) {
                peak = Math.max(peak, round(bootstrap, allocators, backend, counts));
            }
            server.close().sync();
            long held = 0;
            for (PortAllocator a : allocators) {
                held += a.stats().heldPorts();
            }
            final Result r = new Result(List.copyOf(locals), range, rounds, peak, counts.connects.get(),
                counts.echoes.get(), counts.retries.get(), counts.refused.get(), counts.wrongLocal.get(),
                counts.extraLeases.get(), held);
            out.printf("%d rounds: peak %d connections to %s at once from %d ports x %d addresses; %d connects, "
                    + "%d echoes; %d connects retried, %d refused, %d wrong local addresses, "
                    + "%d ports held afterwards%n",
                rounds, r.peakConnections(), backend, range.size(), locals.size(), r.connects(), r.echoes(),
                r.connectRetries(), r.refusedConnects(), r.wrongLocalAddresses(), r.heldAfterwards());
            if (counts.firstRefusal.get() != null) {
                out.println("first refused connect: " + counts.firstRefusal.get());
            }
            return r;
        } finally {
            clientGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            serverGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /**
     * Fills every allocator's range with connections to {@code backend}, lets each exchange its message, closes
     * them all.
     *
     * @return connections open at once
     */
    private static int round(Bootstrap bootstrap, List<PortAllocator> allocators, Destination backend,
                             Counts counts) throws InterruptedException {
        final List<PortLease> leases = new ArrayList<>();
        for (PortAllocator a : allocators) {
            for (PortLease lease = a.tryLease(backend); lease != null; lease = a.tryLease(backend)) {
                leases.add(lease);
            }
        }
        // Every range is full for this backend: the next lease would repeat a live tuple, so there is none.
        for (PortAllocator a : allocators) {
            final PortLease extra = a.tryLease(backend);
            if (extra != null) {
                counts.extraLeases.incrementAndGet();
                extra.close();
            }
        }
        final CountDownLatch exchanged = new CountDownLatch(leases.size());
        final CountDownLatch released = new CountDownLatch(leases.size());
        final ConcurrentLinkedQueue<Channel> open = new ConcurrentLinkedQueue<>();
        counts.exchanged = exchanged;
        final Round r = new Round(bootstrap, backend, counts, exchanged, released, open);
        for (PortLease lease : leases) {
            r.connect(lease, 1);
        }
        if (!exchanged.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException("connections did not finish their exchange in " + WAIT_SECONDS + " s");
        }
        final int concurrent = open.size();
        for (Channel c : open) {
            c.close();
        }
        if (!released.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException("channels did not close in " + WAIT_SECONDS + " s");
        }
        return concurrent;
    }

    /**
     * The connects of one round. A connect that the kernel refuses with a {@link BindException} ("Cannot assign
     * requested address": the tuple is still in use) is tried again a little later with the same lease, up to
     * {@value #CONNECT_ATTEMPTS} attempts: Netty completes a channel's {@code closeFuture} when NIO's
     * {@code close()} returns, but NIO closes a socket registered with a selector only at that selector's next
     * select, so the previous round's socket on this tuple may outlive the release of its lease by a moment.
     * Any other failure, or the last attempt's, counts as refused. Used by the caller and the client event loop.
     */
    private record Round(Bootstrap bootstrap, Destination backend, Counts counts, CountDownLatch exchanged,
                         CountDownLatch released, ConcurrentLinkedQueue<Channel> open) {
        void connect(PortLease lease, int attempt) {
            final ChannelFuture connect = bootstrap.connect(backend.toSocketAddress(), lease.socketAddress());
            connect.addListener(f -> {
                if (f.isSuccess()) {
                    final Channel channel = connect.channel();
                    counts.connects.incrementAndGet();
                    if (!lease.socketAddress().equals(channel.localAddress())) {
                        counts.wrongLocal.incrementAndGet();
                    }
                    open.add(channel);
                    // The port goes back when the channel closes, for whatever reason.
                    channel.closeFuture().addListener(c -> release(lease));
                } else if (attempt < CONNECT_ATTEMPTS && causedBy(f.cause(), BindException.class)) {
                    counts.retries.incrementAndGet();
                    bootstrap.config().group().schedule(() -> connect(lease, attempt + 1), RETRY_MILLIS,
                        TimeUnit.MILLISECONDS);
                } else {
                    counts.refused.incrementAndGet();
                    counts.firstRefusal.compareAndSet(null, f.cause());
                    release(lease);
                    exchanged.countDown();
                }
            });
        }

        private void release(PortLease lease) {
            lease.close();
            released.countDown();
        }

        private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
            for (Throwable c = t; c != null; c = c.getCause()) {
                if (type.isInstance(c)) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Counters shared by the caller and the client handlers; thread-safe (atomics and a volatile latch). */
    private static final class Counts {
        final AtomicLong connects = new AtomicLong();
        final AtomicLong echoes = new AtomicLong();
        final AtomicLong refused = new AtomicLong();
        final AtomicLong wrongLocal = new AtomicLong();
        final AtomicLong extraLeases = new AtomicLong();
        final AtomicLong retries = new AtomicLong();
        final AtomicReference<Throwable> firstRefusal = new AtomicReference<>();
        volatile CountDownLatch exchanged;
    }

    /** The backend: writes back what it reads. Stateless, so one instance could serve all; not shared here. */
    private static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // the clients reset their connections (SO_LINGER 0): expected, nothing to report
        }
    }

    /**
     * One client connection: sends its local address as a 16-byte message, waits for the echo, then stays open
     * until the round closes it. Per channel, used by its event loop only.
     */
    private static final class Client extends ChannelInboundHandlerAdapter {
        private final Counts counts;
        private final byte[] sent = new byte[MESSAGE_BYTES];
        private final byte[] received = new byte[MESSAGE_BYTES];
        private int receivedBytes;
        private boolean done;

        Client(Counts counts) {
            this.counts = counts;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            final byte[] text = String.valueOf(ctx.channel().localAddress()).getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(text, 0, sent, 0, Math.min(text.length, MESSAGE_BYTES));
            ctx.writeAndFlush(Unpooled.wrappedBuffer(sent));
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            final ByteBuf in = (ByteBuf) msg;
            try {
                final int n = Math.min(in.readableBytes(), MESSAGE_BYTES - receivedBytes);
                in.readBytes(received, receivedBytes, n);
                receivedBytes += n;
            } finally {
                in.release();
            }
            if (!done && receivedBytes == MESSAGE_BYTES) {
                done = true;
                if (Arrays.equals(received, sent)) {
                    counts.echoes.incrementAndGet();
                }
                counts.exchanged.countDown();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!done) { // closed before its echo came back: let the round go on, the echo count shows it
                done = true;
                counts.exchanged.countDown();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** @return the host's ephemeral range, or IANA's 49152-65535 where the host does not say (not Linux) */
    private static PortSet hostEphemeralRange() {
        try {
            return PortSet.hostEphemeralRange();
        } catch (RuntimeException e) {
            return PortSet.IANA_DYNAMIC;
        }
    }

    /** @return 127.0.0.1 .. 127.0.0.{wanted} that can be bound here (at least 127.0.0.1) */
    static List<InetAddress> bindableLoopbacks(int wanted, PrintStream out) throws IOException {
        final List<InetAddress> result = new ArrayList<>();
        for (int i = 1; i <= wanted; i++) {
            final InetAddress a = loopback(i);
            if (isUnbound(a, 0)) {
                result.add(a);
            } else {
                out.println(a.getHostAddress() + " cannot be bound on this system (only Linux routes all of "
                    + "127.0.0.0/8 to loopback by default): running without it");
            }
        }
        if (result.isEmpty()) {
            throw new IOException("127.0.0.1 cannot be bound: no loopback");
        }
        return result;
    }

    /** @return whether {@code port} (0: any) can be bound on {@code address} now (bound and closed at once) */
    private static boolean isUnbound(InetAddress address, int port) {
        try (java.nio.channels.SocketChannel probe = java.nio.channels.SocketChannel.open()) {
            probe.bind(new InetSocketAddress(address, port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static InetAddress loopback(int lastByte) {
        try {
            return InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) lastByte});
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // four bytes are always a valid IPv4 address
        }
    }
}
