package dev.portalloc.bench.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class PerformanceGoalsTest {
    @Test
    void readsJmhJsonAndJudgesTheTargets() {
        final String json = "[" + String.join(",",
            JmhJson.run("allocator", "0.5", 10), JmhJson.run("allocator", "0.99", 12), JmhJson.run("allocator", "one-free", 40),
            JmhJson.run("bitSet", "0.5", 20), JmhJson.run("local", "0.5", 22), JmhJson.run("controlPrivateCas", "", 3),
            JmhJson.run("controlThreadLocalRandom", "", 4)) + "]";
        final JmhScores scores = JmhScores.parse(json, "test");
        assertThat(scores.get("ExclusiveAllocationBenchmark.allocator", "0.5").orElseThrow().score()).isEqualTo(10);
        final var verdicts = PerformanceGoals.check(scores);
        assertThat(verdicts.get(0).ratio()).isEqualTo(10.0 / 20);
        assertThat(verdicts.get(0).verdict()).isEqualTo("PASS"); // 10 / 20 ≤ 1
        assertThat(verdicts.get(1).ratio()).isEqualTo(22.0 / 20);
        assertThat(verdicts.get(1).verdict()).isEqualTo("FAIL"); // the Local handle: 22 / 20 > 1
        assertThat(verdicts.get(2).ratio()).isEqualTo(10.0 / (2 * 3 + 4));
        assertThat(verdicts.get(2).verdict()).isEqualTo("PASS");
        assertThat(verdicts.get(3).verdict()).isEqualTo("MISSING"); // no controlRandomSource score
        assertThat(verdicts.get(5).verdict()).isEqualTo("PASS"); // 12 / 10 ≤ 1.5
        assertThat(verdicts.get(6).verdict()).isEqualTo("FAIL"); // 40 / 10 > 3
        assertThat(verdicts.get(8).verdict()).isEqualTo("MISSING"); // no "full" score
    }

    @Test
    void floorsAreTheSameRatiosWithTheControlInPlaceOfTheAllocator(@TempDir Path dir) throws IOException {
        final String json = "[" + String.join(",",
            JmhJson.run("allocator", "0.5", 30), JmhJson.run("bitSet", "0.5", 20),
            JmhJson.run("controlUniformRoundsCas", "", 15), JmhJson.run("allocator", "0.99", 90),
            JmhJson.run("bitSet", "0.99", 20), JmhJson.run("controlExactCountsCas", "0.99", 50)) + "]";
        final var verdicts = PerformanceGoals.check(JmhScores.parse(json, "test"));
        assertThat(verdicts.get(0).verdict()).isEqualTo("FAIL"); // 30 / 20 > 1
        assertThat(verdicts.get(0).floor()).isEqualTo(15.0 / 20);
        assertThat(verdicts.get(0).floorVerdict()).isEqualTo("within reach");
        assertThat(verdicts.get(1).floorVerdict()).isNull(); // the Local handle's target has no floor
        assertThat(verdicts.get(2).floor()).isNaN(); // no controlPrivateCas score for the denominator
        assertThat(verdicts.get(4).floor()).isEqualTo(50.0 / 20);
        assertThat(verdicts.get(4).floorVerdict()).isEqualTo("out of reach"); // 2.5 > 2: even the control misses
        assertThat(verdicts.get(5).floor()).isEqualTo(50.0 / 30); // the control at 99 % over our 50 %

        final Path file = dir.resolve("jmh.json");
        Files.writeString(file, json);
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final CheckGoalsCommand command = new CheckGoalsCommand();
        command.out = new PrintStream(out, true, StandardCharsets.UTF_8);
        new picocli.CommandLine(command).execute(file.toString());
        assertThat(out.toString(StandardCharsets.UTF_8))
            .contains("floor: controlUniformRoundsCas").contains("0.750: within reach")
            .contains("floor: controlExactCountsCas").contains("2.500: out of reach");
    }

    @Test
    void checkGoalsExitsNonZeroOnFail(@TempDir Path dir) throws IOException {
        final Path file = dir.resolve("jmh.json");
        Files.writeString(file, "[" + JmhJson.run("allocator", "0.5", 10) + "," + JmhJson.run("allocator", "0.99", 100) + "]");
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final CheckGoalsCommand command = new CheckGoalsCommand();
        command.out = new PrintStream(out, true, StandardCharsets.UTF_8);
        final int status = new picocli.CommandLine(command).execute(file.toString());
        assertThat(status).isEqualTo(CheckGoalsCommand.FAILED);
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("FAIL").contains("99 % / 50 %").contains("10.000");
    }

    @Test
    void malformedJsonIsReportedWithItsOffset() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> JmhScores.parse("[{\"benchmark\": 3", "bad.json"))
            .hasMessageContaining("offset");
    }
}
