package dev.portalloc.bench.eval;

import dev.portalloc.PortSet;

import org.hipparchus.stat.correlation.PearsonsCorrelation;
import org.hipparchus.stat.inference.ChiSquareTest;
import org.hipparchus.util.ResizableDoubleArray;

/**
 * Metric 7: how evenly the workload's allocations spread over the selectable ports.
 * <ul>
 * <li>{@code chiSquareP}: Hipparchus's chi-square goodness-of-fit p-value of the counts against the uniform
 *     distribution. Ports are grouped, in ascending order, into bins of consecutive selectable ports with at
 *     least {@value #MIN_EXPECTED_PER_BIN} expected allocations each (the test's validity condition); with
 *     enough samples a bin is one port. A small p-value rejects uniformity.</li>
 * <li>{@code maxMinRatio}: the largest bin count over the smallest (infinite if a bin is empty).</li>
 * <li>{@code lag1Autocorrelation}: Pearson correlation of consecutive granted ports (port i, port i+1).</li>
 * <li>{@code postGapBias}: for each reserved block inside the automatic range, the count of the first selectable
 *     port after it, over the mean count per port, averaged over the blocks (1 is unbiased; RFC 6056 §5 warns of
 *     large values for Algorithm 1). NaN when no reserved block lies inside the range.</li>
 * </ul>
 *
 * <p>Thread-safety: stateless.
 */
final class Uniformity {
    /** Minimum expected count per chi-square bin. */
    static final int MIN_EXPECTED_PER_BIN = 20;

    private Uniformity() {
    }

    /**
     * The figures.
     *
     * @param chiSquareP p-value
     * @param bins number of bins
     * @param maxMinRatio largest over smallest bin count
     * @param lag1Autocorrelation Pearson correlation of consecutive ports
     * @param postGapBias first port after a reserved block, relative to the mean
     * @param samples allocations counted
     */
    record Figures(double chiSquareP, int bins, double maxMinRatio, double lag1Autocorrelation, double postGapBias,
                   long samples) {
    }

    /**
     * @param log the run's allocations (workload allocations are counted, attacker probes are not)
     * @param ports the automatic set
     * @param reserved the reserved set
     * @return the figures
     */
    static Figures compute(AllocationLog log, PortSet ports, PortSet reserved) {
        final PortSet selectable = ports.minus(reserved);
        final int n = selectable.size();
        final long[] perPort = new long[n];
        final ResizableDoubleArray sequence = new ResizableDoubleArray();
        for (int i = 0; i < log.size(); i++) {
            if (log.isWorkload(i)) {
                perPort[selectable.rank(log.port(i))]++;
                sequence.addElement(log.port(i));
            }
        }
        return fromCounts(perPort, sequence.getElements(), selectable, ports, reserved);
    }

    /**
     * @param perPort allocations per selectable port, indexed by rank in {@code selectable}
     * @param sequence the granted ports in order
     * @param selectable automatic minus reserved
     * @param ports the automatic set
     * @param reserved the reserved set
     * @return the figures
     */
    static Figures fromCounts(long[] perPort, double[] sequence, PortSet selectable, PortSet ports, PortSet reserved) {
        final int n = perPort.length;
        long samples = 0;
        for (long c : perPort) {
            samples += c;
        }
        final int bins = (int) Math.max(2, Math.min(n, samples / MIN_EXPECTED_PER_BIN));
        final long[] observed = new long[bins];
        final double[] expected = new double[bins];
        for (int r = 0; r < n; r++) {
            final int bin = (int) ((long) r * bins / n);
            observed[bin] += perPort[r];
            expected[bin] += samples / (double) n;
        }
        long max = 0;
        long min = Long.MAX_VALUE;
        for (long o : observed) {
            max = Math.max(max, o);
            min = Math.min(min, o);
        }
        final double p = samples == 0 ? Double.NaN : new ChiSquareTest().chiSquareTest(expected, observed);
        final double ratio = min == 0 ? Double.POSITIVE_INFINITY : max / (double) min;
        double lag1 = Double.NaN;
        if (sequence.length > 2) {
            final double[] x = java.util.Arrays.copyOfRange(sequence, 0, sequence.length - 1);
            final double[] y = java.util.Arrays.copyOfRange(sequence, 1, sequence.length);
            lag1 = new PearsonsCorrelation().correlation(x, y);
        }
        return new Figures(p, bins, ratio, lag1, postGapBias(perPort, samples, selectable, ports, reserved), samples);
    }

    private static double postGapBias(long[] perPort, long samples, PortSet selectable, PortSet ports, PortSet reserved) {
        final PortSet inside = reserved.intersect(ports);
        final double mean = samples / (double) perPort.length;
        double sum = 0;
        int blocks = 0;
        for (int b = 0; b < inside.rangeCount(); b++) {
            final int after = inside.rangeLast(b) + 1;
            if (after <= ports.last() && selectable.contains(after)) {
                sum += perPort[selectable.rank(after)] / mean;
                blocks++;
            }
        }
        return blocks == 0 || mean == 0 ? Double.NaN : sum / blocks;
    }
}
