package dev.portalloc.examples.simulation;

import dev.portalloc.AllocatorStats;
import dev.portalloc.Destination;
import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;
import dev.portalloc.Protocol;

import org.agrona.collections.Long2LongHashMap;

import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Comparator;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * A small discrete-event simulation of client hosts opening and closing TCP connections to a few servers,
 * each host choosing its local ports with its own {@link PortAllocator}, connect-style: a port is shared by
 * connections to different servers, and a closed connection's tuple is quarantined like {@code TIME_WAIT}.
 *
 * <p>Run it from the repository root:
 * <pre>{@code
 * mvn -B -q -DskipTests -pl examples -am package exec:java -Dexample.main=dev.portalloc.examples.simulation.ConnectionSimulation
 * }</pre>
 * It prints a timeline in which the load ramps up until the hosts run out of ports (every port already has a
 * live or {@code TIME_WAIT} tuple to the chosen server: the {@code EADDRNOTAVAIL} a real load generator hits),
 * then runs the same seed again and prints the same trace hash: the run is reproducible.
 *
 * <h2>Plugging the allocator into your simulator</h2>
 * The allocator never reads the wall clock, never starts a thread and draws its randomness from its own
 * seeded generator, so it is deterministic inside a simulation once three things are wired:
 * <ol>
 * <li><b>Clock.</b> Give every allocator the simulator's clock as an Agrona
 *     {@link org.agrona.concurrent.NanoClock}: {@code .clock(clock)} with a {@link VirtualClock}, or
 *     {@code .clock(() -> sim.nowNanos())} for a clock you already have. Quarantine deadlines are read from it,
 *     and expired entries are dropped lazily by the allocator's own calls (no timer thread), so the timing is
 *     exactly that of the simulated time at each call.</li>
 * <li><b>Random source.</b> The allocator cannot use your generator directly; derive its seed from your
 *     simulation's master generator instead, in a fixed order at set-up: {@code .seed(master.nextLong())}.
 *     Then the master seed alone determines every port. Keep the workload's own randomness separate (here a
 *     {@link SplittableRandom} split per host), so that changing the workload does not change which seeds the
 *     allocators get.</li>
 * <li><b>One thread.</b> With a seed, the choices are reproducible when a single thread makes the calls in a
 *     fixed order, which the event loop guarantees. Events at the same virtual time are ordered by a sequence
 *     number, never by hash order or identity.</li>
 * </ol>
 *
 * <h2>Checks</h2>
 * The simulation keeps its own ledger of live and recently closed tuples and counts any port the allocator
 * hands out for a tuple that is still live (a duplicate 5-tuple) or closed less than the quarantine ago; both
 * counts must be zero.
 *
 * <p>Thread-safety: {@code run} is single-threaded and builds all its state per call; separate calls are
 * independent.
 */
public final class ConnectionSimulation {

    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    /** Servers 192.0.2.1, .2, ... (RFC 5737 documentation space), all on port 443. */
    private static final int FIRST_SERVER = 0xC000_0201;
    private static final int SERVER_PORT = 443;

    private ConnectionSimulation() {
    }

    /**
     * Everything that defines a run: the same scenario gives the same trace, event for event. Immutable, so
     * thread-safe.
     *
     * @param seed the master seed (allocators and workload)
     * @param hosts client hosts, 10.1.0.1 onwards, one allocator each
     * @param servers servers, 192.0.2.1 onwards, port 443
     * @param ports each host's automatic port range
     * @param quarantine how long a closed tuple stays unusable (Linux's TIME_WAIT is 60 s)
     * @param duration virtual time to simulate
     * @param startRate connections opened per second per host at the start
     * @param endRate connections opened per second per host at the end (the rate ramps up linearly)
     * @param meanConnection how long a connection stays open, on average (exponentially distributed)
     * @param reportEvery period of the printed timeline
     */
    public record Scenario(long seed, int hosts, int servers, PortSet ports, Duration quarantine, Duration duration,
                           double startRate, double endRate, Duration meanConnection, Duration reportEvery) {

        /**
         * Six hosts with 512 ports each and three servers, for three virtual minutes, the load ramping from 5 to
         * 40 connections per second per host. Each (host, server) pair can hold 512 tuples, live or in
         * quarantine; at r connections per second per host that is r/3 × (2 s + 60 s) tuples, so the hosts run
         * out of ports once r passes about 25.
         *
         * @param seed the master seed
         * @return the scenario
         */
        public static Scenario standard(long seed) {
            return new Scenario(seed, 6, 3, PortSet.parse("40000-40511"), Duration.ofSeconds(60),
                Duration.ofMinutes(3), 5, 40, Duration.ofSeconds(2), Duration.ofSeconds(20));
        }
    }

    /**
     * What a run measured. Immutable, so thread-safe.
     *
     * @param traceHash a fingerprint of every event in order: time, kind, host, server and the port chosen
     * @param connects connections opened
     * @param closes connections closed (their tuples quarantined)
     * @param exhausted connection attempts refused because the host had no port for that server
     * @param firstExhaustionSeconds virtual second of the first refusal, or -1
     * @param peakLive most live tuples at once, all hosts together
     * @param peakQuarantined most quarantined tuples at once, all hosts together
     * @param duplicateTuples ports handed out for a tuple that was live (must be 0)
     * @param quarantineViolations ports handed out for a tuple closed less than the quarantine ago (must be 0)
     */
    public record Result(long traceHash, long connects, long closes, long exhausted, double firstExhaustionSeconds,
                         long peakLive, long peakQuarantined, long duplicateTuples, long quarantineViolations) {
    }

    public static void main(String[] args) {
        final long seed = args.length > 0 ? Long.parseLong(args[0]) : 42;
        final Result first = run(Scenario.standard(seed), System.out, true);
        final Result again = run(Scenario.standard(seed), System.out, false);
        System.out.printf("same seed again:   trace hash %016x (%s)%n", again.traceHash(),
            again.traceHash() == first.traceHash() ? "identical: the run is reproducible" : "DIFFERENT");
        final Result other = run(Scenario.standard(seed + 1), System.out, false);
        System.out.printf("another seed (%d): trace hash %016x%n", seed + 1, other.traceHash());
    }

    /**
     * Runs the scenario.
     *
     * @param scenario what to simulate
     * @param out where to print
     * @param timeline whether to print the timeline, the summary and the trace hash (otherwise nothing)
     * @return the measured figures
     */
    public static Result run(Scenario scenario, PrintStream out, boolean timeline) {
        return new Simulation(scenario, out, timeline).run();
    }

    /** What an event does. Immutable constants, thread-safe. */
    private enum Kind {
        /** A host opens a connection to a server of its choice, and schedules its next open. */
        OPEN,
        /** A connection closes: its tuple goes into quarantine. */
        CLOSE,
        /** Prints a timeline line. */
        REPORT
    }

    /**
     * One scheduled event. {@code seq} breaks ties between events at the same time in the order they were
     * scheduled, so the order never depends on anything but the simulation itself. Immutable, so thread-safe.
     */
    private record Event(long time, long seq, Kind kind, int host, int server, int port) {
    }

    /** One simulation run: event queue, clock, hosts and ledger. Not thread-safe (one run, one thread). */
    private static final class Simulation {
        private final Scenario scenario;
        private final PrintStream out;
        private final boolean timeline;
        private final VirtualClock clock = new VirtualClock();
        private final PriorityQueue<Event> queue = new PriorityQueue<>(
            Comparator.comparingLong(Event::time).thenComparingLong(Event::seq));
        private final PortAllocator[] allocators;
        private final SplittableRandom[] workload;
        private final Destination[] destinations;
        private final long endNanos;
        private final long quarantineNanos;

        /** Ledger, keyed by {@link #tuple}: when each live tuple opened, when each closed tuple closed. */
        private final Long2LongHashMap liveSince = new Long2LongHashMap(-1);
        private final Long2LongHashMap closedAt = new Long2LongHashMap(-1);

        private long seq;
        private long trace = 0xcbf2_9ce4_8422_2325L; // FNV-1a offset basis
        private long connects;
        private long closes;
        private long exhausted;
        private long exhaustedSinceReport;
        private long firstExhaustion = -1;
        private long peakLive;
        private long peakQuarantined;
        private long duplicates;
        private long violations;

        Simulation(Scenario s, PrintStream out, boolean timeline) {
            this.scenario = s;
            this.out = out;
            this.timeline = timeline;
            this.endNanos = s.duration().toNanos();
            this.quarantineNanos = s.quarantine().toNanos();

            // Every random choice derives from the master seed, drawn in a fixed order: first one seed per
            // allocator, then one independent workload generator per host.
            final SplittableRandom master = new SplittableRandom(s.seed());
            allocators = new PortAllocator[s.hosts()];
            workload = new SplittableRandom[s.hosts()];
            for (int h = 0; h < s.hosts(); h++) {
                allocators[h] = PortAllocator.builder()
                    .ports(s.ports())
                    .protocol(Protocol.TCP)
                    .localAddress(hostAddress(h))
                    .quarantine(s.quarantine())   // TIME_WAIT: a closed tuple is not reused for this long
                    .clock(clock)                 // ... measured in simulated time
                    .seed(master.nextLong())      // the simulator's random source decides the allocator's
                    .build();
            }
            for (int h = 0; h < s.hosts(); h++) {
                workload[h] = master.split();
            }
            // One Destination per server, reused for every call: connect-style calls then allocate nothing.
            destinations = new Destination[s.servers()];
            for (int i = 0; i < s.servers(); i++) {
                destinations[i] = Destination.ipv4(FIRST_SERVER + i, SERVER_PORT);
            }
        }

        Result run() {
            for (int h = 0; h < scenario.hosts(); h++) {
                schedule(nextOpenDelay(h), Kind.OPEN, h, 0, 0);
            }
            final long reportNanos = scenario.reportEvery().toNanos();
            if (timeline) {
                out.printf("%d hosts x %s ports, %d servers, quarantine %s, %s of virtual time, seed %d%n",
                    scenario.hosts(), scenario.ports(), scenario.servers(), scenario.quarantine(),
                    scenario.duration(), scenario.seed());
                out.println("   time  opens/s/host   live tuples   quarantined   refused (no port)");
            }
            for (long t = reportNanos; t <= endNanos; t += reportNanos) {
                schedule(t, Kind.REPORT, 0, 0, 0);
            }

            // The event loop: take the earliest event, move the clock to it, handle it. Nothing else moves time.
            for (Event e = queue.poll(); e != null && e.time() <= endNanos; e = queue.poll()) {
                clock.advanceTo(e.time());
                switch (e.kind()) {
                    case OPEN -> open(e.host());
                    case CLOSE -> close(e.host(), e.server(), e.port());
                    case REPORT -> report();
                    default -> throw new AssertionError(e);
                }
            }
            final Result r = new Result(trace, connects, closes, exhausted,
                firstExhaustion < 0 ? -1 : firstExhaustion / (double) NANOS_PER_SECOND, peakLive, peakQuarantined,
                duplicates, violations);
            if (timeline) {
                out.printf("%,d connects, %,d closes, %,d refused for want of a port (first at %.1f s); "
                    + "peak %,d live and %,d quarantined tuples%n", r.connects(), r.closes(), r.exhausted(),
                    r.firstExhaustionSeconds(), r.peakLive(), r.peakQuarantined());
                out.printf("ledger: %d duplicate live tuples, %d tuples reused within the quarantine%n",
                    r.duplicateTuples(), r.quarantineViolations());
                out.printf("trace hash %016x (seed %d)%n", r.traceHash(), scenario.seed());
            }
            return r;
        }

        /** A host connects to a random server; the allocator picks the local port, like connect() on Linux. */
        private void open(int host) {
            final SplittableRandom random = workload[host];
            final int server = random.nextInt(scenario.servers());
            final int port = allocators[host].tryAcquire(destinations[server]);
            record(Kind.OPEN, host, server, port);
            if (port == PortAllocator.NONE) {
                // Every port has a live or quarantined tuple to this server: connect() would fail with
                // EADDRNOTAVAIL. A real client would retry later or use another source address.
                exhausted++;
                exhaustedSinceReport++;
                if (firstExhaustion < 0) {
                    firstExhaustion = clock.nanoTime();
                }
            } else {
                audit(tuple(host, server, port));
                connects++;
                final long lifetime = (long) (random.nextExponential() * scenario.meanConnection().toNanos());
                schedule(clock.nanoTime() + lifetime, Kind.CLOSE, host, server, port);
            }
            schedule(clock.nanoTime() + nextOpenDelay(host), Kind.OPEN, host, 0, 0);
        }

        /** The connection closes; the allocator keeps the tuple in quarantine, as TIME_WAIT does. */
        private void close(int host, int server, int port) {
            allocators[host].release(port, destinations[server]);
            record(Kind.CLOSE, host, server, port);
            final long key = tuple(host, server, port);
            liveSince.remove(key);
            closedAt.put(key, clock.nanoTime());
            closes++;
        }

        private void report() {
            long live = 0;
            long quarantined = 0;
            for (PortAllocator a : allocators) {
                final AllocatorStats stats = a.stats();
                live += stats.liveTuples();
                quarantined += stats.quarantined();
            }
            peakLive = Math.max(peakLive, live);
            peakQuarantined = Math.max(peakQuarantined, quarantined);
            if (timeline) {
                out.printf("%6.0fs  %12.1f  %12d  %12d  %18d%n", clock.nanoTime() / (double) NANOS_PER_SECOND,
                    rate(), live, quarantined, exhaustedSinceReport);
            }
            exhaustedSinceReport = 0;
        }

        /** Checks the allocator's answer against the ledger: not live, and not closed within the quarantine. */
        private void audit(long key) {
            if (liveSince.containsKey(key)) {
                duplicates++;
            }
            final long closed = closedAt.get(key);
            if (closed >= 0 && clock.nanoTime() - closed < quarantineNanos) {
                violations++;
            }
            liveSince.put(key, clock.nanoTime());
        }

        /** Opens per second per host now: a linear ramp from startRate to endRate. */
        private double rate() {
            final double progress = clock.nanoTime() / (double) endNanos;
            return scenario.startRate() + (scenario.endRate() - scenario.startRate()) * progress;
        }

        /** Poisson arrivals: exponentially distributed gaps at the current rate. */
        private long nextOpenDelay(int host) {
            return (long) (workload[host].nextExponential() / rate() * NANOS_PER_SECOND);
        }

        private void schedule(long time, Kind kind, int host, int server, int port) {
            queue.add(new Event(time, seq++, kind, host, server, port));
        }

        /** Folds one event into the trace hash (FNV-1a over 64-bit words). */
        private void record(Kind kind, int host, int server, int port) {
            mix(clock.nanoTime());
            mix((long) kind.ordinal() << 48 | (long) host << 32 | (long) server << 16 | (port & 0xFFFF));
        }

        private void mix(long word) {
            trace = (trace ^ word) * 0x0000_0100_0000_01b3L; // FNV-1a prime
        }

        private static long tuple(int host, int server, int port) {
            return (long) host << 40 | (long) server << 16 | port;
        }

        private static InetAddress hostAddress(int host) {
            try {
                final int address = 0x0A01_0001 + host; // 10.1.0.1 onwards
                return InetAddress.getByAddress(new byte[] {
                    (byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address});
            } catch (UnknownHostException e) {
                throw new AssertionError(e); // four bytes are always a valid IPv4 address
            }
        }
    }
}
