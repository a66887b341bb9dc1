package dev.portalloc.bench.eval;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Which destination a new connection goes to: uniform over {@code n} destinations, Zipf (rank {@code r} drawn
 * with probability proportional to {@code 1 / r^s}), or one hot backend that gets a fixed share of the
 * connections while the rest are uniform over the others (the load-balancer-to-backend case).
 *
 * <p>Thread-safety: immutable after construction; {@link #next} draws from the caller's generator.
 */
final class Popularity {
    /** The popularity models. */
    enum Kind {
        UNIFORM, ZIPF, HOT
    }

    private final Kind kind;
    private final int destinations;
    private final double hotShare;
    /** Zipf only: cumulative probabilities of ranks 0..n-1 (searched by binary search). */
    private final double[] cumulative;

    Popularity(Kind kind, int destinations, double zipfExponent, double hotShare) {
        if (destinations < 1) {
            throw new IllegalArgumentException("destinations must be at least 1, but was " + destinations);
        }
        this.kind = kind;
        this.destinations = destinations;
        this.hotShare = hotShare;
        if (kind == Kind.ZIPF) {
            cumulative = new double[destinations];
            double sum = 0;
            for (int r = 0; r < destinations; r++) {
                sum += 1.0 / Math.pow(r + 1, zipfExponent);
                cumulative[r] = sum;
            }
            for (int r = 0; r < destinations; r++) {
                cumulative[r] /= sum;
            }
        } else {
            cumulative = null;
        }
    }

    /** @return the model */
    Kind kind() {
        return kind;
    }

    /**
     * @param random the workload generator
     * @return a destination index in 0..destinations-1 (0 is the hot backend and the most popular Zipf rank)
     */
    int next(RandomGenerator random) {
        switch (kind) {
            case UNIFORM:
                return random.nextInt(destinations);
            case HOT:
                if (destinations == 1 || random.nextDouble() < hotShare) {
                    return 0;
                }
                return 1 + random.nextInt(destinations - 1);
            default:
                final int i = Arrays.binarySearch(cumulative, random.nextDouble());
                return Math.min(destinations - 1, i >= 0 ? i : -i - 1);
        }
    }
}
