package dev.portalloc.internal.thread;

import dev.portalloc.internal.random.RandomSource;

/**
 * The per-thread states of one allocator, and the sums of their counters.
 *
 * <p>Thread-safety: {@link #current()} is lock-free after a thread's first call, which registers the thread
 * under a lock (once per thread and allocator, never on later calls). Registration also retires the states
 * of threads that have died, folding their counts into running totals, so memory stays bounded by the
 * number of live threads that used the allocator. {@link #totals()} is weakly consistent.
 *
 * <p>Randomness: without a seed each thread's generator is keyed from {@link java.security.SecureRandom};
 * with a seed, the n-th thread to register gets stream n of that seed, so a single-threaded caller (stream
 * 0) sees exactly the same choices on every run.
 */
public final class ThreadStates {
    private final ThreadLocal<ThreadState> local = ThreadLocal.withInitial(this::register);
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
        return local.get();
    }

    private ThreadState register() {
        synchronized (lock) {
            final RandomSource random = seeded ? RandomSource.fromSeed(seed, nextStream++) : RandomSource.fromSecureRandom();
            final ThreadState state = new ThreadState(random, Thread.currentThread());
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
