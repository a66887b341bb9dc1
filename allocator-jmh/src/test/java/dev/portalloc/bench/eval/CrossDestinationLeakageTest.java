package dev.portalloc.bench.eval;

import dev.portalloc.PortSet;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CrossDestinationLeakageTest {
    private static double leakage(String algorithm, double occupancy) {
        final SimulatedClock clock = new SimulatedClock();
        final Subject s = Fixtures.connect(algorithm, Fixtures.LINUX, PortSet.empty(), 11, clock);
        return CrossDestinationLeakage.rSquared(s, Fixtures.LINUX, occupancy, 1500, 1000, Seeds.workload(12));
    }

    @Test
    void hashsGlobalCounterLeaksTheHiddenConnectionsAlmostPerfectly() {
        assertThat(leakage("hash", 0)).isGreaterThan(0.99);
    }

    @Test
    void uniformLeaksNothing() {
        assertThat(leakage("uniform", 0)).isLessThan(0.01);
        assertThat(leakage("uniform", 0.9)).isLessThan(0.01);
    }

    @Test
    void doubleHashSeparatesDestinationsIntoBuckets() {
        // other destinations advance other buckets: the attacker's step stays 1 unless one shares its bucket
        assertThat(leakage("doubleHash:65536", 0)).isLessThan(0.05);
    }
}
