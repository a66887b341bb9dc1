package dev.portalloc.internal.thread;

import dev.portalloc.internal.random.RandomSource;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;

/**
 * One thread's private state for one allocator: its random generator and its activity counters.
 *
 * <p>Thread-safety: single writer. Only the owning thread draws from {@link #random()} and increments the
 * counters; it does so with plain reads and opaque writes (no atomic read-modify-write, no fence), so
 * counting costs a store. Other threads read the counters with opaque reads in {@link ThreadStates}, which
 * sees every increment eventually and never a torn value.
 */
public final class ThreadState {
    private static final VarHandle ACQUISITIONS;
    private static final VarHandle RELEASES;
    private static final VarHandle FAILURES;

    static {
        try {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            ACQUISITIONS = lookup.findVarHandle(ThreadState.class, "acquisitions", long.class);
            RELEASES = lookup.findVarHandle(ThreadState.class, "releases", long.class);
            FAILURES = lookup.findVarHandle(ThreadState.class, "failures", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final RandomSource random;
    final WeakReference<Thread> owner;
    /** The owner's reusable per-call selection context of the allocator's flow layer (owner thread only). */
    private Object connectContext;
    /** The owner's handle on the allocator ({@code PortAllocator.Local}), created on request (owner thread only). */
    private Object handle;
    private long acquisitions;
    private long releases;
    private long failures;

    ThreadState(RandomSource random, Thread owner) {
        this.random = random;
        this.owner = new WeakReference<>(owner);
    }

    /** @return the owner's generator; only the owning thread may use it */
    public RandomSource random() {
        return random;
    }

    /** Thread locality: first index of the owner's current segment of the index space (owner thread only). */
    public int segmentStart;
    /** Thread locality: allocations left before the owner jumps to a new segment (owner thread only). */
    public int segmentLeft;

    /** @return the owner's connect-style selection context, or null before {@link #connectContext(Object)} */
    public Object connectContext() {
        return connectContext;
    }

    /** Stores the owner's connect-style selection context (owner thread only). */
    public void connectContext(Object context) {
        this.connectContext = context;
    }

    /** @return the owner's handle on the allocator, or null before {@link #handle(Object)} */
    public Object handle() {
        return handle;
    }

    /** Stores the owner's handle on the allocator (owner thread only). */
    public void handle(Object handle) {
        this.handle = handle;
    }

    /** Counts one successful acquisition (owner thread only). */
    public void countAcquisition() {
        ACQUISITIONS.setOpaque(this, acquisitions + 1);
    }

    /** Counts one successful release (owner thread only). */
    public void countRelease() {
        RELEASES.setOpaque(this, releases + 1);
    }

    /** Counts one failed automatic acquisition (owner thread only). */
    public void countFailure() {
        FAILURES.setOpaque(this, failures + 1);
    }

    long acquisitions() {
        return (long) ACQUISITIONS.getOpaque(this);
    }

    long releases() {
        return (long) RELEASES.getOpaque(this);
    }

    long failures() {
        return (long) FAILURES.getOpaque(this);
    }
}
