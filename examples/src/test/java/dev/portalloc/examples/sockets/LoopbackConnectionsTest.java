package dev.portalloc.examples.sockets;

import dev.portalloc.PortSet;
import dev.portalloc.examples.sockets.LoopbackConnections.Result;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class LoopbackConnectionsTest {

    @Test
    void theKernelAcceptsEveryTupleAndRefusesTheDeliberateDuplicate() throws IOException {
        assumeTrue(LoopbackConnections.isLinux(), () -> "skipped: needs Linux (127.0.0.0/8 on loopback, "
            + "/proc/sys/net/ipv4/ip_local_port_range); os.name is " + System.getProperty("os.name"));
        final ByteArrayOutputStream text = new ByteArrayOutputStream();
        final Result r = LoopbackConnections.run(32, 4, 2, 7, new PrintStream(text, true, StandardCharsets.UTF_8));

        assertThat(r.refusedBinds()).as(text.toString(StandardCharsets.UTF_8)).isZero();
        assertThat(r.refusedConnects()).isZero();
        assertThat(r.wrongLocalPorts()).isZero();
        // Four times as many concurrent connections as ports: each port carries one per server.
        assertThat(r.servers()).isEqualTo(4);
        assertThat(r.peakConnections()).isEqualTo(4 * 32);
        assertThat(r.distinctPortsUsed()).isEqualTo(32);
        assertThat(r.connectsTotal()).isGreaterThan(r.peakConnections());
        // The oracle works: a duplicate live 4-tuple is refused.
        assertThat(r.controlRefused()).as(r.controlMessage()).isTrue();
        assertThat(r.portRange().intersect(PortSet.hostEphemeralRange()).isEmpty()).isTrue();
        assertThat(text.toString(StandardCharsets.UTF_8)).contains("verdict: the kernel accepted every tuple");
    }

    @Test
    void rangeStaysOutsideTheEphemeralRange() {
        assertThat(LoopbackConnections.rangeOutside(PortSet.parse("32768-60999"), 64, p -> true))
            .isEqualTo(PortSet.parse("63000-63063"));
        assertThat(LoopbackConnections.rangeOutside(PortSet.parse("49152-65535"), 64, p -> true))
            .isEqualTo(PortSet.parse("49088-49151"));
        assertThatThrownBy(() -> LoopbackConnections.rangeOutside(PortSet.parse("1024-65535"), 64, p -> true))
            .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void rangeAvoidsPortsSomeoneHasBound() {
        // 63010 taken: the 63000 window is skipped for the next candidate.
        assertThat(LoopbackConnections.rangeOutside(PortSet.parse("32768-60999"), 64, p -> p != 63_010))
            .isEqualTo(PortSet.parse("62000-62063"));
    }
}
