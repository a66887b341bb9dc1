package dev.portalloc.internal.thread;

import dev.portalloc.internal.random.RandomSource;

/**
 * The per-thread states of one allocator, and the sums of their counters.
 *
 * <p>Thread-safety: {@link #current()} is lock-free after a thread's first call, which registers the thread
 * under a lock (once per thread and allocator, never on later calls). Later calls find the state in a small
 * table indexed by thread id (a plain array read and an id comparison: measured, a {@code ThreadLocal} look-up
 * costs several nanoseconds, a tenth of an acquire+release), and fall back to a {@code ThreadLocal} for a
 * thread whose slot another live thread holds. Registration also retires the states
 * of threads that have died, folding their counts into running totals, so memory stays bounded by the
 * number of live threads that used the allocator. {@link #totals()} is weakly consistent.
 *
 * <p>Randomness: without a seed each thread's generator is keyed from {@link java.security.SecureRandom};
 * with a seed, the n-th thread to register gets stream n of that seed, so a single-threaded caller (stream
 * 0) sees exactly the same choices on every run.
 */
public final class ThreadStates {
    /** Slots of the id-indexed table: thread ids are sequential, so the threads of a pool rarely collide. */
    private static final int SLOTS = 32;

    private final ThreadLocal<ThreadState> local = ThreadLocal.withInitial(this::register);
    /**
     * Slot {@code id & (SLOTS - 1)}: the state of the thread with that id, or of a dead thread, or null. Written
     * under the lock, read with plain loads: a reader compares the slot's final {@code threadId} with its own,
     * and only the owner thread, which created the state, uses the state it finds.
     */
    private final ThreadState[] slots = new ThreadState[SLOTS];
    private final boolean seeded;
    private final long seed;
    private final Object lock = new Object();
    private volatile ThreadState[] registered = new ThreadState[0];
    private long nextStream;
    private long retiredAcquisitions;
    private long retiredReleases;
    private long retiredFailures;
    private long retiredProbes;

    /** States whose generators are keyed from SecureRandom. */
    public static ThreadStates secure() {
        return new ThreadStates(false, 0);
    }

    /** States whose generators derive deterministically from {@code seed}. */
    public static ThreadStates seeded(long seed) {
        return new ThreadStates(true, seed);
    }

    private ThreadStates(boolean seeded, long seed) {
        this.seeded = seeded;
        this.seed = seed;
    }

    /** @return the calling thread's state, registering the thread on first use */
    public ThreadState current() {
        final Thread thread = Thread.currentThread();
        final long id = thread.getId();
        final ThreadState slot = slots[(int) id & (SLOTS - 1)];
        return slot != null && slot.threadId == id ? slot : local.get();
    }

    private ThreadState register() {
        synchronized (lock) {
            final RandomSource random = seeded ? RandomSource.fromSeed(seed, nextStream++) : RandomSource.fromSecureRandom();
            final Thread thread = Thread.currentThread();
            final ThreadState state = new ThreadState(random, thread);
            final int slot = (int) thread.getId() & (SLOTS - 1);
            final ThreadState occupant = slots[slot];
            final Thread occupantThread = occupant == null ? null : occupant.owner.get();
            if (occupantThread == null || !occupantThread.isAlive()) {
                slots[slot] = state; // a racing plain read sees null, the old state or this one: all safe
            }
            final ThreadState[] old = registered;
            int live = 0;
            final ThreadState[] next = new ThreadState[old.length + 1];
            for (ThreadState s : old) {
                final Thread t = s.owner.get();
                if (t == null || !t.isAlive()) {
                    retiredAcquisitions += s.acquisitions();
                    retiredReleases += s.releases();
                    retiredFailures += s.failures();
                    retiredProbes += s.random().probes();
                } else {
                    next[live++] = s;
                }
            }
            next[live++] = state;
            registered = java.util.Arrays.copyOf(next, live);
            return state;
        }
    }

    /** @return {acquisitions, releases, failures, probes} summed over all threads, weakly consistent */
    public long[] totals() {
        synchronized (lock) {
            long acquisitions = retiredAcquisitions;
            long releases = retiredReleases;
            long failures = retiredFailures;
            long probes = retiredProbes;
            for (ThreadState s : registered) {
                acquisitions += s.acquisitions();
                releases += s.releases();
                failures += s.failures();
                probes += s.random().probes();
            }
            return new long[] {acquisitions, releases, failures, probes};
        }
    }
}
