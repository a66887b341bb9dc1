package dev.portalloc.bench.eval;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Metric 1: the probability {@code P_q} that an attacker's best {@code q} guesses contain the next port, for
 * three attacker views, and the min-entropy it implies.
 * <ul>
 * <li>View (a), nothing: the attacker knows the algorithm and the range and has watched earlier traffic; it
 *     guesses the {@code q} ports most often granted in the first half of the run (trained there, scored on the
 *     second half).</li>
 * <li>View (b), the previous {@value #HISTORY} ports to the same destination: predictors {@code last+1}
 *     (guesses last+1, last+2, …), {@code meanStep} (around last + mean step, nearest first) and
 *     {@code frequentStep} (last + the most frequent steps, then around last + the most frequent one).</li>
 * <li>View (c), the ports of the attacker's own connections just before and after the victim's: predictors
 *     {@code before+1} (before+1, before+2, …), {@code midpoint} (around the middle, nearest first) and
 *     {@code after-1} (after-1, after-2, …).</li>
 * </ul>
 * With {@code nearest} on ({@link #compute(AllocationLog, boolean)}, used by the locality section), views (b) and
 * (c) get one more predictor each, for allocators that keep a thread inside a segment of consecutive ports
 * ({@code PortAllocator.Builder.threadLocality}): {@code nearLast} (last, last+1, last-1, last+2, …) and
 * {@code nearBefore} (the same around the attacker's port just before). The quality section leaves it off, so its
 * figures stay comparable with earlier runs.
 *
 * <p>{@code best} is, for each {@code q}, the highest {@code P_q} of the view's predictors (chosen after the fact,
 * so slightly optimistic for the attacker). {@code ideal} is the mean of {@code q / choices}, where choices are
 * the ports an ideal allocator could have granted at that moment. Min-entropy is {@code -log2(best P_1)}; with
 * no hit it is reported as the lower bound {@code log2(trials)}.
 *
 * <p>Thread-safety: stateless.
 */
final class GuessSuccess {
    /** Guesses allowed. */
    static final int[] QS = {1, 10, 100};
    /** Ports of the same destination the attacker of view (b) has seen. */
    static final int HISTORY = 8;
    private static final int MAX_Q = 100;

    private GuessSuccess() {
    }

    /** Hits per {@code q} of one predictor. */
    private static final class Score {
        final long[] hits = new long[QS.length];

        void rank(int rank) {
            for (int i = 0; i < QS.length; i++) {
                if (rank >= 0 && rank < QS[i]) {
                    hits[i]++;
                }
            }
        }
    }

    /** The result of one view. */
    record View(String name, long trials, Map<String, double[]> byPredictor, double[] best, double[] ideal,
                double minEntropyBits, boolean minEntropyIsLowerBound) {
    }

    /**
     * @param log the run's allocations
     * @return views a, b, c (a view with no trial is omitted)
     */
    static List<View> compute(AllocationLog log) {
        return compute(log, false);
    }

    /**
     * @param log the run's allocations
     * @param nearest whether views b and c also score the nearest-ports predictors {@code nearLast} and
     *     {@code nearBefore}
     * @return views a, b, c (a view with no trial is omitted)
     */
    static List<View> compute(AllocationLog log, boolean nearest) {
        final List<View> views = new ArrayList<>();
        addIfAny(views, viewA(log));
        addIfAny(views, viewB(log, nearest));
        addIfAny(views, viewC(log, nearest));
        return views;
    }

    private static void addIfAny(List<View> views, View v) {
        if (v.trials > 0) {
            views.add(v);
        }
    }

    static View viewA(AllocationLog log) {
        final int half = log.size() / 2;
        final Map<Integer, Integer> counts = new HashMap<>();
        for (int i = 0; i < half; i++) {
            if (log.isWorkload(i)) {
                counts.merge(log.port(i), 1, Integer::sum);
            }
        }
        final List<Map.Entry<Integer, Integer>> sorted = new ArrayList<>(counts.entrySet());
        sorted.sort(Map.Entry.<Integer, Integer>comparingByValue(Comparator.reverseOrder())
            .thenComparing(Map.Entry.comparingByKey()));
        final Map<Integer, Integer> rankOf = new HashMap<>();
        for (int r = 0; r < Math.min(MAX_Q, sorted.size()); r++) {
            rankOf.put(sorted.get(r).getKey(), r);
        }
        final Score score = new Score();
        final double[] ideal = new double[QS.length];
        long trials = 0;
        for (int i = half; i < log.size(); i++) {
            if (log.isWorkload(i)) {
                score.rank(rankOf.getOrDefault(log.port(i), -1));
                addIdeal(ideal, log.choices(i));
                trials++;
            }
        }
        final Map<String, Score> scores = new LinkedHashMap<>();
        scores.put("mostFrequentPort", score);
        return view("a", trials, scores, ideal);
    }

    static View viewB(AllocationLog log) {
        return viewB(log, false);
    }

    static View viewB(AllocationLog log, boolean nearest) {
        final Map<Integer, ArrayDeque<Integer>> history = new HashMap<>();
        final Map<String, Score> scores = new LinkedHashMap<>();
        scores.put("last+1", new Score());
        scores.put("meanStep", new Score());
        scores.put("frequentStep", new Score());
        if (nearest) {
            scores.put("nearLast", new Score());
        }
        final double[] ideal = new double[QS.length];
        long trials = 0;
        for (int i = 0; i < log.size(); i++) {
            if (!log.isWorkload(i)) {
                continue;
            }
            final ArrayDeque<Integer> h = history.computeIfAbsent(log.destination(i), k -> new ArrayDeque<>());
            final int actual = log.port(i);
            if (h.size() >= 2) {
                final int[] ports = h.stream().mapToInt(Integer::intValue).toArray();
                final int last = ports[ports.length - 1];
                scores.get("last+1").rank(actual - last - 1);
                final double meanStep = (double) (last - ports[0]) / (ports.length - 1);
                scores.get("meanStep").rank(spiralRank(actual, last + (int) Math.round(meanStep)));
                scores.get("frequentStep").rank(frequentStepRank(ports, actual));
                if (nearest) {
                    scores.get("nearLast").rank(spiralRank(actual, last));
                }
                addIdeal(ideal, log.choices(i));
                trials++;
            }
            h.addLast(actual);
            if (h.size() > HISTORY) {
                h.removeFirst();
            }
        }
        return view("b", trials, scores, ideal);
    }

    static View viewC(AllocationLog log) {
        return viewC(log, false);
    }

    static View viewC(AllocationLog log, boolean nearest) {
        final Map<String, Score> scores = new LinkedHashMap<>();
        scores.put("before+1", new Score());
        scores.put("midpoint", new Score());
        scores.put("after-1", new Score());
        if (nearest) {
            scores.put("nearBefore", new Score());
        }
        final double[] ideal = new double[QS.length];
        long trials = 0;
        for (int i = 0; i + 2 < log.size(); i++) {
            if (log.destination(i) == AllocationLog.PROBE_BEFORE && log.isWorkload(i + 1)
                && log.destination(i + 2) == AllocationLog.PROBE_AFTER) {
                final int before = log.port(i);
                final int actual = log.port(i + 1);
                final int after = log.port(i + 2);
                scores.get("before+1").rank(actual - before - 1);
                scores.get("midpoint").rank(spiralRank(actual, Math.floorDiv(before + after, 2)));
                scores.get("after-1").rank(after - 1 - actual);
                if (nearest) {
                    scores.get("nearBefore").rank(spiralRank(actual, before));
                }
                addIdeal(ideal, log.choices(i + 1));
                trials++;
            }
        }
        return view("c", trials, scores, ideal);
    }

    /** Rank of {@code actual} in the guesses c, c+1, c-1, c+2, c-2, … */
    static int spiralRank(int actual, int center) {
        final int offset = actual - center;
        return offset > 0 ? 2 * offset - 1 : -2 * offset;
    }

    /** Rank of {@code actual} among last + steps by descending frequency (latest first on ties), then a spiral. */
    static int frequentStepRank(int[] ports, int actual) {
        final Map<Integer, Integer> count = new LinkedHashMap<>();
        for (int j = ports.length - 1; j >= 1; j--) {
            count.merge(ports[j] - ports[j - 1], 1, Integer::sum);
        }
        final List<Integer> steps = new ArrayList<>(count.keySet());
        steps.sort((x, y) -> Integer.compare(count.get(y), count.get(x))); // stable: latest first on ties
        final int last = ports[ports.length - 1];
        final List<Integer> guesses = new ArrayList<>();
        for (int s : steps) {
            guesses.add(last + s);
        }
        final int center = last + steps.get(0);
        for (int r = 0; guesses.size() < MAX_Q; r++) {
            final int g = center + (r % 2 == 1 ? (r + 1) / 2 : -r / 2);
            if (!guesses.contains(g)) {
                guesses.add(g);
            }
        }
        return guesses.indexOf(actual);
    }

    private static void addIdeal(double[] ideal, int choices) {
        for (int i = 0; i < QS.length; i++) {
            ideal[i] += Math.min(1.0, QS[i] / (double) choices);
        }
    }

    private static View view(String name, long trials, Map<String, Score> scores, double[] idealSum) {
        final Map<String, double[]> byPredictor = new LinkedHashMap<>();
        final double[] best = new double[QS.length];
        for (Map.Entry<String, Score> e : scores.entrySet()) {
            final double[] p = new double[QS.length];
            for (int i = 0; i < QS.length; i++) {
                p[i] = trials == 0 ? 0 : e.getValue().hits[i] / (double) trials;
                best[i] = Math.max(best[i], p[i]);
            }
            byPredictor.put(e.getKey(), p);
        }
        final double[] ideal = new double[QS.length];
        for (int i = 0; i < QS.length; i++) {
            ideal[i] = trials == 0 ? 0 : idealSum[i] / trials;
        }
        final boolean noHit = best[0] == 0;
        final double minEntropy = trials == 0 ? 0
            : noHit ? log2(trials) : -log2(best[0]);
        return new View(name, trials, byPredictor, best, ideal, minEntropy, noHit);
    }

    private static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }
}
