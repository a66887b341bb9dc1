package dev.portalloc.examples.nat;

import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * A synthetic, seeded stream of outbound UDP packets from the subscribers of a NAT, in time order.
 *
 * <p>The model is deliberately simple but has the features a NAT cares about:
 * <ul>
 * <li>Packets arrive as a Poisson process ({@code packetsPerSecond} on average).</li>
 * <li>Each subscriber has a few socket "slots" (an application's UDP socket: an internal port talking to
 *     one server). A slot's socket sends for an exponentially distributed lifetime and then goes quiet; the
 *     next packet on that slot opens a new socket on a new random internal port. Quiet sockets are what make
 *     the gateway's mappings expire.</li>
 * <li>Normal subscribers come and go: online for an exponentially distributed time, then offline for
 *     another (their sockets fall quiet, their mappings expire, and a block whose ports all came back
 *     returns to the pool).</li>
 * <li>A few "heavy" subscribers (peer-to-peer clients, always online) have many more slots and send a large
 *     share of the packets: they are the ones that hit the per-subscriber quota.</li>
 * <li>Now and then a socket sends to another server than its usual one, which an endpoint-independent
 *     mapping serves from the same external port.</li>
 * </ul>
 * The stream is reproducible: the same seed and parameters give the same packets. Workload randomness comes
 * from a seeded {@code L64X128MixRandom}, never from {@code java.util.Random} (whose 48-bit LCG would be a
 * poor model of anything).
 *
 * <p>Allocation: the constructor sizes everything; {@link #next()} allocates nothing. The current packet is
 * read from the public accessors (a flyweight, as packet I/O libraries do).
 *
 * <p>Thread-safety: not thread-safe; one stream feeds one gateway thread.
 */
public final class SubscriberTraffic {

    /** First subscriber address: 10.0.0.1 (RFC 1918 space, as behind a CGN; RFC 6598's 100.64/10 works too). */
    public static final int FIRST_SUBSCRIBER = 0x0A00_0001;
    /** Servers live in 198.18.0.0/15 (RFC 2544 benchmarking space): 198.18.0.1 onwards. */
    private static final int FIRST_SERVER = 0xC612_0001;
    private static final int SERVERS = 5_000;
    private static final int[] SERVER_PORTS = {53, 123, 443, 3478, 5060, 27015};
    /** Internal source ports are what client stacks pick: Linux's default ephemeral range. */
    private static final int INTERNAL_PORT_FIRST = 32768;
    private static final int INTERNAL_PORT_COUNT = 60999 - 32768 + 1;

    private final RandomGenerator random;
    private final double meanGapMillis;
    private final int subscribers;
    private final int heavySubscribers;
    private final double heavyShare;
    private final double meanLifetimeMillis;
    private final double meanOnlineMillis;
    private final double meanOfflineMillis;
    private final double newDestinationProbability;

    /** Per subscriber and slot: the socket's internal port (0 = no socket yet), server, end of life. */
    private final int[][] port;
    private final int[][] server;
    private final int[][] serverPort;
    private final long[][] endsAt;
    /** Per normal subscriber: whether it is online, and when that changes next. */
    private final boolean[] online;
    private final long[] togglesAt;

    private double clockMillis;
    private long timeMillis;
    private int subscriber;
    private int internalPort;
    private int remoteAddress;
    private int remotePort;

    /**
     * @param scenario the traffic parameters (subscribers, rates, lifetimes) and the seed of the stream
     */
    public SubscriberTraffic(NatGatewayExample.Scenario scenario) {
        this.random = RandomGeneratorFactory.<RandomGenerator>of("L64X128MixRandom").create(scenario.seed());
        this.meanGapMillis = 1000.0 / scenario.packetsPerSecond();
        this.subscribers = scenario.subscribers();
        this.heavySubscribers = scenario.heavySubscribers();
        this.heavyShare = scenario.heavyShare();
        this.meanLifetimeMillis = scenario.meanSocketLifetime().toMillis();
        this.newDestinationProbability = scenario.newDestinationProbability();
        this.meanOnlineMillis = scenario.meanOnline().toMillis();
        this.meanOfflineMillis = scenario.meanOffline().toMillis();
        this.online = new boolean[subscribers];
        this.togglesAt = new long[subscribers];
        this.port = new int[subscribers][];
        this.server = new int[subscribers][];
        this.serverPort = new int[subscribers][];
        this.endsAt = new long[subscribers][];
        for (int s = 0; s < subscribers; s++) {
            final int slots = s < heavySubscribers ? scenario.socketsHeavy() : scenario.socketsNormal();
            port[s] = new int[slots];
            server[s] = new int[slots];
            serverPort[s] = new int[slots];
            endsAt[s] = new long[slots];
            // Start in the steady state: online with probability online / (online + offline).
            online[s] = random.nextDouble() * (meanOnlineMillis + meanOfflineMillis) < meanOnlineMillis;
            togglesAt[s] = (long) (random.nextExponential() * (online[s] ? meanOnlineMillis : meanOfflineMillis));
        }
    }

    /** Generates the next packet; read it with the accessors. */
    public void next() {
        // Poisson arrivals: exponentially distributed gaps, accumulated in double so that rounding never drifts.
        clockMillis += random.nextExponential() * meanGapMillis;
        timeMillis = (long) clockMillis;

        int s;
        do {
            s = random.nextDouble() < heavyShare
                ? random.nextInt(heavySubscribers)
                : heavySubscribers + random.nextInt(subscribers - heavySubscribers);
        } while (!isOnline(s));
        final int slot = random.nextInt(port[s].length);
        if (port[s][slot] == 0 || endsAt[s][slot] <= timeMillis) {
            // The old socket (if any) went quiet: the application opens a new one.
            port[s][slot] = INTERNAL_PORT_FIRST + random.nextInt(INTERNAL_PORT_COUNT);
            server[s][slot] = FIRST_SERVER + random.nextInt(SERVERS);
            serverPort[s][slot] = SERVER_PORTS[random.nextInt(SERVER_PORTS.length)];
            endsAt[s][slot] = timeMillis + (long) (random.nextExponential() * meanLifetimeMillis);
        }
        subscriber = FIRST_SUBSCRIBER + s;
        internalPort = port[s][slot];
        if (random.nextDouble() < newDestinationProbability) {
            remoteAddress = FIRST_SERVER + random.nextInt(SERVERS); // e.g. a STUN check to another peer
            remotePort = SERVER_PORTS[random.nextInt(SERVER_PORTS.length)];
        } else {
            remoteAddress = server[s][slot];
            remotePort = serverPort[s][slot];
        }
    }

    /** Heavy subscribers are always online; a normal one's state is brought up to date when it is drawn. */
    private boolean isOnline(int s) {
        if (s < heavySubscribers) {
            return true;
        }
        while (togglesAt[s] <= timeMillis) {
            online[s] = !online[s];
            togglesAt[s] += (long) (random.nextExponential() * (online[s] ? meanOnlineMillis : meanOfflineMillis));
        }
        return online[s];
    }

    /** @return a uniform draw in [0, 1) from the stream's generator, for the caller's own decisions (replies) */
    public double nextDouble() {
        return random.nextDouble();
    }

    /** @return a uniform draw in [0, bound) from the stream's generator */
    public int nextInt(int bound) {
        return random.nextInt(bound);
    }

    /** @return the packet's time, milliseconds since the start */
    public long timeMillis() {
        return timeMillis;
    }

    /** @return the sending subscriber (IPv4 address as an int) */
    public int subscriber() {
        return subscriber;
    }

    /** @return the packet's source port */
    public int internalPort() {
        return internalPort;
    }

    /** @return the packet's destination address (IPv4 as an int) */
    public int remoteAddress() {
        return remoteAddress;
    }

    /** @return the packet's destination port */
    public int remotePort() {
        return remotePort;
    }
}
