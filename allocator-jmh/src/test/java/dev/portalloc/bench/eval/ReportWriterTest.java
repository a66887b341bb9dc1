package dev.portalloc.bench.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ReportWriterTest {
    @Test
    void speedSectionShowsScoresRatiosAndTargets(@TempDir Path dir) throws IOException {
        final Results results = new Results();
        SpeedSection.add(JmhScores.parse("[" + JmhJson.run("allocator", "0.5", 50) + "," + JmhJson.run("allocator", "0.99", 200) + ","
            + JmhJson.run("operatingSystem", "", 12000) + "]", "t"), results);
        final List<String> notes = new ArrayList<>();
        new ReportWriter(EvaluationSettings.parse(EvaluationSettings.defaults(false)), results, notes, List.of(),
            List.of("test")).write(dir);
        assertThat(notes).isEmpty(); // every chart was drawn
        assertThat(dir.resolve("summary.md")).content()
            .contains("| ExclusiveAllocationBenchmark.allocator | occupancy=0.99 1t | 200 | 4 |")
            .contains("| 99 % / 50 % (1 thread) | 4 | ≤ 1.5000 | FAIL |")
            .contains("MISSING");
        assertThat(dir.resolve("report.html")).content().contains("data:image/png;base64,");
        assertThat(dir.resolve("results.csv")).content().contains("speed,ExclusiveAllocationBenchmark.operatingSystem,1t,,score,12000.0");
    }

    @Test
    void csvHasOneLinePerFigureAndQuotesOnlyFieldsThatNeedIt(@TempDir Path dir) throws IOException {
        final Results results = new Results();
        results.add("quality", "uniform", "zipf/lognormal", 0.5, "guess.P1", 0.25);
        results.add("trace", "a \"quoted\", label", "-", Double.NaN, "opens", 3);
        new ReportWriter(EvaluationSettings.parse(EvaluationSettings.defaults(false)), results, new ArrayList<>(),
            List.of(), List.of("test")).write(dir);
        assertThat(java.nio.file.Files.readString(dir.resolve("results.csv"))).isEqualTo(
            "section,algorithm,workload,occupancy,metric,value\n"
                + "quality,uniform,zipf/lognormal,0.5,guess.P1,0.25\n"
                + "trace,\"a \"\"quoted\"\", label\",-,,opens,3.0\n");
    }
}
