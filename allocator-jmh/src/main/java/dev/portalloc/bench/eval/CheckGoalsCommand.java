package dev.portalloc.bench.eval;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code portalloc-bench check-goals FILE}: reads a JMH JSON result and prints each performance target of
 * {@code allocator-jmh/README.md} with its measured ratio and PASS, FAIL or MISSING. Under a target that has a
 * floor (a control that does, in the simplest way, only the work an exactly uniform lock-free allocator cannot
 * skip) it prints the same ratio for that control and "within reach", or "out of reach" when the control itself
 * misses the limit on that machine. Floors do not change the exit status. Exit status 1 if any target fails, 3 if
 * none fails but some are missing, 0 if all pass. Run by hand after a benchmark run, not in CI (the figures depend
 * on the machine).
 *
 * <p>Thread-safety: one invocation per instance.
 */
@Command(name = "check-goals", mixinStandardHelpOptions = true,
    description = "Judge a JMH JSON result (-rf json) against the README's performance targets; non-zero exit on FAIL.")
final class CheckGoalsCommand implements Callable<Integer> {
    /** Exit status when a target fails. */
    static final int FAILED = 1;
    /** Exit status when no target fails but some benchmark is missing from the file. */
    static final int INCOMPLETE = 3;

    @Parameters(paramLabel = "FILE", description = "JMH result file written with -rf json")
    Path file;

    PrintStream out = System.out;

    @Override
    public Integer call() throws Exception {
        final JmhScores scores;
        try {
            scores = JmhScores.read(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException("JMH result file not found: " + file, e);
        }
        boolean failed = false;
        boolean missing = false;
        for (PerformanceGoals.Verdict v : PerformanceGoals.check(scores)) {
            out.printf(Locale.ROOT, "%-7s %-80s measured %s, limit %s %s%n", v.verdict(), v.goal().name(),
                Double.isNaN(v.ratio()) ? "n/a" : String.format(Locale.ROOT, "%.3f", v.ratio()),
                v.goal().direction().symbol, Table.format(v.goal().limit()));
            if (v.floorVerdict() != null) {
                out.printf(Locale.ROOT, "%-7s %-80s measured %.3f: %s%n", "", "floor: " + v.goal().floorName(),
                    v.floor(), v.floorVerdict());
            }
            failed |= v.verdict().equals("FAIL");
            missing |= v.verdict().equals("MISSING");
        }
        return failed ? FAILED : missing ? INCOMPLETE : 0;
    }
}
