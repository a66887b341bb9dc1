package dev.portalloc.examples;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

class ReadmeUsageTest {

    /** Every code line of the README's Java blocks must stand in ReadmeUsage.java (whitespace folded). */
    @Test
    void readmeSnippetIsTheCompiledOne() throws IOException {
        Path root = Path.of("").toAbsolutePath();
        while (!Files.exists(root.resolve("README.md"))) {
            root = root.getParent();
        }
        String readme = Files.readString(root.resolve("README.md"));
        StringBuilder blocks = new StringBuilder();
        int blockCount = 0;
        for (int start = readme.indexOf("```java\n"); start >= 0; start = readme.indexOf("```java\n", start + 8)) {
            blocks.append(readme, start + 8, readme.indexOf("```", start + 8));
            blockCount++;
        }
        assertThat(blockCount).isGreaterThanOrEqualTo(2);
        String source = fold(Files.readString(
            root.resolve("examples/src/main/java/dev/portalloc/examples/ReadmeUsage.java")));
        List<String> lines = blocks.toString().lines().map(String::strip)
            .filter(l -> !l.isEmpty() && !l.startsWith("import"))
            .collect(Collectors.toList());
        assertThat(lines).isNotEmpty();
        for (String line : lines) {
            assertThat(source).as("README line %s", line).contains(fold(line));
        }
    }

    @Test
    void runs() throws Exception {
        ReadmeUsage.main(new String[0]);
    }

    private static String fold(String s) {
        return s.replaceAll("\\s+", " ");
    }
}
