package dev.portalloc.bench.eval;

import dev.portalloc.Destination;
import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;

import java.time.Duration;

/**
 * A {@link PortAllocator} as a {@link Subject}. In {@link Mode#EXCLUSIVE} mode every allocation is an
 * automatic {@code tryAcquire()} (the destination is ignored, as with {@code bind(0)}).
 *
 * <p>Thread-safety: as thread-safe as the allocator, but the harness uses it from one thread.
 */
final class AllocatorSubject implements Subject {
    /** How the allocator is driven. */
    enum Mode {
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
     * @param spec the algorithm
     * @param ports the automatic set
     * @param reserved the reserved set
     * @param seed the allocator's seed (derives its generator and its secrets)
     * @param quarantine reuse delay; must be zero in exclusive mode of this release
     * @param clock the simulated clock
     * @return the subject
     */
    static AllocatorSubject create(AlgorithmSpec spec, PortSet ports, PortSet reserved, long seed, Duration quarantine,
                                   SimulatedClock clock) {
        if (!quarantine.isZero()) {
            throw new IllegalArgumentException("quarantine " + quarantine + " needs connect mode, which this "
                + "allocator-core does not have yet: use quarantine 0");
        }
        final PortAllocator a = PortAllocator.builder().ports(ports).reserved(reserved).seed(seed)
            .algorithm(spec.algorithm()).build();
        return new AllocatorSubject(a, Mode.EXCLUSIVE);
    }

    /** @return whether {@link #create} supports a non-zero quarantine */
    static boolean supportsQuarantine() {
        return false;
    }

    /** @return whether allocations depend on the destination */
    static boolean connectModeAvailable() {
        return false;
    }

    /** @return the allocator, for statistics */
    PortAllocator allocator() {
        return allocator;
    }

    @Override
    public int allocate(Destination destination) {
        return allocator.tryAcquire();
    }

    @Override
    public boolean claim(int port, Destination destination) {
        return allocator.tryAcquire(port);
    }

    @Override
    public void free(int port, Destination destination) {
        allocator.release(port);
    }

    @Override
    public void rekey() {
        allocator.rekey();
    }

    @Override
    public boolean perDestination() {
        return mode != Mode.EXCLUSIVE;
    }
}
