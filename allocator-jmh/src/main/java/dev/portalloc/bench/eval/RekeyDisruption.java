package dev.portalloc.bench.eval;

import java.util.Arrays;

/**
 * Metric 8: what {@code rekey()} does to reuse. A churn run is filled, then measured in three equal windows:
 * the first sets a threshold (the 1st percentile of its 5-tuple reuse intervals, in allocations to the same
 * destination), the second is a control without rekey, and the third starts right after {@code rekey()}. The
 * figures are the fractions of 5-tuple reuses below the threshold in the control and after the rekey: a new key
 * moves a destination's sequence to an unrelated place, where it may hand out a recently freed tuple early
 * (with quarantine such a tuple is never handed out early; see the allocator's {@code rekey()} Javadoc).
 *
 * <p>Thread-safety: stateless.
 */
final class RekeyDisruption {
    private RekeyDisruption() {
    }

    /**
     * The figures.
     *
     * @param threshold 1st percentile of the first window's tuple reuse intervals (allocations)
     * @param earlyControl fraction of the control window's tuple reuses below the threshold
     * @param earlyAfterRekey fraction of the post-rekey window's tuple reuses below the threshold
     * @param minAfterRekey smallest tuple reuse interval after the rekey
     */
    record Figures(double threshold, double earlyControl, double earlyAfterRekey, double minAfterRekey) {
    }

    /**
     * @param run a churn run, not yet filled
     * @param subject its subject
     * @param window measured allocations per window
     * @return the figures
     */
    static Figures measure(ChurnRun run, Subject subject, int window) {
        run.fill();
        run.measure(window);
        final double[] first = run.tupleReuseAllocations().getElements();
        run.measure(window);
        final double[] control = tail(run.tupleReuseAllocations().getElements(), first.length);
        subject.rekey();
        final int before = run.tupleReuseAllocations().getNumElements();
        run.measure(window);
        final double[] after = tail(run.tupleReuseAllocations().getElements(), before);
        final double threshold = first.length == 0 ? 0 : Statistics.percentile(first, 1);
        return new Figures(threshold, fractionBelow(control, threshold), fractionBelow(after, threshold),
            after.length == 0 ? Double.NaN : Arrays.stream(after).min().orElse(Double.NaN));
    }

    private static double[] tail(double[] all, int from) {
        return Arrays.copyOfRange(all, from, all.length);
    }

    private static double fractionBelow(double[] values, double threshold) {
        if (values.length == 0) {
            return Double.NaN;
        }
        long below = Arrays.stream(values).filter(v -> v < threshold).count();
        return below / (double) values.length;
    }
}
