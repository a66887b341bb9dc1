package dev.portalloc.bench.eval;

import dev.portalloc.Destination;
import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;

import java.time.Duration;

/**
 * A {@link PortAllocator} as a {@link Subject}, driven in one of two modes: {@link Mode#CONNECT} (5-tuples:
 * {@code tryAcquire(d)} / {@code release(port, d)}, a port shared by connections to different destinations) or
 * {@link Mode#EXCLUSIVE} ({@code bind(0)}-style: {@code tryAcquire()} / {@code release(port)}, the destination
 * ignored). The allocator is seeded and uses the simulation's clock, so quarantine expiry and Linux's 10-second
 * hash bucket follow simulated time and seeded runs are reproducible.
 *
 * <p>Thread-safety: as thread-safe as the allocator, but the harness uses it from one thread.
 */
final class AllocatorSubject implements Subject {
    /** How the allocator is driven. */
    enum Mode {
        /** {@code tryAcquire(d)} / {@code release(port, d)}. */
        CONNECT,
        /** {@code tryAcquire()} / {@code release(port)}. */
        EXCLUSIVE
    }

    private final PortAllocator allocator;
    private final Mode mode;

    private AllocatorSubject(PortAllocator allocator, Mode mode) {
        this.allocator = allocator;
        this.mode = mode;
    }

    /**
     * Builds a seeded allocator.
     *
     * @param mode how it is driven
     * @param spec the algorithm
     * @param ports the automatic set
     * @param reserved the reserved set
     * @param seed the allocator's seed (derives its generator and its secrets)
     * @param quarantine reuse delay, zero for none
     * @param clock the simulated clock
     * @return the subject
     */
    static AllocatorSubject create(Mode mode, AlgorithmSpec spec, PortSet ports, PortSet reserved, long seed,
                                   Duration quarantine, SimulatedClock clock) {
        return create(mode, spec, ports, reserved, seed, quarantine, clock, 0, 0);
    }

    /**
     * As {@link #create(Mode, AlgorithmSpec, PortSet, PortSet, long, Duration, SimulatedClock)}, with
     * {@code PortAllocator.Builder.threadLocality(segmentPorts, allocationsPerSegment)} when {@code segmentPorts}
     * is not 0.
     *
     * @param segmentPorts ports per segment, or 0 for thread locality off
     * @param allocationsPerSegment acquisitions per segment (ignored when off)
     */
    static AllocatorSubject create(Mode mode, AlgorithmSpec spec, PortSet ports, PortSet reserved, long seed,
                                   Duration quarantine, SimulatedClock clock, int segmentPorts,
                                   int allocationsPerSegment) {
        final PortAllocator.Builder b = PortAllocator.builder().ports(ports).reserved(reserved).seed(seed)
            .algorithm(spec.algorithm()).clock(clock);
        if (!quarantine.isZero()) {
            b.quarantine(quarantine);
        }
        if (segmentPorts != 0) {
            b.threadLocality(segmentPorts, allocationsPerSegment);
        }
        return new AllocatorSubject(b.build(), mode);
    }

    /** @return the allocator, for statistics */
    PortAllocator allocator() {
        return allocator;
    }

    @Override
    public int allocate(Destination destination) {
        return mode == Mode.CONNECT ? allocator.tryAcquire(destination) : allocator.tryAcquire();
    }

    @Override
    public boolean claim(int port, Destination destination) {
        return mode == Mode.CONNECT ? allocator.tryAcquire(port, destination) : allocator.tryAcquire(port);
    }

    @Override
    public void free(int port, Destination destination) {
        if (mode == Mode.CONNECT) {
            allocator.release(port, destination);
        } else {
            allocator.release(port);
        }
    }

    @Override
    public void rekey() {
        allocator.rekey();
    }

    /** {@code stats().probes()}: cheap enough per call in the single-threaded simulation (a brief lock). */
    @Override
    public long probes() {
        return allocator.stats().probes();
    }

    @Override
    public boolean perDestination() {
        return mode == Mode.CONNECT;
    }
}
