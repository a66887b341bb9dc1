package dev.portalloc.bench.eval;

import java.time.Duration;

/**
 * Makes a fresh {@link Subject} for one experiment: the evaluation's allocators, or a reference model in tests.
 *
 * <p>Thread-safety: implementations must allow calls from any one thread at a time.
 */
@FunctionalInterface
interface SubjectFactory {
    /**
     * @param spec the algorithm
     * @param seed the subject's seed
     * @param quarantine reuse delay (zero for none)
     * @param clock the simulated clock the subject must use for time
     * @return a new subject with nothing allocated
     */
    Subject create(AlgorithmSpec spec, long seed, Duration quarantine, SimulatedClock clock);
}
