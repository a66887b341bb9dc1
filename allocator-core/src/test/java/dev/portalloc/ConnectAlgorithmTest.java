package dev.portalloc;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Connect-style conformance of the port-selection algorithms: each follows its published probe sequence per
 * destination (RFC 6056 §2.2, §3.3.1-§3.3.5, Linux {@code __inet_hash_connect}), and none reports a false
 * exhaustion.
 */
class ConnectAlgorithmTest {
    private static final int FIRST = 1000;
    private static final int LAST = 1099;
    private static final int NUM = LAST - FIRST + 1;
    private static final Destination A = Destination.parse("198.51.100.1:443");
    private static final Destination B = Destination.parse("198.51.100.2:80");
    private static final Destination V6 = Destination.parse("[2001:db8::7]:8443");

    private static PortAllocator allocator(Algorithm algorithm, long seed) {
        return PortAllocator.builder().ports(PortSet.range(FIRST, LAST)).algorithm(algorithm).seed(seed).build();
    }

    /** Acquires a port for {@code d} and releases it at once. */
    private static int once(PortAllocator a, Destination d) {
        final int p = a.acquire(d);
        a.release(p, d);
        return p;
    }

    private static int step(int from, int to) {
        return Math.floorMod(to - from, NUM);
    }

    @Test
    void bsdSequentialIsOneGlobalCounterAcrossDestinations() {
        final PortAllocator a = allocator(Algorithm.bsdSequential(), 1);
        assertThat(new int[] {a.acquire(A), a.acquire(B), a.acquire(A), a.acquire(V6), a.acquire()})
            .containsExactly(1000, 1001, 1002, 1003, 1004);
    }

    @Test
    void hashGivesConsecutivePortsToADestinationAndAGapOfOneAfterAnotherDestination() {
        final PortAllocator a = allocator(Algorithm.hash(), 2);
        final int p1 = once(a, A);
        final int p2 = once(a, A);
        assertThat(step(p1, p2)).isEqualTo(1);
        once(a, B);
        final int p3 = once(a, A);
        assertThat(step(p2, p3)).as("one allocation elsewhere moved the global counter by one").isEqualTo(2);
        // the offset F(local, remote, remote port) differs per destination
        final int b1 = once(a, B);
        final int a4 = once(a, A);
        assertThat(step(p3, a4)).isEqualTo(2);
        assertThat(step(p3, b1)).isNotEqualTo(1);
    }

    @Test
    void doubleHashSequencesPerBucketAreUnaffectedByOtherBuckets() {
        final PortAllocator a = allocator(Algorithm.doubleHash(), 3);
        final int p1 = once(a, A);
        once(a, B); // another bucket (2^16 buckets: the same one with probability 2^-16 for this seed: checked below)
        once(a, V6);
        final int p2 = once(a, A);
        assertThat(step(p1, p2)).isEqualTo(1);
        // with one bucket, everything shares one counter again, as in Algorithm 3
        final PortAllocator single = allocator(Algorithm.doubleHash(1), 3);
        final int q1 = once(single, A);
        once(single, B);
        final int q2 = once(single, A);
        assertThat(step(q1, q2)).isEqualTo(2);
    }

    @Test
    void randomIncrementsStepsWithinOneToN() {
        for (int n : new int[] {1, 7, 50}) {
            final PortAllocator a = allocator(Algorithm.randomIncrements(n), 4);
            int previous = once(a, A);
            final Set<Integer> steps = new HashSet<>();
            for (int i = 0; i < 500; i++) {
                final int p = once(a, i % 3 == 0 ? B : A);
                final int s = step(previous, p);
                assertThat(s).isBetween(1, n);
                steps.add(s);
                previous = p;
            }
            assertThat(steps).hasSize(n); // every step size 1..n occurs
        }
    }

    @Test
    void randomStartFavoursTheFirstPortAfterABlockUsedByTheDestination() {
        // RFC 6056 §3.3.1's known bias, now from tuples: with ports 1000..1049 used by A, every start inside the
        // block ends at 1050 for A. Other destinations are unaffected.
        final int trials = 10_000;
        final PortAllocator rfc = allocator(Algorithm.randomStart(), 5);
        final PortAllocator uniform = allocator(Algorithm.uniform(), 5);
        for (PortAllocator a : new PortAllocator[] {rfc, uniform}) {
            for (int p = FIRST; p < FIRST + 50; p++) {
                assertThat(a.tryAcquire(p, A)).isTrue();
            }
        }
        assertThat(firstAfterBlock(rfc, trials)).isBetween((int) (trials * 0.46), (int) (trials * 0.56));
        assertThat(firstAfterBlock(uniform, trials)).isBetween((int) (trials * 0.01), (int) (trials * 0.03));
    }

    private static int firstAfterBlock(PortAllocator a, int trials) {
        int hits = 0;
        for (int i = 0; i < trials; i++) {
            final int p = once(a, A);
            assertThat(p).isBetween(FIRST + 50, LAST);
            hits += p == FIRST + 50 ? 1 : 0;
        }
        return hits;
    }

    @Test
    void linuxConnectPrefersEvenOffsetsAndBindOdd() {
        final PortAllocator a = allocator(Algorithm.linux(), 6);
        final Set<Integer> got = new HashSet<>();
        for (int i = 0; i < NUM; i++) {
            final int p = a.acquire(A);
            assertThat(got.add(p)).isTrue();
            assertThat((p - FIRST) & 1).as("connect %d: port %d", i, p).isEqualTo(i < NUM / 2 ? 0 : 1);
        }
        assertThat(a.tryAcquire(A)).isEqualTo(PortAllocator.NONE);
        final PortAllocator b = allocator(Algorithm.linux(), 6);
        for (int i = 0; i < 20; i++) {
            assertThat((b.acquire() - FIRST) & 1).isEqualTo(1);
            assertThat((b.acquire(A) - FIRST) & 1).isEqualTo(0);
        }
    }

    @Test
    void linuxConnectAdvancesItsBucketByTwoToSixteenAndResaltsEveryTenSeconds() {
        final ConnectStyleTest.ManualClock clock = new ConnectStyleTest.ManualClock();
        final PortAllocator a = PortAllocator.builder().ports(PortSet.range(FIRST, LAST)).algorithm(Algorithm.linux())
            .seed(7).clock(clock).build();
        int previous = once(a, A);
        final Set<Integer> steps = new HashSet<>();
        for (int i = 0; i < 400; i++) {
            final int p = once(a, A);
            steps.add(step(previous, p));
            previous = p;
        }
        assertThat(steps).containsExactlyInAnyOrder(2, 4, 6, 8, 10, 12, 14, 16);
        // A new 10-second bucket gives a new offset (and usually a new table bucket): the sequence jumps. A fresh
        // offset lands more than 16 ports ahead with probability 83/100, so 200 buckets give about 166 jumps (sd
        // 5.3); without re-salting there would be none (every step above is at most 16).
        int jumps = 0;
        for (int i = 0; i < 200; i++) {
            clock.advance(Duration.ofSeconds(10));
            final int p = once(a, A);
            jumps += step(previous, p) > 16 ? 1 : 0;
            previous = p;
        }
        assertThat(jumps).isGreaterThanOrEqualTo(140);
    }

    @Test
    void uniformIsUniformPerDestination() {
        // 40 ports held exclusively, 20 used by A: A's suitable set is the other 40 ports, each equally likely.
        final PortAllocator a = allocator(Algorithm.uniform(), 8);
        for (int p = FIRST; p < FIRST + 40; p++) {
            assertThat(a.tryAcquire(p)).isTrue();
        }
        for (int p = FIRST + 40; p < FIRST + 60; p++) {
            assertThat(a.tryAcquire(p, A)).isTrue();
            assertThat(a.tryAcquire(p, B)).isTrue();
        }
        final int draws = 40_000;
        final long[] counts = new long[40];
        for (int i = 0; i < draws; i++) {
            final int p = once(a, A);
            assertThat(p).isBetween(FIRST + 60, LAST);
            counts[p - FIRST - 60]++;
        }
        assertThat(ChiSquare.statistic(counts, draws / 40.0)).isLessThan(ChiSquare.criticalValue(39));
        // B's suitable set is the same; V6 may also use the 20 shared ports
        final long[] v6 = new long[60];
        for (int i = 0; i < draws; i++) {
            v6[once(a, V6) - FIRST - 40]++;
        }
        assertThat(ChiSquare.statistic(v6, draws / 60.0)).isLessThan(ChiSquare.criticalValue(59));
    }

    @ParameterizedTest
    @MethodSource("dev.portalloc.AlgorithmTest#all")
    void everyAlgorithmFillsEveryPortForEachDestinationAndNoMore(Algorithm alg) {
        final PortAllocator a = PortAllocator.builder().ports(PortSet.range(FIRST, LAST))
            .reserved(PortSet.range(1010, 1019)).algorithm(alg).seed(9).build();
        assertThat(a.tryAcquire(1050)).isTrue();
        for (Destination d : new Destination[] {A, B, V6}) {
            final Set<Integer> got = new HashSet<>();
            for (int i = 0; i < NUM - 11; i++) {
                final int p = a.acquire(d);
                assertThat(p).isNotEqualTo(1050);
                assertThat(p < 1010 || p > 1019).as("reserved port %d", p).isTrue();
                assertThat(got.add(p)).as("%s gave %d twice to %s", alg, p, d).isTrue();
            }
            assertThat(a.tryAcquire(d)).isEqualTo(PortAllocator.NONE);
        }
        assertThat(a.stats().liveTuples()).isEqualTo(3L * (NUM - 11));
        // one tuple released: exactly that port comes back, whatever the algorithm's sequence
        a.release(1077, B);
        assertThat(a.acquire(B)).isEqualTo(1077);
    }

    @ParameterizedTest
    @MethodSource("dev.portalloc.AlgorithmTest#all")
    void seededConnectSequencesAreReproducible(Algorithm alg) {
        final PortAllocator a = allocator(alg, 10);
        final PortAllocator b = allocator(alg, 10);
        for (int i = 0; i < 50; i++) {
            final Destination d = i % 2 == 0 ? A : V6;
            assertThat(a.acquire(d)).isEqualTo(b.acquire(d));
        }
    }
}
