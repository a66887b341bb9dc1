package dev.portalloc.bench.eval;

import dev.portalloc.Destination;
import dev.portalloc.PortSet;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ShadowLedgerTest {
    private static final PortSet SMALL = PortSet.parse("2000-2063");

    @Test
    void anAllocatorThatGivesUpEarlyIsCaughtAsFalseExhaustion() {
        final SimulatedClock clock = new SimulatedClock();
        final Subject capped = new ModelSubjects.GivesUpEarly(SMALL, 2);
        final ChurnRun run = Fixtures.churn(capped, clock, SMALL, Fixtures.workload(0.9, Popularity.Kind.UNIFORM, 10, 2000, 0), 1);
        assertThat(run.ledger().falseExhaustions()).isPositive();
    }

    @Test
    void everyAlgorithmHasNoFalseExhaustionAtTheTopOccupancy() {
        for (String algorithm : new String[] {"uniform", "bsdSequential", "randomStart", "randomProbe", "hash",
            "doubleHash:256", "randomIncrements:500", "linux"}) {
            for (Popularity.Kind popularity : Popularity.Kind.values()) {
                final SimulatedClock clock = new SimulatedClock();
                final Subject s = Fixtures.connect(algorithm, SMALL, PortSet.empty(), 5, clock);
                final ChurnRun run = Fixtures.churn(s, clock, SMALL, Fixtures.workload(0.98, popularity, 3, 3000, 4), 6);
                assertThat(run.ledger().violationCount()).as(algorithm + " " + popularity + " "
                    + run.ledger().violationMessages()).isZero();
            }
        }
    }

    @Test
    void duplicatesAndQuarantineBreachesAreViolations() {
        final Destination d = Destinations.workload(1);
        final ShadowLedger exclusive = new ShadowLedger(SMALL, false, 0);
        exclusive.acquired(2000, d, 0);
        exclusive.acquired(2000, Destinations.workload(2), 0); // exclusive: another destination does not help
        assertThat(exclusive.violationCount()).isEqualTo(1);

        final ShadowLedger connect = new ShadowLedger(SMALL, true, 1_000);
        connect.acquired(2000, d, 0);
        connect.acquired(2000, Destinations.workload(2), 0); // connect: shared port, distinct tuples
        assertThat(connect.violationCount()).isZero();
        connect.released(2000, d, 10);
        assertThat(connect.freeFor(d, 20)).isEqualTo(63);
        connect.acquired(2000, d, 500); // still quarantined until 1,010
        assertThat(connect.violationCount()).isEqualTo(1);
        assertThat(connect.freeFor(Destinations.workload(3), 20)).isEqualTo(64);
    }

    @Test
    void aFailureWithEveryPortTakenIsATrueExhaustion() {
        final ShadowLedger ledger = new ShadowLedger(PortSet.parse("3000-3001"), true, 0);
        final Destination d = Destinations.workload(1);
        ledger.acquired(3000, d, 0);
        assertThat(ledger.failed(d, 0)).isTrue(); // 3001 was free
        ledger.acquired(3001, d, 0);
        assertThat(ledger.failed(d, 0)).isFalse();
        assertThat(ledger.trueExhaustions()).isEqualTo(1);
        assertThat(ledger.falseExhaustions()).isEqualTo(1);
    }
}
