package dev.portalloc.bench.eval;

import java.util.Arrays;

/**
 * A growable list of primitive doubles (samples for Hipparchus statistics without boxing).
 *
 * <p>Thread-safety: not thread-safe.
 */
final class DoubleList {
    private double[] values = new double[256];
    private int size;

    void add(double v) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = v;
    }

    int size() {
        return size;
    }

    /** @return a copy of the values */
    double[] toArray() {
        return Arrays.copyOf(values, size);
    }
}
