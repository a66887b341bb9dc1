package dev.portalloc.bench.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class EvaluateCommandTest {
    private static final String[] SMALL = {"--algorithms", "uniform,doubleHash:256", "--occupancies", "0,0.9",
        "--sections", "quality,leakage,rekey,trace,fingerprint", "--allocations", "600", "--leakageTrials", "200",
        "--fingerprintDevices", "1", "--popularity", "uniform", "--destinations", "50", "--quarantine", "30s"};

    private static Path evaluate(Path out) {
        final String[] args = new String[SMALL.length + 3];
        args[0] = "evaluate";
        System.arraycopy(SMALL, 0, args, 1, SMALL.length);
        args[SMALL.length + 1] = "--out";
        args[SMALL.length + 2] = out.toString();
        assertThat(PortallocBench.commandLine().execute(args)).isZero();
        return out;
    }

    /** Rows that are simulated (not timed), for the reproducibility check. */
    private static List<String> simulatedRows(Path dir) throws IOException {
        return Files.readAllLines(dir.resolve("results.csv"), StandardCharsets.UTF_8).stream()
            .filter(l -> !l.contains(",cost.")).toList();
    }

    @Test
    void writesTheThreeFilesAndTheSameSeedGivesTheSameFigures(@TempDir Path dir) throws IOException {
        final Path first = evaluate(dir.resolve("a"));
        final Path second = evaluate(dir.resolve("b"));
        assertThat(first.resolve("report.html")).content().contains("data:image/png;base64,").contains("Guess success");
        assertThat(first.resolve("summary.md")).content().contains("| uniform |").contains("Device fingerprint");
        final List<String> rows = simulatedRows(first);
        assertThat(rows).hasSizeGreaterThan(100).anyMatch(l -> l.contains("fingerprint,doubleHash:256"));
        assertThat(simulatedRows(second)).isEqualTo(rows);
        assertThat(rows).filteredOn(l -> l.contains("exhaustion.false")).allMatch(l -> l.endsWith(",0.0"));
    }

    @Test
    void badOptionValueExitsWithAMessage() {
        final java.io.StringWriter err = new java.io.StringWriter();
        final var cl = PortallocBench.commandLine();
        cl.setErr(new java.io.PrintWriter(err));
        assertThat(cl.execute("evaluate", "--occupancies", "2")).isEqualTo(2);
        assertThat(err.toString()).contains("occupancies").contains("2");
    }
}
