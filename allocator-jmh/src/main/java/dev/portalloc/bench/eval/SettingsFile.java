package dev.portalloc.bench.eval;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * Reads a settings file: a Java properties file (UTF-8) whose keys are the long option names of
 * {@code evaluate} without dashes ({@link EvaluationSettings#KEYS}), e.g. {@code algorithms = uniform,linux}.
 * See {@code allocator-jmh/evaluation.properties} for an example with every key.
 *
 * <p>Thread-safety: stateless.
 */
final class SettingsFile {
    private SettingsFile() {
    }

    /**
     * @param file the properties file
     * @return its entries, keys checked against {@link EvaluationSettings#KEYS}
     * @throws IOException if the file cannot be read
     * @throws IllegalArgumentException on an unknown key, naming the file and the allowed keys
     */
    static Map<String, String> read(Path file) throws IOException {
        final Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        }
        final Map<String, String> entries = new LinkedHashMap<>();
        for (String key : properties.stringPropertyNames()) {
            if (!EvaluationSettings.KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown key '" + key + "' in settings file " + file
                    + ": allowed keys are " + EvaluationSettings.KEYS);
            }
            entries.put(key, properties.getProperty(key));
        }
        return entries;
    }
}
