package dev.portalloc;

/** Pearson's chi-square goodness-of-fit against a uniform expectation, for the uniformity tests. */
public final class ChiSquare {
    private ChiSquare() {
    }

    /** @return the chi-square statistic of {@code counts} against {@code expected} per cell */
    public static double statistic(long[] counts, double expected) {
        double x2 = 0;
        for (long c : counts) {
            x2 += (c - expected) * (c - expected) / expected;
        }
        return x2;
    }

    /** @return the upper 0.1 % point of chi-square with {@code k} degrees of freedom (Wilson-Hilferty) */
    public static double criticalValue(int k) {
        double z = 3.090232; // standard normal 99.9 % quantile
        double h = 2.0 / (9.0 * k);
        return k * Math.pow(1 - h + z * Math.sqrt(h), 3);
    }
}
