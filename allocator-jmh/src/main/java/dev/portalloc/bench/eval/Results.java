package dev.portalloc.bench.eval;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Every number of an evaluation, in long format: one row per (section, algorithm, workload, occupancy, metric).
 * The CSV file, the Markdown tables and the charts are all views of these rows, so a figure shown anywhere is in
 * the CSV.
 *
 * <p>Thread-safety: thread-safe (the list is synchronised); rows are immutable.
 */
final class Results {
    /**
     * One figure.
     *
     * @param section section name (e.g. {@code quality})
     * @param algorithm algorithm label, or {@code -} when not per algorithm
     * @param workload workload label, or {@code -}
     * @param occupancy target occupancy, or {@code NaN} when not per occupancy
     * @param metric metric name (e.g. {@code guess.b.best.P1})
     * @param value the value
     */
    record Row(String section, String algorithm, String workload, double occupancy, String metric, double value) {
        Row {
            Objects.requireNonNull(section);
            Objects.requireNonNull(algorithm);
            Objects.requireNonNull(workload);
            Objects.requireNonNull(metric);
        }
    }

    private final List<Row> rows = Collections.synchronizedList(new ArrayList<>());

    void add(String section, String algorithm, String workload, double occupancy, String metric, double value) {
        rows.add(new Row(section, algorithm, workload, occupancy, metric, value));
    }

    /** @return a snapshot of the rows in insertion order */
    List<Row> rows() {
        synchronized (rows) {
            return List.copyOf(rows);
        }
    }

    /** @return the value of the first row matching all fields, if any */
    Optional<Double> find(String section, String algorithm, String workload, double occupancy, String metric) {
        for (Row r : rows()) {
            if (r.section.equals(section) && r.algorithm.equals(algorithm) && r.workload.equals(workload)
                && Double.compare(r.occupancy, occupancy) == 0 && r.metric.equals(metric)) {
                return Optional.of(r.value);
            }
        }
        return Optional.empty();
    }
}
