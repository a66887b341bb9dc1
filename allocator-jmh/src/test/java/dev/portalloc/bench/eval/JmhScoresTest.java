package dev.portalloc.bench.eval;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class JmhScoresTest {
    /** A file JMH 1.37 wrote with {@code -prof gc -rf json}: two runs, secondary metrics, a "NaN" error among them. */
    private static String realResult() throws IOException {
        try (InputStream in = JmhScoresTest.class.getResourceAsStream("jmh-result-gc.json")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void readsThePrimaryScoresOfARealJmhResult() throws IOException {
        final JmhScores scores = JmhScores.parse(realResult(), "jmh-result-gc.json");

        assertThat(scores.all()).hasSize(2);
        final JmhScores.Score half = scores.get("ExclusiveAllocationBenchmark.allocator", "0.5").orElseThrow();
        assertThat(half.threads()).isEqualTo(1);
        assertThat(half.score()).isCloseTo(258.95104335491425, within(1e-12));
        assertThat(half.error()).isCloseTo(155.3356038025646, within(1e-12));
        assertThat(half.unit()).isEqualTo("ns/op");
        assertThat(half.params()).isEqualTo(Map.of("occupancy", "0.5"));
        assertThat(scores.get("ExclusiveAllocationBenchmark.allocator", "full")).isPresent();
        assertThat(scores.find("ExclusiveAllocationBenchmark.allocator", "occupancy", "full")).isPresent();
    }

    @Test
    void findMatchesEveryGivenParameter() {
        final String json = "[" + sized("uniform", "1000", 250) + ", " + sized("hash", "28232", 300) + ", "
            + sized("uniform", "28232", 98) + "]";
        final JmhScores scores = JmhScores.parse(json, "t");

        assertThat(scores.find("B.sized", Map.of("algorithm", "uniform", "expectedTuples", "28232")).orElseThrow()
            .score()).isEqualTo(98);
        assertThat(scores.find("B.sized", "algorithm", "uniform").orElseThrow().score()).isEqualTo(250); // the first
        assertThat(scores.find("B.sized", Map.of("algorithm", "linux"))).isEmpty();
    }

    private static String sized(String algorithm, String expectedTuples, double score) {
        return "{\"benchmark\": \"a.B.sized\", \"params\": {\"algorithm\": \"" + algorithm + "\", \"expectedTuples\": \""
            + expectedTuples + "\"}, \"primaryMetric\": {\"score\": " + score + ", \"scoreError\": 0}}";
    }

    @Test
    void anErrorJmhWritesAsTheStringNaNReadsAsNaN() {
        final JmhScores scores = JmhScores.parse("[" + JmhJson.run("allocator", "", 5) + "]", "t");

        assertThat(scores.get("ExclusiveAllocationBenchmark.allocator", "").orElseThrow().error()).isNaN();
    }

    @Test
    void anUnquotedNaNIsAcceptedToo() {
        final String json = "[{\"benchmark\": \"a.B.c\", \"primaryMetric\": {\"score\": NaN, \"scoreError\": NaN}}]";

        final JmhScores.Score s = JmhScores.parse(json, "t").get("B.c", "").orElseThrow();
        assertThat(s.score()).isNaN();
        assertThat(s.threads()).isEqualTo(1);
        assertThat(s.unit()).isEmpty();
    }

    @Test
    void malformedJsonNamesTheFileAndThePosition() {
        assertThatThrownBy(() -> JmhScores.parse("[{\"benchmark\": 3", "bad.json"))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("bad.json").hasMessageContaining("line 1").hasMessageContaining("offset");
    }

    @Test
    void textAfterTheArrayIsRejected() {
        assertThatThrownBy(() -> JmhScores.parse("[] []", "two.json"))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("two.json");
    }

    @Test
    void otherJsonIsNotAJmhResult() {
        assertThatThrownBy(() -> JmhScores.parse("{}", "o.json"))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected an array of runs");
        assertThatThrownBy(() -> JmhScores.parse("", "empty.json"))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty.json");
        assertThatThrownBy(() -> JmhScores.parse("[{\"benchmark\": \"a.B.c\"}]", "m.json"))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lacks benchmark or primaryMetric");
    }
}
