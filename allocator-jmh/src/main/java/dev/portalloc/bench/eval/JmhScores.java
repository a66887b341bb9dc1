package dev.portalloc.bench.eval;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The primary scores of a JMH JSON result file, keyed by the benchmark's simple name (class and method, e.g.
 * {@code ExclusiveAllocationBenchmark.allocator}) and its {@code occupancy} parameter (empty when it has none).
 *
 * <p>Thread-safety: immutable after reading.
 */
final class JmhScores {
    /**
     * One score.
     *
     * @param benchmark class and method
     * @param occupancy the occupancy parameter, or empty
     * @param threads threads of the run
     * @param score primary score
     * @param error its 99.9 % error (NaN when JMH had too few iterations)
     * @param unit the score's unit
     * @param params every parameter of the run, occupancy included
     */
    record Score(String benchmark, String occupancy, int threads, double score, double error, String unit,
                 Map<String, String> params) {
    }

    private final Map<String, Score> scores = new LinkedHashMap<>();
    private final List<Score> runs = new java.util.ArrayList<>();

    private JmhScores() {
    }

    /**
     * @param file a JMH result file written with {@code -rf json}
     * @return its scores
     * @throws IOException if it cannot be read
     * @throws IllegalArgumentException if it is not a JMH JSON result
     */
    static JmhScores read(Path file) throws IOException {
        return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    }

    static JmhScores parse(String json, String name) {
        final Object root = Json.parse(json);
        if (!(root instanceof List<?> list)) {
            throw new IllegalArgumentException(name + " is not a JMH JSON result (expected an array of runs)");
        }
        final JmhScores out = new JmhScores();
        for (Object o : list) {
            if (!(o instanceof Map<?, ?> run) || !(run.get("benchmark") instanceof String fqn)
                || !(run.get("primaryMetric") instanceof Map<?, ?> metric)) {
                throw new IllegalArgumentException(name + " is not a JMH JSON result (a run lacks benchmark or primaryMetric)");
            }
            final String[] parts = fqn.split("\\.");
            final String simple = parts.length >= 2 ? parts[parts.length - 2] + "." + parts[parts.length - 1] : fqn;
            String occupancy = "";
            final Map<String, String> all = new LinkedHashMap<>();
            if (run.get("params") instanceof Map<?, ?> params) {
                for (Map.Entry<?, ?> e : params.entrySet()) {
                    all.put(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
                }
                if (params.get("occupancy") instanceof String occ) {
                    occupancy = occ;
                }
            }
            final int threads = run.get("threads") instanceof Double t ? t.intValue() : 1;
            final double score = metric.get("score") instanceof Double s ? s : Double.NaN;
            final double error = metric.get("scoreError") instanceof Double e ? e : Double.NaN;
            final String unit = metric.get("scoreUnit") instanceof String u ? u : "";
            final Score s = new Score(simple, occupancy, threads, score, error, unit, Map.copyOf(all));
            out.scores.put(key(simple, occupancy), s);
            out.runs.add(s);
        }
        return out;
    }

    private static String key(String benchmark, String occupancy) {
        return benchmark + "|" + occupancy;
    }

    /**
     * @param benchmark class and method, e.g. {@code ExclusiveAllocationBenchmark.allocator}
     * @param occupancy the parameter, or empty
     * @return the score if present
     */
    Optional<Score> get(String benchmark, String occupancy) {
        return Optional.ofNullable(scores.get(key(benchmark, occupancy)));
    }

    /**
     * @param benchmark class and method
     * @param param a parameter name
     * @param value its value
     * @return the first run of the benchmark with that parameter value, if any (for benchmarks whose runs differ
     *     in parameters other than occupancy)
     */
    Optional<Score> find(String benchmark, String param, String value) {
        return runs.stream().filter(r -> r.benchmark().equals(benchmark) && value.equals(r.params().get(param)))
            .findFirst();
    }

    /** @return every score in file order (one per benchmark and occupancy; see {@link #find}) */
    List<Score> all() {
        return List.copyOf(scores.values());
    }
}
