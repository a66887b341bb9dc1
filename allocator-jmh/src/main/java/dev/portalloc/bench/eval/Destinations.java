package dev.portalloc.bench.eval;

import dev.portalloc.Destination;

/**
 * The simulated remote endpoints: workload destination {@code i} is {@code 198.18.x.y:443} (the benchmarking
 * range 198.18.0.0/15, RFC 2544), the attacker's servers are in 203.0.113.0/24 (TEST-NET-3) and the
 * loopback destinations of the fingerprint attack are {@code 127.0.0.1:port}.
 *
 * <p>Thread-safety: stateless.
 */
final class Destinations {
    private static final int BENCHMARK_NET = 0xC612_0000; // 198.18.0.0
    private static final int ATTACKER_NET = 0xCB00_7100; // 203.0.113.0
    private static final int LOOPBACK = 0x7F00_0001; // 127.0.0.1

    private Destinations() {
    }

    /** @return workload destination {@code index} (0..131071) */
    static Destination workload(int index) {
        if (index < 0 || index >= 1 << 17) {
            throw new IllegalArgumentException("workload destination index must be 0..131071, but was " + index);
        }
        return Destination.ipv4(BENCHMARK_NET + index, 443);
    }

    /** @return the attacker's server {@code host} (0..255) on {@code port} */
    static Destination attacker(int host, int port) {
        return Destination.ipv4(ATTACKER_NET + (host & 0xFF), port);
    }

    /** @return {@code 127.0.0.1:port} */
    static Destination loopback(int port) {
        return Destination.ipv4(LOOPBACK, port);
    }
}
