package dev.portalloc;

import static dev.portalloc.Fuzz.qtWith;
import static dev.portalloc.Fuzz.withinTimeLimit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.agrona.concurrent.NanoClock;
import org.junit.jupiter.api.Test;
import org.quicktheories.api.Pair;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * Quarantine under a misbehaving {@link NanoClock}: one that goes backwards, jumps far ahead, starts near
 * {@link Long#MAX_VALUE} and overflows, or returns {@link Long#MIN_VALUE} / {@link Long#MAX_VALUE} as if they
 * were sentinels, with exclusive ports and connect-style tuples.
 *
 * <h2>What "early" means</h2>
 * The allocator reads the clock when it releases a tuple or an exclusive port into quarantine (reading
 * {@code r}) and when it expires entries. As for {@link System#nanoTime()}, only differences of readings mean
 * anything: the time elapsed from reading {@code r} to a later reading {@code t} is {@code t - r} computed in
 * 64-bit two's complement and read as signed, so a clock may start anywhere, including just below
 * {@code Long.MAX_VALUE}, and overflow. A negative difference means the clock went backwards; a difference of
 * {@code 2^63} or more cannot be told from going backwards and is read as such (292 years: never in practice).
 * A quarantined release has <em>served</em> its quarantine {@code Q} once some reading {@code t} taken after the
 * release has {@code t - r >= Q}. Going backwards therefore never serves it; jumping forward does (the clock
 * says the time has passed), and so does coming back after a jump: once served, a release stays served. A
 * grant is <em>early</em> if it gives a tuple {@code (port, d)} to {@code d}, or {@code port} exclusively, while
 * a release that quarantines it has not served its quarantine. Entries may expire late (the queue is
 * first-in first-out, and expiry is lazy), never early.
 *
 * <p>Properties: no grant is early; the hot path ({@code acquire}/{@code tryAcquire}/{@code release}) never
 * throws for valid arguments whatever the clock returns, and returns within a time limit; a port with no live
 * tuple, no holder and no quarantined release is never refused (completeness); and with a clock that moves
 * forward consistently, from any starting value, everything released comes back once {@code Q} has passed.
 * Bounded like the other fuzz tests ({@link Fuzz}: {@code -Dportalloc.fuzz.examples}, {@code
 * -Dportalloc.fuzz.seconds}).
 */
class ClockMisuseTest {
    private static final PortSet AUTOMATIC = PortSet.parse("40000-40015");
    private static final List<Destination> DESTINATIONS = List.of(Destination.parse("192.0.2.1:443"),
        Destination.parse("192.0.2.2:443"), Destination.parse("[2001:db8::1]:443"));

    /** A quarantined release: the port, the destination (null: an exclusive port), the reading(s) of its op. */
    private static final class Release {
        final int port;
        final Destination d;
        final long[] readings;
        boolean served;

        Release(int port, Destination d, long[] readings) {
            this.port = port;
            this.d = d;
            this.readings = readings;
        }

        @Override
        public String toString() {
            return (d == null ? "exclusive " + port : port + " -> " + d) + " released at " + java.util.Arrays.toString(readings);
        }
    }

    /**
     * The clock of a test: the value the test sets ({@link #base}), or, with jitter, a different value at every
     * read. It marks releases served as their quarantine passes on its readings.
     */
    private static final class ScriptedClock implements NanoClock {
        final long quarantine;
        final List<Release> releases = new ArrayList<>();
        final List<Long> readingsOfOp = new ArrayList<>();
        final Random jitter;
        long base;

        ScriptedClock(long quarantine, long start, Random jitter) {
            this.quarantine = quarantine;
            this.base = start;
            this.jitter = jitter;
        }

        @Override
        public long nanoTime() {
            final long t = jitter == null ? base : jittered();
            readingsOfOp.add(t);
            for (Release r : releases) {
                if (!r.served) {
                    for (long at : r.readings) {
                        // Lenient if an op read the clock more than once: served if it is for any of its readings.
                        if (t - at >= quarantine) {
                            r.served = true;
                        }
                    }
                }
            }
            return t;
        }

        private long jittered() {
            return switch (jitter.nextInt(10)) {
                case 0 -> Long.MIN_VALUE;
                case 1 -> Long.MAX_VALUE;
                case 2 -> base - 1 - jitter.nextInt(1000);
                case 3 -> base - quarantine;
                case 4 -> base + quarantine;
                case 5 -> jitter.nextLong();
                case 6 -> base + Long.MIN_VALUE;           // exactly 2^63 away
                default -> base;
            };
        }
    }

    /** One step: {@code kind} selects the call; {@code index}, {@code dest} and {@code value} are its arguments. */
    record Op(int kind, int index, int dest, long value) {
    }

    @SuppressWarnings("unchecked")
    private static Gen<List<Op>> ops(int kinds) {
        return lists().of(integers().between(0, kinds - 1).zip(integers().between(0, 1 << 20), integers().between(0, 2),
            Fuzz.longsWithEdges(), Op::new)).ofSizeBetween(1, 80);
    }

    /** Quarantine durations: a nanosecond, a microsecond, a minute, the maximum (100 years). */
    private static Gen<Long> quarantines() {
        return Generate.pick(List.of(1L, 1_000L, Duration.ofSeconds(60).toNanos(), Duration.ofDays(36_500).toNanos()));
    }

    /** Where clocks start: anywhere, often near the ends of the long range. */
    @SuppressWarnings("unchecked")
    private static Gen<Long> starts() {
        return Generate.frequency(Pair.of(1, Fuzz.longsWithEdges()),
            Pair.of(1, integers().between(-3000, 3000).map(d -> Long.MAX_VALUE + d)));
    }

    /** A new clock value for a stepped clock: small and exact-quarantine steps both ways, jumps, the extremes. */
    private static long move(long now, long q, Op op) {
        final long small = 1 + op.index() % 2000;
        return switch (op.dest() * 7 + op.index() % 7) {
            case 0, 1, 2 -> now + small;
            case 3 -> now + q;
            case 4 -> now + q - 1;
            case 5 -> now - small;
            case 6 -> now - q;
            case 7 -> Long.MAX_VALUE;
            case 8 -> Long.MIN_VALUE;
            case 9 -> Long.MAX_VALUE - small;
            case 10 -> Long.MIN_VALUE + small;
            case 11 -> now + (1L << 62);
            case 12 -> now - (1L << 62);
            case 13 -> now + Long.MIN_VALUE;               // exactly 2^63 away: ambiguous, so never "forward"
            case 14, 15 -> op.value();
            case 16 -> now + q + small;
            case 17 -> 0;
            default -> now - q - small;
        };
    }

    /** The state the test knows for sure: holders, live tuples, releases not known to have expired. */
    private static final class Model {
        final Set<Integer> exclusive = new HashSet<>();
        final Map<Integer, Set<Destination>> live = new HashMap<>();
        final List<Release> releases;

        Model(List<Release> releases) {
            this.releases = releases;
        }

        boolean isLive(int port, Destination d) {
            return live.getOrDefault(port, Set.of()).contains(d);
        }

        /** Whether granting (port, d) (or port exclusively, d null) would be early; consumes served releases. */
        void grant(int port, Destination d, String call) {
            for (Release r : releases) {
                if (r.port == port && (d == null || r.d == null || r.d.equals(d))) {
                    assertThat(r.served).as("%s granted %s early: %s", call, d == null ? port : port + " -> " + d, r)
                        .isTrue();
                }
            }
            if (d == null) {
                releases.removeIf(r -> r.port == port);           // every quarantine on the port has expired
                exclusive.add(port);
            } else {
                releases.removeIf(r -> r.port == port && (r.d == null || r.d.equals(d)));
                live.computeIfAbsent(port, p -> new HashSet<>()).add(d);
            }
        }

        /** Whether nothing at all (holder, live tuple, quarantined release) stands between d and the port. */
        boolean plainlyFree(int port, Destination d) {
            if (exclusive.contains(port) || (d == null ? live.containsKey(port) : isLive(port, d))) {
                return false;
            }
            return releases.stream().noneMatch(r -> r.port == port && (d == null || r.d == null || r.d.equals(d)));
        }

        long liveTuples() {
            return live.values().stream().mapToLong(Set::size).sum();
        }
    }

    private static void run(PortAllocator a, ScriptedClock clock, Model m, List<Op> ops, boolean forwardOnly) {
        for (Op op : ops) {
            clock.readingsOfOp.clear();
            final Destination d = DESTINATIONS.get(op.dest());
            final int port = AUTOMATIC.nth(op.index() % AUTOMATIC.size());
            switch (op.kind()) {
                case 0 -> {
                    final int p = a.tryAcquire(d);
                    if (p == PortAllocator.NONE) {
                        for (int q : AUTOMATIC.toArray()) {
                            assertThat(m.plainlyFree(q, d)).as("tryAcquire(%s) refused free port %d", d, q).isFalse();
                        }
                    } else {
                        assertThat(m.exclusive).doesNotContain(p);
                        assertThat(m.isLive(p, d)).as("tuple %d -> %s granted twice", p, d).isFalse();
                        m.grant(p, d, "tryAcquire(d)");
                    }
                }
                case 1 -> {
                    final boolean joined = a.tryAcquire(port, d);
                    if (joined) {
                        assertThat(m.exclusive).doesNotContain(port);
                        assertThat(m.isLive(port, d)).isFalse();
                        m.grant(port, d, "tryAcquire(port, d)");
                    } else {
                        assertThat(m.plainlyFree(port, d)).as("tryAcquire(%d, %s) refused", port, d).isFalse();
                    }
                }
                case 2 -> {
                    final int p = a.tryAcquire();
                    if (p == PortAllocator.NONE) {
                        for (int q : AUTOMATIC.toArray()) {
                            assertThat(m.plainlyFree(q, null)).as("tryAcquire() refused free port %d", q).isFalse();
                        }
                    } else {
                        assertThat(m.exclusive).doesNotContain(p);
                        assertThat(m.live).doesNotContainKey(p);
                        m.grant(p, null, "tryAcquire()");
                    }
                }
                case 3 -> {
                    if (a.tryAcquire(port)) {
                        assertThat(m.exclusive).doesNotContain(port);
                        assertThat(m.live).doesNotContainKey(port);
                        m.grant(port, null, "tryAcquire(port)");
                    } else {
                        assertThat(m.plainlyFree(port, null)).as("tryAcquire(%d) refused", port).isFalse();
                    }
                }
                case 4 -> {
                    final List<int[]> tuples = new ArrayList<>();
                    m.live.forEach((p, ds) -> ds.forEach(x -> tuples.add(new int[] {p, DESTINATIONS.indexOf(x)})));
                    if (!tuples.isEmpty()) {
                        final int[] t = tuples.get(op.index() % tuples.size());
                        final Destination td = DESTINATIONS.get(t[1]);
                        a.release(t[0], td);
                        m.live.get(t[0]).remove(td);
                        if (m.live.get(t[0]).isEmpty()) {
                            m.live.remove(t[0]);
                        }
                        m.releases.add(new Release(t[0], td, readings(clock)));
                    }
                }
                case 5 -> {
                    if (!m.exclusive.isEmpty()) {
                        final List<Integer> held = new ArrayList<>(m.exclusive);
                        final int p = held.get(op.index() % held.size());
                        a.release(p);
                        m.exclusive.remove(p);
                        m.releases.add(new Release(p, null, readings(clock)));
                    }
                }
                default -> {
                    // Forward only: steps of up to Q + 1 but at most 2^55, so 80 steps and a final Q stay below 2^63.
                    final long next = forwardOnly
                        ? clock.base + 1 + Math.floorMod(op.value(), Math.min(clock.quarantine + 2, 1L << 55))
                        : move(clock.base, clock.quarantine, op);
                    clock.base = next;
                }
            }
            assertThat(a.stats().liveTuples()).as("live tuples after %s", op).isEqualTo(m.liveTuples());
        }
    }

    private static long[] readings(ScriptedClock clock) {
        return clock.readingsOfOp.stream().mapToLong(Long::longValue).toArray();
    }

    private static PortAllocator allocator(ScriptedClock clock, long seed) {
        final Algorithm algorithm = switch ((int) Math.floorMod(seed, 3L)) {
            case 0 -> Algorithm.uniform();
            case 1 -> Algorithm.linux();
            default -> Algorithm.hash();
        };
        return PortAllocator.builder().ports(AUTOMATIC).seed(seed).algorithm(algorithm)
            .quarantine(Duration.ofNanos(clock.quarantine)).clock(clock).build();
    }

    @Test
    void aClockThatJumpsBothWaysNeverReleasesEarlyNorThrowsNorStalls() {
        withinTimeLimit(() -> qtWith(1000).forAll(ops(8), quarantines(), starts(), Fuzz.longsWithEdges())
            .checkAssert((ops, q, start, seed) -> {
                final ScriptedClock clock = new ScriptedClock(q, start, null);
                final PortAllocator a = allocator(clock, seed);
                run(a, clock, new Model(clock.releases), ops, false);
            }));
    }

    @Test
    void aClockThatChangesAtEveryReadNeverReleasesEarlyNorThrowsNorStalls() {
        withinTimeLimit(() -> qtWith(1000).forAll(ops(8), quarantines(), starts(), Fuzz.longsWithEdges())
            .checkAssert((ops, q, start, seed) -> {
                final ScriptedClock clock = new ScriptedClock(q, start, new Random(seed));
                final PortAllocator a = allocator(clock, seed);
                run(a, clock, new Model(clock.releases), ops, false);
            }));
    }

    @Test
    void aClockThatOnlyMovesForwardGivesEverythingBackAfterTheQuarantineFromAnyStart() {
        withinTimeLimit(() -> qtWith(1000).forAll(ops(7), quarantines(), starts(), Fuzz.longsWithEdges())
            .checkAssert((ops, q, start, seed) -> {
                final ScriptedClock clock = new ScriptedClock(q, start, null);
                final PortAllocator a = allocator(clock, seed);
                final Model m = new Model(clock.releases);
                run(a, clock, m, ops, true);
                // Release everything, let the quarantine pass once, and every port must come back.
                for (Map.Entry<Integer, Set<Destination>> e : m.live.entrySet()) {
                    e.getValue().forEach(x -> a.release(e.getKey(), x));
                }
                m.exclusive.forEach(a::release);
                clock.base += q;
                for (int p : AUTOMATIC.toArray()) {
                    assertThat(a.tryAcquire(p)).as("port %d after the quarantine (clock %d)", p, clock.base).isTrue();
                }
                assertThat(a.stats().quarantined()).isZero();
                assertThat(a.stats().liveTuples()).isZero();
            }));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Regressions

    /** A clock the test sets. */
    private static final class SetClock implements NanoClock {
        long now;

        SetClock(long now) {
            this.now = now;
        }

        @Override
        public long nanoTime() {
            return now;
        }
    }

    @Test
    void aClockJumpingBackToLongMinValueDoesNotEndTheQuarantine() {
        // Released at 0 with a 60 s quarantine, then the clock reads Long.MIN_VALUE (+ a little): 2^63 - 1 ns
        // or so backwards. The quarantine used to compare "release + Q - now <= 0", which wraps to due here.
        final long q = Duration.ofSeconds(60).toNanos();
        for (long back : new long[] {Long.MIN_VALUE, Long.MIN_VALUE + 1, Long.MIN_VALUE + q - 1}) {
            final SetClock clock = new SetClock(0);
            final PortAllocator a = PortAllocator.builder().ports(PortSet.parse("40000-40001")).seed(1)
                .quarantine(Duration.ofNanos(q)).clock(clock).build();
            final Destination d = DESTINATIONS.get(0);
            assertThat(a.tryAcquire(40000, d)).isTrue();
            assertThat(a.tryAcquire(40001)).isTrue();
            a.release(40000, d);
            a.release(40001);
            clock.now = back;
            assertThat(a.tryAcquire(40000, d)).as("tuple at clock %d", back).isFalse();
            assertThat(a.tryAcquire(40001)).as("exclusive port at clock %d", back).isFalse();
            assertThat(a.tryAcquire(d)).as("any port for d at clock %d", back).isEqualTo(PortAllocator.NONE);
            assertThat(a.tryAcquire()).as("any port at clock %d", back).isEqualTo(PortAllocator.NONE);
            assertThat(a.stats().quarantined()).isEqualTo(2);
            clock.now = q - 1;
            assertThat(a.tryAcquire(40000, d)).isFalse();
            clock.now = q;
            assertThat(a.tryAcquire(40000, d)).isTrue();
            assertThat(a.tryAcquire(40001)).isTrue();
        }
    }

    @Test
    void aClockThatOverflowsEndsTheQuarantineAfterExactlyTheDuration() {
        // A monotonic clock may start anywhere (System.nanoTime's origin is arbitrary) and overflow.
        final long q = Duration.ofSeconds(120).toNanos();
        for (long start : new long[] {Long.MAX_VALUE, Long.MAX_VALUE - 1, Long.MAX_VALUE - q + 1, -1, Long.MIN_VALUE}) {
            final SetClock clock = new SetClock(start);
            final PortAllocator a = PortAllocator.builder().ports(PortSet.parse("40000-40001")).seed(2)
                .quarantine(Duration.ofNanos(q)).clock(clock).build();
            final Destination d = DESTINATIONS.get(2);
            assertThat(a.tryAcquire(40000, d)).isTrue();
            assertThat(a.tryAcquire(40001)).isTrue();
            a.release(40000, d);
            a.release(40001);
            clock.now = start + q - 1;                       // wraps for the starts near Long.MAX_VALUE
            assertThat(a.tryAcquire(40000, d)).as("tuple 1 ns early, start %d", start).isFalse();
            assertThat(a.tryAcquire(40001)).as("port 1 ns early, start %d", start).isFalse();
            clock.now = start + q;
            assertThat(a.tryAcquire(40000, d)).as("tuple on time, start %d", start).isTrue();
            assertThat(a.tryAcquire(40001)).as("port on time, start %d", start).isTrue();
        }
    }
}
