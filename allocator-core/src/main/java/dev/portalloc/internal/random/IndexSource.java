package dev.portalloc.internal.random;

/**
 * A source of uniform random indices, the only randomness that selection code needs, and the calling thread's
 * tally of the candidates its selections examine.
 *
 * <p>Selection takes this narrow interface rather than {@link java.util.random.RandomGenerator} so that
 * tests can substitute deterministic sources (the Lincheck test draws 0 every time), and so that test
 * frameworks which intercept {@code RandomGenerator} calls leave the substitute alone. Implementations
 * are not required to be thread-safe: each thread uses its own.
 */
@FunctionalInterface
public interface IndexSource {
    /** Ints of {@link #scratch()}: at least one per summary block of the port bitmap. */
    int SCRATCH_INTS = 64;

    /**
     * @param bound exclusive upper bound, positive
     * @return an index uniformly distributed in {@code [0, bound)}
     */
    int nextIndex(int bound);

    /**
     * 64 uniformly random bits: four 16-bit slices, the candidate offsets of one round of uniform probes
     * ({@code PortBitmap.select}). The default composes four {@code nextIndex(65536)} draws, so a scripted source
     * steers probes as before (one that always draws 0 probes the selection's lowest port); {@link RandomSource}
     * reads the 8 bytes from its keystream instead.
     *
     * @return the bits
     */
    default long nextBits() {
        long bits = 0L;
        for (int slice = 0; slice < 4; slice++) {
            bits |= (long) nextIndex(1 << 16) << (16 * slice);
        }
        return bits;
    }

    /**
     * Adds to the calling thread's tally of examined candidates: ports tested by a probe or by
     * {@code check_suitable_port}, and bitmap words or block bounds read by a scan ({@code AllocatorStats.probes}).
     * Selection code reports its work here because this is the one per-thread object it already holds.
     *
     * @param n candidates examined, non-negative
     */
    default void countProbes(int n) {
    }

    /**
     * Working space of the calling thread for selection code (the exact pass's block weights), asked for here for
     * the same reason as {@link #countProbes}: this is the one per-thread object selection code already holds.
     * The default hands out an array kept per thread in a {@link ThreadLocal} (a hashed look-up on every call);
     * {@link RandomSource} keeps its own, which saves that look-up on every exact pass.
     *
     * @return at least {@value #SCRATCH_INTS} ints, contents unspecified, for use until the thread's next
     *     selection
     */
    default int[] scratch() {
        return ThreadScratch.get();
    }
}
