package dev.portalloc.bench.eval;

import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The speed section: runs {@code ExclusiveAllocationBenchmark}'s allocator, controls and baselines through the JMH
 * Runner API, writes JMH's JSON next to the report and adds every score, its ratio to the 1-thread allocator at
 * 50 %, and the README's targets ({@link PerformanceGoals}) to the results. Quick profile: 1 fork, 1 × 300 ms
 * warm-up, 2 × 300 ms measurement, occupancies 0.5, 0.99, one-free and full (about a minute; noisy, read the
 * ratios). Full profile: the benchmark README's settings (2 forks, 3 × 1 s warm-up, 5 × 1 s) and every occupancy.
 *
 * <p>JMH forks a JVM with the current class path, so run the harness with {@code java -cp benchmarks.jar}
 * (not inside Maven) when this section is on.
 *
 * <p>Thread-safety: stateless.
 */
final class SpeedSection {
    /** The benchmarks run: allocator, its controls and the baselines the targets use. */
    static final String INCLUDE = "ExclusiveAllocationBenchmark\\.(allocator|allocatorTwoThreads|bitSet|bitSetTwoThreads"
        + "|controlPrivateCas|controlThreadLocalRandom|controlRandomWordCas|controlRandomWordCasTwoThreads|operatingSystem)$";

    private SpeedSection() {
    }

    /**
     * @param full the long profile
     * @param json where JMH writes its JSON result
     * @param results where the scores go
     * @return seconds spent waiting for another JMH run's lock before starting
     * @throws RunnerException if JMH fails
     * @throws IOException if the result cannot be read back
     */
    static double run(boolean full, Path json, Results results) throws RunnerException, IOException {
        ChainedOptionsBuilder options = new OptionsBuilder().include(INCLUDE).resultFormat(ResultFormatType.JSON)
            .result(json.toString()).shouldFailOnError(true);
        if (full) {
            options = options.forks(2).warmupIterations(3).warmupTime(TimeValue.seconds(1)).measurementIterations(5)
                .measurementTime(TimeValue.seconds(1));
        } else {
            options = options.forks(1).warmupIterations(1).warmupTime(TimeValue.milliseconds(300))
                .measurementIterations(2).measurementTime(TimeValue.milliseconds(300))
                .param("occupancy", "0.5", "0.99", "one-free", "full");
        }
        final double waited = waitForJmhLock();
        new Runner(options.build()).run();
        add(JmhScores.read(json), results);
        return waited;
    }

    /** How long to wait for another JMH run on this machine to release JMH's lock file. */
    static final long LOCK_WAIT_MILLIS = 180_000;

    /**
     * Waits (at most {@link #LOCK_WAIT_MILLIS}) until no other JMH run holds {@code java.io.tmpdir/jmh.lock}:
     * JMH refuses to start while another run holds it, and two JMH runs on one machine would disturb each other's
     * scores anyway. The lock is only tested here and released at once; JMH takes it itself.
     *
     * @return seconds waited
     */
    static double waitForJmhLock() throws IOException {
        final long start = System.nanoTime();
        final Path lock = Path.of(System.getProperty("java.io.tmpdir"), "jmh.lock");
        final long deadline = System.currentTimeMillis() + LOCK_WAIT_MILLIS;
        boolean told = false;
        while (System.currentTimeMillis() < deadline) {
            try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(lock,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
                 java.nio.channels.FileLock held = channel.tryLock()) {
                if (held != null) {
                    return (System.nanoTime() - start) / 1e9;
                }
            } catch (java.nio.channels.OverlappingFileLockException e) {
                return 0; // held by this JVM: let JMH report it
            }
            if (!told) {
                System.out.println("speed: another JMH run holds " + lock + "; waiting up to "
                    + LOCK_WAIT_MILLIS / 1000 + " s ...");
                told = true;
            }
            try {
                Thread.sleep(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return (System.nanoTime() - start) / 1e9;
            }
        }
        return (System.nanoTime() - start) / 1e9;
    }

    /**
     * Adds scores, ratios and target verdicts to the results.
     *
     * @param scores a JMH result
     * @param results where they go
     */
    static void add(JmhScores scores, Results results) {
        final double base = scores.get("ExclusiveAllocationBenchmark.allocator", "0.5").map(JmhScores.Score::score)
            .orElse(Double.NaN);
        for (JmhScores.Score s : scores.all()) {
            final String params = (s.occupancy().isEmpty() ? "" : "occupancy=" + s.occupancy() + " ") + s.threads() + "t";
            results.add("speed", s.benchmark(), params, Double.NaN, "score", s.score());
            results.add("speed", s.benchmark(), params, Double.NaN, "error", s.error());
            results.add("speed", s.benchmark(), params, Double.NaN, "ratio", s.score() / base);
        }
        for (PerformanceGoals.Verdict v : PerformanceGoals.check(scores)) {
            final String limit = v.goal().direction().symbol;
            results.add("goals", v.goal().name(), limit, Double.NaN, "ratio", v.ratio());
            results.add("goals", v.goal().name(), limit, Double.NaN, "limit", v.goal().limit());
            results.add("goals", v.goal().name(), limit, Double.NaN, "pass",
                v.verdict().equals("MISSING") ? Double.NaN : v.verdict().equals("PASS") ? 1 : 0);
        }
    }
}
