package dev.portalloc.examples;

import dev.portalloc.Destination;
import dev.portalloc.PortAllocator;
import dev.portalloc.PortLease;
import dev.portalloc.PortSet;
import dev.portalloc.metrics.AllocatorMetrics;
import dev.portalloc.net.LeasedChannel;
import dev.portalloc.net.PortBinder;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;

/**
 * The README's usage snippets, compiled. {@code ReadmeUsageTest} checks that every statement of the README's
 * Java blocks appears here verbatim, so the README cannot drift from code that compiles.
 */
public final class ReadmeUsage {
    private ReadmeUsage() {
    }

    /** Any port set; here the even ports. */
    static PortSet evenPorts() {
        int[] even = new int[32768];
        for (int i = 0; i < even.length; i++) {
            even[i] = 2 * (i + 1);
        }
        return PortSet.of(java.util.Arrays.copyOf(even, 32767)); // 2..65534
    }

    /** The connect-style snippet. */
    static void connectStyle() throws UnknownHostException {
        PortAllocator client = PortAllocator.builder()
            .ports(PortSet.parse("32768-60999"))
            .localAddress(InetAddress.getByName("192.0.2.10"))
            .quarantine(Duration.ofSeconds(60))       // TIME_WAIT-like reuse delay; default none
            .build();

        Destination backend = Destination.parse("203.0.113.7:443");   // exact IPv4 or IPv6, no DNS
        int port = client.acquire(backend);            // a port whose tuple to backend is unused
        boolean mine = client.tryAcquire(40000, backend); // one specific port (NAT port preservation)
        client.release(port, backend);                 // the tuple goes into quarantine for 60 s

        System.out.printf("port=%d 40000:%b live=%d quarantined=%d%n", port, mine, client.stats().liveTuples(),
            client.stats().quarantined());
    }

    /** Stands for whatever uses a leased port: a user-space stack's socket, a NAT mapping, ... */
    static void serve(int port) {
        System.out.println("serving on port " + port);
    }

    /** The observability snippet: an allocator's stats as Micrometer meters. */
    static void metrics(PortAllocator ports) {
        MeterRegistry registry = new SimpleMeterRegistry();
        new AllocatorMetrics(ports, Tags.of("pool", "egress")).bindTo(registry);
        System.out.printf("portalloc.ports.held=%.0f%n", registry.get("portalloc.ports.held").gauge().value());
    }

    public static void main(String[] args) throws IOException {
        // The server the snippet connects to: anything listening on loopback.
        try (ServerSocketChannel listening = ServerSocketChannel.open()) {
            listening.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            final SocketAddress server = listening.getLocalAddress();

            PortAllocator ports = PortAllocator.builder()
                .ports(PortSet.parse("32768-60999"))      // the automatic set; default PortSet.IANA_DYNAMIC
                .reserved(PortSet.parse("40000-40010"))   // never chosen automatically
                .localAddress(InetAddress.getLoopbackAddress()) // what sockets bind to; default the wildcard
                .build();

            try (PortLease lease = ports.lease()) {  // a port until the block ends, released exactly once
                serve(lease.port());
            }

            PortBinder binder = PortBinder.of(ports);   // binds NIO channels to localAddress() and a port
            try (LeasedChannel<SocketChannel> c = binder.openSocketChannel()) { // retries ports in use on the host
                c.channel().connect(server);
            }                                           // closes the channel, then releases the port

            plainApi(ports);
        }
        connectStyle();
    }

    /** The second snippet: the allocation-free calls underneath. */
    static void plainApi(PortAllocator ports) {
        int p = ports.acquire();                 // uniform over free ports; PortExhaustedException if none
        int q = ports.tryAcquire();              // same, but PortAllocator.NONE (-1) instead of throwing
        boolean ok = ports.tryAcquire(8080);     // one specific port, any of 1..65535, like bind()
        ports.release(p);                        // IllegalStateException if p is not held
        ports.reserve(PortSet.of(45000));        // reservations change at run time

        PortAllocator.Subset even = ports.subset(PortSet.parse("32768-60999").intersect(evenPorts()));
        int e = even.tryAcquire();               // uniform among free ports of a subset (parity, port blocks)

        PortAllocator.Local mine = ports.local(); // this thread's handle: the same calls, minus a per-call
        int r = mine.acquire();                  // look-up of the thread's state; other threads get an exception
        mine.release(r);

        System.out.printf("p=%d q=%d 8080:%b even=%d (%s)%n", p, q, ok, e, e % 2 == 0 ? "even" : "odd");
        if (ports.stats().heldPorts() != 3) {    // q, 8080 and e: the lease and the channel gave theirs back
            throw new IllegalStateException("expected 3 held ports: " + ports.stats());
        }
        metrics(ports);
    }
}
