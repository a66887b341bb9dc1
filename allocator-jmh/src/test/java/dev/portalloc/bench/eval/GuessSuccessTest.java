package dev.portalloc.bench.eval;

import dev.portalloc.PortSet;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class GuessSuccessTest {
    private static final PortSet NONE = PortSet.empty();

    private static GuessSuccess.View view(List<GuessSuccess.View> views, String name) {
        return views.stream().filter(v -> v.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void bsdSequentialIsGuessedEveryTimeFromThePreviousPortsToTheDestination() {
        final SimulatedClock clock = new SimulatedClock();
        final Subject subject = Fixtures.connect("bsdSequential", Fixtures.LINUX, NONE, 1, clock);
        final ChurnRun run = Fixtures.churn(subject, clock, Fixtures.LINUX,
            Fixtures.workload(0, Popularity.Kind.UNIFORM, 1, 2000, 0), 2);
        final GuessSuccess.View b = GuessSuccess.viewB(run.log());
        assertThat(b.trials()).isEqualTo(1998);
        assertThat(b.byPredictor().get("last+1")[0]).isEqualTo(1.0);
        assertThat(b.best()[0]).isEqualTo(1.0);
        assertThat(b.minEntropyBits()).isEqualTo(0.0);
    }

    @Test
    void hashIsGuessedFromTheAttackersOwnProbesInExclusiveMode() {
        final SimulatedClock clock = new SimulatedClock();
        final Subject subject = Fixtures.exclusive("hash", Fixtures.LINUX, NONE, 1, clock);
        final ChurnRun run = Fixtures.churn(subject, clock, Fixtures.LINUX,
            Fixtures.workload(0, Popularity.Kind.UNIFORM, 100, 800, 4), 2);
        final GuessSuccess.View c = GuessSuccess.viewC(run.log());
        assertThat(c.trials()).isEqualTo(200);
        assertThat(c.byPredictor().get("before+1")[0]).isEqualTo(1.0);
    }

    @Test
    void uniformStaysNearTheIdealInEveryView() {
        final SimulatedClock clock = new SimulatedClock();
        final Subject subject = Fixtures.connect("uniform", Fixtures.LINUX, NONE, 3, clock);
        final ChurnRun run = Fixtures.churn(subject, clock, Fixtures.LINUX,
            Fixtures.workload(0.5, Popularity.Kind.HOT, 50, 6000, 8), 4);
        for (GuessSuccess.View v : GuessSuccess.compute(run.log())) {
            // ideal P100 is about 100 / 14,116 = 0.0071; allow sampling noise, not structure
            assertThat(v.best()[2]).as("view %s", v.name()).isLessThan(4 * v.ideal()[2]);
            assertThat(v.best()[0]).as("view %s", v.name()).isLessThan(0.005);
        }
    }

    @Test
    void ranksOfThePredictors() {
        assertThat(GuessSuccess.spiralRank(100, 100)).isZero();
        assertThat(GuessSuccess.spiralRank(101, 100)).isEqualTo(1);
        assertThat(GuessSuccess.spiralRank(99, 100)).isEqualTo(2);
        assertThat(GuessSuccess.spiralRank(102, 100)).isEqualTo(3);
        // steps 2, 2, 5: the most frequent step 2 is guessed first, then 5
        assertThat(GuessSuccess.frequentStepRank(new int[] {10, 12, 14, 19}, 21)).isZero();
        assertThat(GuessSuccess.frequentStepRank(new int[] {10, 12, 14, 19}, 24)).isEqualTo(1);
    }

    @Test
    void viewAGuessesTheMostFrequentPortsOfTheFirstHalf() {
        final AllocationLog log = new AllocationLog();
        for (int i = 0; i < 100; i++) {
            log.add(0, 5000 + (i % 2), 1000); // only two ports ever: the attacker's two best guesses cover all
        }
        final GuessSuccess.View a = GuessSuccess.viewA(log);
        assertThat(a.trials()).isEqualTo(50);
        assertThat(a.best()[0]).isEqualTo(0.5);
        assertThat(a.best()[1]).isEqualTo(1.0);
        assertThat(a.ideal()[0]).isCloseTo(0.001, org.assertj.core.data.Offset.offset(1e-12));
    }
}
