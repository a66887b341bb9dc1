package dev.portalloc.bench.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ReportWriterTest {
    private static String run(String benchmark, String occupancy, double score) {
        final String params = occupancy.isEmpty() ? "" : ", \"params\" : { \"occupancy\" : \"" + occupancy + "\" }";
        return "{ \"benchmark\" : \"dev.portalloc.bench.ExclusiveAllocationBenchmark." + benchmark + "\", \"threads\" : 1"
            + params + ", \"primaryMetric\" : { \"score\" : " + score + ", \"scoreError\" : 0.5, \"scoreUnit\" : \"ns/op\" } }";
    }

    @Test
    void speedSectionShowsScoresRatiosAndTargets(@TempDir Path dir) throws IOException {
        final Results results = new Results();
        SpeedSection.add(JmhScores.parse("[" + run("allocator", "0.5", 50) + "," + run("allocator", "0.99", 200) + ","
            + run("operatingSystem", "", 12000) + "]", "t"), results);
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
}
