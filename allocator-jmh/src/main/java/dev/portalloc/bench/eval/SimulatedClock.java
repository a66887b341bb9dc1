package dev.portalloc.bench.eval;

import org.agrona.concurrent.NanoClock;

/**
 * The simulated time of a workload, in nanoseconds, given to allocators as their clock so that quarantine and
 * time-bucketed hashes follow the simulation rather than the wall clock (and seeded runs stay reproducible).
 *
 * <p>Thread-safety: not thread-safe; the harness runs each simulation in one thread.
 */
final class SimulatedClock implements NanoClock {
    private long nanos;

    @Override
    public long nanoTime() {
        return nanos;
    }

    /** @return the time in seconds */
    double seconds() {
        return nanos / 1e9;
    }

    /**
     * Moves time forward; a time in the past is ignored (events at equal times are ordered by the caller).
     *
     * @param seconds the new time in seconds
     */
    void advanceTo(double seconds) {
        nanos = Math.max(nanos, (long) Math.ceil(seconds * 1e9));
    }
}
