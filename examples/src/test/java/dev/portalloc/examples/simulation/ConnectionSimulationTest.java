package dev.portalloc.examples.simulation;

import dev.portalloc.examples.simulation.ConnectionSimulation.Result;
import dev.portalloc.examples.simulation.ConnectionSimulation.Scenario;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class ConnectionSimulationTest {

    private static final PrintStream DISCARD = new PrintStream(new ByteArrayOutputStream(), true,
        StandardCharsets.UTF_8);

    /** The standard run, shared by the tests: it is deterministic, so one run serves them all. */
    private static Result standard;
    private static String standardText;

    @BeforeAll
    static void runStandard() {
        final ByteArrayOutputStream text = new ByteArrayOutputStream();
        standard = ConnectionSimulation.run(Scenario.standard(42), new PrintStream(text, true, StandardCharsets.UTF_8),
            true);
        standardText = text.toString(StandardCharsets.UTF_8);
    }

    @Test
    void sameSeedSameTraceOtherSeedOtherTrace() {
        final ByteArrayOutputStream again = new ByteArrayOutputStream();
        final Result b = ConnectionSimulation.run(Scenario.standard(42),
            new PrintStream(again, true, StandardCharsets.UTF_8), true);
        assertThat(b).isEqualTo(standard);
        assertThat(again.toString(StandardCharsets.UTF_8)).isEqualTo(standardText)
            .contains(String.format("trace hash %016x", standard.traceHash()));

        final Result other = ConnectionSimulation.run(Scenario.standard(43), DISCARD, false);
        assertThat(other.traceHash()).isNotEqualTo(standard.traceHash());
    }

    @Test
    void quarantineHoldsAndTheRampRunsTheHostsOutOfPorts() {
        final Result r = standard;
        // The allocator never hands out a live tuple or one still in TIME_WAIT.
        assertThat(r.duplicateTuples()).isZero();
        assertThat(r.quarantineViolations()).isZero();
        // Exhaustion comes with the load, not at once: the standard scenario's capacity (512 tuples per host
        // and server) is passed at about 25 opens per second per host, reached after about 2 minutes.
        assertThat(r.exhausted()).isPositive();
        assertThat(r.firstExhaustionSeconds()).isBetween(90.0, 170.0);
        // TIME_WAIT, not live connections, fills the ports: 6 hosts x 3 servers x 512 tuples at most.
        assertThat(r.peakQuarantined()).isGreaterThan(10 * r.peakLive());
        assertThat(r.peakQuarantined()).isLessThanOrEqualTo(6 * 3 * 512);
        assertThat(r.connects() - r.closes()).isBetween(0L, r.peakLive() + 1000);
    }

    @Test
    void withoutQuarantineTheSameLoadFitsEasily() {
        final Scenario s = Scenario.standard(42);
        final Result r = ConnectionSimulation.run(new Scenario(s.seed(), s.hosts(), s.servers(), s.ports(),
            Duration.ZERO, s.duration(), s.startRate(), s.endRate(), s.meanConnection(), s.reportEvery()),
            DISCARD, false);
        assertThat(r.exhausted()).isZero();
        assertThat(r.peakQuarantined()).isZero();
        assertThat(r.duplicateTuples()).isZero();
    }
}
