package dev.portalloc.bench.eval;

import dev.portalloc.bench.ThreadLocalityBenchmark;

import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The locality section: what {@code PortAllocator.Builder.threadLocality} gains in 2-thread speed and loses in
 * guess success (metric 1), per setting of {@link ThreadLocalityBenchmark#SETTINGS}, each against {@code off}.
 * <ul>
 * <li>Guess success: a churn run of {@code uniform} at 50 % occupancy in each mode, exclusive and connect
 *     (uniform popularity, exponential lifetimes, the evaluation's allocations and destinations; one victim in {@link Evaluation#PROBE_EVERY} sandwiched by
 *     attacker probes), the same workload and allocator seed for every setting; {@link GuessSuccess} with the
 *     nearest-ports predictors on ({@code nearLast}, {@code nearBefore}).</li>
 * <li>Speed: {@link ThreadLocalityBenchmark} (exclusive acquire + release at 50 %, 1 and 2 threads) through the
 *     JMH Runner API. Quick: 1 fork, 1 × 300 ms warm-up, 2 × 300 ms (noisy). Full: 2 forks, 2 × 1 s warm-up,
 *     4 × 1 s (about 2.5 minutes).</li>
 * </ul>
 * Rows: section {@code locality}, algorithm {@code uniform/exclusive} or {@code uniform/connect} (speed figures:
 * exclusive only), workload = the setting ({@code off}, {@code 64x16},
 * …), occupancy 0.5.
 *
 * <p>Thread-safety: stateless.
 */
final class LocalitySection {
    /** The section's occupancy. */
    static final double OCCUPANCY = 0.5;
    /** The JMH benchmarks run. */
    static final String INCLUDE = "ThreadLocalityBenchmark\\.(oneThread|twoThreads)$";
    private static final String ONE = "ThreadLocalityBenchmark.oneThread";
    private static final String TWO = "ThreadLocalityBenchmark.twoThreads";
    /** Row label of the speed figures: the JMH benchmark is exclusive. */
    private static final String EXCLUSIVE = label(AllocatorSubject.Mode.EXCLUSIVE);

    private LocalitySection() {
    }

    /**
     * Runs the guess-success part for every setting.
     *
     * @param s the evaluation's settings
     * @param results where the figures go
     */
    static void guess(EvaluationSettings s, Results results) {
        for (AllocatorSubject.Mode mode : AllocatorSubject.Mode.values()) {
            guess(s, mode, results);
        }
    }

    /** The row label of a mode: {@code uniform/exclusive} or {@code uniform/connect}. */
    static String label(AllocatorSubject.Mode mode) {
        return "uniform/" + mode.name().toLowerCase(java.util.Locale.ROOT);
    }

    private static void guess(EvaluationSettings s, AllocatorSubject.Mode mode, Results results) {
        final AlgorithmSpec uniform = AlgorithmSpec.parse("uniform");
        final String a = label(mode);
        final String[] name = {"locality", a, Double.toString(OCCUPANCY)};
        final java.util.Map<String, double[]> off = new java.util.HashMap<>();
        for (String setting : ThreadLocalityBenchmark.SETTINGS) {
            final int[] p = ThreadLocalityBenchmark.parse(setting);
            final SimulatedClock clock = new SimulatedClock();
            // the same allocator seed and workload for every setting: the settings differ only in locality
            final Subject subject = AllocatorSubject.create(mode, uniform, s.ports(), s.reserved(),
                Seeds.derive(s.seed(), name), Duration.ZERO, clock, p == null ? 0 : p[0], p == null ? 0 : p[1]);
            final ChurnWorkload w = new ChurnWorkload(OCCUPANCY, Popularity.Kind.UNIFORM, Lifetimes.Kind.EXPONENTIAL,
                s.destinations(), s.zipfExponent(), s.hotShare(), s.arrivalRate(), s.allocations(), Evaluation.PROBE_EVERY);
            final ChurnRun run = new ChurnRun(subject, w, Seeds.workload(Seeds.derive(s.seed() + 1, name)), clock,
                s.selectable(), 0).run();
            results.add("locality", a, setting, OCCUPANCY, "exhaustion.false", run.ledger().falseExhaustions());
            results.add("locality", a, setting, OCCUPANCY, "ledger.violations", run.ledger().violationCount());
            for (GuessSuccess.View v : GuessSuccess.compute(run.log(), true)) {
                final String m = "guess." + v.name() + ".";
                results.add("locality", a, setting, OCCUPANCY, m + "trials", v.trials());
                for (var e : v.byPredictor().entrySet()) {
                    for (int i = 0; i < GuessSuccess.QS.length; i++) {
                        results.add("locality", a, setting, OCCUPANCY, m + e.getKey() + ".P" + GuessSuccess.QS[i],
                            e.getValue()[i]);
                    }
                }
                for (int i = 0; i < GuessSuccess.QS.length; i++) {
                    results.add("locality", a, setting, OCCUPANCY, m + "best.P" + GuessSuccess.QS[i], v.best()[i]);
                    results.add("locality", a, setting, OCCUPANCY, m + "ideal.P" + GuessSuccess.QS[i], v.ideal()[i]);
                }
                results.add("locality", a, setting, OCCUPANCY, m + "minEntropyBits", v.minEntropyBits());
                if (p == null) {
                    off.put(v.name(), v.best());
                }
                final double[] base = off.get(v.name());
                for (int i = 0; base != null && i < GuessSuccess.QS.length; i++) {
                    if (base[i] > 0) { // no hit at all with locality off: no ratio
                        results.add("locality", a, setting, OCCUPANCY, m + "best.P" + GuessSuccess.QS[i] + ".vsOff",
                            v.best()[i] / base[i]);
                    }
                }
            }
        }
    }

    /**
     * Runs the speed part through the JMH Runner API.
     *
     * @param full the long profile
     * @param json where JMH writes its JSON result
     * @param results where the figures go
     * @throws RunnerException if JMH fails
     * @throws IOException if the result cannot be read back
     */
    static void speed(boolean full, Path json, Results results) throws RunnerException, IOException {
        ChainedOptionsBuilder options = new OptionsBuilder().include(INCLUDE).resultFormat(ResultFormatType.JSON)
            .result(json.toString()).shouldFailOnError(true).param("occupancy", "0.5");
        if (full) {
            options = options.forks(2).warmupIterations(2).warmupTime(TimeValue.seconds(1)).measurementIterations(4)
                .measurementTime(TimeValue.seconds(1));
        } else {
            options = options.forks(1).warmupIterations(1).warmupTime(TimeValue.milliseconds(300))
                .measurementIterations(2).measurementTime(TimeValue.milliseconds(300));
        }
        SpeedSection.waitForJmhLock();
        new Runner(options.build()).run();
        addSpeed(JmhScores.read(json), results);
    }

    /**
     * Adds, per setting: ns per operation at 1 and 2 threads, 2-thread throughput versus {@code off}
     * ({@code off}'s 2-thread ns / the setting's) and scaling (2 × 1-thread ns / 2-thread ns: total 2-thread
     * throughput over 1-thread throughput).
     *
     * @param scores a JMH result of {@link ThreadLocalityBenchmark}
     * @param results where the figures go
     */
    static void addSpeed(JmhScores scores, Results results) {
        final double off2 = scores.find(TWO, "locality", "off").map(JmhScores.Score::score).orElse(Double.NaN);
        final double off1 = scores.find(ONE, "locality", "off").map(JmhScores.Score::score).orElse(Double.NaN);
        for (String setting : List.of(ThreadLocalityBenchmark.SETTINGS)) {
            final var one = scores.find(ONE, "locality", setting);
            final var two = scores.find(TWO, "locality", setting);
            if (one.isPresent()) {
                results.add("locality", EXCLUSIVE, setting, OCCUPANCY, "speed.ns.1t", one.get().score());
                results.add("locality", EXCLUSIVE, setting, OCCUPANCY, "speed.ns.1t.error", one.get().error());
                results.add("locality", EXCLUSIVE, setting, OCCUPANCY, "speed.throughput.1t.vsOff",
                    off1 / one.get().score());
            }
            if (two.isPresent()) {
                results.add("locality", EXCLUSIVE, setting, OCCUPANCY, "speed.ns.2t", two.get().score());
                results.add("locality", EXCLUSIVE, setting, OCCUPANCY, "speed.ns.2t.error", two.get().error());
                results.add("locality", EXCLUSIVE, setting, OCCUPANCY, "speed.throughput.2t.vsOff",
                    off2 / two.get().score());
            }
            if (one.isPresent() && two.isPresent()) {
                results.add("locality", EXCLUSIVE, setting, OCCUPANCY, "speed.scaling2t",
                    2 * one.get().score() / two.get().score());
            }
        }
    }
}
