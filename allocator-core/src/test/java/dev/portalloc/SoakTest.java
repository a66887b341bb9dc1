package dev.portalloc;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.LongAdder;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The long soak test, on demand only (tag {@code soak}: {@code mvn verify} excludes it; run it with
 * {@code mvn -B test -pl allocator-core -Psoak [-Dportalloc.soak.minutes=N | -Dportalloc.soak.seconds=S]},
 * by default a 10-second smoke run; see docs/soak.md).
 *
 * <p>For the requested time, {@code portalloc.soak.threads} workers (default 4) churn two allocators that share
 * one virtual clock, which every operation advances by one tick:
 * <ul>
 * <li>{@code A}: {@link Algorithm#uniform()}, 256 ports, a quarantine of {@value #QUARANTINE_A} ticks,
 *     exclusive-heavy;</li>
 * <li>{@code B}: {@link Algorithm#doubleHash()}, 512 ports, a quarantine of {@value #QUARANTINE_B} ticks,
 *     connect-heavy,</li>
 * </ul>
 * with every kind of call: {@code acquire()}, {@code tryAcquire()}, {@code tryAcquire(port)},
 * {@code release(port)}, {@code acquire(d)}, {@code tryAcquire(d)}, {@code tryAcquire(port, d)},
 * {@code release(port, d)}, over {@value #DESTINATIONS} destinations (IPv4 and IPv6, one of them hot). Each
 * worker alternates filling and draining phases, so occupancy sweeps up to exhaustion and back. A configuration
 * thread meanwhile reserves and unreserves chunks of ports and calls {@code rekey()}. Every answer goes through a
 * {@link SoakLedger} per allocator, which counts duplicates, mixed holders, early reuse, unselectable grants and
 * false exhaustions or refusals (all must be 0). The main thread samples the heap after a GC and
 * {@code stats().quarantined()}; the maximum over the last third of the run must stay within 1.5 times the
 * maximum over the first third plus a slack ({@value #HEAP_SLACK_MIB} MiB, {@value #QUARANTINE_SLACK}
 * entries). At the end, with every holding released and the quarantine passed, every tracked port must be
 * claimable again (no lost port) and the allocators' stats must balance. A summary is printed.
 */
@Tag("soak")
class SoakTest {
    static final int DESTINATIONS = 256;
    static final long QUARANTINE_A = 512;
    static final long QUARANTINE_B = 4096;
    /** Explicit requests may also name this many ports on either side of the automatic set. */
    static final int OUTSIDE = 4;
    static final double GROWTH_FACTOR = 1.5;
    static final long HEAP_SLACK_MIB = 16;
    static final long QUARANTINE_SLACK = 256;
    /** How long the threads may take to finish their last operation and release everything once told to stop. */
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    /** Participant 0 of the {@link SoakSequence} is the configuration thread; workers are 1..n. */
    static final int CONFIG = 0;

    /** One allocator of the run and its workload shape. */
    record Subject(String name, PortAllocator allocator, SoakLedger ledger, PortSet automatic, int first,
                   int last, long quarantine, int exclusivePercent, int quota) {
    }

    /** What the workers and the configuration thread did, by kind. */
    enum Op {
        EXCLUSIVE_AUTOMATIC_GRANTED, EXCLUSIVE_AUTOMATIC_EXHAUSTED, EXCLUSIVE_EXPLICIT_GRANTED,
        EXCLUSIVE_EXPLICIT_REFUSED, EXCLUSIVE_RELEASED, CONNECT_AUTOMATIC_GRANTED, CONNECT_AUTOMATIC_EXHAUSTED,
        CONNECT_EXPLICIT_GRANTED, CONNECT_EXPLICIT_REFUSED, TUPLE_RELEASED, HOLDING_CHECKED, RESERVED,
        UNRESERVED, REKEYED
    }

    private final ConnectStyleStressTest.TickClock clock = new ConnectStyleStressTest.TickClock();
    private final LongAdder[] ops = new LongAdder[Op.values().length];
    private final List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
    private final Destination[] destinations = destinations();
    private volatile boolean stop;

    SoakTest() {
        for (int i = 0; i < ops.length; i++) {
            ops[i] = new LongAdder();
        }
    }

    private void record(Op op) {
        ops[op.ordinal()].increment();
    }

    private long total(Op... kinds) {
        long n = 0;
        for (Op op : kinds) {
            n += ops[op.ordinal()].sum();
        }
        return n;
    }

    /** Destination 0 is the hot one (a load balancer's backend); the last eighth are IPv6. */
    private static Destination[] destinations() {
        final Destination[] d = new Destination[DESTINATIONS];
        d[0] = Destination.parse("192.0.2.1:443");
        final int ipv6 = DESTINATIONS - DESTINATIONS / 8;
        for (int i = 1; i < DESTINATIONS; i++) {
            d[i] = i < ipv6 ? Destination.parse("198.51.100." + i + ":" + (i % 2 == 0 ? 443 : 8080 + i))
                : Destination.parse("[2001:db8::" + Integer.toHexString(i) + "]:443");
        }
        return d;
    }

    /** The run's length: {@code portalloc.soak.minutes}, {@code portalloc.soak.seconds}, or a 10-second smoke. */
    static Duration requestedDuration() {
        final String minutes = System.getProperty("portalloc.soak.minutes");
        final String seconds = System.getProperty("portalloc.soak.seconds");
        if (minutes != null && !minutes.isBlank()) {
            return Duration.ofSeconds(Math.round(positive("portalloc.soak.minutes", minutes) * 60));
        }
        if (seconds != null && !seconds.isBlank()) {
            return Duration.ofMillis(Math.round(positive("portalloc.soak.seconds", seconds) * 1000));
        }
        return Duration.ofSeconds(10);
    }

    private static double positive(String property, String value) {
        final double v;
        try {
            v = Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(property + " must be a positive number, not \"" + value + "\"", e);
        }
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(property + " must be a positive number, not \"" + value + "\"");
        }
        return v;
    }

    static int requestedThreads() {
        final String value = System.getProperty("portalloc.soak.threads", "4");
        try {
            final int n = Integer.parseInt(value.trim());
            if (n >= 1 && n <= 64) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("portalloc.soak.threads must be 1..64, not \"" + value + "\"");
    }

    private Subject subject(String name, Algorithm algorithm, int first, int last, PortSet reserved,
                            long quarantine, int exclusivePercent, int quota, SoakSequence sequence) {
        final PortSet automatic = PortSet.range(first, last);
        final PortAllocator a = PortAllocator.builder().ports(automatic).reserved(reserved).algorithm(algorithm)
            .quarantine(Duration.ofNanos(quarantine)).clock(clock).build();
        final SoakLedger ledger = new SoakLedger(name, first - OUTSIDE, last - first + 1 + 2 * OUTSIDE,
            DESTINATIONS, automatic, reserved, quarantine, clock, sequence);
        return new Subject(name, a, ledger, automatic, first, last, quarantine, exclusivePercent, quota);
    }

    @Test
    void soak() throws Exception {
        final Duration duration = requestedDuration();
        final int threads = requestedThreads();
        final SoakSequence sequence = new SoakSequence(threads + 1);
        final Subject[] subjects = {
            subject("A", Algorithm.uniform(), 40_000, 40_255, PortSet.range(40_100, 40_103), QUARANTINE_A, 50, 80,
                sequence),
            subject("B", Algorithm.doubleHash(), 50_000, 50_511, PortSet.empty(), QUARANTINE_B, 10, 200, sequence),
        };
        final CyclicBarrier start = new CyclicBarrier(threads + 2);
        final List<Thread> running = new ArrayList<>();
        final ConfigChanges config = new ConfigChanges(subjects, sequence, start);
        running.add(new Thread(config, "soak-config"));
        for (int t = 1; t <= threads; t++) {
            running.add(new Thread(new Worker(t, subjects, sequence, start), "soak-worker-" + t));
        }
        running.forEach(t -> {
            t.setDaemon(true); // a thread that hangs is reported below, and must not keep the JVM alive
            t.start();
        });

        final Runtime runtime = Runtime.getRuntime();
        final long sampleMillis = Math.max(250, Math.min(30_000, duration.toMillis() / 60));
        final long progressMillis = Math.max(60_000, duration.toMillis() / 30);
        final List<long[]> samples = new ArrayList<>(); // {heap after GC, quarantined A, quarantined B}
        final String startedAt = Instant.now().toString();
        start.await();
        final long began = System.nanoTime();
        final long endAt = began + duration.toNanos();
        long nextProgress = began + progressMillis * 1_000_000;
        for (long now = began; now < endAt; now = System.nanoTime()) {
            Thread.sleep(Math.max(1, Math.min(sampleMillis, (endAt - now) / 1_000_000)));
            System.gc(); // then the heap in use is what is reachable (java.management is not readable here)
            samples.add(new long[] {runtime.totalMemory() - runtime.freeMemory(),
                subjects[0].allocator().stats().quarantined(), subjects[1].allocator().stats().quarantined()});
            if (System.nanoTime() >= nextProgress) {
                nextProgress += progressMillis * 1_000_000;
                final long[] last = samples.get(samples.size() - 1);
                System.out.printf(Locale.ROOT, "soak %s: %d s of %d, %,d operations, %d violations, heap %.1f MiB,"
                    + " quarantined A %d B %d%n", Instant.now(), (System.nanoTime() - began) / 1_000_000_000,
                    duration.toSeconds(), totalOperations(), subjects[0].ledger().violations()
                    + subjects[1].ledger().violations(), last[0] / 1048576.0, last[1], last[2]);
            }
        }
        stop = true;
        final List<String> problems = new ArrayList<>();
        final long joinBy = System.nanoTime() + STOP_TIMEOUT.toNanos();
        for (Thread t : running) {
            t.join(Math.max(1, (joinBy - System.nanoTime()) / 1_000_000));
        }
        final double seconds = (System.nanoTime() - began) / 1e9;
        for (Thread t : running) {
            if (t.isAlive()) { // a call that never returns, or a judgement that waits forever
                problems.add(t.getName() + " did not stop within " + STOP_TIMEOUT + ": "
                    + Arrays.toString(t.getStackTrace()));
            }
        }
        if (!problems.isEmpty()) {
            throw new AssertionError("threads hang: " + problems);
        }

        final String heap = growth("heap used after GC (bytes)", samples, 0, HEAP_SLACK_MIB * 1048576, problems);
        final String quarantineA = growth("quarantined entries of A", samples, 1, QUARANTINE_SLACK, problems);
        final String quarantineB = growth("quarantined entries of B", samples, 2, QUARANTINE_SLACK, problems);
        final long[] lost = new long[subjects.length];
        for (int i = 0; i < subjects.length; i++) {
            lost[i] = checkEnd(subjects[i], problems);
        }

        final StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "%n=== portalloc soak summary ===%n"));
        s.append(String.format(Locale.ROOT, "started %s, ran %.1f s (%.1f min) of %d s requested, %d workers + 1 "
            + "configuration thread, %d destinations%n", startedAt, seconds, seconds / 60, duration.toSeconds(),
            threads, DESTINATIONS));
        for (Subject x : subjects) {
            s.append(String.format(Locale.ROOT, "allocator %s: %s, ports %d-%d, quarantine %d ticks, %d%% exclusive,"
                + " quota %d per worker%n", x.name(), x.allocator().algorithm(), x.first(), x.last(), x.quarantine(),
                x.exclusivePercent(), x.quota()));
        }
        s.append(String.format(Locale.ROOT, "operations: %,d in all (%,.0f/s), virtual clock at %,d ticks%n",
            totalOperations(), totalOperations() / seconds, clock.nanoTime()));
        for (Op op : Op.values()) {
            s.append(String.format(Locale.ROOT, "  %-30s %,15d%n", op.name().toLowerCase(Locale.ROOT), total(op)));
        }
        s.append(String.format(Locale.ROOT, "reservation changes: %,d; rekeys: %,d%n",
            total(Op.RESERVED, Op.UNRESERVED), total(Op.REKEYED)));
        for (int i = 0; i < subjects.length; i++) {
            final Subject x = subjects[i];
            final SoakLedger l = x.ledger();
            s.append(String.format(Locale.ROOT, "ledger %s: duplicates %d, mixed holders %d, early reuse %d, "
                + "unselectable grants %d, ledger errors %d%n", x.name(), l.duplicates.sum(), l.mixedHolders.sum(),
                l.earlyReuses.sum(), l.unselectableGrants.sum(), l.ledgerErrors.sum()));
            s.append(String.format(Locale.ROOT, "  false exhaustions %d of %,d exhaustions judged; false refusals %d"
                + " of %,d explicit refusals judged; lost ports at the end %d%n", l.falseExhaustions.sum(),
                l.exhaustionsJudged.sum(), l.falseRefusals.sum(), l.refusalsJudged.sum(), lost[i]));
        }
        s.append(String.format(Locale.ROOT, "%d samples; peak heap after GC %.1f MiB, last %.1f MiB%n", samples.size(),
            max(samples, 0, 0, samples.size()) / 1048576.0, samples.get(samples.size() - 1)[0] / 1048576.0));
        s.append(heap).append(quarantineA).append(quarantineB);
        s.append(String.format(Locale.ROOT, "peak quarantined: A %d, B %d; exceptions in threads: %d%n",
            max(samples, 1, 0, samples.size()), max(samples, 2, 0, samples.size()), failures.size()));
        for (Subject x : subjects) {
            x.ledger().messages().forEach(m -> s.append("  violation: ").append(m).append('\n'));
        }
        problems.forEach(p -> s.append("  problem: ").append(p).append('\n'));
        synchronized (failures) {
            failures.stream().limit(5).forEach(f -> s.append("  exception: ").append(f).append('\n'));
        }
        System.out.println(s);

        assertThat(failures).as("exceptions in the soak threads").isEmpty();
        for (Subject x : subjects) {
            assertThat(x.ledger().violations()).as("ledger violations of %s: %s", x.name(), x.ledger().messages())
                .isZero();
            assertThat(x.ledger().exhaustionsJudged.sum()).as("exhaustions of %s (the workload must reach them)",
                x.name()).isPositive();
        }
        assertThat(problems).as("bounds and end state").isEmpty();
    }

    private long totalOperations() {
        long n = 0;
        for (LongAdder a : ops) {
            n += a.sum();
        }
        return n;
    }

    private static long max(List<long[]> samples, int column, int from, int to) {
        long m = Long.MIN_VALUE;
        for (int i = from; i < to; i++) {
            m = Math.max(m, samples.get(i)[column]);
        }
        return m;
    }

    /**
     * The boundedness check: the maximum over the last third of the samples must not exceed
     * {@value #GROWTH_FACTOR} times the maximum over the first third plus {@code slack}.
     *
     * @return a summary line
     */
    static String growth(String what, List<long[]> samples, int column, long slack, List<String> problems) {
        final int n = samples.size();
        if (n < 3) {
            problems.add(what + ": only " + n + " samples, too few to compare thirds");
            return what + ": too few samples\n";
        }
        final long early = max(samples, column, 0, n / 3);
        final long late = max(samples, column, n - n / 3, n);
        final long bound = (long) (GROWTH_FACTOR * early) + slack;
        if (late > bound) {
            problems.add(what + " grew: max over the last third " + late + " > " + GROWTH_FACTOR + " x " + early
                + " (first third) + " + slack);
        }
        return String.format(Locale.ROOT, "%s: max first third %,d, max last third %,d, bound %,d: %s%n", what, early,
            late, bound, late <= bound ? "bounded" : "GREW");
    }

    /**
     * The end state: nothing live in the ledger, every tracked port claimable once the quarantine passed, and the
     * allocator's stats balanced.
     *
     * @return ports that could not be claimed (lost)
     */
    private long checkEnd(Subject x, List<String> problems) {
        final PortAllocator a = x.allocator();
        if (x.ledger().liveTuples() != 0) {
            problems.add(x.name() + ": the ledger shows " + x.ledger().liveTuples() + " live tuples after every release");
        }
        clock.now.addAndGet(x.quarantine() + 1);
        final int from = x.first() - OUTSIDE;
        final int to = x.last() + OUTSIDE;
        final boolean[] claimed = new boolean[to - from + 1];
        long lost = 0;
        for (int p = from; p <= to; p++) {
            claimed[p - from] = a.tryAcquire(p);
            if (!claimed[p - from] && ++lost <= 5) {
                problems.add(x.name() + ": port " + p + " is lost (not claimable after every release)");
            }
        }
        if (a.tryAcquire() != PortAllocator.NONE) {
            problems.add(x.name() + ": an automatic acquisition succeeded with every port claimed");
        }
        final AllocatorStats full = a.stats();
        if (full.heldPorts() != to - from + 1 || full.liveTuples() != 0 || full.quarantined() != 0) {
            problems.add(x.name() + ": stats with every port claimed: " + full);
        }
        for (int p = from; p <= to; p++) {
            if (claimed[p - from]) {
                a.release(p); // into quarantine
            }
        }
        // Once the quarantine has passed, a refused first attempt expires every due entry (then it succeeds):
        // afterwards only the probe itself is held, in quarantine after its release.
        clock.now.addAndGet(x.quarantine() + 1);
        if (lost == 0) {
            if (!a.tryAcquire(from)) {
                problems.add(x.name() + ": port " + from + " not claimable after the quarantine passed");
            } else {
                a.release(from);
            }
            final AllocatorStats end = a.stats();
            if (end.heldPorts() != 1 || end.quarantined() != 1 || end.liveTuples() != 0
                || end.acquisitions() != end.releases()) {
                problems.add(x.name() + ": stats after releasing every port (expected only the probe, quarantined): "
                    + end);
            }
        }
        return lost;
    }

    /** A worker: mixed exclusive and connect-style churn on both allocators. */
    private final class Worker implements Runnable {
        private final int id;
        private final Subject[] subjects;
        private final SoakSequence sequence;
        private final CyclicBarrier start;
        private final SplittableRandom random;
        /** Holdings per subject: {@code port << 16 | (destination + 1)}, 0 in the low bits for exclusive ports. */
        private final int[][] held;
        private final int[] count;
        private boolean draining;
        private long phaseLeft;

        Worker(int id, Subject[] subjects, SoakSequence sequence, CyclicBarrier start) {
            this.id = id;
            this.subjects = subjects;
            this.sequence = sequence;
            this.start = start;
            this.random = new SplittableRandom(0x50a4L * id);
            held = new int[subjects.length][];
            for (int i = 0; i < subjects.length; i++) {
                held[i] = new int[subjects[i].quota()];
            }
            count = new int[subjects.length];
        }

        @Override
        public void run() {
            try {
                start.await();
                while (!stop) {
                    if (--phaseLeft <= 0) {
                        draining = !draining;
                        phaseLeft = 2_000 + random.nextInt(20_000);
                    }
                    final int s = random.nextInt(subjects.length);
                    try {
                        step(s, subjects[s]);
                    } catch (RuntimeException | AssertionError e) {
                        failure(e);
                    }
                }
                for (int s = 0; s < subjects.length; s++) {
                    while (count[s] > 0) {
                        release(subjects[s], s, count[s] - 1);
                    }
                }
            } catch (Throwable e) {
                failure(e);
            }
        }

        private void failure(Throwable e) {
            if (failures.size() < 100) {
                failures.add(e);
            }
        }

        private void step(int s, Subject x) {
            clock.now.incrementAndGet();
            final int n = count[s];
            if (n == x.quota() || (n > 0 && random.nextInt(100) < (draining ? 65 : 35))) {
                release(x, s, random.nextInt(n));
                return;
            }
            final int kind = random.nextInt(100);
            if (kind == 0 && n > 0) {
                checkHolding(x, held[s][random.nextInt(n)]);
            } else if (kind < x.exclusivePercent()) {
                if (random.nextInt(4) == 0) {
                    explicitExclusive(x, s, x.first() - OUTSIDE + random.nextInt(x.last() - x.first() + 1 + 2 * OUTSIDE));
                } else {
                    automaticExclusive(x, s, random.nextBoolean());
                }
            } else {
                final int d = random.nextInt(5) < 2 ? 0 : 1 + random.nextInt(DESTINATIONS - 1);
                if (random.nextInt(4) == 0) {
                    explicitTuple(x, s, x.first() - OUTSIDE + random.nextInt(x.last() - x.first() + 1 + 2 * OUTSIDE), d);
                } else {
                    automaticTuple(x, s, d, random.nextBoolean());
                }
            }
        }

        private void hold(int s, int port, int d) {
            held[s][count[s]++] = port << 16 | (d + 1);
        }

        private void automaticExclusive(Subject x, int s, boolean throwing) {
            final long clockBefore = clock.nanoTime();
            final long begin = sequence.begin(id);
            int port;
            if (throwing) {
                try {
                    port = x.allocator().acquire();
                } catch (PortExhaustedException e) {
                    port = PortAllocator.NONE;
                }
            } else {
                port = x.allocator().tryAcquire();
            }
            if (port != PortAllocator.NONE) {
                x.ledger().grantedExclusive(id, port, begin, true);
                sequence.end(id);
                hold(s, port, -1);
                record(Op.EXCLUSIVE_AUTOMATIC_GRANTED);
            } else {
                final long end = sequence.next();
                sequence.end(id);
                x.ledger().judgeExhaustion(-1, begin, end, clockBefore, id);
                record(Op.EXCLUSIVE_AUTOMATIC_EXHAUSTED);
            }
        }

        private void explicitExclusive(Subject x, int s, int port) {
            final long clockBefore = clock.nanoTime();
            final long begin = sequence.begin(id);
            if (x.allocator().tryAcquire(port)) {
                x.ledger().grantedExclusive(id, port, begin, false);
                sequence.end(id);
                hold(s, port, -1);
                record(Op.EXCLUSIVE_EXPLICIT_GRANTED);
            } else {
                final long end = sequence.next();
                sequence.end(id);
                x.ledger().judgeRefusal(port, -1, begin, end, clockBefore, id);
                record(Op.EXCLUSIVE_EXPLICIT_REFUSED);
            }
        }

        private void automaticTuple(Subject x, int s, int d, boolean throwing) {
            final long clockBefore = clock.nanoTime();
            final long begin = sequence.begin(id);
            int port;
            if (throwing) {
                try {
                    port = x.allocator().acquire(destinations[d]);
                } catch (PortExhaustedException e) {
                    port = PortAllocator.NONE;
                }
            } else {
                port = x.allocator().tryAcquire(destinations[d]);
            }
            if (port != PortAllocator.NONE) {
                x.ledger().grantedTuple(id, port, d, begin, true);
                sequence.end(id);
                hold(s, port, d);
                record(Op.CONNECT_AUTOMATIC_GRANTED);
            } else {
                final long end = sequence.next();
                sequence.end(id);
                x.ledger().judgeExhaustion(d, begin, end, clockBefore, id);
                record(Op.CONNECT_AUTOMATIC_EXHAUSTED);
            }
        }

        private void explicitTuple(Subject x, int s, int port, int d) {
            final long clockBefore = clock.nanoTime();
            final long begin = sequence.begin(id);
            if (x.allocator().tryAcquire(port, destinations[d])) {
                x.ledger().grantedTuple(id, port, d, begin, false);
                sequence.end(id);
                hold(s, port, d);
                record(Op.CONNECT_EXPLICIT_GRANTED);
            } else {
                final long end = sequence.next();
                sequence.end(id);
                x.ledger().judgeRefusal(port, d, begin, end, clockBefore, id);
                record(Op.CONNECT_EXPLICIT_REFUSED);
            }
        }

        private void release(Subject x, int s, int k) {
            final int h = held[s][k];
            held[s][k] = held[s][--count[s]];
            final int port = h >>> 16;
            final int d = (h & 0xFFFF) - 1;
            final long begin = sequence.begin(id);
            try {
                if (d < 0) {
                    x.ledger().releasingExclusive(id, port, begin);
                    x.allocator().release(port);
                    x.ledger().releasedExclusive(port);
                    record(Op.EXCLUSIVE_RELEASED);
                } else {
                    x.ledger().releasingTuple(id, port, d, begin);
                    x.allocator().release(port, destinations[d]);
                    x.ledger().releasedTuple(port, d);
                    record(Op.TUPLE_RELEASED);
                }
            } finally {
                sequence.end(id);
            }
        }

        private void checkHolding(Subject x, int h) {
            final int port = h >>> 16;
            final int d = (h & 0xFFFF) - 1;
            final boolean seen = d < 0 ? x.allocator().isHeld(port) : x.allocator().isLive(port, destinations[d]);
            if (!seen) {
                throw new AssertionError(x.name() + ": holding " + port + (d < 0 ? "" : " -> d" + d)
                    + " not seen by the allocator");
            }
            record(Op.HOLDING_CHECKED);
        }
    }

    /**
     * The configuration thread: about every millisecond, reserves or unreserves a chunk of one allocator's
     * automatic set (never more than an eighth of it; never the builder's reserved ports) or rekeys it. At the
     * end it unreserves what it reserved.
     */
    private final class ConfigChanges implements Runnable {
        private final Subject[] subjects;
        private final SoakSequence sequence;
        private final CyclicBarrier start;
        private final SplittableRandom random = new SplittableRandom(0xc0f1L);
        private final List<List<PortSet>> chunks = new ArrayList<>();

        ConfigChanges(Subject[] subjects, SoakSequence sequence, CyclicBarrier start) {
            this.subjects = subjects;
            this.sequence = sequence;
            this.start = start;
            for (int i = 0; i < subjects.length; i++) {
                chunks.add(new ArrayList<>());
            }
        }

        @Override
        public void run() {
            try {
                start.await();
                while (!stop) {
                    Thread.sleep(1);
                    final int s = random.nextInt(subjects.length);
                    if (random.nextInt(10) < 3) {
                        subjects[s].allocator().rekey();
                        record(Op.REKEYED);
                    } else {
                        changeReservation(s);
                    }
                }
                for (int s = 0; s < subjects.length; s++) {
                    while (!chunks.get(s).isEmpty()) {
                        unreserve(subjects[s], chunks.get(s).remove(chunks.get(s).size() - 1));
                    }
                }
            } catch (Throwable e) {
                if (failures.size() < 100) {
                    failures.add(e);
                }
            }
        }

        private void changeReservation(int s) {
            final Subject x = subjects[s];
            final List<PortSet> mine = chunks.get(s);
            final int reservedByMe = mine.stream().mapToInt(PortSet::size).sum();
            if (!mine.isEmpty() && (reservedByMe >= x.automatic().size() / 8 || random.nextBoolean())) {
                unreserve(x, mine.remove(random.nextInt(mine.size())));
                return;
            }
            final int from = x.first() + random.nextInt(x.last() - x.first() + 1);
            PortSet chunk = PortSet.range(from, Math.min(x.last(), from + random.nextInt(8)))
                .minus(x.allocator().reserved());
            if (chunk.isEmpty()) {
                return;
            }
            final long begin = sequence.begin(CONFIG);
            try {
                x.ledger().reserving(chunk, begin);
                x.allocator().reserve(chunk);
                x.ledger().reserved(chunk);
            } finally {
                sequence.end(CONFIG);
            }
            mine.add(chunk);
            record(Op.RESERVED);
        }

        private void unreserve(Subject x, PortSet chunk) {
            final long begin = sequence.begin(CONFIG);
            try {
                x.ledger().unreserving(chunk, begin);
                x.allocator().unreserve(chunk);
                x.ledger().unreserved(chunk);
            } finally {
                sequence.end(CONFIG);
            }
            record(Op.UNRESERVED);
        }
    }
}
