package dev.portalloc.bench.eval;

import org.hipparchus.stat.descriptive.DescriptiveStatistics;
import org.hipparchus.stat.descriptive.rank.Percentile;

/**
 * Thin helpers over Hipparchus's descriptive statistics, so that every section computes quantiles the same way
 * (Hipparchus's default {@link Percentile} estimation).
 *
 * <p>Thread-safety: stateless.
 */
final class Statistics {
    private Statistics() {
    }

    /**
     * @param values samples (not modified)
     * @param p percentile in (0, 100]
     * @return the percentile, NaN when there is no sample
     */
    static double percentile(double[] values, double p) {
        return values.length == 0 ? Double.NaN : new Percentile(p).evaluate(values);
    }

    /**
     * @param values samples
     * @return min, p1, p50, mean, max (NaN when empty)
     */
    static double[] summary(double[] values) {
        if (values.length == 0) {
            return new double[] {Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN};
        }
        final DescriptiveStatistics s = new DescriptiveStatistics(values);
        return new double[] {s.getMin(), s.getPercentile(1), s.getPercentile(50), s.getMean(), s.getMax()};
    }

    /**
     * @param values samples (counts per allocation)
     * @return mean, p50, p99, max (NaN when empty), Hipparchus {@link DescriptiveStatistics}
     */
    static double[] meanP50P99Max(double[] values) {
        if (values.length == 0) {
            return new double[] {Double.NaN, Double.NaN, Double.NaN, Double.NaN};
        }
        final DescriptiveStatistics s = new DescriptiveStatistics(values);
        return new double[] {s.getMean(), s.getPercentile(50), s.getPercentile(99), s.getMax()};
    }
}
