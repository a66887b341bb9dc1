package dev.portalloc.internal.random;

/**
 * {@link IndexSource#scratch()}'s default: one array of {@value IndexSource#SCRATCH_INTS} ints per thread.
 *
 * <p>Thread-safety: each thread gets its own array, allocated on its first call.
 */
final class ThreadScratch {
    private static final ThreadLocal<int[]> SCRATCH = ThreadLocal.withInitial(() -> new int[IndexSource.SCRATCH_INTS]);

    private ThreadScratch() {
    }

    static int[] get() {
        return SCRATCH.get();
    }
}
