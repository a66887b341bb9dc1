package dev.portalloc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Example-based tests: parsing, canonical form, error messages, presets and the query API. */
class PortSetTest {

    // ---------------------------------------------------------------------------------------
    // Parsing

    @ParameterizedTest(name = "parse(\"{0}\") = \"{1}\"")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
        "1024                  | 1024",
        "80,443                | 80,443",
        "443,80                | 80,443",
        "' 80 , 443 '          | 80,443",
        "'\t80,\t443\t'        | 80,443",
        "1-10,5-20             | 1-20",
        "1-10,11-20            | 1-20",
        "1-10,12-20            | 1-10,12-20",
        "5,5,5                 | 5",
        "3,1,2                 | 1-3",
        "8080-8090,8085        | 8080-8090",
        "1-65535,80            | 1-65535",
        "65535,1               | 1,65535",
        "0080                  | 80",
        "32768 60999           | 32768-60999",
        "'32768\t60999'        | 32768-60999",
        "'  32768 \t  60999 ' | 32768-60999",
        "7 7                   | 7",
        "1 65535               | 1-65535",
    })
    void parsesExamples(String spec, String canonical) {
        PortSet set = PortSet.parse(spec);
        assertThat(set).hasToString(canonical);
        assertThat(PortSet.parse(set.toString())).isEqualTo(set);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "\t", " \t \n "})
    void blankSpecIsEmpty(String spec) {
        assertThat(PortSet.parse(spec)).isSameAs(PortSet.empty());
        assertThat(PortSet.parse(spec).isEmpty()).isTrue();
    }

    @Test
    void parseUnionsOverlappingEntries() {
        PortSet set = PortSet.parse("100-200, 150-250, 300, 299, 301, 1");
        assertThat(set.rangeCount()).isEqualTo(3);
        assertThat(set).hasToString("1,100-250,299-301");
        assertThat(set.size()).isEqualTo(1 + 151 + 3);
    }

    /** Bad inputs, each with the text the message must quote. */
    @ParameterizedTest(name = "parse(\"{0}\") rejected, quoting {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
        "0            | '\"0\"'",
        "70000        | '\"70000\"'",
        "65536        | '\"65536\"'",
        "99999999999  | '\"99999999999\"'",
        "1-65536      | '\"1-65536\"'",
        "0-5          | '\"0-5\"'",
        "5-3          | '\"5-3\"'",
        "abc          | '\"abc\"'",
        "1,,2         | '\"1,,2\"'",
        "'1,'         | '\"1,\"'",
        "',1'         | '\",1\"'",
        "' , '        | '\" , \"'",
        "-5           | '\"-5\"'",
        "-            | '\"-\"'",
        "1-           | '\"1-\"'",
        "1-2-3        | '\"1-2-3\"'",
        "1 2 3        | '\"1 2 3\"'",
        "1 - 5        | '\"1 - 5\"'",
        "1.5          | '\"1.5\"'",
        "+5           | '\"+5\"'",
        "0x50         | '\"0x50\"'",
        "1,2 3        | '\"2 3\"'",
        "60999 32768  | '\"60999 32768\"'",
        "1 70000      | '\"70000\"'",
        "-1 5         | '\"-1\"'",
        "'1,2,99999999999999999999' | '\"99999999999999999999\"'",
        "'\u0661'     | '\"\u0661\"'",
    })
    void rejectsBadInput(String spec, String quoted) {
        assertThatThrownBy(() -> PortSet.parse(spec))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(quoted)
                .hasMessageContaining("1..65535");
    }

    @Test
    void errorMessagesSayWhatIsWrong() {
        assertThatThrownBy(() -> PortSet.parse("0"))
                .hasMessage("port \"0\" is out of range 1..65535 in \"0\"");
        assertThatThrownBy(() -> PortSet.parse("80, 0-5"))
                .hasMessage("port \"0\" of range \"0-5\" is out of range 1..65535 in \"80, 0-5\"");
        assertThatThrownBy(() -> PortSet.parse("5-3")).hasMessageContaining("range \"5-3\" is reversed");
        assertThatThrownBy(() -> PortSet.parse("60999 32768"))
                .hasMessageContaining("range \"60999 32768\" is reversed");
        assertThatThrownBy(() -> PortSet.parse("1,,2")).hasMessageStartingWith("empty entry #2 in \"1,,2\"");
        assertThatThrownBy(() -> PortSet.parse("1,")).hasMessageStartingWith("empty entry #2 in \"1,\"");
        assertThatThrownBy(() -> PortSet.parse("1-")).hasMessageContaining("has no last port");
        assertThatThrownBy(() -> PortSet.parse("-5")).hasMessageContaining("leading '-'");
        // Control characters are escaped so the quoted text is readable.
        assertThatThrownBy(() -> PortSet.parse("1\t2\t3")).hasMessageContaining("\"1\\t2\\t3\"");
    }

    @Test
    void nullSpecIsIllegalArgumentNotNullPointer() {
        assertThatThrownBy(() -> PortSet.parse(null))
                .isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("spec is null");
    }

    // ---------------------------------------------------------------------------------------
    // Factories

    @Test
    void rangeAndOf() {
        assertThat(PortSet.range(10, 20)).hasToString("10-20");
        assertThat(PortSet.range(7, 7)).hasToString("7");
        assertThat(PortSet.range(1, 65535).size()).isEqualTo(65535);
        assertThat(PortSet.of(5, 3, 4, 4, 10, 65535, 1)).hasToString("1,3-5,10,65535");
        assertThat(PortSet.of()).isSameAs(PortSet.empty());
        assertThat(PortSet.empty()).hasToString("").isEmpty();
    }

    @ParameterizedTest(name = "range({0}, {1}) rejected")
    @CsvSource({"0, 5, 0", "-1, 5, -1", "5, 65536, 65536", "70000, 70001, 70000", "5, 3, 5..3",
        "0, 0, 0", "-2147483648, 1, -2147483648"})
    void rangeRejectsBadBounds(int first, int last, String named) {
        assertThatThrownBy(() -> PortSet.range(first, last))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(named)
                .hasMessageContaining("1..65535");
    }

    @Test
    void ofRejectsBadPorts() {
        assertThatThrownBy(() -> PortSet.of(80, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("port 0 is out of range 1..65535");
        assertThatThrownBy(() -> PortSet.of(65536)).hasMessageContaining("65536").hasMessageContaining("1..65535");
        assertThatThrownBy(() -> PortSet.of((int[]) null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void ofDoesNotAliasTheCallersArray() {
        int[] ports = {3, 1, 2};
        PortSet set = PortSet.of(ports);
        ports[0] = 100;
        assertThat(set).hasToString("1-3");
    }

    // ---------------------------------------------------------------------------------------
    // Presets

    @Test
    void presets() {
        assertThat(PortSet.IANA_DYNAMIC).isEqualTo(PortSet.range(49152, 65535)).hasToString("49152-65535");
        assertThat(PortSet.LINUX_DEFAULT).hasToString("32768-60999");
        assertThat(PortSet.LINUX_DEFAULT.size()).isEqualTo(28232);
        assertThat(PortSet.WINDOWS_DEFAULT).hasToString("49152-65535");
        assertThat(PortSet.WINDOWS_DEFAULT.size()).isEqualTo(16384);
        assertThat(PortSet.FREEBSD_DEFAULT).hasToString("10000-65535");
        assertThat(PortSet.RFC6056_RECOMMENDED).hasToString("1024-65535");
        assertThat(PortSet.RFC6056_RECOMMENDED.size()).isEqualTo(64512);
    }

    // ---------------------------------------------------------------------------------------
    // Queries

    private static final PortSet SAMPLE = PortSet.parse("1-3,10,20-29,65535");

    @Test
    void containsAcceptsAnyInt() {
        assertThat(SAMPLE.contains(1)).isTrue();
        assertThat(SAMPLE.contains(3)).isTrue();
        assertThat(SAMPLE.contains(4)).isFalse();
        assertThat(SAMPLE.contains(10)).isTrue();
        assertThat(SAMPLE.contains(65535)).isTrue();
        assertThat(SAMPLE.contains(65534)).isFalse();
        for (int port : new int[] {0, -1, 65536, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
            assertThat(SAMPLE.contains(port)).as("contains(%d)", port).isFalse();
            assertThat(PortSet.range(1, 65535).contains(port)).as("full contains(%d)", port).isFalse();
        }
        assertThat(PortSet.empty().contains(80)).isFalse();
    }

    @Test
    void sizeFirstLastAndRanges() {
        assertThat(SAMPLE.size()).isEqualTo(3 + 1 + 10 + 1);
        assertThat(SAMPLE.first()).isEqualTo(1);
        assertThat(SAMPLE.last()).isEqualTo(65535);
        assertThat(SAMPLE.rangeCount()).isEqualTo(4);
        assertThat(SAMPLE.rangeFirst(2)).isEqualTo(20);
        assertThat(SAMPLE.rangeLast(2)).isEqualTo(29);
        assertThat(SAMPLE.rangeFirst(1)).isEqualTo(SAMPLE.rangeLast(1)).isEqualTo(10);
        assertThatThrownBy(() -> SAMPLE.rangeFirst(4)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> SAMPLE.rangeLast(-1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> PortSet.empty().rangeFirst(0)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void emptySetQueries() {
        PortSet empty = PortSet.empty();
        assertThat(empty.size()).isZero();
        assertThat(empty.rangeCount()).isZero();
        assertThat(empty.toArray()).isEmpty();
        assertThat(empty.stream().count()).isZero();
        assertThat(empty.iterator().hasNext()).isFalse();
        assertThat(empty.rank(80)).isZero();
        assertThatThrownBy(empty::first).isInstanceOf(NoSuchElementException.class);
        assertThatThrownBy(empty::last).isInstanceOf(NoSuchElementException.class);
        assertThatThrownBy(() -> empty.nth(0)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> empty.iterator().next()).isInstanceOf(NoSuchElementException.class);
    }

    @Test
    void nthAndRankFormTheIndexSpace() {
        int[] ports = SAMPLE.toArray();
        for (int i = 0; i < ports.length; i++) {
            assertThat(SAMPLE.nth(i)).isEqualTo(ports[i]);
            assertThat(SAMPLE.rank(ports[i])).isEqualTo(i);
        }
        assertThat(SAMPLE.nth(3)).isEqualTo(10);
        assertThat(SAMPLE.rank(15)).isEqualTo(4);           // 1,2,3,10 are smaller
        assertThat(SAMPLE.rank(Integer.MIN_VALUE)).isZero();
        assertThat(SAMPLE.rank(1)).isZero();
        assertThat(SAMPLE.rank(65536)).isEqualTo(SAMPLE.size());
        assertThat(SAMPLE.rank(Integer.MAX_VALUE)).isEqualTo(SAMPLE.size());
        assertThatThrownBy(() -> SAMPLE.nth(-1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> SAMPLE.nth(SAMPLE.size())).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void traversalIsAscending() {
        List<Integer> iterated = new ArrayList<>();
        SAMPLE.forEach(iterated::add);
        List<Integer> expected = List.of(1, 2, 3, 10, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 65535);
        assertThat(iterated).isEqualTo(expected);
        assertThat(SAMPLE.toArray()).containsExactly(expected.stream().mapToInt(Integer::intValue).toArray());
        assertThat(SAMPLE.stream().boxed().collect(Collectors.toList())).isEqualTo(expected);
        assertThat(SAMPLE.stream().parallel().boxed().collect(Collectors.toList())).isEqualTo(expected);
        Iterator<Integer> it = SAMPLE.iterator();
        for (int i = 0; i < expected.size(); i++) {
            it.next();
        }
        assertThat(it.hasNext()).isFalse();
        assertThatThrownBy(it::next).isInstanceOf(NoSuchElementException.class);
    }

    @Test
    void spliteratorSplitsExactly() {
        PortSet set = PortSet.parse("1-1000,5000,6000-6100,65535");
        Spliterator.OfInt whole = set.spliterator();
        assertThat(whole.hasCharacteristics(Spliterator.SIZED | Spliterator.SORTED | Spliterator.DISTINCT)).isTrue();
        assertThat(whole.getExactSizeIfKnown()).isEqualTo(set.size());
        Spliterator.OfInt prefix = whole.trySplit();
        assertThat(prefix).isNotNull();
        List<Integer> seen = new ArrayList<>();
        prefix.forEachRemaining((int p) -> seen.add(p));
        while (whole.tryAdvance((int p) -> seen.add(p))) {
            // one by one, to exercise tryAdvance across range boundaries
        }
        assertThat(seen).isEqualTo(set.stream().boxed().collect(Collectors.toList()));
        assertThat(set.stream().parallel().sum()).isEqualTo(IntStream.of(set.toArray()).sum());
    }

    @Test
    void iteratorDoesNotSupportRemove() {
        Iterator<Integer> it = SAMPLE.iterator();
        it.next();
        assertThatThrownBy(it::remove).isInstanceOf(UnsupportedOperationException.class);
    }

    // ---------------------------------------------------------------------------------------
    // Set algebra examples (the property tests check the laws against BitSet)

    @Test
    void algebraExamples() {
        PortSet a = PortSet.parse("1-10,20-30,65535");
        assertThat(a.union(PortSet.parse("11-19"))).hasToString("1-30,65535");
        assertThat(a.union(PortSet.parse("5-25,40"))).hasToString("1-30,40,65535");
        assertThat(a.intersect(PortSet.parse("5-22,65530-65535"))).hasToString("5-10,20-22,65535");
        assertThat(a.minus(PortSet.parse("3-4,6-25"))).hasToString("1-2,5,26-30,65535");
        assertThat(a.minus(PortSet.range(1, 65535))).isEqualTo(PortSet.empty());
        assertThat(PortSet.range(1, 65535).minus(a)).hasToString("11-19,31-65534");
        assertThat(a.union(PortSet.empty())).isSameAs(a);
        assertThat(a.intersect(PortSet.empty())).isSameAs(PortSet.empty());
        assertThat(a.minus(PortSet.empty())).isSameAs(a);
        assertThat(a.minus(a)).isEqualTo(PortSet.empty());
    }

    @Test
    void algebraRejectsNull() {
        assertThatThrownBy(() -> SAMPLE.union(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> SAMPLE.intersect(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> SAMPLE.minus(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void equalityIsByContent() {
        PortSet a = PortSet.parse("1-3,10");
        PortSet b = PortSet.of(10, 3, 2, 1);
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b).isNotEqualTo(PortSet.parse("1-3,11"));
        assertThat(a).isNotEqualTo("1-3,10").isNotEqualTo(null);
        assertThat(PortSet.IANA_DYNAMIC).isEqualTo(PortSet.WINDOWS_DEFAULT);
    }
}
