package dev.portalloc.bench.eval;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses durations written as {@code 0}, {@code 250ms}, {@code 60s}, {@code 2m}, {@code 1h} or ISO-8601
 * ({@code PT60S}).
 *
 * <p>Thread-safety: stateless.
 */
final class Durations {
    private static final Pattern SHORT = Pattern.compile("(\\d+)(ms|s|m|h)");

    private Durations() {
    }

    /**
     * @param key the setting's name, for the message
     * @param text the duration
     * @return the duration, never negative
     * @throws IllegalArgumentException naming the key and the accepted forms
     */
    static Duration parse(String key, String text) {
        final String t = text.trim();
        if (t.equals("0")) {
            return Duration.ZERO;
        }
        final Matcher m = SHORT.matcher(t);
        try {
            if (m.matches()) {
                final long n = Long.parseLong(m.group(1));
                return switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    default -> Duration.ofHours(n);
                };
            }
            final Duration d = Duration.parse(t);
            if (d.isNegative()) {
                throw new IllegalArgumentException("setting '" + key + "' is negative: '" + text + "'");
            }
            return d;
        } catch (DateTimeParseException | NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("setting '" + key + "' is '" + text
                + "': expected 0, a whole number with ms, s, m or h (e.g. 60s), or ISO-8601 (PT60S)", e);
        }
    }
}
