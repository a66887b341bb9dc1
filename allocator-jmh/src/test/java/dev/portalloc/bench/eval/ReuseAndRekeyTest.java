package dev.portalloc.bench.eval;

import dev.portalloc.PortSet;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ReuseAndRekeyTest {
    @Test
    void sequentialReuseIntervalIsTheRangeSizeMinusOne() {
        final PortSet ports = PortSet.parse("1000-1099");
        final SimulatedClock clock = new SimulatedClock();
        final Subject s = Fixtures.exclusive("bsdSequential", ports, PortSet.empty(), 1, clock);
        final ChurnRun run = Fixtures.churn(s, clock, ports, Fixtures.workload(0, Popularity.Kind.UNIFORM, 1, 1000, 0), 2);
        final double[] intervals = run.portReuseAllocations().getElements();
        assertThat(intervals).hasSize(900).containsOnly(99.0);
        // one destination: the tuple interval counts allocations to it, the same 99
        assertThat(run.tupleReuseAllocations().getElements()).containsOnly(99.0);
    }

    @Test
    void rekeyThatRewindsTheSequenceReusesTuplesEarly() {
        final PortSet ports = PortSet.parse("1000-1999");
        final SimulatedClock clock = new SimulatedClock();
        final Subject s = new ModelSubjects.RewindingSequential(ports);
        final ChurnRun run = new ChurnRun(s, Fixtures.workload(0.2, Popularity.Kind.HOT, 1, 0, 0), Seeds.workload(3),
            clock, ports, 0);
        final RekeyDisruption.Figures f = RekeyDisruption.measure(run, s, 1000);
        // by definition about 1 % of the control falls below the 1st percentile; the rewind disturbs far more
        assertThat(f.earlyControl()).isLessThan(0.03);
        assertThat(f.earlyAfterRekey()).isGreaterThan(0.08).isGreaterThan(3 * f.earlyControl());
        assertThat(f.minAfterRekey()).isLessThan(f.threshold());
    }
}
