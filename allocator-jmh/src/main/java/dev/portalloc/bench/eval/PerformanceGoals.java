package dev.portalloc.bench.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The performance targets listed in {@code allocator-jmh/README.md} ("Targets"), each as a ratio of JMH scores
 * measured in the same run and a limit. Targets whose benchmarks are missing from the result file are reported
 * as {@code MISSING}, not as passed.
 *
 * <p>Thread-safety: stateless.
 */
final class PerformanceGoals {
    private static final String EXCLUSIVE = "ExclusiveAllocationBenchmark.";
    private static final String CONNECT = "ConnectAllocationBenchmark.";
    /** The floor at 50 %, 1 thread: probe rounds, a claim and a release by CAS on a shared one-bit map. */
    private static final String ROUNDS_CAS = "controlUniformRoundsCas";
    private static final String ROUNDS_CAS_2 = "controlUniformRoundsCasTwoThreads";
    /** The floor at 99 % and with one free port: a rank over exact per-block counts, two CAS, two atomic adds. */
    private static final String EXACT_CAS = "controlExactCountsCas";

    private PerformanceGoals() {
    }

    /** Whether the measured ratio must stay at most or at least the limit. */
    enum Direction {
        AT_MOST("≤"), AT_LEAST("≥");

        final String symbol;

        Direction(String symbol) {
            this.symbol = symbol;
        }
    }

    /**
     * A target.
     *
     * @param name what the README says
     * @param direction ≤ or ≥
     * @param limit the limit of the ratio
     * @param ratio computes the ratio from the scores, empty when a benchmark is missing
     * @param floorName the control that does only the unavoidable work of the target's operation, or null
     * @param floor the same ratio with that control in place of the allocator (empty when missing or without one):
     *     when even the floor misses the limit, the work the control does is already too much on that machine
     */
    record Goal(String name, Direction direction, double limit, Function<JmhScores, Optional<Double>> ratio,
        String floorName, Function<JmhScores, Optional<Double>> floor) {
        Goal(String name, Direction direction, double limit, Function<JmhScores, Optional<Double>> ratio) {
            this(name, direction, limit, ratio, null, s -> Optional.empty());
        }

        /** @return whether {@code value} meets the limit */
        boolean meets(double value) {
            return direction == Direction.AT_MOST ? value <= limit : value >= limit;
        }
    }

    /**
     * The outcome of one target.
     *
     * @param goal the target
     * @param ratio measured ratio, NaN when missing
     * @param verdict PASS, FAIL or MISSING
     * @param floor the goal's floor ratio, NaN when the goal has none or its control is missing
     */
    record Verdict(Goal goal, double ratio, String verdict, double floor) {
        /** @return null without a floor; else whether the floor control itself meets the limit */
        String floorVerdict() {
            return Double.isNaN(floor) ? null : goal.meets(floor) ? "within reach" : "out of reach";
        }
    }

    private static Optional<Double> score(JmhScores s, String method, String occupancy) {
        return s.get(EXCLUSIVE + method, occupancy).map(JmhScores.Score::score);
    }

    private static Optional<Double> ratio(Optional<Double> a, Optional<Double> b) {
        return a.isPresent() && b.isPresent() ? Optional.of(a.get() / b.get()) : Optional.empty();
    }

    /** @return the uniform connect-style score with many destinations (ConnectAllocationBenchmark), if measured */
    private static Optional<Double> connect(JmhScores s, String method) {
        return connect(s, method, Map.of("algorithm", "uniform"));
    }

    /** @return the connect-style score of the run with these parameters, if measured */
    private static Optional<Double> connect(JmhScores s, String method, Map<String, String> params) {
        return s.find(CONNECT + method, params).map(JmhScores.Score::score);
    }

    /** @return the connect-style target's denominator: the exclusive operation at 50 % + the recurring-key map */
    private static Optional<Double> exclusivePlusMap(JmhScores s) {
        return sum(connectControl(s, "controlExclusive"), connectControl(s, "controlMapPutRemoveRecurringKey"), 1);
    }

    private static Optional<Double> connectControl(JmhScores s, String method) {
        return s.get(CONNECT + method, "").map(JmhScores.Score::score);
    }

    /** @return 2 × the private CAS + 1 {@code ThreadLocalRandom} draw, the denominator of the CAS-and-draw target */
    private static Optional<Double> casCasDraw(JmhScores s) {
        return sum(score(s, "controlPrivateCas", ""), score(s, "controlThreadLocalRandom", ""), 2);
    }

    private static Optional<Double> sum(Optional<Double> a, Optional<Double> b, double timesA) {
        return a.isPresent() && b.isPresent() ? Optional.of(timesA * a.get() + b.get()) : Optional.empty();
    }

    /** @return the README's targets, in its order */
    static List<Goal> goals() {
        final List<Goal> g = new ArrayList<>();
        g.add(new Goal("1 thread, 50 %: allocator / synchronized BitSet", Direction.AT_MOST, 1.0,
            s -> ratio(score(s, "allocator", "0.5"), score(s, "bitSet", "0.5")),
            ROUNDS_CAS, s -> ratio(score(s, ROUNDS_CAS, ""), score(s, "bitSet", "0.5"))));
        g.add(new Goal("1 thread, 50 %: allocator through its Local handle / synchronized BitSet", Direction.AT_MOST, 1.0,
            s -> ratio(score(s, "local", "0.5"), score(s, "bitSet", "0.5"))));
        g.add(new Goal("1 thread, 50 %: allocator / (2 × private CAS + 1 ThreadLocalRandom draw)", Direction.AT_MOST, 1.5,
            s -> ratio(score(s, "allocator", "0.5"), casCasDraw(s)),
            ROUNDS_CAS, s -> ratio(score(s, ROUNDS_CAS, ""), casCasDraw(s))));
        g.add(new Goal("the allocator's draw / ThreadLocalRandom draw", Direction.AT_MOST, 1.5,
            s -> ratio(score(s, "controlRandomSource", ""), score(s, "controlThreadLocalRandom", ""))));
        g.add(new Goal("1 thread, 99 %: allocator / synchronized BitSet", Direction.AT_MOST, 2,
            s -> ratio(score(s, "allocator", "0.99"), score(s, "bitSet", "0.99")),
            EXACT_CAS, s -> ratio(score(s, EXACT_CAS, "0.99"), score(s, "bitSet", "0.99"))));
        g.add(new Goal("99 % / 50 % (1 thread)", Direction.AT_MOST, 1.5,
            s -> ratio(score(s, "allocator", "0.99"), score(s, "allocator", "0.5")),
            EXACT_CAS + " at 99 % / allocator at 50 %",
            s -> ratio(score(s, EXACT_CAS, "0.99"), score(s, "allocator", "0.5"))));
        g.add(new Goal("one free port / 50 % (1 thread)", Direction.AT_MOST, 3,
            s -> ratio(score(s, "allocator", "one-free"), score(s, "allocator", "0.5"))));
        g.add(new Goal("one port free, 1 thread: synchronized BitSet time / allocator time", Direction.AT_LEAST, 10,
            s -> ratio(score(s, "bitSet", "one-free"), score(s, "allocator", "one-free")),
            EXACT_CAS, s -> ratio(score(s, "bitSet", "one-free"), score(s, EXACT_CAS, "one-free"))));
        g.add(new Goal("failed acquire on a full space / 50 % (1 thread)", Direction.AT_MOST, 1,
            s -> ratio(score(s, "allocator", "full"), score(s, "allocator", "0.5"))));
        g.add(new Goal("randomStart, 1 thread, 50 %: allocator / synchronized BitSet", Direction.AT_MOST, 1.0,
            s -> ratio(score(s, "randomStart", "0.5"), score(s, "bitSet", "0.5"))));
        g.add(new Goal("randomStart, 2 threads, 50 %: throughput / synchronized BitSet throughput", Direction.AT_LEAST, 2,
            s -> ratio(score(s, "bitSetTwoThreads", "0.5"), score(s, "randomStartTwoThreads", "0.5"))));
        g.add(new Goal("2 threads, 50 %: per-operation cost / random-word CAS at 2 threads", Direction.AT_MOST, 1.5,
            s -> ratio(score(s, "allocatorTwoThreads", "0.5"), score(s, "controlRandomWordCasTwoThreads", "")),
            ROUNDS_CAS_2, s -> ratio(score(s, ROUNDS_CAS_2, ""), score(s, "controlRandomWordCasTwoThreads", ""))));
        g.add(new Goal("2 threads, 50 %: throughput / synchronized BitSet throughput", Direction.AT_LEAST, 2,
            s -> ratio(score(s, "bitSetTwoThreads", "0.5"), score(s, "allocatorTwoThreads", "0.5")),
            ROUNDS_CAS_2, s -> ratio(score(s, "bitSetTwoThreads", "0.5"), score(s, ROUNDS_CAS_2, ""))));
        g.add(new Goal("2 threads, 50 %, Local handles: throughput / synchronized BitSet throughput", Direction.AT_LEAST, 2,
            s -> ratio(score(s, "bitSetTwoThreads", "0.5"), score(s, "localTwoThreads", "0.5"))));
        g.add(new Goal("connect-style uniform, many destinations / (exclusive at 50 % + map put+remove, recurring keys)",
            Direction.AT_MOST, 1.3,
            s -> ratio(connect(s, "manyDestinations"), exclusivePlusMap(s))));
        g.add(new Goal("the same with the tuple table sized for the range (expectedTuples(28_232), 512 KiB)",
            Direction.AT_MOST, 1.3,
            s -> ratio(connect(s, "manyDestinationsSizedTable", Map.of("algorithm", "uniform", "expectedTuples", "28232")),
                exclusivePlusMap(s))));
        for (String occ : List.of("0", "0.5", "0.9", "0.99", "one-free", "full")) {
            g.add(new Goal("OS bind(0) time / allocator time at occupancy " + occ, Direction.AT_LEAST, 50,
                s -> ratio(score(s, "operatingSystem", ""), score(s, "allocator", occ))));
        }
        return g;
    }

    /**
     * @param scores a JMH result
     * @return one verdict per target
     */
    static List<Verdict> check(JmhScores scores) {
        final List<Verdict> out = new ArrayList<>();
        for (Goal goal : goals()) {
            final Optional<Double> r = goal.ratio().apply(scores);
            final double floor = goal.floor().apply(scores).orElse(Double.NaN);
            if (r.isEmpty()) {
                out.add(new Verdict(goal, Double.NaN, "MISSING", floor));
                continue;
            }
            final double v = r.get();
            out.add(new Verdict(goal, v, goal.meets(v) ? "PASS" : "FAIL", floor));
        }
        return out;
    }
}
