package dev.portalloc.bench.eval;

import dev.portalloc.Destination;
import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.random.RandomGenerator;

/**
 * Metric 3: the Kol–Klein–Gilad device-tracking attack (USENIX Security 2023, CVE-2022-32296) as its authors'
 * proof of concept ({@code 0xkol/rfc6056-device-tracker}, tracker v1.3; summarised in
 * {@code docs/research/port-selection-algorithms.md} §3) runs it, against a {@link Subject} in connect mode. The
 * attacker sees only the source ports of connections to its own servers.
 *
 * <p><b>Phase 1</b> (one attacker destination per table bucket): each round draws {@code T - 1} fresh attacker
 * destinations, connects to each, then to every representative found so far, then to each new one again. A new
 * destination whose two source ports differ by exactly one increment ({@code step}) shares its bucket with no
 * other destination of the round and becomes a representative. Rounds repeat until there are {@code T}.
 *
 * <p><b>Phase 2</b> (loopback sandwiches): connect to every representative (baseline), then for each group of
 * {@code S} loopback destinations {@code L0..L(S-1)}, connect to {@code Lk} {@code 2^k · ntries} times and to
 * every representative again. A representative whose port moved by {@code step + step · ntries · s} has
 * {@code Lk} in its bucket for every bit {@code k} of {@code s}. A loopback destination claimed twice or by no
 * representative is noise, and the session fails (the PoC aborts).
 *
 * <p><b>Identifier</b>: the groups of loopback destinations that share a bucket, only groups of two or more,
 * sorted (the PoC's canonical fingerprint). An identifier is <em>stable</em> when two independent sessions
 * against the same device produce the same non-empty identifier.
 *
 * <p>Each connection is opened and closed at once (the PoC's connections need not complete); the simulated clock
 * advances by {@code 1 / connectionsPerSecond} per connection, so time-dependent hashes see realistic time.
 *
 * <p>Thread-safety: stateless; a session drives its subject from the calling thread.
 */
final class DeviceFingerprintAttack {
    /** First attacker destination port of the PoC's pool. */
    static final int POOL_PORT_START = 11000;
    /** Size of the PoC's pool of attacker destination ports. */
    static final int POOL_PORT_SIZE = 16384;
    /** Attacker destinations available: 256 server addresses × the pool of ports. */
    static final long ATTACKER_DESTINATIONS = 256L * POOL_PORT_SIZE;
    /** First loopback destination port. */
    static final int LOOPBACK_PORT_START = 1024;

    private DeviceFingerprintAttack() {
    }

    /**
     * Attack settings.
     *
     * @param tableLength {@code T}, the table length the attacker targets
     * @param step the source-port increment of one connection to a bucket with no other traffic (1 for RFC 6056
     *     Algorithm 4, 2 for Linux)
     * @param ntries the PoC's {@code LOOPBACK_DEFAULT_NTRIES} (50 for Chrome)
     * @param sandwich the PoC's sandwich size {@code S} (4 for Chrome)
     * @param loopbackPorts loopback destinations classified (64 in the PoC, for T = 256)
     * @param maxPhase1Connections budget of phase 1; the session fails when it is spent (phase 2's count is fixed
     *     by the other parameters, see {@link #phase2Connections()})
     * @param connectionsPerSecond the attacker-induced connection rate, for the simulated clock
     */
    record Parameters(int tableLength, int step, int ntries, int sandwich, int loopbackPorts, long maxPhase1Connections,
                      double connectionsPerSecond) {
        Parameters {
            if (tableLength < 2 || sandwich < 1 || sandwich > 16 || ntries < 1 || loopbackPorts < 2 || step < 1) {
                throw new IllegalArgumentException("bad attack parameters: table " + tableLength + ", sandwich "
                    + sandwich + " (1..16), ntries " + ntries + ", loopback " + loopbackPorts + ", step " + step);
            }
        }

        /**
         * The PoC's Chrome defaults for a table of {@code T} entries; the loopback destinations grow as
         * {@code √(16 T)} so that about 8 pairs collide, as the PoC's 64 do for T = 256.
         *
         * @param tableLength T
         * @param step the increment
         * @param maxPhase1Connections budget of phase 1
         * @return the parameters
         */
        static Parameters chromeDefaults(int tableLength, int step, long maxPhase1Connections) {
            final int loopback = (int) Math.ceil(Math.sqrt(16.0 * tableLength));
            return new Parameters(tableLength, step, 50, 4, loopback, maxPhase1Connections, 1000);
        }

        /** @return connections of phase 2, exact from the PoC's procedure */
        long phase2Connections() {
            final long groups = (loopbackPorts + sandwich - 1) / sandwich;
            final long perGroupLoopback = (long) ntries * ((1L << sandwich) - 1);
            return tableLength + groups * (perGroupLoopback + tableLength);
        }
    }

    /**
     * The outcome of one session.
     *
     * @param identifier the canonical fingerprint, empty if the session failed or found no collision
     * @param phase1Connections connections spent in phase 1
     * @param phase2Connections connections spent in phase 2
     * @param failure why the session failed, or null
     */
    record Session(String identifier, long phase1Connections, long phase2Connections, String failure) {
        long connections() {
            return phase1Connections + phase2Connections;
        }

        boolean succeeded() {
            return failure == null;
        }
    }

    /**
     * Runs one session of the attack.
     *
     * @param device the victim's allocator, in connect mode
     * @param selectable its selectable set (the attacker knows the range)
     * @param p the settings
     * @param attacker the attacker's generator (which fresh destinations it draws)
     * @param clock the device's clock
     * @return the outcome
     */
    static Session run(Subject device, PortSet selectable, Parameters p, RandomGenerator attacker, SimulatedClock clock) {
        final Prober prober = new Prober(device, selectable, p, clock);
        final List<Destination> representatives = new ArrayList<>();
        final Set<Destination> used = new HashSet<>();
        final int t = p.tableLength();
        // Phase 1
        while (representatives.size() < t) {
            if (prober.connections > p.maxPhase1Connections()) {
                return new Session("", prober.connections, 0, "phase 1 spent the budget of " + p.maxPhase1Connections()
                    + " connections with " + representatives.size() + " of " + t + " buckets found");
            }
            if (used.size() + (long) (t - 1) > ATTACKER_DESTINATIONS) {
                return new Session("", prober.connections, 0, "phase 1 used up the attacker's " + ATTACKER_DESTINATIONS
                    + " destinations with " + representatives.size() + " of " + t + " buckets found");
            }
            final Destination[] fresh = new Destination[t - 1];
            for (int i = 0; i < fresh.length; i++) {
                Destination d;
                do {
                    d = Destinations.attacker(attacker.nextInt(256), POOL_PORT_START + attacker.nextInt(POOL_PORT_SIZE));
                } while (!used.add(d));
                fresh[i] = d;
            }
            final int[] first = new int[fresh.length];
            for (int i = 0; i < fresh.length; i++) {
                first[i] = prober.connect(fresh[i]);
            }
            for (Destination r : representatives) {
                prober.connect(r);
            }
            for (int i = 0; i < fresh.length; i++) {
                final int second = prober.connect(fresh[i]);
                if (first[i] >= 0 && second >= 0 && prober.diff(second, first[i]) == p.step()) {
                    representatives.add(fresh[i]);
                }
            }
            if (representatives.size() > t) {
                return new Session("", prober.connections, 0, "phase 1 found " + representatives.size()
                    + " representatives for " + t + " buckets (increments are not the assumed " + p.step() + ")");
            }
        }
        final long phase1 = prober.connections;
        // Phase 2
        final int reps = representatives.size();
        final int[] previous = new int[reps];
        for (int r = 0; r < reps; r++) {
            previous[r] = prober.connect(representatives.get(r));
        }
        final int[] owner = new int[p.loopbackPorts()];
        java.util.Arrays.fill(owner, -1);
        for (int g = 0; g * p.sandwich() < p.loopbackPorts(); g++) {
            final int base = g * p.sandwich();
            final int size = Math.min(p.sandwich(), p.loopbackPorts() - base);
            for (int k = 0; k < size; k++) {
                final Destination loopback = Destinations.loopback(LOOPBACK_PORT_START + base + k);
                for (long j = 0; j < ((long) p.ntries() << k); j++) {
                    prober.connect(loopback);
                }
            }
            for (int r = 0; r < reps; r++) {
                final int next = prober.connect(representatives.get(r));
                final int diff = prober.diff(next, previous[r]);
                previous[r] = next;
                final int s = Math.max(0, diff - p.step()) / (p.step() * p.ntries());
                if (s >= 1 << size) {
                    return failed(prober, phase1, "representative moved by " + diff + ", more than any loopback group");
                }
                for (int k = 0; k < size; k++) {
                    if ((s >> k & 1) != 0) {
                        if (owner[base + k] >= 0) {
                            return failed(prober, phase1, "loopback port " + (LOOPBACK_PORT_START + base + k)
                                + " claimed by two buckets (noise)");
                        }
                        owner[base + k] = r;
                    }
                }
            }
            for (int k = 0; k < size; k++) {
                if (owner[base + k] < 0) {
                    return failed(prober, phase1, "loopback port " + (LOOPBACK_PORT_START + base + k)
                        + " claimed by no bucket (noise)");
                }
            }
        }
        return new Session(canonical(owner), phase1, prober.connections - phase1, null);
    }

    private static Session failed(Prober prober, long phase1, String why) {
        return new Session("", phase1, prober.connections - phase1, why);
    }

    /**
     * The PoC's canonical fingerprint: groups of loopback ports sharing a bucket, only groups of two or more,
     * each sorted, ordered by their smallest port, e.g. {@code (1027,1050):(1031,1040,1062)}.
     *
     * @param owner bucket (any numbering) of each loopback port
     * @return the identifier; empty when no two loopback ports share a bucket
     */
    static String canonical(int[] owner) {
        final TreeMap<Integer, TreeSet<Integer>> byBucket = new TreeMap<>();
        for (int i = 0; i < owner.length; i++) {
            byBucket.computeIfAbsent(owner[i], b -> new TreeSet<>()).add(LOOPBACK_PORT_START + i);
        }
        final TreeMap<Integer, String> groups = new TreeMap<>();
        for (TreeSet<Integer> ports : byBucket.values()) {
            if (ports.size() >= 2) {
                final StringBuilder sb = new StringBuilder("(");
                for (int port : ports) {
                    sb.append(sb.length() > 1 ? "," : "").append(port);
                }
                groups.put(ports.first(), sb.append(')').toString());
            }
        }
        return String.join(":", groups.values());
    }

    /** Opens and closes connections for the attacker, counting them and advancing the clock. */
    private static final class Prober {
        private final Subject device;
        private final PortSet selectable;
        private final int n;
        private final SimulatedClock clock;
        private final double secondsPerConnection;
        long connections;

        Prober(Subject device, PortSet selectable, Parameters p, SimulatedClock clock) {
            this.device = device;
            this.selectable = selectable;
            this.n = selectable.size();
            this.clock = clock;
            this.secondsPerConnection = 1.0 / p.connectionsPerSecond();
        }

        /** @return the source port, or -1 if none was granted */
        int connect(Destination d) {
            connections++;
            clock.advanceTo(clock.seconds() + secondsPerConnection);
            final int port = device.allocate(d);
            if (port == PortAllocator.NONE) {
                return -1;
            }
            device.free(port, d);
            return port;
        }

        /** The PoC's {@code sourcePortDiff}: distance from {@code p0} forward to {@code p1} in the range. */
        int diff(int p1, int p0) {
            if (p1 < 0 || p0 < 0) {
                return Integer.MAX_VALUE / 2;
            }
            return Math.floorMod(selectable.rank(p1) - selectable.rank(p0), n);
        }
    }
}
