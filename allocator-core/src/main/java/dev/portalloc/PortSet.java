package dev.portalloc;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Spliterator;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;
import java.util.stream.StreamSupport;

/**
 * An immutable set of TCP/UDP port numbers in {@code 1..65535}, stored as sorted ranges.
 *
 * <h2>Syntax</h2>
 * {@link #parse(String)} accepts the two formats Linux uses under {@code /proc/sys/net/ipv4}:
 * <ul>
 *   <li>the {@code ip_local_reserved_ports} list: comma-separated entries, each a port
 *       ({@code 8080}) or an inclusive range ({@code 32768-60999}); whitespace is allowed around
 *       entries but not inside them; an empty or all-whitespace string is the empty set;
 *       entries may overlap or repeat (the result is their union);</li>
 *   <li>the {@code ip_local_port_range} pair: exactly two numbers separated by whitespace and no
 *       comma, for example {@code "32768 60999"} or {@code "32768\t60999"}, meaning the
 *       inclusive range.</li>
 * </ul>
 * Every port must be in {@code 1..65535} and every range ascending ({@code first <= last});
 * anything else is rejected with an {@link IllegalArgumentException} that quotes the offending
 * entry.
 *
 * <h2>Canonical form</h2>
 * Internally, and in {@link #toString()}, a set is the ascending list of its maximal runs of
 * consecutive ports: ranges never overlap or touch, so two sets are {@linkplain #equals equal}
 * exactly when their range lists are identical. {@code toString()} writes a one-port run as
 * {@code "1024"}, a longer one as {@code "32768-60999"}, separated by commas without spaces,
 * and the empty set as {@code ""}; hence {@code parse(s.toString()).equals(s)} for every set
 * {@code s}.
 *
 * <h2>Index space</h2>
 * The ports, in ascending order, form the "index space" of RFC 6056 section 3.3: {@link #nth}
 * maps an index in {@code 0..size()-1} to a port and {@link #rank} maps a port back to its
 * index, so an allocator can pick a uniformly random or hashed offset and turn it into a port
 * without materialising the port list.
 *
 * <h2>Immutability and thread safety</h2>
 * Instances are immutable: all fields are final and the internal arrays are never exposed or
 * modified after construction. They are therefore thread-safe and may be shared freely
 * between threads without synchronisation.
 *
 * <h2>Cost</h2>
 * With {@code r} the number of ranges, a set uses about {@code 12 r} bytes (two bounds plus a
 * prefix count per range), independent of how many ports it holds. {@link #contains},
 * {@link #nth} and {@link #rank} are {@code O(log r)}; {@link #size}, {@link #first},
 * {@link #last} and the range accessors are {@code O(1)} and allocation-free;
 * {@link #union}, {@link #intersect} and {@link #minus} merge the two range lists in
 * {@code O(r1 + r2)}; {@link #parse} and {@link #of} sort their entries once,
 * {@code O(n log n)} in the number of entries, unless they are already sorted. Only {@link #iterator()}, {@link #stream()}
 * and {@link #toArray()} visit individual ports.
 */
public final class PortSet implements Iterable<Integer> {

    private static final int MIN_PORT = 1;
    private static final int MAX_PORT = 65535;
    private static final String PORT_RANGE = MIN_PORT + ".." + MAX_PORT;

    /** Appended to parse errors so the message says what would have been accepted. */
    private static final String SYNTAX = "; expected comma-separated ports and ranges \"first-last\" within "
            + PORT_RANGE + ", or two numbers \"first last\"";

    private static final String LOCAL_PORT_RANGE = "net/ipv4/ip_local_port_range";
    private static final String LOCAL_RESERVED_PORTS = "net/ipv4/ip_local_reserved_ports";
    private static final Path PROC_SYS = Path.of("/proc/sys");

    private static final int[] NO_INTS = {};
    private static final PortSet EMPTY = new PortSet(NO_INTS);

    /**
     * The IANA Dynamic Ports range {@code 49152-65535} (also called private or ephemeral ports),
     * as defined by RFC 6335 section 6 and listed in the IANA Service Name and Transport Protocol
     * Port Number Registry; never assigned to services.
     */
    public static final PortSet IANA_DYNAMIC = range(49152, 65535);

    /**
     * The Linux default ephemeral range {@code 32768-60999}: the default value of
     * {@code /proc/sys/net/ipv4/ip_local_port_range}, see the kernel's
     * Documentation/networking/ip-sysctl.rst.
     */
    public static final PortSet LINUX_DEFAULT = range(32768, 60999);

    /**
     * The Windows default dynamic port range {@code 49152-65535} (Windows Vista / Server 2008
     * and later), see Microsoft KB 929851 "The default dynamic port range for TCP/IP has changed"
     * ({@code netsh int ipv4 show dynamicport tcp}).
     */
    public static final PortSet WINDOWS_DEFAULT = range(49152, 65535);

    /**
     * The FreeBSD default ephemeral range {@code 10000-65535}: the defaults of the
     * {@code net.inet.ip.portrange.first} and {@code net.inet.ip.portrange.last} sysctls, set from
     * {@code IPPORT_EPHEMERALFIRST} and {@code IPPORT_EPHEMERALLAST} in FreeBSD's
     * {@code <netinet/in.h>}.
     */
    public static final PortSet FREEBSD_DEFAULT = range(10000, 65535);

    /**
     * The range {@code 1024-65535} that RFC 6056 section 3.2 recommends for ephemeral port
     * selection: every port except the well-known ports {@code 1..1023}.
     */
    public static final PortSet RFC6056_RECOMMENDED = range(1024, 65535);

    /** Ranges as {@code first0, last0, first1, last1, ...}: ascending, disjoint, non-adjacent. */
    private final int[] bounds;
    /** {@code before[i]} = number of ports in ranges {@code 0..i-1}; {@code before[rangeCount]} = size. */
    private final int[] before;
    /** Cached: sets are often used as map keys and compared, and they never change. */
    private final int hash;

    /** Takes ownership of {@code bounds}, which must already be canonical (see {@link #canonical}). */
    private PortSet(int[] bounds) {
        this.bounds = bounds;
        int ranges = bounds.length >> 1;
        int[] prefix = new int[ranges + 1];
        for (int i = 0; i < ranges; i++) {
            prefix[i + 1] = prefix[i] + bounds[2 * i + 1] - bounds[2 * i] + 1;
        }
        this.before = prefix;
        this.hash = Arrays.hashCode(bounds);
    }

    // ------------------------------------------------------------------------------------------
    // Factories

    /**
     * Returns the empty set.
     *
     * @return the shared empty set
     */
    public static PortSet empty() {
        return EMPTY;
    }

    /**
     * Returns the inclusive range {@code first..last}.
     *
     * @param first the smallest port, in {@code 1..65535}
     * @param last the largest port, in {@code first..65535}
     * @return the set of ports {@code first..last}
     * @throws IllegalArgumentException if a bound is outside {@code 1..65535} or {@code first > last}
     */
    public static PortSet range(int first, int last) {
        return canonical(new int[] {first, last}, 2);
    }

    /**
     * Returns the set of the given ports, in any order, duplicates allowed.
     *
     * @param ports the ports, each in {@code 1..65535}
     * @return the set of those ports
     * @throws IllegalArgumentException if a port is outside {@code 1..65535}
     * @throws NullPointerException if {@code ports} is null
     */
    public static PortSet of(int... ports) {
        Objects.requireNonNull(ports, "ports");
        int[] pairs = new int[2 * ports.length];
        for (int i = 0; i < ports.length; i++) {
            pairs[2 * i] = ports[i];
            pairs[2 * i + 1] = ports[i];
        }
        return canonical(pairs, pairs.length);
    }

    /**
     * Parses a port list in either Linux {@code /proc/sys/net/ipv4} syntax (see the
     * {@linkplain PortSet class description}): {@code "1024,8080-8090"} or {@code "32768 60999"}.
     *
     * @param spec the text to parse; {@code ""} or whitespace only is the empty set
     * @return the union of the listed ports and ranges
     * @throws IllegalArgumentException if {@code spec} is null or malformed; the message quotes
     *         the offending entry
     */
    public static PortSet parse(String spec) {
        if (spec == null) {
            throw new IllegalArgumentException("port set spec is null" + SYNTAX);
        }
        String s = trim(spec);
        if (s.isEmpty()) {
            return EMPTY;
        }
        if (s.indexOf(',') < 0 && containsWhitespace(s)) {
            return parsePair(s, spec);
        }
        int[] pairs = new int[8];
        int n = 0;
        int entry = 0;
        for (int start = 0; start <= spec.length(); ) {
            int comma = spec.indexOf(',', start);
            int end = comma < 0 ? spec.length() : comma;
            String token = trim(spec.substring(start, end));
            entry++;
            if (token.isEmpty()) {
                throw new IllegalArgumentException("empty entry #" + entry + " in " + ErrorText.quote(spec)
                        + " (leading, trailing or doubled comma)" + SYNTAX);
            }
            if (n == pairs.length) {
                pairs = Arrays.copyOf(pairs, 2 * n);
            }
            parseEntry(token, spec, pairs, n);
            n += 2;
            start = end + 1;
        }
        return canonical(pairs, n);
    }

    /** Parses one comma-separated entry ({@code "80"} or {@code "80-90"}) into {@code pairs[at..at+1]}. */
    private static void parseEntry(String token, String spec, int[] pairs, int at) {
        int dash = token.indexOf('-');
        if (dash < 0) {
            int port = number(token);
            if (port < 0) {
                throw new IllegalArgumentException(ErrorText.quote(token) + " is not a port or range in " + ErrorText.quote(spec) + SYNTAX);
            }
            pairs[at] = checkedPort(port, token, null, spec);
            pairs[at + 1] = port;
            return;
        }
        if (dash == 0) {
            // "-5" would be a negative number, "-" or "-5" a range without a first port: neither is valid.
            throw new IllegalArgumentException(ErrorText.quote(token) + " is not a port or range (leading '-') in "
                    + ErrorText.quote(spec) + SYNTAX);
        }
        String firstText = token.substring(0, dash);
        String lastText = token.substring(dash + 1);
        if (lastText.isEmpty()) {
            throw new IllegalArgumentException("range " + ErrorText.quote(token) + " has no last port in " + ErrorText.quote(spec) + SYNTAX);
        }
        int first = number(firstText);
        int last = number(lastText);
        if (first < 0 || last < 0) {
            throw new IllegalArgumentException(ErrorText.quote(token) + " is not a port or range in " + ErrorText.quote(spec) + SYNTAX);
        }
        checkedPort(first, firstText, token, spec);
        checkedPort(last, lastText, token, spec);
        if (first > last) {
            throw reversed(token, spec);
        }
        pairs[at] = first;
        pairs[at + 1] = last;
    }

    /** Parses the {@code ip_local_port_range} form: exactly two whitespace-separated numbers. */
    private static PortSet parsePair(String s, String spec) {
        String[] words = words(s);
        if (words.length != 2) {
            // Also reached for "1 - 5" and "1 2 3": whitespace inside an entry is only valid in the pair form.
            throw new IllegalArgumentException(ErrorText.quote(s) + " is not a port list or a \"first last\" pair (found "
                    + words.length + " whitespace-separated words) in " + ErrorText.quote(spec) + SYNTAX);
        }
        int first = number(words[0]);
        int last = number(words[1]);
        if (first < 0 || last < 0) {
            String bad = first < 0 ? words[0] : words[1];
            throw new IllegalArgumentException(ErrorText.quote(bad) + " is not a port in " + ErrorText.quote(spec) + SYNTAX);
        }
        checkedPort(first, words[0], s, spec);
        checkedPort(last, words[1], s, spec);
        if (first > last) {
            throw reversed(s, spec);
        }
        return canonical(new int[] {first, last}, 2);
    }

    /** Splits trimmed text at runs of ASCII whitespace. */
    private static String[] words(String s) {
        String[] words = new String[4];
        int n = 0;
        for (int i = 0; i < s.length(); ) {
            int start = i;
            while (i < s.length() && !isWhitespace(s.charAt(i))) {
                i++;
            }
            if (n == words.length) {
                words = Arrays.copyOf(words, 2 * n);
            }
            words[n++] = s.substring(start, i);
            while (i < s.length() && isWhitespace(s.charAt(i))) {
                i++;
            }
        }
        return Arrays.copyOf(words, n);
    }

    private static IllegalArgumentException reversed(String token, String spec) {
        return new IllegalArgumentException("range " + ErrorText.quote(token) + " is reversed (first port greater than last) in "
                + ErrorText.quote(spec) + SYNTAX);
    }

    /**
     * Returns {@code port} if it is in {@code 1..65535}, else throws naming its text, the entry it
     * belongs to (if different from the port itself) and the whole spec.
     */
    private static int checkedPort(int port, String text, String entry, String spec) {
        if (port < MIN_PORT || port > MAX_PORT) {
            String of = entry == null ? "" : " of range " + ErrorText.quote(entry);
            throw new IllegalArgumentException("port " + ErrorText.quote(text) + of + " is out of range " + PORT_RANGE
                    + " in " + ErrorText.quote(spec));
        }
        return port;
    }

    /**
     * Parses a non-empty string of ASCII digits, saturating at {@code 65536} so that huge digit
     * counts cannot overflow into a valid port; returns {@code -1} if it is not such a string
     * (this rejects signs, decimal points and non-ASCII digits, which Integer.parseInt accepts).
     */
    private static int number(String text) {
        if (text.isEmpty()) {
            return -1;
        }
        int value = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = Math.min(value * 10 + (c - '0'), MAX_PORT + 1);
        }
        return value;
    }

    private static boolean isWhitespace(char c) {
        // The same set as the regex \\s: space, tab, line feed, carriage return, form feed, vertical tab.
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B;
    }

    private static boolean containsWhitespace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (isWhitespace(s.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    /** Strips ASCII whitespace only, so the accepted syntax does not depend on Unicode tables. */
    private static String trim(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && isWhitespace(s.charAt(from))) {
            from++;
        }
        while (to > from && isWhitespace(s.charAt(to - 1))) {
            to--;
        }
        return s.substring(from, to);
    }


    /**
     * The single place where sets are made: validates the ranges {@code pairs[0..n)} (as
     * {@code first, last} pairs), sorts them if needed and coalesces overlapping or adjacent
     * ranges into the canonical form. Takes ownership of {@code pairs}. Already-canonical input
     * (as produced by the set operations) costs one linear pass and no copy.
     */
    private static PortSet canonical(int[] pairs, int n) {
        if (n == 0) {
            return EMPTY;
        }
        boolean sorted = true;
        boolean isCanonical = true;
        for (int i = 0; i < n; i += 2) {
            int first = pairs[i];
            int last = pairs[i + 1];
            validate(first, last);
            if (i > 0) {
                if (first < pairs[i - 2]) {
                    sorted = false;
                }
                // Overlapping or adjacent to the previous range: must merge.
                if (first <= pairs[i - 1] + 1) {
                    isCanonical = false;
                }
            }
        }
        if (isCanonical) {
            return new PortSet(n == pairs.length ? pairs : Arrays.copyOf(pairs, n));
        }
        if (!sorted) {
            // Pack (first, last) into one long so a primitive sort orders by first, then last.
            long[] packed = new long[n >> 1];
            for (int i = 0; i < n; i += 2) {
                packed[i >> 1] = ((long) pairs[i] << 32) | pairs[i + 1];
            }
            Arrays.sort(packed);
            for (int i = 0; i < n; i += 2) {
                pairs[i] = (int) (packed[i >> 1] >>> 32);
                pairs[i + 1] = (int) packed[i >> 1];
            }
        }
        // Coalesce in place: out <= i always, so writes never overtake reads.
        int out = 0;
        for (int i = 0; i < n; i += 2) {
            int first = pairs[i];
            int last = pairs[i + 1];
            if (out > 0 && first <= pairs[out - 1] + 1) {
                pairs[out - 1] = Math.max(pairs[out - 1], last);
            } else {
                pairs[out++] = first;
                pairs[out++] = last;
            }
        }
        return new PortSet(Arrays.copyOf(pairs, out));
    }

    private static void validate(int first, int last) {
        if (first == last) {
            if (first < MIN_PORT || first > MAX_PORT) {
                throw new IllegalArgumentException("port " + first + " is out of range " + PORT_RANGE);
            }
            return;
        }
        if (first < MIN_PORT || first > MAX_PORT) {
            throw new IllegalArgumentException("first port " + first + " of range " + first + ".." + last
                    + " is out of range " + PORT_RANGE);
        }
        if (last < MIN_PORT || last > MAX_PORT) {
            throw new IllegalArgumentException("last port " + last + " of range " + first + ".." + last
                    + " is out of range " + PORT_RANGE);
        }
        if (first > last) {
            throw new IllegalArgumentException("range " + first + ".." + last
                    + " is reversed (first port greater than last); ports are " + PORT_RANGE);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Host configuration

    /**
     * Reads this host's ephemeral port range from {@code /proc/sys/net/ipv4/ip_local_port_range}.
     *
     * @return the configured inclusive range
     * @throws IllegalStateException if the host is not Linux (by the {@code os.name} system
     *         property), or the file cannot be read or does not hold exactly two valid numbers
     */
    public static PortSet hostEphemeralRange() {
        return hostEphemeralRange(System.getProperty("os.name"), PROC_SYS);
    }

    /**
     * Reads the ephemeral port range from {@code net/ipv4/ip_local_port_range} under the given
     * {@code /proc/sys} directory. The file must hold exactly two numbers separated by whitespace
     * (the kernel writes {@code "32768\t60999\n"}). Works on any OS, for example on a copy of
     * another host's {@code /proc/sys}.
     *
     * @param procSys the {@code /proc/sys} directory (or a fake tree with the same layout)
     * @return the configured inclusive range
     * @throws IllegalStateException if the file cannot be read (the {@link IOException} is the
     *         cause) or is malformed (the {@link IllegalArgumentException} is the cause)
     * @throws NullPointerException if {@code procSys} is null
     */
    public static PortSet hostEphemeralRange(Path procSys) {
        Path file = Objects.requireNonNull(procSys, "procSys").resolve(LOCAL_PORT_RANGE);
        String content = readProcFile(file);
        try {
            String s = trim(content);
            // Unlike parse(), a lone port or a comma list is not a valid ip_local_port_range.
            if (words(s).length != 2) {
                throw new IllegalArgumentException("expected exactly two numbers \"first last\" within "
                        + PORT_RANGE + ", found " + ErrorText.quote(content));
            }
            return parsePair(s, content);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("malformed content in " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads this host's reserved ports from {@code /proc/sys/net/ipv4/ip_local_reserved_ports}:
     * ports excluded from automatic ephemeral port assignment.
     *
     * @return the reserved ports, often the empty set
     * @throws IllegalStateException if the host is not Linux (by the {@code os.name} system
     *         property), or the file cannot be read or is malformed
     */
    public static PortSet hostReservedPorts() {
        return hostReservedPorts(System.getProperty("os.name"), PROC_SYS);
    }

    /**
     * Reads the reserved ports from {@code net/ipv4/ip_local_reserved_ports} under the given
     * {@code /proc/sys} directory, in the comma-separated {@link #parse} syntax; an empty file
     * means no reserved ports. Works on any OS, for example on a fake tree in tests.
     *
     * @param procSys the {@code /proc/sys} directory (or a fake tree with the same layout)
     * @return the reserved ports, possibly empty
     * @throws IllegalStateException if the file cannot be read (the {@link IOException} is the
     *         cause) or is malformed (the {@link IllegalArgumentException} is the cause)
     * @throws NullPointerException if {@code procSys} is null
     */
    public static PortSet hostReservedPorts(Path procSys) {
        Path file = Objects.requireNonNull(procSys, "procSys").resolve(LOCAL_RESERVED_PORTS);
        String content = readProcFile(file);
        try {
            return parse(content);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("malformed content in " + file + ": " + e.getMessage(), e);
        }
    }

    /** Visible for tests: the no-argument variants with the OS name passed in. */
    static PortSet hostEphemeralRange(String osName, Path procSys) {
        requireLinux(osName, procSys.resolve(LOCAL_PORT_RANGE));
        return hostEphemeralRange(procSys);
    }

    /** Visible for tests: the no-argument variants with the OS name passed in. */
    static PortSet hostReservedPorts(String osName, Path procSys) {
        requireLinux(osName, procSys.resolve(LOCAL_RESERVED_PORTS));
        return hostReservedPorts(procSys);
    }

    private static void requireLinux(String osName, Path file) {
        if (osName == null || !osName.startsWith("Linux")) {
            throw new IllegalStateException("cannot read " + file + ": this host runs "
                    + (osName == null ? "an unknown OS (os.name is not set)" : ErrorText.quote(osName))
                    + ", but the ports configuration under /proc/sys exists only on Linux");
        }
    }

    /**
     * Reads a /proc file line by line. Files.readAllBytes/readString trust the reported file size,
     * which is 0 for /proc files on some kernels, and then return truncated content.
     * ISO-8859-1 maps every byte to a char, so stray bytes reach the parser and are reported as
     * malformed content rather than as a decoding failure.
     */
    private static String readProcFile(Path file) {
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
            // The lines joined by '\n' (empty ones included, so that messages quote what the file holds).
            StringBuilder content = new StringBuilder();
            boolean first = true;
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (!first) {
                    content.append('\n');
                }
                content.append(line);
                first = false;
            }
            return content.toString();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file + ": " + e, e);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Set algebra: each merges the two sorted range lists once, O(r1 + r2).

    /**
     * Returns the ports in this set, in {@code other}, or in both.
     *
     * @param other the other set
     * @return the union (an operand itself when the other is empty)
     * @throws NullPointerException if {@code other} is null
     */
    public PortSet union(PortSet other) {
        Objects.requireNonNull(other, "other");
        if (other.isEmpty() || other == this) {
            return this;
        }
        if (isEmpty()) {
            return other;
        }
        int[] a = bounds;
        int[] b = other.bounds;
        int[] out = new int[a.length + b.length];
        int n = 0;
        int i = 0;
        int j = 0;
        while (i < a.length || j < b.length) {
            int first;
            int last;
            // Take the range that starts first; coalesce it with the previous output range.
            if (j >= b.length || (i < a.length && a[i] <= b[j])) {
                first = a[i];
                last = a[i + 1];
                i += 2;
            } else {
                first = b[j];
                last = b[j + 1];
                j += 2;
            }
            if (n > 0 && first <= out[n - 1] + 1) {
                out[n - 1] = Math.max(out[n - 1], last);
            } else {
                out[n++] = first;
                out[n++] = last;
            }
        }
        return canonical(out, n);
    }

    /**
     * Returns the ports in both this set and {@code other}.
     *
     * @param other the other set
     * @return the intersection
     * @throws NullPointerException if {@code other} is null
     */
    public PortSet intersect(PortSet other) {
        Objects.requireNonNull(other, "other");
        if (other == this) {
            return this;
        }
        if (isEmpty() || other.isEmpty()) {
            return EMPTY;
        }
        int[] a = bounds;
        int[] b = other.bounds;
        // Each output range ends where an input range ends, so there are at most r1 + r2 - 1.
        int[] out = new int[a.length + b.length];
        int n = 0;
        int i = 0;
        int j = 0;
        while (i < a.length && j < b.length) {
            int first = Math.max(a[i], b[j]);
            int last = Math.min(a[i + 1], b[j + 1]);
            if (first <= last) {
                out[n++] = first;
                out[n++] = last;
            }
            // Advance past whichever range ends first; the other may still overlap later ranges.
            if (a[i + 1] < b[j + 1]) {
                i += 2;
            } else {
                j += 2;
            }
        }
        return canonical(out, n);
    }

    /**
     * Returns the ports in this set that are not in {@code other}.
     *
     * @param other the ports to remove
     * @return the difference ({@code this} itself when either set is empty)
     * @throws NullPointerException if {@code other} is null
     */
    public PortSet minus(PortSet other) {
        Objects.requireNonNull(other, "other");
        if (other == this) {
            return EMPTY;
        }
        if (isEmpty() || other.isEmpty()) {
            return this;
        }
        int[] a = bounds;
        int[] b = other.bounds;
        // Every removed range splits at most one range into two, so at most r1 + r2 ranges remain.
        int[] out = new int[a.length + b.length];
        int n = 0;
        int j = 0;
        for (int i = 0; i < a.length; i += 2) {
            int next = a[i];           // smallest port of this range not yet emitted or removed
            int last = a[i + 1];
            while (j < b.length && b[j + 1] < next) {
                j += 2;                // removed range lies wholly before this range
            }
            // Do not advance j past a removed range that may also cover the next range of a.
            for (int k = j; k < b.length && b[k] <= last && next <= last; k += 2) {
                if (b[k] > next) {
                    out[n++] = next;
                    out[n++] = b[k] - 1;
                }
                next = Math.max(next, b[k + 1] + 1);
            }
            if (next <= last) {
                out[n++] = next;
                out[n++] = last;
            }
        }
        return canonical(out, n);
    }

    // ------------------------------------------------------------------------------------------
    // Queries

    /**
     * Tells whether {@code port} is in this set, in {@code O(log rangeCount())}.
     *
     * @param port any int; values outside {@code 1..65535} are never contained
     * @return true if the set holds {@code port}
     */
    public boolean contains(int port) {
        int i = lastRangeStartingAtOrBelow(port);
        return i >= 0 && port <= bounds[2 * i + 1];
    }

    /** Index of the last range whose first port is {@code <= port}, or -1: binary search. */
    private int lastRangeStartingAtOrBelow(int port) {
        int lo = 0;
        int hi = (bounds.length >> 1) - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (bounds[2 * mid] <= port) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return hi;
    }

    /**
     * Returns the number of ports in this set, in {@code O(1)}.
     *
     * @return the number of ports, {@code 0..65535}
     */
    public int size() {
        return before[before.length - 1];
    }

    /**
     * Tells whether this set holds no ports.
     *
     * @return true if empty
     */
    public boolean isEmpty() {
        return bounds.length == 0;
    }

    /**
     * Returns the smallest port.
     *
     * @return the smallest port in the set
     * @throws NoSuchElementException if the set is empty
     */
    public int first() {
        if (isEmpty()) {
            throw new NoSuchElementException("first() of an empty PortSet");
        }
        return bounds[0];
    }

    /**
     * Returns the largest port.
     *
     * @return the largest port in the set
     * @throws NoSuchElementException if the set is empty
     */
    public int last() {
        if (isEmpty()) {
            throw new NoSuchElementException("last() of an empty PortSet");
        }
        return bounds[bounds.length - 1];
    }

    /**
     * Returns the number of maximal ranges of consecutive ports (the canonical ranges), for
     * allocation-free iteration with {@link #rangeFirst} and {@link #rangeLast}.
     *
     * @return the number of ranges; 0 for the empty set
     */
    public int rangeCount() {
        return bounds.length >> 1;
    }

    /**
     * Returns the first (smallest) port of the {@code i}-th range, ranges in ascending order.
     *
     * @param i the range index, {@code 0..rangeCount()-1}
     * @return the first port of that range
     * @throws IndexOutOfBoundsException if {@code i} is out of bounds
     */
    public int rangeFirst(int i) {
        return bounds[2 * Objects.checkIndex(i, rangeCount())];
    }

    /**
     * Returns the last (largest, inclusive) port of the {@code i}-th range.
     *
     * @param i the range index, {@code 0..rangeCount()-1}
     * @return the last port of that range
     * @throws IndexOutOfBoundsException if {@code i} is out of bounds
     */
    public int rangeLast(int i) {
        return bounds[2 * Objects.checkIndex(i, rangeCount()) + 1];
    }

    /**
     * Returns the {@code index}-th smallest port (0-based), in {@code O(log rangeCount())}: the
     * port at that position of the RFC 6056 index space. Inverse of {@link #rank} on members.
     *
     * @param index the position, {@code 0..size()-1}
     * @return the port at that position
     * @throws IndexOutOfBoundsException if {@code index} is out of bounds
     */
    public int nth(int index) {
        Objects.checkIndex(index, size());
        // Find the last range i with before[i] <= index; ranges are non-empty, so it is unique.
        int lo = 0;
        int hi = rangeCount() - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (before[mid] <= index) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return bounds[2 * lo] + (index - before[lo]);
    }

    /**
     * Returns the number of ports in this set that are smaller than {@code port}, in
     * {@code O(log rangeCount())}. For a member this is its position in the RFC 6056 index space
     * ({@code nth(rank(p)) == p}); for a non-member it is the position it would be inserted at.
     *
     * @param port any int; below 1 gives 0, above 65535 gives {@link #size()}
     * @return the count of smaller members, {@code 0..size()}
     */
    public int rank(int port) {
        if (port <= MIN_PORT) {
            return 0;       // also keeps port - 1 below from overflowing
        }
        int i = lastRangeStartingAtOrBelow(port - 1);   // last range with a member < port
        if (i < 0) {
            return 0;
        }
        int end = Math.min(port, bounds[2 * i + 1] + 1);
        return before[i] + end - bounds[2 * i];
    }

    // ------------------------------------------------------------------------------------------
    // Traversal

    /**
     * Returns an iterator over the ports in ascending order. It does not support removal.
     *
     * @return an ascending iterator (boxing each port; prefer {@link #stream()} or the range
     *         accessors on hot paths)
     */
    @Override
    public Iterator<Integer> iterator() {
        return new Iterator<>() {
            private int range;
            private int next = isEmpty() ? 0 : bounds[0];

            @Override
            public boolean hasNext() {
                return range < rangeCount();
            }

            @Override
            public Integer next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                int port = next;
                if (port == bounds[2 * range + 1]) {
                    range++;
                    if (range < rangeCount()) {
                        next = bounds[2 * range];
                    }
                } else {
                    next = port + 1;
                }
                return port;
            }
        };
    }

    /**
     * Returns a spliterator over the ports in ascending order; it is {@code SIZED},
     * {@code SUBSIZED}, {@code ORDERED}, {@code SORTED}, {@code DISTINCT}, {@code NONNULL} and
     * {@code IMMUTABLE}, and splits in {@code O(log rangeCount())}.
     *
     * @return a primitive spliterator over the ports
     */
    @Override
    public Spliterator.OfInt spliterator() {
        return new PortSpliterator(0, size());
    }

    /**
     * Returns the ports in ascending order as a stream, without boxing.
     *
     * @return a sequential ascending stream of the ports
     */
    public IntStream stream() {
        return StreamSupport.intStream(spliterator(), false);
    }

    /**
     * Returns the ports in ascending order in a new array.
     *
     * @return a new array of {@link #size()} ports
     */
    public int[] toArray() {
        int[] ports = new int[size()];
        int n = 0;
        for (int i = 0; i < bounds.length; i += 2) {
            for (int port = bounds[i]; port <= bounds[i + 1]; port++) {
                ports[n++] = port;
            }
        }
        return ports;
    }

    /** Walks index space positions {@code [index, end)}; tracks the current range to avoid searches. */
    private final class PortSpliterator implements Spliterator.OfInt {
        private int index;
        private final int end;
        private int range;

        PortSpliterator(int index, int end) {
            this.index = index;
            this.end = end;
            this.range = index < end ? rangeOf(index) : 0;
        }

        /** The range holding index-space position {@code index}: last i with before[i] <= index. */
        private int rangeOf(int index) {
            int lo = 0;
            int hi = rangeCount() - 1;
            while (lo < hi) {
                int mid = (lo + hi + 1) >>> 1;
                if (before[mid] <= index) {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            return lo;
        }

        @Override
        public boolean tryAdvance(IntConsumer action) {
            Objects.requireNonNull(action, "action");
            if (index >= end) {
                return false;
            }
            if (index >= before[range + 1]) {
                range++;
            }
            action.accept(bounds[2 * range] + (index - before[range]));
            index++;
            return true;
        }

        @Override
        public void forEachRemaining(IntConsumer action) {
            Objects.requireNonNull(action, "action");
            while (index < end) {
                if (index >= before[range + 1]) {
                    range++;
                }
                int port = bounds[2 * range] + (index - before[range]);
                int stop = Math.min(end, before[range + 1]);
                for (; index < stop; index++, port++) {
                    action.accept(port);
                }
            }
        }

        @Override
        public Spliterator.OfInt trySplit() {
            int mid = (index + end) >>> 1;
            if (end - index < 2) {
                return null;
            }
            PortSpliterator prefix = new PortSpliterator(index, mid);
            index = mid;
            range = rangeOf(mid);
            return prefix;
        }

        @Override
        public long estimateSize() {
            return end - index;
        }

        @Override
        public int characteristics() {
            return SIZED | SUBSIZED | ORDERED | SORTED | DISTINCT | NONNULL | IMMUTABLE;
        }

        @Override
        public Comparator<? super Integer> getComparator() {
            return null;    // natural order, as SORTED requires
        }
    }

    // ------------------------------------------------------------------------------------------
    // Object

    /**
     * Two port sets are equal when they hold the same ports (equivalently, by the canonical
     * form, the same ranges).
     *
     * @param o the object to compare with
     * @return true if {@code o} is a PortSet with the same ports
     */
    @Override
    public boolean equals(Object o) {
        return o == this
                || (o instanceof PortSet && hash == ((PortSet) o).hash && Arrays.equals(bounds, ((PortSet) o).bounds));
    }

    /**
     * Returns a hash code computed from the canonical ranges, consistent with {@link #equals}.
     *
     * @return the hash code
     */
    @Override
    public int hashCode() {
        return hash;
    }

    /**
     * Returns the canonical text form, for example {@code "22,80,1024-65535"}: ascending
     * ranges, single ports without a dash, separated by commas without spaces; {@code ""} for
     * the empty set. {@link #parse} reads it back to an equal set.
     *
     * @return the canonical text form
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(bounds.length * 6);
        for (int i = 0; i < bounds.length; i += 2) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(bounds[i]);
            if (bounds[i + 1] != bounds[i]) {
                sb.append('-').append(bounds[i + 1]);
            }
        }
        return sb.toString();
    }
}
