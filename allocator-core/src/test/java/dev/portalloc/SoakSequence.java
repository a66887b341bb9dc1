package dev.portalloc;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The global order of the soak test's operations, for {@link SoakLedger}: one counter that every operation
 * draws from when it starts (its <em>start number</em>) and that the ledger draws from for the events it
 * stamps, plus, per participant (worker or configuration thread), the start number of the operation it is
 * running.
 *
 * <p>Why: a failed allocation is judged by what happened during its call. Its thread knows the call's window
 * (the numbers drawn before and after it), but another thread may have called the allocator and not yet
 * written the outcome into the ledger. {@link #awaitOperationsStartedBefore} waits until every operation that
 * started before a number has finished (and so has recorded what it did), after which the ledger is complete
 * for the window.
 *
 * <p>Thread-safety: thread-safe; each participant calls {@link #begin}/{@link #end} only for its own index.
 */
final class SoakSequence {
    /** A participant between operations. */
    private static final long IDLE = Long.MAX_VALUE;
    /**
     * A participant about to draw its start number: it must be waited for, since the number it draws may be
     * lower than the one the waiter drew (published before drawing, so a waiter can never miss it).
     */
    private static final long STARTING = Long.MIN_VALUE;

    private final AtomicLong counter = new AtomicLong(1);
    private final AtomicLongArray running;

    SoakSequence(int participants) {
        running = new AtomicLongArray(participants);
        for (int i = 0; i < participants; i++) {
            running.set(i, IDLE);
        }
    }

    /** @return the start number of a new operation of {@code participant}, now running */
    long begin(int participant) {
        running.set(participant, STARTING);
        final long start = counter.getAndIncrement();
        running.set(participant, start);
        return start;
    }

    /** Marks the operation of {@code participant} finished: everything it records is written before this. */
    void end(int participant) {
        running.set(participant, IDLE);
    }

    /** @return a fresh number, greater than every number drawn before */
    long next() {
        return counter.getAndIncrement();
    }

    /**
     * Waits until no participant other than {@code self} runs an operation that started before {@code mark}.
     * Operations are short, and a waiting participant is idle, so this always ends.
     *
     * @param mark a number drawn by {@code self}
     * @param self the waiting participant (idle itself)
     */
    void awaitOperationsStartedBefore(long mark, int self) {
        for (int i = 0; i < running.length(); i++) {
            if (i == self) {
                continue;
            }
            while (running.get(i) < mark) {
                Thread.yield(); // 2 cores shared with other work: let the running operation finish
            }
        }
    }
}
