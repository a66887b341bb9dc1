package dev.portalloc.bench.eval;

import dev.portalloc.PortSet;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TraceReplayTest {
    @Test
    void theBundledSampleReplaysWithoutViolations() throws IOException {
        final List<TraceReplay.Event> events = TraceReplay.read(EvaluationSettings.SAMPLE_TRACE);
        assertThat(events).hasSizeGreaterThan(500);
        final SimulatedClock clock = new SimulatedClock();
        final Subject s = Fixtures.connect("linux", Fixtures.LINUX, PortSet.empty(), 1, clock);
        final TraceReplay.Outcome o = TraceReplay.replay(events, s, Fixtures.LINUX, 0, clock);
        assertThat(o.opens()).isEqualTo(events.stream().filter(TraceReplay.Event::open).count());
        assertThat(o.granted()).isEqualTo(o.opens());
        assertThat(o.violations()).isZero();
        assertThat(o.explicitConflicts()).isZero();
    }

    @Test
    void explicitPortsCloseByPortAndConflictsAreCounted() {
        final List<TraceReplay.Event> events = TraceReplay.parse(List.of(
            "time,op,destination,port",
            "0,open,192.0.2.1:80,40000",
            "0.1,open,192.0.2.1:80,40000",
            "0.2,open,192.0.2.2:80,40000",
            "0.3,open,[2001:db8::1]:443",
            "0.4,close,192.0.2.1:80,40000",
            "0.5,close,[2001:db8::1]:443"), "inline");
        final SimulatedClock clock = new SimulatedClock();
        final Subject s = Fixtures.connect("uniform", Fixtures.LINUX, PortSet.empty(), 1, clock);
        final TraceReplay.Outcome o = TraceReplay.replay(events, s, Fixtures.LINUX, 0, clock);
        assertThat(o.opens()).isEqualTo(4);
        assertThat(o.explicitConflicts()).isEqualTo(1); // the same tuple twice
        assertThat(o.granted()).isEqualTo(3);
        assertThat(o.violations()).isZero();
    }

    @Test
    void badLinesNameTheirNumberAndWhatWasExpected() {
        assertThatThrownBy(() -> TraceReplay.parse(List.of("0,open,192.0.2.1:80", "x,open,192.0.2.1:80"), "t"))
            .hasMessageContaining("line 2").hasMessageContaining("time in seconds");
        assertThatThrownBy(() -> TraceReplay.parse(List.of("1,open,192.0.2.1:80", "0.5,open,192.0.2.1:80"), "t"))
            .hasMessageContaining("line 2").hasMessageContaining("≥ the previous");
        assertThatThrownBy(() -> TraceReplay.parse(List.of("0,connect,192.0.2.1:80"), "t"))
            .hasMessageContaining("'open' or 'close'");
        assertThatThrownBy(() -> TraceReplay.parse(List.of("0,open,192.0.2.1:80,70000"), "t"))
            .hasMessageContaining("1..65535");
        assertThatThrownBy(() -> TraceReplay.parse(List.of("0,open,nowhere"), "t"))
            .hasMessageContaining("address:port");
    }
}
