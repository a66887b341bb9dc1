package dev.portalloc.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;

/**
 * Baseline: let the operating system choose. Binding a UDP socket to port 0 of the loopback address makes the
 * kernel pick a free ephemeral port (on Linux from {@code net.ipv4.ip_local_port_range}); closing the socket
 * releases it. Thread-safe (the kernel serialises). The cost includes the system calls, the file descriptor
 * and the channel object, which is what a program that probes ports through the OS pays.
 */
final class LoopbackUdpPorts {
    private LoopbackUdpPorts() {
    }

    /** @return the port the kernel chose, already released */
    static int acquireAndRelease() throws IOException {
        try (DatagramChannel channel = DatagramChannel.open()) {
            channel.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return ((InetSocketAddress) channel.getLocalAddress()).getPort();
        }
    }
}
