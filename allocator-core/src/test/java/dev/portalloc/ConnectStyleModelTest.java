package dev.portalloc;

import org.agrona.concurrent.NanoClock;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;

import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

/**
 * Model-based test of the connect-style layer mixed with exclusive allocation: random sequences of
 * {@code tryAcquire()/acquire()/tryAcquire(port)/release(port)} and
 * {@code tryAcquire(d)/acquire(d)/tryAcquire(port, d)/release(port, d)/isLive/isHeld} and clock advances run
 * against the allocator and against a plain reference model ({@link Model}), for every {@link Algorithm}, with
 * and without quarantine (on a fake clock).
 *
 * <p>Few ports (1 to 4 automatic ones out of a window of 4 that straddles two bitmap words, some possibly
 * reserved, plus one explicit-only port) and three destinations (two IPv4 ones that differ only by the remote
 * port, one IPv6) make collisions, sharing and exhaustion frequent. Checked at every step:
 * <ul>
 * <li>no duplicate live 5-tuple: a granted tuple is never live already;</li>
 * <li>the exclusive/shared rules: an exclusive grant (automatic or explicit) only of a port with no exclusive
 *     holder, no live tuple and no tuple or exclusive holder in (unexpired) quarantine; a tuple only on a port
 *     not held exclusively nor in exclusive quarantine;</li>
 * <li>completeness: an automatic acquisition (either kind) reports exhaustion exactly when the model has no
 *     suitable selectable port, where quarantine entries whose time has come count as expired (the allocator
 *     expires them lazily, but a call after their expiry must see them expired); explicit results exact;</li>
 * <li>quarantine timing: a released tuple {@code (p, d)} is not granted to {@code d} before the duration has
 *     passed on the clock, a released exclusive port is granted to nobody before then, and both are usable
 *     again exactly when it has (at {@code release + duration});</li>
 * <li>observations: {@code isLive} of every tuple of the window exactly; {@code isHeld} and the stats'
 *     {@code heldPorts} and {@code quarantined}, which may still count entries that are due but not yet lazily
 *     expired, between the model's strict and lenient figures; {@code liveTuples} and the counters exactly;</li>
 * <li>at the end of each sequence, no lost port: after releasing everything and letting the quarantine pass,
 *     every window port can be claimed exclusively, and the stats show nothing live, held or quarantined.</li>
 * </ul>
 */
class ConnectStyleModelTest {
    /** Examples per (algorithm, quarantine) combination; tune for the time budget. */
    static final int EXAMPLES = 250;
    /** Longest command sequence. */
    static final int MAX_STEPS = 80;
    /** Window of automatic candidates: 62, 63 (bitmap word 1), 64, 65 (word 2). */
    static final int[] WINDOW = {62, 63, 64, 65};
    /** Explicit-only port, outside every automatic set. */
    static final int OUTSIDE = 7;
    /** Every port the explicit commands use. */
    static final int[] PORTS = {62, 63, 64, 65, OUTSIDE};
    static final Destination[] DESTINATIONS = {
        Destination.parse("192.0.2.1:443"),
        Destination.parse("192.0.2.1:80"),
        Destination.parse("[2001:db8::1]:443"),
    };
    static final long QUARANTINE = Duration.ofSeconds(10).toNanos();
    /** Clock steps: tiny, half, just short of the quarantine, exactly the quarantine. */
    static final long[] ADVANCES = {1, QUARANTINE / 2, QUARANTINE - 1, QUARANTINE};

    static final List<Algorithm> ALGORITHMS = List.of(Algorithm.uniform(), Algorithm.bsdSequential(),
        Algorithm.randomStart(), Algorithm.randomProbe(), Algorithm.hash(), Algorithm.doubleHash(16),
        Algorithm.randomIncrements(3), Algorithm.linux());

    @Test
    void withoutQuarantine() {
        for (Algorithm algorithm : ALGORITHMS) {
            check(algorithm, 0);
        }
    }

    @Test
    void withQuarantine() {
        for (Algorithm algorithm : ALGORITHMS) {
            check(algorithm, QUARANTINE);
        }
    }

    private static void check(Algorithm algorithm, long quarantine) {
        qt().withExamples(EXAMPLES).withShrinkCycles(300)
            .forAll(subsets(), subsets().map(s -> s.size() == WINDOW.length ? PortSet.empty() : s),
                lists().of(steps()).ofSizeBetween(1, MAX_STEPS), integers().all())
            .checkAssert((ports, reserved, steps, seed) -> run(algorithm, quarantine, ports, reserved, steps, seed));
    }

    /** Non-empty subsets of the window. */
    private static Gen<PortSet> subsets() {
        return integers().between(1, (1 << WINDOW.length) - 1).map(bits -> {
            PortSet s = PortSet.empty();
            for (int i = 0; i < WINDOW.length; i++) {
                if ((bits >>> i & 1) != 0) {
                    s = s.union(PortSet.of(WINDOW[i]));
                }
            }
            return s;
        });
    }

    /** A step: {kind, port index, destination index, parameter}. */
    private static Gen<int[]> steps() {
        return integers().between(0, 15).zip(integers().between(0, PORTS.length - 1),
            integers().between(0, DESTINATIONS.length - 1), integers().between(0, 63),
            (kind, port, dest, k) -> new int[] {kind, port, dest, k});
    }

    static void run(Algorithm algorithm, long quarantine, PortSet ports, PortSet reserved, List<int[]> steps, int seed) {
        final ManualClock clock = new ManualClock();
        final PortAllocator a = PortAllocator.builder().ports(ports).reserved(reserved).algorithm(algorithm)
            .seed(seed).quarantine(Duration.ofNanos(quarantine)).clock(clock).build();
        final Model m = new Model(ports.minus(reserved), quarantine, clock);
        final List<String> log = new ArrayList<>();
        try {
            for (int[] step : steps) {
                log.add(step(a, m, clock, step));
                m.check(a);
            }
            log.add("drain");
            drain(a, m, clock);
        } catch (AssertionError e) {
            throw new AssertionError(algorithm + ", quarantine " + quarantine + ", ports " + ports + ", reserved "
                + reserved + ", seed " + seed + ": " + e.getMessage() + "\n  after " + log, e);
        }
    }

    /** Runs one step on the allocator and the model; returns its description. */
    private static String step(PortAllocator a, Model m, ManualClock clock, int[] step) {
        final int port = PORTS[step[1]];
        final int di = step[2];
        final Destination d = DESTINATIONS[di];
        switch (step[0]) {
            case 0: case 1: {
                final boolean throwing = step[0] == 1;
                int p;
                try {
                    p = throwing ? a.acquire() : a.tryAcquire();
                } catch (PortExhaustedException e) {
                    p = PortAllocator.NONE;
                }
                m.autoExclusive(p);
                return (throwing ? "acquire()=" : "tryAcquire()=") + p;
            }
            case 2: {
                final boolean got = a.tryAcquire(port);
                m.explicitExclusive(port, got);
                return "tryAcquire(" + port + ")=" + got;
            }
            case 3: {
                final boolean ok = released(() -> a.release(port));
                m.releaseExclusive(port, ok);
                return "release(" + port + ")" + (ok ? "" : "!");
            }
            case 4: case 5: case 6: {
                final boolean throwing = step[0] == 6;
                int p;
                try {
                    p = throwing ? a.acquire(d) : a.tryAcquire(d);
                } catch (PortExhaustedException e) {
                    p = PortAllocator.NONE;
                }
                m.autoTuple(p, di);
                return (throwing ? "acquire(d" : "tryAcquire(d") + di + ")=" + p;
            }
            case 7: {
                final boolean got = a.tryAcquire(port, d);
                m.explicitTuple(port, di, got);
                return "tryAcquire(" + port + ", d" + di + ")=" + got;
            }
            case 8: {
                final boolean ok = released(() -> a.release(port, d));
                m.releaseTuple(port, di, ok);
                return "release(" + port + ", d" + di + ")" + (ok ? "" : "!");
            }
            case 9: case 10: case 11: {
                // Release something the model says is held: the k-th of its holdings, so releases are frequent.
                final List<long[]> holdings = m.holdings();
                if (holdings.isEmpty()) {
                    return "nothing to release";
                }
                final long[] h = holdings.get(step[3] % holdings.size());
                final int p = (int) h[0];
                if (h[1] < 0) {
                    final boolean ok = released(() -> a.release(p));
                    m.releaseExclusive(p, ok);
                    return "release(" + p + ")" + (ok ? "" : "!");
                }
                final int hd = (int) h[1];
                final boolean ok = released(() -> a.release(p, DESTINATIONS[hd]));
                m.releaseTuple(p, hd, ok);
                return "release(" + p + ", d" + hd + ")" + (ok ? "" : "!");
            }
            case 12: case 13: {
                final long by = ADVANCES[step[3] % ADVANCES.length];
                clock.now.addAndGet(by);
                return "advance(" + by + ")";
            }
            case 14: {
                final boolean live = a.isLive(port, d);
                m.expect(live == m.live.contains(new Tuple(port, di)), "isLive(" + port + ", d" + di + ")=" + live);
                return "isLive(" + port + ", d" + di + ")=" + live;
            }
            default: {
                final boolean held = a.isHeld(port);
                m.checkHeld(port, held);
                return "isHeld(" + port + ")=" + held;
            }
        }
    }

    /** After every sequence: release everything, let the quarantine pass; every port must come back. */
    private static void drain(PortAllocator a, Model m, ManualClock clock) {
        for (long[] h : m.holdings()) {
            if (h[1] < 0) {
                a.release((int) h[0]);
            } else {
                a.release((int) h[0], DESTINATIONS[(int) h[1]]);
            }
        }
        clock.now.addAndGet(m.quarantine + 1);
        // A failing call expires every due entry: claim a tuple, then fail to claim it again.
        final Destination d = DESTINATIONS[0];
        m.expect(a.tryAcquire(OUTSIDE, d), "tryAcquire(" + OUTSIDE + ", d0) after the drain");
        m.expect(!a.tryAcquire(OUTSIDE, d), "tryAcquire(" + OUTSIDE + ", d0) twice");
        a.release(OUTSIDE, d);
        final AllocatorStats s = a.stats();
        final int q = m.quarantine > 0 ? 1 : 0;
        m.expect(s.liveTuples() == 0 && s.quarantined() == q && s.heldPorts() == q, "stats after the drain: " + s);
        clock.now.addAndGet(m.quarantine + 1);
        for (int p : WINDOW) {
            m.expect(a.tryAcquire(p), "port " + p + " lost: not claimable after the drain");
        }
        for (int p : WINDOW) {
            a.release(p);
        }
    }

    private static boolean released(Runnable release) {
        try {
            release.run();
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    /** A clock the test moves by hand. */
    static final class ManualClock implements NanoClock {
        final AtomicLong now = new AtomicLong(1_000_000_000L);

        @Override
        public long nanoTime() {
            return now.get();
        }
    }

    record Tuple(int port, int destination) {
    }

    /**
     * The reference model. Quarantine entries keep their due time; an entry is <em>active</em> while the clock
     * is before it, and counts as expired from then on (the allocator may still show it until a later call
     * expires it).
     */
    static final class Model {
        final PortSet selectable;
        final long quarantine;
        final ManualClock clock;
        final Set<Integer> exclusive = new TreeSet<>();
        final Map<Integer, Long> exclusiveQuarantine = new HashMap<>();
        final Set<Tuple> live = new HashSet<>();
        final Map<Tuple, Long> tupleQuarantine = new HashMap<>();
        long acquisitions;
        long releases;
        long failures;

        Model(PortSet selectable, long quarantine, ManualClock clock) {
            this.selectable = selectable;
            this.quarantine = quarantine;
            this.clock = clock;
        }

        private boolean active(Long due) {
            return due != null && clock.nanoTime() - due < 0;
        }

        /** @return whether the port has a live tuple, or an active quarantined one */
        private boolean hasTuples(int port, boolean countDue) {
            for (Tuple t : live) {
                if (t.port == port) {
                    return true;
                }
            }
            for (Map.Entry<Tuple, Long> e : tupleQuarantine.entrySet()) {
                if (e.getKey().port == port && (countDue || active(e.getValue()))) {
                    return true;
                }
            }
            return false;
        }

        boolean exclusiveSuitable(int port) {
            return !exclusive.contains(port) && !active(exclusiveQuarantine.get(port)) && !hasTuples(port, false);
        }

        boolean tupleSuitable(int port, int d) {
            final Tuple t = new Tuple(port, d);
            return !exclusive.contains(port) && !active(exclusiveQuarantine.get(port)) && !live.contains(t)
                && !active(tupleQuarantine.get(t));
        }

        void expect(boolean condition, String what) {
            if (!condition) {
                throw new AssertionError(what + " in " + this);
            }
        }

        /** Forgets the expired quarantine entries on {@code port} (the allocator must have expired them). */
        private void forgetExpired(int port) {
            exclusiveQuarantine.remove(port);
            tupleQuarantine.keySet().removeIf(t -> t.port == port);
        }

        void autoExclusive(int p) {
            if (p == PortAllocator.NONE) {
                for (int q : selectable) {
                    expect(!exclusiveSuitable(q), "false exhaustion (exclusive): port " + q + " is suitable");
                }
                failures++;
                return;
            }
            expect(selectable.contains(p), "automatic port " + p + " not selectable");
            expect(exclusiveSuitable(p), "port " + p + " granted exclusively but not suitable");
            grantExclusive(p);
        }

        void explicitExclusive(int p, boolean got) {
            expect(got == exclusiveSuitable(p), "tryAcquire(" + p + ")=" + got);
            if (got) {
                grantExclusive(p);
            }
        }

        private void grantExclusive(int p) {
            forgetExpired(p);
            exclusive.add(p);
            acquisitions++;
        }

        void releaseExclusive(int p, boolean ok) {
            expect(ok == exclusive.contains(p), "release(" + p + ") " + (ok ? "succeeded" : "failed"));
            if (ok) {
                exclusive.remove(p);
                if (quarantine > 0) {
                    exclusiveQuarantine.put(p, clock.nanoTime() + quarantine);
                }
                releases++;
            }
        }

        void autoTuple(int p, int d) {
            if (p == PortAllocator.NONE) {
                for (int q : selectable) {
                    expect(!tupleSuitable(q, d), "false exhaustion for d" + d + ": port " + q + " is suitable");
                }
                failures++;
                return;
            }
            expect(selectable.contains(p), "automatic port " + p + " for d" + d + " not selectable");
            expect(tupleSuitable(p, d), "tuple (" + p + ", d" + d + ") granted but not suitable");
            grantTuple(p, d);
        }

        void explicitTuple(int p, int d, boolean got) {
            expect(got == tupleSuitable(p, d), "tryAcquire(" + p + ", d" + d + ")=" + got);
            if (got) {
                grantTuple(p, d);
            }
        }

        private void grantTuple(int p, int d) {
            final Tuple t = new Tuple(p, d);
            tupleQuarantine.remove(t);
            exclusiveQuarantine.remove(p);
            live.add(t);
            acquisitions++;
        }

        void releaseTuple(int p, int d, boolean ok) {
            final Tuple t = new Tuple(p, d);
            expect(ok == live.contains(t), "release(" + p + ", d" + d + ") " + (ok ? "succeeded" : "failed"));
            if (ok) {
                live.remove(t);
                if (quarantine > 0) {
                    tupleQuarantine.put(t, clock.nanoTime() + quarantine);
                }
                releases++;
            }
        }

        /** @return {port, -1} for exclusive holdings and {port, destination} for live tuples, in a fixed order */
        List<long[]> holdings() {
            final List<long[]> out = new ArrayList<>();
            for (int p : exclusive) {
                out.add(new long[] {p, -1});
            }
            live.stream().sorted((x, y) -> x.port != y.port ? Integer.compare(x.port, y.port)
                : Integer.compare(x.destination, y.destination)).forEach(t -> out.add(new long[] {t.port, t.destination}));
            return out;
        }

        /** Held for sure: exclusive, live tuples, or active quarantine entries. */
        boolean heldStrictly(int p) {
            return exclusive.contains(p) || active(exclusiveQuarantine.get(p)) || hasTuples(p, false);
        }

        /** Possibly held: also entries that are due but may not be expired yet. */
        boolean heldLeniently(int p) {
            return heldStrictly(p) || exclusiveQuarantine.containsKey(p) || hasTuples(p, true);
        }

        void checkHeld(int p, boolean held) {
            expect(held ? heldLeniently(p) : !heldStrictly(p), "isHeld(" + p + ")=" + held);
        }

        /** Compares the allocator's observable state with the model. */
        void check(PortAllocator a) {
            for (int p : PORTS) {
                for (int d = 0; d < DESTINATIONS.length; d++) {
                    final boolean isLive = a.isLive(p, DESTINATIONS[d]);
                    expect(isLive == live.contains(new Tuple(p, d)), "isLive(" + p + ", d" + d + ")=" + isLive);
                }
            }
            final AllocatorStats s = a.stats();
            int strict = 0;
            int lenient = 0;
            for (int p : PORTS) {
                strict += heldStrictly(p) ? 1 : 0;
                lenient += heldLeniently(p) ? 1 : 0;
            }
            long activeQ = 0;
            long allQ = exclusiveQuarantine.size() + tupleQuarantine.size();
            for (Long due : exclusiveQuarantine.values()) {
                activeQ += active(due) ? 1 : 0;
            }
            for (Long due : tupleQuarantine.values()) {
                activeQ += active(due) ? 1 : 0;
            }
            expect(s.liveTuples() == live.size(), "stats liveTuples " + s.liveTuples());
            expect(s.heldPorts() >= strict && s.heldPorts() <= lenient,
                "stats heldPorts " + s.heldPorts() + " outside " + strict + ".." + lenient);
            expect(s.quarantined() >= activeQ && s.quarantined() <= allQ,
                "stats quarantined " + s.quarantined() + " outside " + activeQ + ".." + allQ);
            expect(s.acquisitions() == acquisitions && s.releases() == releases && s.failedAcquisitions() == failures,
                "stats counters " + s);
        }

        @Override
        public String toString() {
            return "Model[now=" + clock.nanoTime() + ", selectable=" + selectable + ", exclusive=" + exclusive
                + ", exclusiveQuarantine=" + exclusiveQuarantine + ", live=" + live + ", tupleQuarantine="
                + tupleQuarantine + ", acq=" + acquisitions + ", rel=" + releases + ", fail=" + failures + "]";
        }
    }
}
