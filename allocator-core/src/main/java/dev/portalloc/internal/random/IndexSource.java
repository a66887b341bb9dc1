package dev.portalloc.internal.random;

/**
 * A source of uniform random indices, the only randomness that selection code needs.
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
}
