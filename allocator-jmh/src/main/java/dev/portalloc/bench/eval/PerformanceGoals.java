package dev.portalloc.bench.eval;

import java.util.ArrayList;
import java.util.List;
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
     */
    record Goal(String name, Direction direction, double limit, Function<JmhScores, Optional<Double>> ratio) {
    }

    /**
     * The outcome of one target.
     *
     * @param goal the target
     * @param ratio measured ratio, NaN when missing
     * @param verdict PASS, FAIL or MISSING
     */
    record Verdict(Goal goal, double ratio, String verdict) {
    }

    private static Optional<Double> score(JmhScores s, String method, String occupancy) {
        return s.get(EXCLUSIVE + method, occupancy).map(JmhScores.Score::score);
    }

    private static Optional<Double> ratio(Optional<Double> a, Optional<Double> b) {
        return a.isPresent() && b.isPresent() ? Optional.of(a.get() / b.get()) : Optional.empty();
    }

    /** @return the uniform connect-style score with many destinations (ConnectAllocationBenchmark), if measured */
    private static Optional<Double> connect(JmhScores s, String method) {
        return s.find(CONNECT + method, "algorithm", "uniform").map(JmhScores.Score::score);
    }

    private static Optional<Double> connectControl(JmhScores s, String method) {
        return s.get(CONNECT + method, "").map(JmhScores.Score::score);
    }

    private static Optional<Double> sum(Optional<Double> a, Optional<Double> b, double timesA) {
        return a.isPresent() && b.isPresent() ? Optional.of(timesA * a.get() + b.get()) : Optional.empty();
    }

    /** @return the README's targets, in its order */
    static List<Goal> goals() {
        final List<Goal> g = new ArrayList<>();
        g.add(new Goal("1 thread, 50 %: allocator / synchronized BitSet", Direction.AT_MOST, 1.0,
            s -> ratio(score(s, "allocator", "0.5"), score(s, "bitSet", "0.5"))));
        g.add(new Goal("1 thread, 50 %: allocator through its Local handle / synchronized BitSet", Direction.AT_MOST, 1.0,
            s -> ratio(score(s, "local", "0.5"), score(s, "bitSet", "0.5"))));
        g.add(new Goal("1 thread, 50 %: allocator / (2 × private CAS + 1 ThreadLocalRandom draw)", Direction.AT_MOST, 1.5,
            s -> ratio(score(s, "allocator", "0.5"),
                sum(score(s, "controlPrivateCas", ""), score(s, "controlThreadLocalRandom", ""), 2))));
        g.add(new Goal("the allocator's draw / ThreadLocalRandom draw", Direction.AT_MOST, 1.5,
            s -> ratio(score(s, "controlRandomSource", ""), score(s, "controlThreadLocalRandom", ""))));
        g.add(new Goal("1 thread, 99 %: allocator / synchronized BitSet", Direction.AT_MOST, 2,
            s -> ratio(score(s, "allocator", "0.99"), score(s, "bitSet", "0.99"))));
        g.add(new Goal("99 % / 50 % (1 thread)", Direction.AT_MOST, 1.5,
            s -> ratio(score(s, "allocator", "0.99"), score(s, "allocator", "0.5"))));
        g.add(new Goal("one free port / 50 % (1 thread)", Direction.AT_MOST, 3,
            s -> ratio(score(s, "allocator", "one-free"), score(s, "allocator", "0.5"))));
        g.add(new Goal("one port free, 1 thread: synchronized BitSet time / allocator time", Direction.AT_LEAST, 10,
            s -> ratio(score(s, "bitSet", "one-free"), score(s, "allocator", "one-free"))));
        g.add(new Goal("failed acquire on a full space / 50 % (1 thread)", Direction.AT_MOST, 1,
            s -> ratio(score(s, "allocator", "full"), score(s, "allocator", "0.5"))));
        g.add(new Goal("randomStart, 1 thread, 50 %: allocator / synchronized BitSet", Direction.AT_MOST, 1.0,
            s -> ratio(score(s, "randomStart", "0.5"), score(s, "bitSet", "0.5"))));
        g.add(new Goal("randomStart, 2 threads, 50 %: throughput / synchronized BitSet throughput", Direction.AT_LEAST, 2,
            s -> ratio(score(s, "bitSetTwoThreads", "0.5"), score(s, "randomStartTwoThreads", "0.5"))));
        g.add(new Goal("2 threads, 50 %: per-operation cost / random-word CAS at 2 threads", Direction.AT_MOST, 1.5,
            s -> ratio(score(s, "allocatorTwoThreads", "0.5"), score(s, "controlRandomWordCasTwoThreads", ""))));
        g.add(new Goal("2 threads, 50 %: throughput / synchronized BitSet throughput", Direction.AT_LEAST, 2,
            s -> ratio(score(s, "bitSetTwoThreads", "0.5"), score(s, "allocatorTwoThreads", "0.5"))));
        g.add(new Goal("2 threads, 50 %, Local handles: throughput / synchronized BitSet throughput", Direction.AT_LEAST, 2,
            s -> ratio(score(s, "bitSetTwoThreads", "0.5"), score(s, "localTwoThreads", "0.5"))));
        g.add(new Goal("connect-style uniform, many destinations / (exclusive at 50 % + map put+remove, recurring keys)",
            Direction.AT_MOST, 1.3,
            s -> ratio(connect(s, "manyDestinations"), sum(connectControl(s, "controlExclusive"),
                connectControl(s, "controlMapPutRemoveRecurringKey"), 1))));
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
            if (r.isEmpty()) {
                out.add(new Verdict(goal, Double.NaN, "MISSING"));
                continue;
            }
            final double v = r.get();
            final boolean pass = goal.direction() == Direction.AT_MOST ? v <= goal.limit() : v >= goal.limit();
            out.add(new Verdict(goal, v, pass ? "PASS" : "FAIL"));
        }
        return out;
    }
}
