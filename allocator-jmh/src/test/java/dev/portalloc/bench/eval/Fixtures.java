package dev.portalloc.bench.eval;

import dev.portalloc.PortSet;

import java.time.Duration;

/**
 * Small helpers shared by the harness's tests: allocator subjects and churn runs with fixed seeds.
 *
 * <p>Thread-safety: stateless.
 */
final class Fixtures {
    static final PortSet LINUX = PortSet.parse("32768-60999");

    private Fixtures() {
    }

    static AllocatorSubject connect(String algorithm, PortSet ports, PortSet reserved, long seed, SimulatedClock clock) {
        return AllocatorSubject.create(AllocatorSubject.Mode.CONNECT, AlgorithmSpec.parse(algorithm), ports, reserved,
            seed, Duration.ZERO, clock);
    }

    static AllocatorSubject exclusive(String algorithm, PortSet ports, PortSet reserved, long seed, SimulatedClock clock) {
        return AllocatorSubject.create(AllocatorSubject.Mode.EXCLUSIVE, AlgorithmSpec.parse(algorithm), ports, reserved,
            seed, Duration.ZERO, clock);
    }

    static ChurnWorkload workload(double occupancy, Popularity.Kind popularity, int destinations, int allocations,
                                  int probeEvery) {
        return new ChurnWorkload(occupancy, popularity, Lifetimes.Kind.EXPONENTIAL, destinations, 1.0, 0.9, 100,
            allocations, probeEvery);
    }

    /** Runs a churn against a subject built on {@code clock}. */
    static ChurnRun churn(Subject subject, SimulatedClock clock, PortSet selectable, ChurnWorkload w, long seed) {
        return new ChurnRun(subject, w, Seeds.workload(seed), clock, selectable, 0).run();
    }
}
