package dev.portalloc.bench.eval;

import java.util.random.RandomGenerator;

/**
 * Connection lifetimes with a given mean: exponential, or log-normal with shape {@value #LOG_NORMAL_SIGMA}
 * (heavy-tailed: most connections short, a few very long, as measured for web traffic).
 *
 * <p>Thread-safety: immutable; {@link #next} draws from the caller's generator.
 */
final class Lifetimes {
    /** The distributions. */
    enum Kind {
        EXPONENTIAL, LOGNORMAL
    }

    /** Shape of the log-normal: sigma of the underlying normal. */
    static final double LOG_NORMAL_SIGMA = 1.5;

    private final Kind kind;
    private final double mean;

    Lifetimes(Kind kind, double mean) {
        if (!(mean >= 0)) {
            throw new IllegalArgumentException("mean lifetime must be ≥ 0, but was " + mean);
        }
        this.kind = kind;
        this.mean = mean;
    }

    /** @return the distribution */
    Kind kind() {
        return kind;
    }

    /**
     * @param random the workload generator
     * @return a lifetime in simulated seconds
     */
    double next(RandomGenerator random) {
        if (mean == 0) {
            return 0;
        }
        if (kind == Kind.EXPONENTIAL) {
            return random.nextExponential() * mean;
        }
        // mean of exp(mu + sigma Z) is exp(mu + sigma^2 / 2): choose mu so that it equals the requested mean
        final double mu = Math.log(mean) - LOG_NORMAL_SIGMA * LOG_NORMAL_SIGMA / 2;
        return Math.exp(mu + LOG_NORMAL_SIGMA * random.nextGaussian());
    }
}
