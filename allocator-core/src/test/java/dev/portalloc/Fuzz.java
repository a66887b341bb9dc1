package dev.portalloc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.function.Executable;
import org.quicktheories.QuickTheory;
import org.quicktheories.api.Pair;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * The budget and the shared generators of the fuzz tests ({@link InputFuzzTest},
 * {@code dev.portalloc.nat.NatInputFuzzTest}, {@link ClockMisuseTest}).
 *
 * <p>By default every fuzz property runs a fixed number of examples (chosen so that the whole fuzz suite
 * takes a few seconds in {@code mvn verify}). Two system properties make it run longer, on demand; Maven
 * passes {@code -D} properties on to the test JVM:
 * <ul>
 * <li>{@code -Dportalloc.fuzz.examples=N}: N examples per property instead of the default;</li>
 * <li>{@code -Dportalloc.fuzz.seconds=S}: each property generates examples for S seconds (this wins over
 *     {@code portalloc.fuzz.examples}).</li>
 * </ul>
 * For example {@code mvn -B -q -pl allocator-core -am test -Dtest='*FuzzTest,ClockMisuseTest'
 * -Dsurefire.failIfNoSpecifiedTests=false -Dportalloc.fuzz.seconds=60}. The default run uses a fixed seed
 * (reproducible builds); runs with either property explore with fresh seeds. A failure prints QuickTheories'
 * seed; {@code -DQT_SEED=...} replays it.
 */
public final class Fuzz {
    /** Examples per property, if set. */
    public static final String EXAMPLES_PROPERTY = "portalloc.fuzz.examples";
    /** Seconds per property, if set. */
    public static final String SECONDS_PROPERTY = "portalloc.fuzz.seconds";
    /** QuickTheories' seed in the bounded default run. */
    static final long DEFAULT_SEED = 20_261_204L;

    private Fuzz() {
    }

    /** @return the on-demand seconds per property, or 0 for the default (a number of examples) */
    private static long seconds() {
        final String s = System.getProperty(SECONDS_PROPERTY);
        return s == null || s.isBlank() ? 0 : Long.parseLong(s.trim());
    }

    /**
     * @param defaultExamples the examples of the default (bounded) run
     * @return a QuickTheories runner with the budget: {@code defaultExamples}, or what the properties ask for
     */
    public static QuickTheory qtWith(int defaultExamples) {
        final long seconds = seconds();
        if (seconds > 0) {
            return qt().withUnlimitedExamples().withTestingTime(seconds, TimeUnit.SECONDS);
        }
        final String examples = System.getProperty(EXAMPLES_PROPERTY);
        if (examples != null || System.getProperty("QT_SEED") != null) {
            return qt().withExamples(Integer.getInteger(EXAMPLES_PROPERTY, defaultExamples)); // exploring: fresh seeds
        }
        // The bounded default run (mvn verify, CI) is reproducible: a fixed seed, so that a build never fails
        // on an input no earlier run could have shown. Runs on demand explore with fresh seeds.
        return qt().withFixedSeed(DEFAULT_SEED).withExamples(defaultExamples);
    }

    /**
     * Runs {@code body} in another thread and fails if it takes longer than the budget allows: a hang in a
     * parser or an operation becomes a failure instead of a stuck build. The limit is generous (60 s for a
     * default run, which takes well under a second per property on 2 cores), so only a hang trips it.
     */
    public static void withinTimeLimit(Executable body) {
        final long seconds = seconds();
        final Duration limit = seconds > 0 ? Duration.ofSeconds(2 * seconds + 60)
            : Duration.ofSeconds(Integer.getInteger(EXAMPLES_PROPERTY, 0) > 100_000 ? 3600 : 60);
        assertTimeoutPreemptively(limit, body, "took too long: a hang?");
    }

    /** Asserts that {@code call} throws exactly {@code type} (not a subclass) and returns the exception. */
    public static <T extends Throwable> T thrownExactly(Class<T> type, Executable call) {
        final Throwable thrown;
        try {
            call.execute();
        } catch (Throwable t) {
            assertThat(t).as("exception type").isExactlyInstanceOf(type);
            assertThat(t.getMessage()).as("message of %s", t).isNotBlank();
            return type.cast(t);
        }
        throw new AssertionError("expected " + type.getSimpleName() + ", but the call returned normally");
    }

    /** Runs {@code call}: it must either return or throw exactly {@code type}; returns the exception or null. */
    public static <T extends Throwable> T returnsOrThrows(Class<T> type, Executable call) {
        try {
            call.execute();
            return null;
        } catch (Throwable t) {
            assertThat(t).as("exception type").isExactlyInstanceOf(type);
            assertThat(t.getMessage()).as("message of %s", t).isNotBlank();
            return type.cast(t);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Generators

    /** Ints: the extremes and the edges of every range the API checks, small values, and any int. */
    @SuppressWarnings("unchecked")
    public static Gen<Integer> ints() {
        final Gen<Integer> edges = Generate.pick(List.of(Integer.MIN_VALUE, Integer.MIN_VALUE + 1, -65536, -65535,
            -1, 0, 1, 2, 15, 16, 17, 31, 32, 33, 255, 256, 1023, 1024, 32767, 32768, 65534, 65535, 65536, 65537,
            1 << 20, (1 << 20) + 1, 1 << 24, (1 << 24) + 1, Integer.MAX_VALUE - 1, Integer.MAX_VALUE));
        return Generate.frequency(Pair.of(3, edges), Pair.of(3, integers().between(-3, 70_000)),
            Pair.of(2, integers().all()));
    }

    /** Longs: the extremes, edges around 2^32 and 2^48, and any long. */
    @SuppressWarnings("unchecked")
    public static Gen<Long> longsWithEdges() {
        final Gen<Long> edges = Generate.pick(List.of(Long.MIN_VALUE, Long.MIN_VALUE + 1, -1L, 0L, 1L,
            (1L << 32) - 1, 1L << 32, (1L << 32) + 1, (1L << 48) - 1, 1L << 48, Long.MAX_VALUE - 1, Long.MAX_VALUE));
        return Generate.frequency(Pair.of(2, edges), Pair.of(1, longs().between(-10, 1L << 33)),
            Pair.of(2, longs().all()));
    }

    /**
     * Characters that matter to the parsers (digits, separators, every kind of whitespace, brackets, hex
     * letters) and characters that look like them but are not ASCII (Arabic-Indic and full-width digits, a
     * no-break space, a thin space) or are control characters.
     */
    private static final String ALPHABET = "0123456789,,--  \t\n\r\f\u000b:.::[]%/+_abcdefABCDEFgxyzG"
        + "\u0000\u007f\u00a0\u2009\u0660\u0669\uff10\uff11\u00e9\"\\\ud83d";

    /** Random strings over {@link #ALPHABET} (up to 40 characters), and random strings of any characters. */
    @SuppressWarnings("unchecked")
    public static Gen<String> junk() {
        final List<Character> chars = new ArrayList<>();
        for (char c : ALPHABET.toCharArray()) {
            chars.add(c);
        }
        final Gen<String> tricky = lists().of(Generate.pick(chars)).ofSizeBetween(0, 40).map(Fuzz::join);
        final Gen<String> any = lists().of(integers().between(0, 0xFFFF).map(i -> (char) i.intValue()))
            .ofSizeBetween(0, 20).map(Fuzz::join);
        return Generate.frequency(Pair.of(4, tricky), Pair.of(1, any));
    }

    private static String join(List<Character> chars) {
        final StringBuilder sb = new StringBuilder(chars.size());
        chars.forEach(sb::append);
        return sb.toString();
    }

    /** Fragments that make numbers invalid or extreme when spliced into valid text. */
    private static final List<String> SPLICES = List.of("0", "65535", "65536", "99999999999999999999", "4294967297",
        "-", ",", " ", "  ", ":", "::", ".", "[", "]", "%eth0", "/", "/33", "256", "-1", "+1", "1e3", "0x10", "\u0661");

    /**
     * Valid texts from {@code valid}, mutated by 1 to 4 random edits (insert, delete or replace a character,
     * duplicate a slice, splice in a fragment from {@link #SPLICES}); the edits are plain ints, so a failure
     * shrinks towards fewer and simpler edits.
     */
    public static Gen<String> mutated(Gen<String> valid) {
        return valid.zip(lists().of(integers().between(0, Integer.MAX_VALUE)).ofSizeBetween(1, 4), Fuzz::mutate);
    }

    static String mutate(String text, List<Integer> edits) {
        final StringBuilder sb = new StringBuilder(text);
        for (int edit : edits) {
            final int op = edit % 5;
            final int rest = edit / 5;
            final int at = rest % (sb.length() + 1);
            final int what = rest / 65_537;
            switch (op) {
                case 0 -> sb.insert(at, ALPHABET.charAt(what % ALPHABET.length()));
                case 1 -> {
                    if (at < sb.length()) {
                        sb.deleteCharAt(at);
                    }
                }
                case 2 -> {
                    if (at < sb.length()) {
                        sb.setCharAt(at, ALPHABET.charAt(what % ALPHABET.length()));
                    }
                }
                case 3 -> {
                    final int end = Math.min(sb.length(), at + 1 + what % 8);
                    sb.insert(at, sb.substring(at, end));
                }
                default -> sb.insert(at, SPLICES.get(what % SPLICES.size()));
            }
        }
        return sb.toString();
    }
}
