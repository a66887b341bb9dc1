package dev.portalloc.examples.simulation;

import org.agrona.concurrent.NanoClock;

/**
 * The simulator's clock: virtual nanoseconds that move only when the event loop says so.
 *
 * <p>It implements Agrona's {@link NanoClock}, which is what {@code PortAllocator.Builder.clock(...)} takes,
 * so the allocator's quarantine (TIME_WAIT-like reuse delay) runs on simulated time: a tuple released at
 * virtual second 10 with a 60 s quarantine becomes usable at virtual second 70, however fast or slow the
 * simulation runs. An existing simulator does not need this class: pass a lambda that reads its own clock,
 * {@code .clock(() -> simulator.now())}, converting to nanoseconds if needed.
 *
 * <p>Thread-safety: not thread-safe, like the single-threaded simulation that owns it; the allocators read it
 * only from the simulation thread.
 */
public final class VirtualClock implements NanoClock {
    private long nanos;

    @Override
    public long nanoTime() {
        return nanos;
    }

    /**
     * @param nanos the new time; the clock never goes back
     * @throws IllegalArgumentException if {@code nanos} is before the current time
     */
    public void advanceTo(long nanos) {
        if (nanos < this.nanos) {
            throw new IllegalArgumentException("virtual time cannot go back: " + nanos + " < " + this.nanos);
        }
        this.nanos = nanos;
    }
}
