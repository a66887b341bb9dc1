package dev.portalloc.bench.eval;

import dev.portalloc.PortSet;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class UniformityTest {
    private static Uniformity.Figures run(String algorithm, PortSet ports, PortSet reserved, double occupancy, int n) {
        final SimulatedClock clock = new SimulatedClock();
        final Subject s = Fixtures.connect(algorithm, ports, reserved, 21, clock);
        final ChurnRun r = Fixtures.churn(s, clock, ports.minus(reserved),
            Fixtures.workload(occupancy, Popularity.Kind.UNIFORM, 200, n, 0), 22);
        return Uniformity.compute(r.log(), ports, reserved);
    }

    @Test
    void uniformPassesTheChiSquareTest() {
        final Uniformity.Figures f = run("uniform", PortSet.parse("10000-10999"), PortSet.empty(), 0.5, 20000);
        assertThat(f.chiSquareP()).isGreaterThan(0.001);
        assertThat(f.bins()).isEqualTo(1000); // 20 expected per port: one port per bin
        assertThat(Math.abs(f.lag1Autocorrelation())).isLessThan(0.05);
    }

    @Test
    void bsdSequentialIsRejectedAndPerfectlyAutocorrelated() {
        final Uniformity.Figures f = run("bsdSequential", Fixtures.LINUX, PortSet.empty(), 0, 5000);
        assertThat(f.chiSquareP()).isLessThan(1e-6); // only the first 5,000 ports are ever used
        assertThat(f.lag1Autocorrelation()).isGreaterThan(0.99);
    }

    @Test
    void randomStartFavoursThePortAfterAReservedBlock() {
        // RFC 6056 §5: Algorithm 1 picks the first port after a block whenever its random start falls inside it
        final Uniformity.Figures f = run("randomStart", PortSet.parse("10000-10999"), PortSet.parse("10100-10399"),
            0, 7000);
        assertThat(f.postGapBias()).isGreaterThan(100);
        final Uniformity.Figures u = run("uniform", PortSet.parse("10000-10999"), PortSet.parse("10100-10399"), 0, 7000);
        assertThat(u.postGapBias()).isLessThan(5);
    }

    @Test
    void countsAloneGiveTheKnownVerdicts() {
        final PortSet ports = PortSet.parse("1-100");
        final long[] even = new long[100];
        Arrays.fill(even, 50);
        final Uniformity.Figures flat = Uniformity.fromCounts(even, new double[0], ports, ports, PortSet.empty());
        assertThat(flat.chiSquareP()).isEqualTo(1.0);
        assertThat(flat.maxMinRatio()).isEqualTo(1.0);
        final long[] skewed = even.clone();
        skewed[0] = 500;
        final Uniformity.Figures bad = Uniformity.fromCounts(skewed, new double[0], ports, ports, PortSet.empty());
        assertThat(bad.chiSquareP()).isLessThan(1e-9);
        assertThat(bad.maxMinRatio()).isEqualTo(10.0);
    }
}
