package dev.portalloc.bench.eval;

import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * Seeds of the experiments, all derived from the evaluation's one seed and the experiment's name, so that every
 * experiment is reproducible on its own and independent of which others run. Workload generators are
 * {@code L64X128MixRandom} (a JDK 17 LXM generator: good statistical quality, splittable; never
 * {@link java.util.Random} and never an LFSR).
 *
 * <p>Thread-safety: stateless.
 */
final class Seeds {
    private static final RandomGeneratorFactory<RandomGenerator> WORKLOAD = RandomGeneratorFactory.of("L64X128MixRandom");

    private Seeds() {
    }

    /**
     * @param seed the evaluation's seed
     * @param parts the experiment's name, e.g. {@code "quality", "linux", "0.9"}
     * @return a seed for that experiment ({@link String#hashCode()} is specified, so this is stable across JVMs)
     */
    static long derive(long seed, String... parts) {
        long h = seed;
        for (String part : parts) {
            h = new SplittableRandom(h ^ ((long) part.hashCode() << 32 | part.length())).nextLong();
        }
        return h;
    }

    /**
     * @param seed a derived seed
     * @return a new workload generator
     */
    static RandomGenerator workload(long seed) {
        return WORKLOAD.create(seed);
    }
}
