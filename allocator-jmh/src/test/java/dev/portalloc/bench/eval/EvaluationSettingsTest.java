package dev.portalloc.bench.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EvaluationSettingsTest {
    @Test
    void defaultsOfBothProfilesParse() {
        final EvaluationSettings quick = EvaluationSettings.parse(EvaluationSettings.defaults(false));
        final EvaluationSettings full = EvaluationSettings.parse(EvaluationSettings.defaults(true));
        assertThat(quick.occupancies()).containsExactly(0.0, 0.5, 0.9, 0.99, 0.999);
        assertThat(quick.mode()).isEqualTo(AllocatorSubject.Mode.CONNECT);
        assertThat(full.allocations()).isGreaterThan(quick.allocations());
        assertThat(full.fingerprintTables()).contains(65536);
        assertThat(quick.sections()).doesNotContain(EvaluationSettings.Section.LOCALITY);
        assertThat(full.sections()).contains(EvaluationSettings.Section.LOCALITY, EvaluationSettings.Section.SPEED);
    }

    @Test
    void badValuesAreNamedWithTheAllowedRange() {
        assertThatThrownBy(() -> parseWith("occupancies", "0,1.5"))
            .hasMessageContaining("occupancies").hasMessageContaining("1.5").hasMessageContaining("< 1.0");
        assertThatThrownBy(() -> parseWith("quarantine", "soon"))
            .hasMessageContaining("quarantine").hasMessageContaining("'soon'").hasMessageContaining("60s");
        assertThatThrownBy(() -> parseWith("ports", "70000"))
            .hasMessageContaining("ports").hasMessageContaining("70000").hasMessageContaining("1..65535");
        assertThatThrownBy(() -> parseWith("sections", "quality,vibes"))
            .hasMessageContaining("'vibes'").hasMessageContaining("quality");
        assertThatThrownBy(() -> parseWith("fingerprintTables", "300"))
            .hasMessageContaining("300").hasMessageContaining("power of two");
        assertThatThrownBy(() -> parseWith("reserved", "32768-60999"))
            .hasMessageContaining("no selectable port");
    }

    @Test
    void durationsInShortAndIsoForm() {
        assertThat(Durations.parse("q", "60s")).isEqualTo(Duration.ofSeconds(60));
        assertThat(Durations.parse("q", "250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(Durations.parse("q", "PT2M")).isEqualTo(Duration.ofMinutes(2));
        assertThat(Durations.parse("q", "0")).isZero();
    }

    @Test
    void optionsOverrideTheFileWhichOverridesTheProfile(@TempDir Path dir) throws IOException {
        final Path file = dir.resolve("eval.properties");
        Files.writeString(file, "# test\nseed = 7\nalgorithms = uniform,hash\nfull = true\n");
        final EvaluateCommand command = new EvaluateCommand();
        new CommandLine(command).parseArgs("--config", file.toString(), "--algorithms", "linux");
        final EvaluationSettings s = command.settings();
        assertThat(s.seed()).isEqualTo(7);
        assertThat(s.algorithms()).extracting(AlgorithmSpec::label).containsExactly("linux");
        assertThat(s.full()).isTrue();
        assertThat(s.allocations()).isEqualTo(Integer.parseInt(EvaluationSettings.defaults(true).get("allocations")));
    }

    @Test
    void unknownKeyInTheFileIsRejectedWithTheAllowedKeys(@TempDir Path dir) throws IOException {
        final Path file = dir.resolve("eval.properties");
        Files.writeString(file, "sede = 7\n");
        assertThatThrownBy(() -> SettingsFile.read(file)).hasMessageContaining("'sede'").hasMessageContaining("seed");
    }

    @Test
    void exampleSettingsFileOfTheRepositoryParses() throws IOException {
        final Path example = Path.of("evaluation.properties");
        assertThat(example).exists();
        final Map<String, String> merged = EvaluationSettings.defaults(false);
        merged.putAll(SettingsFile.read(example));
        assertThat(EvaluationSettings.parse(merged).algorithms()).isNotEmpty();
    }

    private static EvaluationSettings parseWith(String key, String value) {
        final Map<String, String> m = EvaluationSettings.defaults(false);
        m.put(key, value);
        return EvaluationSettings.parse(m);
    }
}
