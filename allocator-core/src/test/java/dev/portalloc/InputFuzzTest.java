package dev.portalloc;

import static dev.portalloc.Fuzz.qtWith;
import static dev.portalloc.Fuzz.returnsOrThrows;
import static dev.portalloc.Fuzz.thrownExactly;
import static dev.portalloc.Fuzz.withinTimeLimit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.quicktheories.api.Pair;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * Fuzz tests of every parser and every public entry point of the {@code dev.portalloc} package that takes user
 * input: random strings, mutated valid strings, extreme numbers and nulls. Each must be accepted with the
 * right result (checked against an independent reference where there is one), or rejected with exactly
 * {@link IllegalArgumentException} (a {@code NumberFormatException} or any other subclass fails the test),
 * {@link NullPointerException} for a null argument of the builders and operations (their documented,
 * consistent behaviour; the parsers document {@code IllegalArgumentException} for null text), or, for a
 * release of something not held, the documented {@link IllegalStateException}; the message names the bad part;
 * a rejected call leaves the allocator unchanged; nothing hangs ({@link Fuzz#withinTimeLimit}).
 *
 * <p>The default run is bounded (a fixed number of examples per property; the whole class takes a few seconds);
 * {@code -Dportalloc.fuzz.examples=N} or {@code -Dportalloc.fuzz.seconds=S} runs longer (see {@link Fuzz}).
 * The NAT package has its own: {@code dev.portalloc.nat.NatInputFuzzTest}.
 */
class InputFuzzTest {

    // ---------------------------------------------------------------------------------------------------------
    // PortSet.parse against a reference parser

    private static final String WS = " \t\n\r\f\u000b";
    private static final Pattern ENTRY = Pattern.compile("([0-9]+)(?:-([0-9]+))?");

    /** What the reference parser says: the set, or a text the error message must contain. */
    private record Expected(BitSet set, String culprit) {
        static Expected ok(BitSet set) {
            return new Expected(set, null);
        }

        static Expected bad(String culprit) {
            return new Expected(null, culprit);
        }
    }

    private static String trimAscii(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && WS.indexOf(s.charAt(from)) >= 0) {
            from++;
        }
        while (to > from && WS.indexOf(s.charAt(to - 1)) >= 0) {
            to--;
        }
        return s.substring(from, to);
    }

    /**
     * The value of a string of ASCII digits, or 65536 if it is larger than that (not by BigInteger, which is
     * quadratic on a megabyte of digits).
     */
    private static int portValue(String digits) {
        int i = 0;
        while (i < digits.length() - 1 && digits.charAt(i) == '0') {
            i++;
        }
        final String significant = digits.substring(i);
        return significant.length() > 5 ? 65536 : Math.min(65536, Integer.parseInt(significant));
    }

    /** Whether a string of ASCII digits is a port 1..65535. */
    private static boolean isPort(String digits) {
        final int v = portValue(digits);
        return v >= 1 && v <= 65535;
    }

    /**
     * An independent reading of the syntax of {@link PortSet#parse} (its Javadoc and Linux's): a comma-separated
     * list of ports and {@code first-last} ranges, or two whitespace-separated numbers; ASCII whitespace around
     * entries is ignored; numbers are ASCII digits with any number of leading zeros; ports are 1..65535.
     */
    static Expected reference(String spec) {
        final String s = trimAscii(spec);
        final BitSet set = new BitSet();
        if (s.isEmpty()) {
            return Expected.ok(set);
        }
        if (s.indexOf(',') < 0 && s.chars().anyMatch(c -> WS.indexOf(c) >= 0)) {
            final String[] words = s.split("[ \\t\\n\\r\\f\\x0B]+");
            if (words.length != 2) {
                return Expected.bad(ErrorText.quote(s));
            }
            for (String w : words) {
                if (!w.matches("[0-9]+")) {
                    return Expected.bad(ErrorText.quote(w));
                }
            }
            for (String w : words) {
                if (!isPort(w)) {
                    return Expected.bad(ErrorText.quote(w));
                }
            }
            final int first = portValue(words[0]);
            final int last = portValue(words[1]);
            if (first > last) {
                return Expected.bad(ErrorText.quote(s));
            }
            set.set(first, last + 1);
            return Expected.ok(set);
        }
        final String[] entries = spec.split(",", -1);
        for (int i = 0; i < entries.length; i++) {
            final String t = trimAscii(entries[i]);
            if (t.isEmpty()) {
                return Expected.bad("empty entry #" + (i + 1));
            }
            final Matcher m = ENTRY.matcher(t);
            if (!m.matches()) {
                return Expected.bad(ErrorText.quote(t));
            }
            final String lastText = m.group(2) == null ? m.group(1) : m.group(2);
            if (!isPort(m.group(1)) || !isPort(lastText)) {
                return Expected.bad(ErrorText.quote(t));
            }
            final int first = portValue(m.group(1));
            final int last = portValue(lastText);
            if (first > last) {
                return Expected.bad(ErrorText.quote(t));
            }
            set.set(first, last + 1);
        }
        return Expected.ok(set);
    }

    private static void checkParse(String spec) {
        final Expected expected = reference(spec);
        if (expected.set() != null) {
            final PortSet parsed = PortSet.parse(spec);
            assertThat(parsed.toArray()).as("parse(%s)", ErrorText.quote(spec)).isEqualTo(expected.set().stream().toArray());
            return;
        }
        final IllegalArgumentException e = thrownExactly(IllegalArgumentException.class, () -> PortSet.parse(spec));
        assertThat(e.getMessage()).as("message for %s", ErrorText.quote(spec))
            .contains(expected.culprit()).contains(ErrorText.quote(spec));
    }

    /** Valid port lists in both syntaxes, with whitespace and leading zeros here and there. */
    private static Gen<String> validPortSpecs() {
        final Gen<String> entry = integers().between(1, 65535).zip(integers().between(-3, 300), (first, extra) -> {
            if (extra < 0) {
                return Integer.toString(first);
            }
            return first + "-" + Math.min(65535, first + extra);
        });
        final Gen<String> list = lists().of(entry).ofSizeBetween(1, 8).zip(integers().between(0, 7), (es, style) -> {
            final String sep = style % 3 == 0 ? "," : style % 3 == 1 ? ", " : " ,\t";
            return (style >= 6 ? " 0" : "") + String.join(sep, es) + (style == 5 ? "\n" : "");
        });
        final Gen<String> pair = integers().between(1, 65535).zip(integers().between(0, 30000),
            (first, extra) -> first + " \t " + Math.min(65535, first + extra));
        return Generate.frequency(Pair.of(4, list), Pair.of(1, pair));
    }

    @Test
    @SuppressWarnings("unchecked")
    void portSetParseAcceptsExactlyTheReferenceSyntaxAndNamesTheBadEntry() {
        final Gen<String> specs = Generate.frequency(Pair.of(3, Fuzz.mutated(validPortSpecs())),
            Pair.of(2, Fuzz.junk()), Pair.of(1, validPortSpecs()));
        withinTimeLimit(() -> qtWith(3000).forAll(specs).checkAssert(InputFuzzTest::checkParse));
    }

    @Test
    void portSetParseOfNullIsRejected() {
        assertThat(thrownExactly(IllegalArgumentException.class, () -> PortSet.parse(null))).hasMessageContaining("null");
    }

    @Test
    void portSetParseOfHugeInputsIsLinearAndChecked() {
        withinTimeLimit(() -> {
            final StringBuilder all = new StringBuilder();
            for (int p = 65535; p >= 1; p--) {          // every port, backwards: sorting and merging
                all.append(p).append(p % 7 == 0 ? " , " : ",");
            }
            all.setLength(all.length() - 1);
            checkParse(all.toString());
            checkParse(all + ",");                       // one bad entry at the very end
            checkParse("0".repeat(1_000_000) + "80");    // leading zeros: 80
            checkParse("9".repeat(1_000_000));           // saturates, no overflow into a valid port
            checkParse("1-" + "9".repeat(100_000));
            checkParse(",".repeat(200_000));
            checkParse(" ".repeat(200_000) + "1 2" + "\t".repeat(200_000));
            checkParse("1 " .repeat(100_000));
            checkParse("1-2-3".repeat(50_000));
        });
    }

    /** The content as {@code PortSet} reads a /proc file: lines (any line ending) joined by {@code \n}. */
    private static String asProcRead(String written) {
        final String lines = written.replace("\r\n", "\n").replace('\r', '\n');
        return lines.endsWith("\n") ? lines.substring(0, lines.length() - 1) : lines;
    }

    @Test
    @SuppressWarnings("unchecked")
    void hostConfigurationFilesAreReadOrRejectedAsDocumented(@org.junit.jupiter.api.io.TempDir java.nio.file.Path procSys)
            throws java.io.IOException {
        final java.nio.file.Path ipv4 = java.nio.file.Files.createDirectories(procSys.resolve("net/ipv4"));
        final Gen<String> pairs = integers().between(1, 65535).zip(integers().between(0, 3000),
            (first, extra) -> first + "\t" + Math.min(65535, first + extra) + "\n");
        final Gen<String> contents = Generate.frequency(Pair.of(3, Fuzz.mutated(pairs)),
            Pair.of(2, Fuzz.mutated(validPortSpecs())), Pair.of(1, Fuzz.junk()))
            .map(c -> c.chars().mapToObj(ch -> String.valueOf((char) (ch & 0xFF))).reduce("", String::concat));
        withinTimeLimit(() -> qtWith(300).forAll(contents).checkAssert(written -> {
            try {
                java.nio.file.Files.writeString(ipv4.resolve("ip_local_port_range"), written,
                    java.nio.charset.StandardCharsets.ISO_8859_1);
                java.nio.file.Files.writeString(ipv4.resolve("ip_local_reserved_ports"), written,
                    java.nio.charset.StandardCharsets.ISO_8859_1);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            final String content = asProcRead(written);
            // ip_local_port_range: exactly two whitespace-separated numbers, first <= last.
            final String trimmed = trimAscii(content);
            final boolean pairForm = trimmed.split("[ \\t\\n\\r\\f\\x0B]+").length == 2 && trimmed.indexOf(',') < 0;
            final Expected range = pairForm ? reference(content) : Expected.bad(ErrorText.quote(content));
            checkHostFile(range, ipv4.resolve("ip_local_port_range"), () -> PortSet.hostEphemeralRange(procSys));
            checkHostFile(reference(content), ipv4.resolve("ip_local_reserved_ports"),
                () -> PortSet.hostReservedPorts(procSys));
        }));
        thrownExactly(NullPointerException.class, () -> PortSet.hostEphemeralRange(null));
        thrownExactly(NullPointerException.class, () -> PortSet.hostReservedPorts(null));
        final IllegalStateException missing = thrownExactly(IllegalStateException.class,
            () -> PortSet.hostReservedPorts(procSys.resolve("nowhere")));
        assertThat(missing).hasMessageContaining("nowhere").hasCauseInstanceOf(java.io.IOException.class);
    }

    private static void checkHostFile(Expected expected, java.nio.file.Path file, java.util.function.Supplier<PortSet> read) {
        if (expected.set() != null) {
            assertThat(read.get().toArray()).as("%s", file).isEqualTo(expected.set().stream().toArray());
            return;
        }
        final IllegalStateException e = thrownExactly(IllegalStateException.class, read::get);
        assertThat(e.getCause()).as("cause").isExactlyInstanceOf(IllegalArgumentException.class);
        assertThat(e.getMessage()).contains(file.toString()).contains(expected.culprit());
    }

    @Test
    void portSetFactoriesRejectEveryBadPortByValue() {
        withinTimeLimit(() -> qtWith(3000).forAll(Fuzz.ints(), Fuzz.ints()).checkAssert((first, last) -> {
            final boolean valid = first >= 1 && first <= 65535 && last >= first && last <= 65535;
            final IllegalArgumentException e = returnsOrThrows(IllegalArgumentException.class, () -> PortSet.range(first, last));
            assertThat(e == null).as("range(%d, %d) accepted", first, last).isEqualTo(valid);
            if (e != null) {
                final int bad = first < 1 || first > 65535 ? first : last;
                assertThat(e.getMessage()).contains(Integer.toString(bad));
            } else {
                assertThat(PortSet.range(first, last).size()).isEqualTo(last - first + 1);
            }
            final IllegalArgumentException ofError = returnsOrThrows(IllegalArgumentException.class, () -> PortSet.of(first, last));
            final boolean ofValid = first >= 1 && first <= 65535 && last >= 1 && last <= 65535;
            assertThat(ofError == null).as("of(%d, %d) accepted", first, last).isEqualTo(ofValid);
            if (ofError != null) {
                assertThat(ofError.getMessage()).contains(Integer.toString(first < 1 || first > 65535 ? first : last));
            }
        }));
        thrownExactly(NullPointerException.class, () -> PortSet.of((int[]) null));
        thrownExactly(NullPointerException.class, () -> PortSet.range(1, 2).union(null));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Destination.parse

    private static final Pattern IPV4 = Pattern.compile("(0|[1-9][0-9]{0,2})\\.(0|[1-9][0-9]{0,2})\\."
        + "(0|[1-9][0-9]{0,2})\\.(0|[1-9][0-9]{0,2}):([0-9]+)");
    private static final Pattern IPV6 = Pattern.compile("\\[([0-9A-Fa-f:.]+)\\]:([0-9]+)");

    /** The JDK's reading of an accepted IPv6 literal (brackets make it a literal: never a DNS lookup). */
    private static InetAddress jdk(String host) {
        try {
            return InetAddress.getByName("[" + host + "]");
        } catch (UnknownHostException e) {
            throw new AssertionError("Destination.parse accepted " + host + ", which the JDK rejects", e);
        }
    }

    private static boolean isDecimalPort(String s) {
        return s.matches("[0-9]+") && isPort(s);
    }

    private static void checkDestination(String text) {
        final Destination d;
        try {
            d = Destination.parse(text);
        } catch (Throwable t) {
            assertThat(t).as("exception for %s", ErrorText.quote(text)).isExactlyInstanceOf(IllegalArgumentException.class);
            final String message = t.getMessage();
            assertThat(message).contains(ErrorText.quote(text));
            // The culprit: the port if it is bad, else the address.
            String host = null;
            String port = null;
            if (text.startsWith("[")) {
                final int close = text.indexOf(']');
                if (close > 0 && close + 1 < text.length() && text.charAt(close + 1) == ':') {
                    host = text.substring(1, close);
                    port = text.substring(close + 2);
                }
            } else if (text.indexOf('[') < 0 && text.indexOf(']') < 0 && text.indexOf(':') >= 0
                && text.indexOf(':') == text.lastIndexOf(':')) {
                host = text.substring(0, text.indexOf(':'));
                port = text.substring(text.indexOf(':') + 1);
            }
            if (port != null && !port.isEmpty() && !isDecimalPort(port)) {
                assertThat(message).contains("port " + ErrorText.quote(port));
            } else if (port != null && !port.isEmpty() && !host.isEmpty() && host.indexOf('%') < 0
                && (text.startsWith("[") ? host.contains(":") : true)) {
                assertThat(message).contains(ErrorText.quote(host));
            }
            return;
        }
        final Matcher v4 = IPV4.matcher(text);
        final Matcher v6 = IPV6.matcher(text);
        final Destination expected;
        if (v4.matches()) {
            int address = 0;
            for (int i = 1; i <= 4; i++) {
                final int octet = Integer.parseInt(v4.group(i));
                assertThat(octet).as("octet of accepted %s", text).isLessThanOrEqualTo(255);
                address = address << 8 | octet;
            }
            assertThat(isDecimalPort(v4.group(5))).as("port of accepted %s", text).isTrue();
            expected = Destination.ipv4(address, Integer.parseInt(v4.group(5)));
        } else {
            assertThat(v6.matches()).as("accepted %s has the form [IPv6]:port or a.b.c.d:port", ErrorText.quote(text))
                .isTrue();
            assertThat(isDecimalPort(v6.group(2))).as("port of accepted %s", text).isTrue();
            expected = Destination.of(jdk(v6.group(1)), Integer.parseInt(v6.group(2)));
        }
        assertThat(d).as("parse(%s)", text).isEqualTo(expected);
        assertThat(Destination.parse(d.toString())).isEqualTo(d);
    }

    /** Valid destinations: IPv4, and IPv6 in full, compressed, mixed-case, zero-padded and dotted forms. */
    private static Gen<String> validDestinations() {
        final Gen<String> v4 = integers().all().zip(integers().between(1, 65535), (a, p) ->
            (a >>> 24) + "." + (a >>> 16 & 0xFF) + "." + (a >>> 8 & 0xFF) + "." + (a & 0xFF) + ":" + p);
        final Gen<String> v6 = lists().of(integers().between(-0xFFFF, 0xFFFF).map(g -> Math.max(0, g)))
            .ofSize(8).zip(integers().between(0, 63), integers().between(1, 65535), (groups, style, p) -> {
                final List<String> text = new ArrayList<>();
                for (int g : groups) {
                    String h = Integer.toHexString(g);
                    if ((style & 1) != 0) {
                        h = "0".repeat(4 - h.length()) + h;
                    }
                    text.add((style & 2) != 0 ? h.toUpperCase() : h);
                }
                String host = String.join(":", text);
                if ((style & 4) != 0) {                  // compress the first zero group run
                    final int from = groups.indexOf(0);
                    if (from >= 0) {
                        int to = from;
                        while (to < 8 && groups.get(to) == 0) {
                            to++;
                        }
                        host = String.join(":", text.subList(0, from)) + "::" + String.join(":", text.subList(to, 8));
                    }
                } else if ((style & 8) != 0) {          // the last 32 bits as a dotted quad
                    host = String.join(":", text.subList(0, 6)) + ":" + (groups.get(6) >>> 8) + "." + (groups.get(6) & 0xFF)
                        + "." + (groups.get(7) >>> 8) + "." + (groups.get(7) & 0xFF);
                }
                return "[" + host + "]:" + p;
            });
        final Gen<String> samples = Generate.pick(List.of("203.0.113.7:443", "[2001:db8::1]:443", "[::]:1",
            "[::ffff:192.0.2.1]:65535", "0.0.0.0:1", "255.255.255.255:65535", "[1:2:3:4:5:6:7::]:80",
            "[::1.2.3.4]:80", "[fe80::1]:22"));
        return Generate.frequency(Pair.of(2, v4), Pair.of(3, v6), Pair.of(1, samples));
    }

    @Test
    @SuppressWarnings("unchecked")
    void destinationParseAcceptsOnlyNumericAddressesAndNamesTheBadPart() {
        final Gen<String> texts = Generate.frequency(Pair.of(4, Fuzz.mutated(validDestinations())),
            Pair.of(2, Fuzz.junk()), Pair.of(1, validDestinations()));
        withinTimeLimit(() -> qtWith(3000).forAll(texts).checkAssert(InputFuzzTest::checkDestination));
        assertThat(thrownExactly(IllegalArgumentException.class, () -> Destination.parse(null))).hasMessageContaining("null");
        withinTimeLimit(() -> {
            checkDestination("[" + "1:".repeat(200_000) + "1]:80");
            checkDestination("1.".repeat(200_000) + "1:80");
            checkDestination("1.2.3.4:" + "9".repeat(1_000_000));
            checkDestination("[" + "::".repeat(100_000) + "]:80");
        });
    }

    @Test
    void destinationFactoriesRejectBadPortsByValue() throws UnknownHostException {
        final InetAddress v6 = InetAddress.getByName("[2001:db8::1]");
        withinTimeLimit(() -> qtWith(2000).forAll(Fuzz.ints(), Fuzz.longsWithEdges()).checkAssert((port, bits) -> {
            final boolean valid = port >= 1 && port <= 65535;
            for (org.junit.jupiter.api.function.Executable call : List.<org.junit.jupiter.api.function.Executable>of(
                    () -> Destination.ipv4((int) bits.longValue(), port), () -> Destination.ipv6(bits, ~bits, port),
                    () -> Destination.of(v6, port))) {
                final IllegalArgumentException e = returnsOrThrows(IllegalArgumentException.class, call);
                assertThat(e == null).as("port %d accepted", port).isEqualTo(valid);
                if (e != null) {
                    assertThat(e.getMessage()).contains(Integer.toString(port));
                }
            }
        }));
        thrownExactly(NullPointerException.class, () -> Destination.of(null, 80));
        thrownExactly(NullPointerException.class, () -> Destination.of(null));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Builder parameters and the other value factories

    @Test
    void builderParametersAreRangeCheckedAndNamed() {
        withinTimeLimit(() -> qtWith(2000).forAll(Fuzz.ints(), Fuzz.ints()).checkAssert((segment, per) -> {
            final boolean valid = segment >= 32 && segment <= 65535 && per >= 1 && per <= 1 << 20;
            final IllegalArgumentException e = returnsOrThrows(IllegalArgumentException.class,
                () -> PortAllocator.builder().threadLocality(segment, per));
            assertThat(e == null).as("threadLocality(%d, %d) accepted", segment, per).isEqualTo(valid);
            if (e != null) {
                final boolean segmentBad = segment < 32 || segment > 65535;
                assertThat(e.getMessage()).contains((segmentBad ? "segmentPorts " : "allocationsPerSegment ")
                    + (segmentBad ? segment : per));
            }
        }));
        withinTimeLimit(() -> qtWith(2000).forAll(Fuzz.longsWithEdges(), integers().between(0, 999_999_999))
            .checkAssert((seconds, nanos) -> {
                final Duration d = Duration.ofSeconds(seconds, nanos);
                final boolean valid = !d.isNegative() && d.compareTo(Duration.ofDays(36_500)) <= 0;
                final IllegalArgumentException e = returnsOrThrows(IllegalArgumentException.class,
                    () -> PortAllocator.builder().quarantine(d));
                assertThat(e == null).as("quarantine(%s) accepted", d).isEqualTo(valid);
                if (e != null) {
                    assertThat(e.getMessage()).contains(d.toString());
                }
            }));
        withinTimeLimit(() -> qtWith(1000).forAll(Fuzz.ints()).checkAssert(n -> {
            check(n >= 1 && n <= 1 << 24, Integer.toString(n), () -> Algorithm.doubleHash(n));
            check(n >= 1, Integer.toString(n), () -> Algorithm.randomIncrements(n));
            check(n >= 1 && n <= 58_720_256, "expected tuples " + n, () -> PortAllocator.builder().expectedTuples(n));
            check(n >= 0 && n <= 255, Integer.toString(n), () -> Protocol.of(n));
            final int length = Math.floorMod(n, 40);
            check(length == 16, "length is " + length, () -> PortAllocator.builder().secret(new byte[length]));
        }));
        thrownExactly(IllegalArgumentException.class, () -> PortAllocator.builder().ports(PortSet.empty()));
    }

    /**
     * The entries that came with leases, NIO binding and metrics: {@code PortBinder.of}'s attempt limit, the
     * Micrometer binder's tags (the keys it sets itself are refused by name) and leases of a null destination. Bad
     * input is rejected by value and leaves the allocator's state as it was.
     */
    @Test
    void leaseBinderAndMetricsEntriesRejectBadInputByValue() {
        final PortAllocator a = PortAllocator.builder().ports(PortSet.range(40_000, 40_099)).seed(12).build();
        final int held = a.acquire();
        final AllocatorStats before = a.stats();
        final List<String> own = List.of("protocol", "local.address", "result");
        withinTimeLimit(() -> qtWith(1000).forAll(Fuzz.ints(), integers().between(0, 5), Fuzz.junk())
            .checkAssert((n, keyChoice, text) -> {
                check(n >= 1, Integer.toString(n), () -> dev.portalloc.net.PortBinder.of(a, n));
                final String key = keyChoice < own.size() ? own.get(keyChoice) : "k" + text;
                final io.micrometer.core.instrument.Tags tags = io.micrometer.core.instrument.Tags.of(key, "v" + text);
                check(!own.contains(key), "'" + key + "'", () -> new dev.portalloc.metrics.AllocatorMetrics(a, tags));
            }));
        thrownExactly(NullPointerException.class, () -> a.lease(null));
        thrownExactly(NullPointerException.class, () -> a.tryLease(null));
        thrownExactly(NullPointerException.class, () -> dev.portalloc.net.PortBinder.of(null, 1));
        final AllocatorStats after = a.stats();
        assertThat(after.heldPorts()).isEqualTo(before.heldPorts());
        assertThat(after.acquisitions()).isEqualTo(before.acquisitions());
        assertThat(after.failedAcquisitions()).isEqualTo(before.failedAcquisitions());
        assertThat(after.liveTuples()).isZero();
        a.release(held);
    }

    private static void check(boolean valid, String named, org.junit.jupiter.api.function.Executable call) {
        final IllegalArgumentException e = returnsOrThrows(IllegalArgumentException.class, call);
        assertThat(e == null).as("accepted (%s)", named).isEqualTo(valid);
        if (e != null) {
            assertThat(e.getMessage()).contains(named);
        }
    }

    @Test
    void builderSettersRejectNullWithTheParameterName() {
        final PortAllocator.Builder b = PortAllocator.builder();
        assertThat(thrownExactly(NullPointerException.class, () -> b.ports(null))).hasMessage("ports");
        assertThat(thrownExactly(NullPointerException.class, () -> b.reserved(null))).hasMessage("reserved");
        assertThat(thrownExactly(NullPointerException.class, () -> b.algorithm(null))).hasMessage("algorithm");
        assertThat(thrownExactly(NullPointerException.class, () -> b.secret(null))).hasMessage("key16");
        assertThat(thrownExactly(NullPointerException.class, () -> b.protocol(null))).hasMessage("protocol");
        assertThat(thrownExactly(NullPointerException.class, () -> b.localAddress(null))).hasMessage("address");
        assertThat(thrownExactly(NullPointerException.class, () -> b.quarantine(null))).hasMessage("duration");
        assertThat(thrownExactly(NullPointerException.class, () -> b.clock(null))).hasMessage("clock");
        // The rejected calls left the builder as it was: it still builds the defaults.
        assertThat(b.build().ports()).isEqualTo(PortSet.IANA_DYNAMIC);
    }

    @Test
    void extremeAlgorithmParametersNeitherThrowNorHang() {
        withinTimeLimit(() -> qtWith(200).forAll(Fuzz.ints(), integers().between(0, 1)).checkAssert((n, kind) -> {
            final int param = kind == 0 ? Math.max(1, n) : Math.max(1, Math.floorMod(n, 4096) + 1);
            final Algorithm algorithm = kind == 0 ? Algorithm.randomIncrements(param) : Algorithm.doubleHash(param);
            final PortAllocator a = PortAllocator.builder().ports(PortSet.parse("50000-50099")).algorithm(algorithm)
                .seed(n).build();
            final Set<Integer> got = new HashSet<>();
            for (int i = 0; i < 100; i++) {
                final int p = a.acquire();
                assertThat(p).isBetween(50000, 50099);
                assertThat(got.add(p)).isTrue();
            }
            assertThat(a.tryAcquire()).isEqualTo(PortAllocator.NONE);
        }));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Operations: bad input is rejected and changes nothing; good input does what the model says

    private static final PortSet AUTOMATIC = PortSet.parse("40000-40031");
    private static final List<Destination> DESTINATIONS = List.of(Destination.parse("192.0.2.1:443"),
        Destination.parse("192.0.2.2:443"), Destination.parse("[2001:db8::1]:443"));
    private static final List<PortSet> SETS = List.of(PortSet.empty(), PortSet.parse("40000-40015"), PortSet.of(40010),
        PortSet.parse("1-65535"), PortSet.of(40031), PortSet.parse("39000-39999"), AUTOMATIC);

    /** One call: {@code kind} selects the method, the other fields are its arguments (index 3 / 7 = null). */
    record Op(int kind, int port, int dest, int set) {
        Destination destination() {
            return dest < DESTINATIONS.size() ? DESTINATIONS.get(dest) : null;
        }

        PortSet portSet() {
            return set < SETS.size() ? SETS.get(set) : null;
        }
    }

    @SuppressWarnings("unchecked")
    private static Gen<List<Op>> ops() {
        final Gen<Integer> ports = Generate.frequency(Pair.of(6, integers().between(39_998, 40_033)),
            Pair.of(2, Fuzz.ints()));
        final Gen<Op> op = integers().between(0, 10).zip(ports, integers().between(0, 3), integers().between(0, 7),
            Op::new);
        return lists().of(op).ofSizeBetween(1, 60);
    }

    /** The model: exclusive holders, live tuples (port to destinations) and the reserved set. */
    private static final class Model {
        final Set<Integer> exclusive = new HashSet<>();
        final Map<Integer, Set<Destination>> tuples = new HashMap<>();
        PortSet reserved = PortSet.empty();

        boolean held(int port) {
            return exclusive.contains(port) || tuples.containsKey(port);
        }

        boolean live(int port, Destination d) {
            return tuples.getOrDefault(port, Set.of()).contains(d);
        }

        int heldPorts() {
            final Set<Integer> all = new HashSet<>(exclusive);
            all.addAll(tuples.keySet());
            return all.size();
        }

        long liveTuples() {
            return tuples.values().stream().mapToLong(Set::size).sum();
        }

        List<Integer> freeSelectable() {
            final List<Integer> free = new ArrayList<>();
            AUTOMATIC.minus(reserved).stream().filter(p -> !held(p)).forEach(free::add);
            return free;
        }

        List<Integer> candidates(Destination d) {
            final List<Integer> free = new ArrayList<>();
            AUTOMATIC.minus(reserved).stream().filter(p -> !exclusive.contains(p) && !live(p, d)).forEach(free::add);
            return free;
        }

        void join(int port, Destination d) {
            tuples.computeIfAbsent(port, p -> new HashSet<>()).add(d);
        }

        void leave(int port, Destination d) {
            final Set<Destination> ds = tuples.get(port);
            ds.remove(d);
            if (ds.isEmpty()) {
                tuples.remove(port);
            }
        }
    }

    private static boolean inRange(int port) {
        return port >= 1 && port <= 65535;
    }

    /** Asserts that a rejected call (which threw {@code e}) changed nothing. */
    private static void assertUnchanged(PortAllocator a, AllocatorStats before, Op op, boolean heldBefore,
            Throwable e) {
        assertThat(a.stats()).as("stats after rejected %s (%s)", op, e).isEqualTo(before);
        if (inRange(op.port())) {
            assertThat(a.isHeld(op.port())).as("isHeld after rejected %s", op).isEqualTo(heldBefore);
        }
    }

    private static void apply(PortAllocator a, Model m, Op op) {
        final int port = op.port();
        final Destination d = op.destination();
        final AllocatorStats before = a.stats();
        final boolean heldBefore = inRange(port) && a.isHeld(port);
        Throwable rejected = null;
        switch (op.kind()) {
            case 0 -> {
                final List<Integer> free = m.freeSelectable();
                final int p = a.tryAcquire();
                if (free.isEmpty()) {
                    assertThat(p).isEqualTo(PortAllocator.NONE);
                } else {
                    assertThat(free).contains(p);
                    m.exclusive.add(p);
                }
            }
            case 1 -> {
                if (!inRange(port)) {
                    rejected = thrownExactly(IllegalArgumentException.class, () -> a.tryAcquire(port));
                    assertThat(rejected).hasMessageContaining("port " + port);
                } else {
                    final boolean expected = !m.held(port);
                    assertThat(a.tryAcquire(port)).as("tryAcquire(%d)", port).isEqualTo(expected);
                    if (expected) {
                        m.exclusive.add(port);
                    }
                }
            }
            case 2 -> {
                if (!inRange(port)) {
                    rejected = thrownExactly(IllegalArgumentException.class, () -> a.release(port));
                    assertThat(rejected).hasMessageContaining("port " + port);
                } else if (!m.exclusive.contains(port)) {
                    rejected = thrownExactly(IllegalStateException.class, () -> a.release(port));
                    assertThat(rejected).hasMessageContaining("port " + port);
                } else {
                    a.release(port);
                    m.exclusive.remove(port);
                }
            }
            case 3 -> {
                if (!inRange(port)) {
                    rejected = thrownExactly(IllegalArgumentException.class, () -> a.isHeld(port));
                    assertThat(rejected).hasMessageContaining("port " + port);
                } else {
                    assertThat(a.isHeld(port)).isEqualTo(m.held(port));
                }
            }
            case 4 -> {
                if (d == null) {
                    rejected = thrownExactly(NullPointerException.class, () -> a.tryAcquire((Destination) null));
                } else {
                    final List<Integer> candidates = m.candidates(d);
                    final int p = a.tryAcquire(d);
                    if (candidates.isEmpty()) {
                        assertThat(p).isEqualTo(PortAllocator.NONE);
                    } else {
                        assertThat(candidates).contains(p);
                        m.join(p, d);
                    }
                }
            }
            case 5 -> {
                if (!inRange(port)) {
                    rejected = thrownExactly(IllegalArgumentException.class, () -> a.tryAcquire(port, d));
                    assertThat(rejected).hasMessageContaining("port " + port);
                } else if (d == null) {
                    rejected = thrownExactly(NullPointerException.class, () -> a.tryAcquire(port, null));
                } else {
                    final boolean expected = !m.exclusive.contains(port) && !m.live(port, d);
                    assertThat(a.tryAcquire(port, d)).as("tryAcquire(%d, %s)", port, d).isEqualTo(expected);
                    if (expected) {
                        m.join(port, d);
                    }
                }
            }
            case 6 -> {
                if (!inRange(port)) {
                    rejected = thrownExactly(IllegalArgumentException.class, () -> a.release(port, d));
                    assertThat(rejected).hasMessageContaining("port " + port);
                } else if (d == null) {
                    rejected = thrownExactly(NullPointerException.class, () -> a.release(port, null));
                } else if (!m.live(port, d)) {
                    rejected = thrownExactly(IllegalStateException.class, () -> a.release(port, d));
                    assertThat(rejected).hasMessageContaining(":" + port + " -> " + d);
                } else {
                    a.release(port, d);
                    m.leave(port, d);
                }
            }
            case 7 -> {
                if (!inRange(port)) {
                    rejected = thrownExactly(IllegalArgumentException.class, () -> a.isLive(port, d));
                    assertThat(rejected).hasMessageContaining("port " + port);
                } else if (d == null) {
                    rejected = thrownExactly(NullPointerException.class, () -> a.isLive(port, null));
                } else {
                    assertThat(a.isLive(port, d)).isEqualTo(m.live(port, d));
                }
            }
            case 8, 9 -> {
                final PortSet set = op.portSet();
                final boolean reserve = op.kind() == 8;
                if (set == null) {
                    rejected = thrownExactly(NullPointerException.class, () -> {
                        if (reserve) {
                            a.reserve(null);
                        } else {
                            a.unreserve(null);
                        }
                    });
                } else {
                    if (reserve) {
                        a.reserve(set);
                        m.reserved = m.reserved.union(set);
                    } else {
                        a.unreserve(set);
                        m.reserved = m.reserved.minus(set);
                    }
                    assertThat(a.reserved()).isEqualTo(m.reserved);
                }
            }
            default -> {
                final List<Integer> free = m.freeSelectable();
                if (free.isEmpty()) {
                    final PortExhaustedException e = thrownExactly(PortExhaustedException.class, a::acquire);
                    assertThat(a.stats().heldPorts()).isEqualTo(before.heldPorts());
                    assertThat(e).hasMessageContaining(Integer.toString(AUTOMATIC.size()));
                } else {
                    final int p = a.acquire();
                    assertThat(free).contains(p);
                    m.exclusive.add(p);
                }
            }
        }
        if (rejected != null) {
            assertUnchanged(a, before, op, heldBefore, rejected);
        }
        final AllocatorStats after = a.stats();
        assertThat(after.heldPorts()).as("held ports after %s", op).isEqualTo(m.heldPorts());
        assertThat(after.liveTuples()).as("live tuples after %s", op).isEqualTo(m.liveTuples());
        assertThat(after.quarantined()).isZero();
    }

    @Test
    void rejectedOperationsChangeNothingAndTheRestFollowTheModel() {
        withinTimeLimit(() -> qtWith(300).forAll(ops(), Fuzz.longsWithEdges()).checkAssert((list, seed) -> {
            final PortAllocator a = PortAllocator.builder().ports(AUTOMATIC).seed(seed).build();
            final Model m = new Model();
            for (Op op : list) {
                apply(a, m, op);
            }
        }));
    }
}
