package dev.portalloc.bench.eval;

import dev.portalloc.PortSet;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Metric 5: candidates examined per allocation, from the difference of {@code AllocatorStats.probes()}. */
class ProbesPerAllocationTest {
    private static double[] probes(String algorithm, boolean connect, double occupancy) {
        final SimulatedClock clock = new SimulatedClock();
        final Subject s = connect ? Fixtures.connect(algorithm, Fixtures.LINUX, PortSet.empty(), 7, clock)
            : Fixtures.exclusive(algorithm, Fixtures.LINUX, PortSet.empty(), 7, clock);
        final ChurnRun run = Fixtures.churn(s, clock, Fixtures.LINUX,
            Fixtures.workload(occupancy, Popularity.Kind.UNIFORM, 100, 2000, 0), 8);
        return run.probes().getElements();
    }

    @Test
    void uniformOnAnEmptyRangeTakesTheFirstCandidateInsideTheRange() {
        // At occupancy 0 every connection ends before the next arrives, so the first candidate inside the range
        // is free. Exclusive candidates are offsets over the range's power-of-two cover (32,768 offsets for the
        // 28,232 ports of 32768-60999), and an offset past the range counts as a probe: the count is geometric
        // with success probability 28232 / 32768, mean 32768 / 28232 = 1.161 (standard error over 2,000 draws
        // 0.01), never past the 16 probes that precede the exact pass.
        final double[] exclusive = probes("uniform", false, 0);
        assertThat(exclusive).hasSize(2000);
        final double[] stats = Statistics.meanP50P99Max(exclusive);
        assertThat(Arrays.stream(exclusive).min().orElseThrow()).isEqualTo(1.0);
        assertThat(stats[0]).as("mean").isCloseTo(32768.0 / 28232, within(0.05));
        assertThat(stats[1]).as("median").isEqualTo(1.0);
        assertThat(stats[3]).as("max").isGreaterThan(1.0).isLessThanOrEqualTo(16.0);

        // connect-style candidates are bounded draws over the range itself: exactly one each
        final double[] connect = probes("uniform", true, 0);
        assertThat(connect).hasSize(2000).containsOnly(1.0);
    }

    @Test
    void uniformExaminesMoreCandidatesAtHighOccupancy() {
        final double[] empty = Statistics.meanP50P99Max(probes("uniform", false, 0));
        final double[] samples = probes("uniform", false, 0.9);
        // one figure per measured allocation: the fill's 25,409 allocations are not counted
        assertThat(samples).hasSize(2000);
        final double[] busy = Statistics.meanP50P99Max(samples);
        // rejection sampling at 90 %: about 1 / 0.1 = 10 random candidates, or the exact pass's block counts
        assertThat(busy[0]).isGreaterThan(3 * empty[0]);
        assertThat(busy[2]).isGreaterThan(empty[2]);
    }

    @Test
    void sequentialScanExaminesTheRunOfUsedPortsItCrosses() {
        // bsdSequential at occupancy 0 finds its next port free at once: the same small count every time (its
        // word-level skip of refused ports reads the word as well as testing the port); at 99 % it crosses runs
        // of used ports, so some allocations examine more
        final double[] empty = Statistics.meanP50P99Max(probes("bsdSequential", false, 0));
        assertThat(empty[0]).isEqualTo(empty[3]).isLessThanOrEqualTo(2);
        final double[] busy = Statistics.meanP50P99Max(probes("bsdSequential", false, 0.99));
        assertThat(busy[0]).isGreaterThan(empty[0]);
        assertThat(busy[3]).isGreaterThan(2 * empty[3]);
    }

    @Test
    void subjectsThatDoNotCountProbesGiveNoFigure() {
        final PortSet ports = PortSet.parse("1000-1099");
        final SimulatedClock clock = new SimulatedClock();
        final ChurnRun run = Fixtures.churn(new ModelSubjects.RewindingSequential(ports), clock, ports,
            Fixtures.workload(0.5, Popularity.Kind.UNIFORM, 1, 200, 0), 9);
        assertThat(run.probes().getNumElements()).isZero();
    }
}
