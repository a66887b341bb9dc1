package dev.portalloc.examples.netty;

import dev.portalloc.examples.netty.NettyLoadGenerator.Result;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NettyLoadGeneratorTest {

    @Test
    void everyConnectionGetsItsLeasedPortAndGivesItBackOnClose() throws Exception {
        try (SocketChannel probe = SocketChannel.open()) {
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        } catch (IOException e) {
            assumeTrue(false, "skipped: cannot bind 127.0.0.1 here: " + e);
        }
        final ByteArrayOutputStream text = new ByteArrayOutputStream();
        final Result r = NettyLoadGenerator.run(3, 16, 2, new PrintStream(text, true, StandardCharsets.UTF_8));
        final String log = text.toString(StandardCharsets.UTF_8);
        System.out.print(log); // into the Surefire report: how many connects were retried

        final int addresses = r.localAddresses().size();
        assertThat(addresses).as(log).isBetween(1, 3);
        if (System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).startsWith("linux")) {
            assertThat(addresses).as("Linux routes 127.0.0.0/8 to loopback: all three addresses work").isEqualTo(3);
        }
        // Every range is filled towards the one backend: ports x addresses connections at once.
        assertThat(r.peakConnections()).as(log).isEqualTo(16 * addresses);
        assertThat(r.connects()).as(log).isEqualTo(2L * 16 * addresses);
        assertThat(r.echoes()).isEqualTo(r.connects());
        // refused after the retries for a tuple the kernel still held from the previous round
        assertThat(r.refusedConnects()).as(log).isZero();
        assertThat(r.wrongLocalAddresses()).isZero();
        assertThat(r.extraLeasesGranted()).isZero();
        // closeFuture listeners released every port
        assertThat(r.heldAfterwards()).isZero();
    }
}
