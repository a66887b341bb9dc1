package dev.portalloc;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Objects;

/**
 * The remote end of a connection: an exact IPv4 or IPv6 address and a port {@code 1..65535}; with
 * a {@link Protocol}, a local address and a local port it makes the 5-tuple of {@code connect()}.
 *
 * <pre>{@code
 * Destination a = Destination.parse("203.0.113.7:443");
 * Destination b = Destination.parse("[2001:db8::1]:443");
 * Destination c = Destination.ipv4(0xCB007107, 443);        // equals a
 * Destination d = Destination.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 8080));
 * }</pre>
 *
 * <h2>Text form</h2>
 * {@link #parse} reads and {@link #toString} writes {@code a.b.c.d:port} for IPv4 and
 * {@code [IPv6]:port} for IPv6 (brackets required, as in URIs, RFC 3986). Addresses must be numeric
 * literals: {@code parse} never does a DNS lookup and rejects host names. IPv4 is strict
 * dotted-quad (four decimal numbers {@code 0..255}; leading zeros are rejected because
 * {@code inet_aton} reads {@code 010} as octal 8). IPv6 is the RFC 4291 section 2.2 text form,
 * including {@code ::} and a trailing dotted-quad ({@code ::ffff:192.0.2.1}); zone IDs
 * ({@code %eth0}) are rejected. {@code toString} writes IPv6 in the RFC 5952 canonical form
 * (lower case, no leading zeros, the longest run of two or more zero groups as {@code ::}), so
 * {@code parse(d.toString()).equals(d)} for every destination {@code d}.
 *
 * <h2>IPv4-mapped IPv6 addresses</h2>
 * An IPv4-mapped IPv6 address {@code ::ffff:a.b.c.d} (RFC 4291 section 2.5.5.2) <em>is</em> the
 * IPv4 destination {@code a.b.c.d}: a dual-stack socket that connects to it sends IPv4 packets to
 * {@code a.b.c.d}, so it competes for the same 5-tuples. Every factory therefore turns it into that
 * IPv4 destination: {@code parse("[::ffff:203.0.113.7]:443")} equals
 * {@code parse("203.0.113.7:443")}, reports {@link #isIpv4()} true and prints as
 * {@code 203.0.113.7:443}. This is also what {@link InetAddress} itself does (its factories return
 * an {@link Inet4Address} for a mapped address); the only visible difference from the input is for
 * a mapped {@link Inet6Address} built with {@link Inet6Address#getByAddress(String, byte[], int)},
 * for which {@link #address()} returns the equivalent {@code Inet4Address}. Other IPv6 forms that
 * embed IPv4 addresses (the deprecated IPv4-compatible {@code ::a.b.c.d}, NAT64
 * {@code 64:ff9b::a.b.c.d}) are different addresses on the wire and stay IPv6.
 *
 * <h2>Representation</h2>
 * A destination holds the 128-bit address as two big-endian {@code long} halves and the port as an
 * {@code int} (32 bytes with compressed references), never an {@link InetAddress}; an IPv4 address
 * is held as its IPv4-mapped IPv6 form, which is unambiguous because mapped addresses are always
 * IPv4 destinations (above). The allocator reads the address without allocating through
 * {@link #ipv4Address()}, {@link #ipv4Key()}, {@link #ipv6High()} and {@link #ipv6Low()};
 * {@link #address()} and {@link #toSocketAddress()} build a new object on each call.
 *
 * <h2>Thread safety</h2>
 * Instances are immutable (all fields final) and thread-safe; they may be shared between threads
 * without synchronisation. All methods are thread-safe.
 */
public final class Destination {

    private static final int MIN_PORT = 1;
    private static final int MAX_PORT = 65535;
    private static final String PORT_RANGE = MIN_PORT + ".." + MAX_PORT;

    /** The upper 32 bits of the low half of an IPv4-mapped address, {@code ::ffff:0:0/96}. */
    private static final long MAPPED_PREFIX = 0xFFFFL;

    /** Appended to every parse error so that the message says what would have been accepted. */
    private static final String FORM = "; expected \"a.b.c.d:port\" or \"[IPv6]:port\" with a numeric address"
            + " (no host names: parse does no DNS lookups) and a port in " + PORT_RANGE;

    /** Address bits 127..64, big-endian; 0 for IPv4. */
    private final long hi;
    /** Address bits 63..0, big-endian; {@code 0x0000_ffff_xxxx_xxxx} (IPv4-mapped) for IPv4. */
    private final long lo;
    /** The remote port, 1..65535. */
    private final int port;

    /** Takes an already-validated port; an IPv4-mapped address stands for IPv4. */
    private Destination(long hi, long lo, int port) {
        this.hi = hi;
        this.lo = lo;
        this.port = port;
    }

    // ------------------------------------------------------------------------------------------
    // Factories

    /**
     * Returns the destination of a resolved socket address. No DNS lookup is made.
     *
     * @param address a resolved socket address with a port in {@code 1..65535}
     * @return the destination; IPv4 for an IPv4-mapped IPv6 address (see the
     *         {@linkplain Destination class description})
     * @throws IllegalArgumentException if {@code address} is unresolved, has port 0, or is an
     *         IPv6 address with a scope (zone) ID
     * @throws NullPointerException if {@code address} is null
     */
    public static Destination of(InetSocketAddress address) {
        Objects.requireNonNull(address, "address");
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("unresolved socket address " + address + ": a Destination needs a"
                    + " numeric address and does no DNS lookups; resolve the host name first");
        }
        return of(address.getAddress(), address.getPort());
    }

    /**
     * Returns the destination {@code address:port}. No DNS lookup is made (the address is used as
     * it is; its host name, if any, is ignored).
     *
     * @param address an IPv4 or IPv6 address without a scope (zone) ID
     * @param port the remote port, {@code 1..65535}
     * @return the destination; IPv4 for an IPv4-mapped IPv6 address (see the
     *         {@linkplain Destination class description})
     * @throws IllegalArgumentException if {@code port} is outside {@code 1..65535} or
     *         {@code address} is an IPv6 address with a scope (zone) ID
     * @throws NullPointerException if {@code address} is null
     */
    public static Destination of(InetAddress address, int port) {
        Objects.requireNonNull(address, "address");
        checkPort(port);
        byte[] b = address.getAddress();
        if (address instanceof Inet4Address) {
            return ipv4(bigEndianInt(b, 0), port);
        }
        Inet6Address v6 = (Inet6Address) address;
        if (v6.getScopeId() != 0 || v6.getScopedInterface() != null) {
            throw new IllegalArgumentException("IPv6 address " + address.getHostAddress() + " has a scope (zone) ID:"
                    + " scoped destinations are not supported; use an address without '%zone'");
        }
        return ipv6(bigEndianLong(b, 0), bigEndianLong(b, 8), port);
    }

    /**
     * Returns the IPv4 destination {@code address:port}.
     *
     * @param address the IPv4 address as a 32-bit big-endian int: {@code 0xCB007107} is
     *        {@code 203.0.113.7}; every int is a valid address
     * @param port the remote port, {@code 1..65535}
     * @return the destination
     * @throws IllegalArgumentException if {@code port} is outside {@code 1..65535}
     */
    public static Destination ipv4(int address, int port) {
        checkPort(port);
        return new Destination(0L, (MAPPED_PREFIX << 32) | Integer.toUnsignedLong(address), port);
    }

    /**
     * Returns the IPv6 destination whose 128-bit address is {@code high} followed by {@code low},
     * the inverse of {@link #ipv6High()} and {@link #ipv6Low()}. An IPv4-mapped address
     * ({@code high == 0}, {@code low >>> 32 == 0xffff}) gives the IPv4 destination.
     *
     * @param high address bits 127..64, big-endian: {@code 0x20010db800000000L} for
     *        {@code 2001:db8::/64}
     * @param low address bits 63..0, big-endian
     * @param port the remote port, {@code 1..65535}
     * @return the destination
     * @throws IllegalArgumentException if {@code port} is outside {@code 1..65535}
     */
    public static Destination ipv6(long high, long low, int port) {
        checkPort(port);
        return new Destination(high, low, port);
    }

    /**
     * Parses {@code a.b.c.d:port} or {@code [IPv6]:port} (see the
     * {@linkplain Destination class description}): for example {@code "203.0.113.7:443"} or
     * {@code "[2001:db8::1]:443"}. Only numeric addresses are accepted; no DNS lookup is ever
     * made. Whitespace is not allowed anywhere.
     *
     * @param text the text to parse
     * @return the destination; IPv4 for an IPv4-mapped IPv6 address
     * @throws IllegalArgumentException if {@code text} is null or malformed (a host name, a missing
     *         or out-of-range port, unbracketed IPv6, bad brackets, a zone ID, ...); the message
     *         quotes {@code text} and names the accepted form
     */
    public static Destination parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("destination text is null" + FORM);
        }
        if (text.isEmpty()) {
            throw bad("empty destination", text);
        }
        String host;
        String portText;
        if (text.charAt(0) == '[') {
            int close = text.indexOf(']');
            if (close < 0) {
                throw bad("missing ']' after the IPv6 address", text);
            }
            host = text.substring(1, close);
            if (close + 1 == text.length()) {
                throw bad("missing port (\":port\" after ']')", text);
            }
            if (text.charAt(close + 1) != ':') {
                throw bad("expected ':' after ']'", text);
            }
            portText = text.substring(close + 2);
        } else {
            if (text.indexOf('[') >= 0 || text.indexOf(']') >= 0) {
                throw bad("misplaced bracket (only an IPv6 address is bracketed, as in \"[2001:db8::1]:443\")", text);
            }
            int colon = text.indexOf(':');
            if (colon < 0) {
                throw bad("missing port", text);
            }
            if (colon != text.lastIndexOf(':')) {
                throw bad("more than one ':' (an IPv6 address must be in brackets, as in \"[2001:db8::1]:443\")", text);
            }
            host = text.substring(0, colon);
            portText = text.substring(colon + 1);
        }
        if (portText.isEmpty()) {
            throw bad("missing port", text);
        }
        int port = decimal(portText, 0, portText.length(), MAX_PORT + 1);
        if (port < 0) {
            throw bad("port " + ErrorText.quote(portText) + " is not a decimal number", text);
        }
        if (port < MIN_PORT || port > MAX_PORT) {
            throw bad("port " + ErrorText.quote(portText) + " is out of range " + PORT_RANGE, text);
        }
        if (text.charAt(0) == '[') {
            return parseIpv6(host, port, text);
        }
        if (host.isEmpty()) {
            throw bad("missing address", text);
        }
        long v4 = ipv4Literal(host, 0, host.length());
        if (v4 < 0) {
            throw bad(ErrorText.quote(host) + " is not an IPv4 address (four decimal numbers 0..255 without leading zeros)"
                    + hostNameHint(host), text);
        }
        return ipv4((int) v4, port);
    }

    private static Destination parseIpv6(String host, int port, String text) {
        if (host.isEmpty()) {
            throw bad("empty IPv6 address in brackets", text);
        }
        if (host.indexOf('%') >= 0) {
            throw bad("IPv6 zone IDs (\"%zone\") are not supported", text);
        }
        if (host.indexOf(':') < 0 && ipv4Literal(host, 0, host.length()) >= 0) {
            throw bad("brackets are only for IPv6; write an IPv4 address without them, as in \"203.0.113.7:443\"", text);
        }
        int[] groups = new int[8];
        int n = ipv6Groups(host, groups);
        if (n < 0) {
            throw bad(ErrorText.quote(host) + " is not an IPv6 address (RFC 4291 text form, such as 2001:db8::1)"
                    + hostNameHint(host), text);
        }
        long high = 0;
        long low = 0;
        for (int i = 0; i < 4; i++) {
            high = (high << 16) | groups[i];
            low = (low << 16) | groups[i + 4];
        }
        return ipv6(high, low, port);
    }

    /**
     * Parses IPv6 text into 8 groups; returns 8, or -1 if it is not an RFC 4291 section 2.2
     * address: 1 to 4 hex digits per group, at most one {@code ::} standing for one or more zero
     * groups, optionally a dotted-quad IPv4 address as the last 32 bits.
     */
    private static int ipv6Groups(String s, int[] groups) {
        int len = s.length();
        int n = 0;
        int gap = -1;          // index in groups where "::" was, or -1
        int i = 0;
        if (s.startsWith("::")) {
            gap = 0;
            i = 2;
        } else if (s.charAt(0) == ':') {
            return -1;
        }
        while (i < len) {
            int end = i;
            boolean dotted = false;
            while (end < len && s.charAt(end) != ':') {
                dotted |= s.charAt(end) == '.';
                end++;
            }
            if (dotted) {
                long v4 = ipv4Literal(s, i, end);
                if (end != len || n > 6 || v4 < 0) {
                    return -1;   // IPv4 only as the last 32 bits
                }
                groups[n++] = (int) (v4 >>> 16);
                groups[n++] = (int) (v4 & 0xFFFF);
            } else {
                int group = hex(s, i, end);
                if (group < 0 || n == 8) {
                    return -1;
                }
                groups[n++] = group;
            }
            if (end == len) {
                break;
            }
            if (end + 1 < len && s.charAt(end + 1) == ':') {
                if (gap >= 0) {
                    return -1;   // a second "::"
                }
                gap = n;
                i = end + 2;
            } else {
                i = end + 1;
                if (i == len) {
                    return -1;   // trailing single ':'
                }
            }
        }
        if (gap < 0) {
            return n == 8 ? 8 : -1;
        }
        if (n > 7) {
            return -1;           // "::" stands for at least one group
        }
        int tail = n - gap;
        System.arraycopy(groups, gap, groups, 8 - tail, tail);
        Arrays.fill(groups, gap, 8 - tail, 0);
        return 8;
    }

    /**
     * Parses strict dotted-quad {@code s[from, to)}: four decimal numbers 0..255, no leading zeros,
     * no signs; returns the address as an unsigned 32-bit value, or -1.
     */
    private static long ipv4Literal(String s, int from, int to) {
        long address = 0;
        int start = from;
        for (int part = 0; part < 4; part++) {
            int end = start;
            while (end < to && s.charAt(end) != '.') {
                end++;
            }
            if ((part < 3) == (end == to)) {
                return -1;       // too few or too many parts
            }
            int value = decimal(s, start, end, 256);
            if (value < 0 || value > 255 || (end - start > 1 && s.charAt(start) == '0')) {
                return -1;
            }
            address = (address << 8) | value;
            start = end + 1;
        }
        return address;
    }

    /** Parses 1 to 4 hex digits {@code s[from, to)}; returns the value or -1. */
    private static int hex(String s, int from, int to) {
        if (to == from || to - from > 4) {
            return -1;
        }
        int value = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            int digit;
            if (c >= '0' && c <= '9') {
                digit = c - '0';
            } else if (c >= 'a' && c <= 'f') {
                digit = c - 'a' + 10;
            } else if (c >= 'A' && c <= 'F') {
                digit = c - 'A' + 10;
            } else {
                return -1;
            }
            value = (value << 4) | digit;
        }
        return value;
    }

    /**
     * Parses a non-empty run of ASCII digits {@code s[from, to)}, saturating at {@code cap} so that
     * long digit strings cannot overflow into a valid value; returns -1 if it is not such a run
     * (this rejects signs and non-ASCII digits, which Integer.parseInt accepts).
     */
    private static int decimal(String s, int from, int to, int cap) {
        if (to == from) {
            return -1;
        }
        int value = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = Math.min(value * 10 + (c - '0'), cap);
        }
        return value;
    }

    /** Adds a hint to a bad-address message when the text looks like a host name. */
    private static String hostNameHint(String host) {
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if ((c >= 'g' && c <= 'z') || (c >= 'G' && c <= 'Z') || c == '-' || c == '_') {
                return "; host names are not resolved";
            }
        }
        return "";
    }

    private static IllegalArgumentException bad(String problem, String text) {
        return new IllegalArgumentException(problem + " in " + ErrorText.quote(text) + FORM);
    }

    private static void checkPort(int port) {
        if (port < MIN_PORT || port > MAX_PORT) {
            throw new IllegalArgumentException("port " + port + " is out of range " + PORT_RANGE);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Accessors

    /**
     * Returns the address as a new {@link InetAddress} on each call (no DNS lookup; the result
     * has no host name): an {@link Inet4Address} for IPv4, an {@link Inet6Address} without scope
     * for IPv6. It equals the address this destination was made from, except that a mapped
     * {@code Inet6Address} comes back as the equal-on-the-wire {@code Inet4Address}.
     *
     * @return the remote address
     */
    public InetAddress address() {
        byte[] b;
        if (isIpv4()) {
            b = new byte[4];
            putBigEndian(b, 0, (int) lo);
        } else {
            b = new byte[16];
            putBigEndian(b, 0, (int) (hi >>> 32));
            putBigEndian(b, 4, (int) hi);
            putBigEndian(b, 8, (int) (lo >>> 32));
            putBigEndian(b, 12, (int) lo);
        }
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError("4 or 16 address bytes are always valid", e);
        }
    }

    /**
     * Returns the remote port. Thread-safe, allocation-free.
     *
     * @return the port, {@code 1..65535}
     */
    public int port() {
        return port;
    }

    /**
     * Tells whether the address is IPv4 (including one given in IPv4-mapped IPv6 form).
     * Thread-safe, allocation-free.
     *
     * @return true for IPv4, false for IPv6
     */
    public boolean isIpv4() {
        return hi == 0 && (lo >>> 32) == MAPPED_PREFIX;
    }

    /**
     * Returns a new resolved {@link InetSocketAddress} for {@link #address()} and {@link #port()},
     * for example to pass to {@code connect()}. No DNS lookup is made.
     *
     * @return the socket address
     */
    public InetSocketAddress toSocketAddress() {
        return new InetSocketAddress(address(), port);
    }

    /**
     * Returns the IPv4 address as a 32-bit big-endian int ({@code 203.0.113.7} is
     * {@code 0xCB007107}), the inverse of {@link #ipv4(int, int)}. Thread-safe, allocation-free.
     *
     * @return the IPv4 address bits
     * @throws IllegalStateException if this is an IPv6 destination
     */
    public int ipv4Address() {
        checkIpv4("ipv4Address()");
        return (int) lo;
    }

    /**
     * Returns the 48-bit key {@code (address << 16) | port} of an IPv4 destination, with the
     * address unsigned: {@code 203.0.113.7:443} gives {@code 0xCB007107_01BBL}. Distinct IPv4
     * destinations have distinct keys, and the top 16 bits are zero, leaving room for a 16-bit
     * local port: {@code (ipv4Key() << 16) | localPort} identifies a (remote address, remote port,
     * local port) triple exactly. Thread-safe, allocation-free.
     *
     * @return the key, in {@code 0 .. 2^48 - 1}
     * @throws IllegalStateException if this is an IPv6 destination
     */
    public long ipv4Key() {
        checkIpv4("ipv4Key()");
        return ((lo & 0xFFFF_FFFFL) << 16) | port;
    }

    /**
     * Returns address bits 127..64 (the first 8 bytes, big-endian): {@code 0x20010db800000000L}
     * for {@code 2001:db8::1}. For an IPv4 destination this is the high half of its IPv4-mapped
     * form {@code ::ffff:a.b.c.d}, which is 0. Thread-safe, allocation-free.
     *
     * @return the high half of the 128-bit address
     */
    public long ipv6High() {
        return hi;
    }

    /**
     * Returns address bits 63..0 (the last 8 bytes, big-endian): {@code 1L} for
     * {@code 2001:db8::1}. For an IPv4 destination this is the low half of its IPv4-mapped form
     * {@code ::ffff:a.b.c.d}, {@code 0x0000ffff00000000L | (ipv4Address() & 0xffffffffL)},
     * {@code 0x0000ffffcb007107L} for {@code 203.0.113.7}. Thread-safe, allocation-free.
     *
     * @return the low half of the 128-bit address
     */
    public long ipv6Low() {
        return lo;
    }

    private void checkIpv4(String method) {
        if (!isIpv4()) {
            throw new IllegalStateException(method + " of IPv6 destination " + this + "; check isIpv4() first");
        }
    }

    // ------------------------------------------------------------------------------------------
    // Object

    /**
     * Two destinations are equal when they have the same address and port, however they were
     * made; an IPv4 destination equals the one made from its IPv4-mapped IPv6 form.
     *
     * @param o the object to compare with
     * @return true if {@code o} is a Destination with the same address and port
     */
    @Override
    public boolean equals(Object o) {
        if (o == this) {
            return true;
        }
        if (!(o instanceof Destination)) {
            return false;
        }
        Destination d = (Destination) o;
        return hi == d.hi && lo == d.lo && port == d.port;
    }

    /**
     * Returns a hash code consistent with {@link #equals}. It is not keyed and is predictable from
     * the address; use it for hash tables, never for choosing ports.
     *
     * @return the hash code
     */
    @Override
    public int hashCode() {
        return 31 * (31 * Long.hashCode(hi) + Long.hashCode(lo)) + port;
    }

    /**
     * Returns {@code a.b.c.d:port} for IPv4, {@code [IPv6]:port} with the address in RFC 5952
     * canonical form for IPv6 (for example {@code [2001:db8::1]:443}); {@link #parse} reads it
     * back to an equal destination.
     *
     * @return the text form
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(48);
        if (isIpv4()) {
            int a = (int) lo;
            sb.append(a >>> 24).append('.').append((a >>> 16) & 0xFF).append('.')
                    .append((a >>> 8) & 0xFF).append('.').append(a & 0xFF);
        } else {
            appendIpv6(sb.append('['), hi, lo).append(']');
        }
        return sb.append(':').append(port).toString();
    }

    /** Appends the RFC 5952 section 4 canonical text of a 128-bit address. */
    private static StringBuilder appendIpv6(StringBuilder sb, long hi, long lo) {
        // Longest run of zero groups, the first one on a tie; a single zero group is not shortened.
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; ) {
            if (group(hi, lo, i) != 0) {
                i++;
                continue;
            }
            int start = i;
            while (i < 8 && group(hi, lo, i) == 0) {
                i++;
            }
            if (i - start > bestLength) {
                bestStart = start;
                bestLength = i - start;
            }
        }
        for (int i = 0; i < 8; ) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLength;
                continue;
            }
            if (i > 0 && i != bestStart + bestLength) {
                sb.append(':');
            }
            sb.append(Integer.toHexString(group(hi, lo, i)));
            i++;
        }
        return sb;
    }

    /** The {@code i}-th 16-bit group (0 = most significant) of the address {@code hi, lo}. */
    private static int group(long hi, long lo, int i) {
        long half = i < 4 ? hi : lo;
        return (int) (half >>> (48 - 16 * (i & 3))) & 0xFFFF;
    }

    private static int bigEndianInt(byte[] b, int at) {
        return (b[at] & 0xFF) << 24 | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xFF);
    }

    private static long bigEndianLong(byte[] b, int at) {
        return (long) bigEndianInt(b, at) << 32 | Integer.toUnsignedLong(bigEndianInt(b, at + 4));
    }

    private static void putBigEndian(byte[] b, int at, int value) {
        b[at] = (byte) (value >>> 24);
        b[at + 1] = (byte) (value >>> 16);
        b[at + 2] = (byte) (value >>> 8);
        b[at + 3] = (byte) value;
    }

}
