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
    /**
     * @param bound exclusive upper bound, positive
     * @return an index uniformly distributed in {@code [0, bound)}
     */
    int nextIndex(int bound);

    /**
     * Adds to the calling thread's tally of examined candidates: ports tested by a probe or by
     * {@code check_suitable_port}, and bitmap words or block bounds read by a scan ({@code AllocatorStats.probes}).
     * Selection code reports its work here because this is the one per-thread object it already holds.
     *
     * @param n candidates examined, non-negative
     */
    default void countProbes(int n) {
    }
}
