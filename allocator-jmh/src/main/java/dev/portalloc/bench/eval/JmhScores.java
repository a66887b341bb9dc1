package dev.portalloc.bench.eval;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The primary scores of a JMH JSON result file (read with Jackson), keyed by the benchmark's simple name (class and method, e.g.
 * {@code ExclusiveAllocationBenchmark.allocator}) and its {@code occupancy} parameter (empty when it has none).
 *
 * <p>Thread-safety: immutable after reading.
 */
final class JmhScores {
    /**
     * Strict about what follows the array (as a result file must end there), lenient about the unquoted
     * {@code NaN} some JSON writers emit for a missing error.
     */
    private static final ObjectReader READER = JsonMapper.builder()
        .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .build()
        .reader();

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
    private final List<Score> runs = new ArrayList<>();

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

    /**
     * @param json the text of a JMH result file written with {@code -rf json}
     * @param name the file's name, for messages
     * @return its scores
     * @throws IllegalArgumentException if it is not JSON (the message gives line, column and offset) or not a JMH
     *     result
     */
    static JmhScores parse(String json, String name) {
        final JsonNode root;
        try {
            root = READER.readTree(json);
        } catch (JsonProcessingException e) {
            final JsonLocation at = e.getLocation();
            throw new IllegalArgumentException(name + " is not valid JSON: " + e.getOriginalMessage()
                + (at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr()
                    + " (offset " + at.getCharOffset() + ")"), e);
        }
        if (root == null || !root.isArray()) {
            throw new IllegalArgumentException(name + " is not a JMH JSON result (expected an array of runs)");
        }
        final JmhScores out = new JmhScores();
        for (JsonNode run : root) {
            final JsonNode benchmark = run.get("benchmark");
            final JsonNode metric = run.get("primaryMetric");
            if (benchmark == null || !benchmark.isTextual() || metric == null || !metric.isObject()) {
                throw new IllegalArgumentException(name + " is not a JMH JSON result (a run lacks benchmark or primaryMetric)");
            }
            final String fqn = benchmark.textValue();
            final String[] parts = fqn.split("\\.");
            final String simple = parts.length >= 2 ? parts[parts.length - 2] + "." + parts[parts.length - 1] : fqn;
            String occupancy = "";
            final Map<String, String> all = new LinkedHashMap<>();
            final JsonNode params = run.get("params");
            if (params != null && params.isObject()) {
                for (Map.Entry<String, JsonNode> e : params.properties()) {
                    all.put(e.getKey(), e.getValue().isTextual() ? e.getValue().textValue() : e.getValue().toString());
                }
                final JsonNode occ = params.get("occupancy");
                if (occ != null && occ.isTextual()) {
                    occupancy = occ.textValue();
                }
            }
            final JsonNode threads = run.get("threads");
            final Score s = new Score(simple, occupancy, threads != null && threads.isNumber() ? threads.intValue() : 1,
                number(metric.get("score")), number(metric.get("scoreError")), text(metric.get("scoreUnit")),
                Map.copyOf(all));
            out.scores.put(key(simple, occupancy), s);
            out.runs.add(s);
        }
        return out;
    }

    /** JMH writes an undefined score or error as the string {@code "NaN"}; anything but a number reads as NaN. */
    private static double number(JsonNode node) {
        return node != null && node.isNumber() ? node.doubleValue() : Double.NaN;
    }

    private static String text(JsonNode node) {
        return node != null && node.isTextual() ? node.textValue() : "";
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
        return find(benchmark, Map.of(param, value));
    }

    /**
     * @param benchmark class and method
     * @param params parameter names and values, all of which the run must have
     * @return the first run of the benchmark with those parameter values, if any
     */
    Optional<Score> find(String benchmark, Map<String, String> params) {
        return runs.stream().filter(r -> r.benchmark().equals(benchmark)
            && params.entrySet().stream().allMatch(e -> e.getValue().equals(r.params().get(e.getKey()))))
            .findFirst();
    }

    /** @return every score in file order (one per benchmark and occupancy; see {@link #find}) */
    List<Score> all() {
        return List.copyOf(scores.values());
    }
}
