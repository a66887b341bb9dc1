package dev.portalloc.nat;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * An immutable ordered list of distinct IPv4 addresses with O(1) or O(log n) position lookup:
 * either a contiguous range (first address + count, also from CIDR notation), stored as two
 * numbers whatever its size (a /10 of subscribers is 4 Mi addresses), or an explicit list.
 *
 * <p>Addresses are handled as unsigned 32-bit values in an {@code int}. Parsing and formatting
 * are done here rather than with {@link InetAddress#getByName}, which may resolve host names.
 *
 * <p>Immutable and thread-safe: all fields are final and the arrays are never exposed.
 */
final class Ipv4List {

    private static final long ADDRESS_SPACE = 1L << 32;

    /** First address of a range (unused for an explicit list). */
    private final int first;
    /** Number of addresses, 1..2^32. */
    private final long count;
    /** The explicit list in order, or null for a range. */
    private final int[] list;
    /**
     * For an explicit list: {@code (address ^ 0x80000000) << 32 | position}, sorted; flipping the sign
     * bit makes signed order equal unsigned address order, so a binary search finds positions.
     */
    private final long[] sorted;

    private Ipv4List(int first, long count, int[] list, long[] sorted) {
        this.first = first;
        this.count = count;
        this.list = list;
        this.sorted = sorted;
    }

    /**
     * The contiguous range of {@code count} addresses starting at {@code first}.
     *
     * @param role what the addresses are, for error messages ("inside", "outside")
     */
    static Ipv4List range(String role, Inet4Address first, long count) {
        Objects.requireNonNull(first, role + " first address");
        int start = toInt(first);
        long room = ADDRESS_SPACE - Integer.toUnsignedLong(start);
        if (count < 1 || count > room) {
            throw new IllegalArgumentException(role + " range of " + count + " addresses from " + format(start)
                    + " is invalid: the count must be in 1.." + room + " (the range may not pass 255.255.255.255)");
        }
        return new Ipv4List(start, count, null, null);
    }

    /**
     * The addresses of a CIDR prefix such as {@code "100.64.0.0/10"}, network and broadcast
     * addresses included; a bare address {@code "192.0.2.1"} is the prefix {@code /32}.
     *
     * @param role what the addresses are, for error messages ("inside", "outside")
     */
    static Ipv4List cidr(String role, String cidr) {
        if (cidr == null) {
            throw new IllegalArgumentException(role + " prefix is null; expected CIDR notation such as \"100.64.0.0/10\"");
        }
        String text = cidr.trim();
        int slash = text.indexOf('/');
        String addressText = slash < 0 ? text : text.substring(0, slash);
        int length = 32;
        if (slash >= 0) {
            length = decimal(text.substring(slash + 1), 2);
            if (length < 0 || length > 32) {
                throw new IllegalArgumentException(role + " prefix \"" + cidr + "\": the prefix length must be a number in 0..32");
            }
        }
        int address = parse(addressText, role + " prefix \"" + cidr + "\"");
        int mask = length == 0 ? 0 : -1 << (32 - length);
        if ((address & ~mask) != 0) {
            throw new IllegalArgumentException(role + " prefix \"" + cidr + "\" has host bits set; the network is "
                    + format(address & mask) + "/" + length);
        }
        return new Ipv4List(address, 1L << (32 - length), null, null);
    }

    /**
     * The given addresses, in this order.
     *
     * @param role what the addresses are, for error messages ("inside", "outside")
     */
    static Ipv4List of(String role, List<Inet4Address> addresses) {
        Objects.requireNonNull(addresses, role + " addresses");
        if (addresses.isEmpty()) {
            throw new IllegalArgumentException(role + " address list is empty; at least one address is needed");
        }
        int n = addresses.size();
        int[] list = new int[n];
        long[] sorted = new long[n];
        for (int i = 0; i < n; i++) {
            Inet4Address address = addresses.get(i);
            if (address == null) {
                throw new IllegalArgumentException(role + " address #" + i + " is null");
            }
            list[i] = toInt(address);
            sorted[i] = (long) (list[i] ^ Integer.MIN_VALUE) << 32 | i;
        }
        Arrays.sort(sorted);
        for (int i = 1; i < n; i++) {
            if (sorted[i] >>> 32 == sorted[i - 1] >>> 32) {
                throw new IllegalArgumentException(role + " address " + format(list[(int) sorted[i]])
                        + " appears twice (positions " + (int) sorted[i - 1] + " and " + (int) sorted[i]
                        + "); every address may be listed once");
            }
        }
        return new Ipv4List(0, n, list, sorted);
    }

    /** Number of addresses. */
    long size() {
        return count;
    }

    /** The address at {@code index}, in {@code 0..size()-1} (not checked). */
    int get(long index) {
        return list == null ? first + (int) index : list[(int) index];
    }

    /** The position of {@code address}, or -1 if it is not in the list. */
    long indexOf(int address) {
        if (list == null) {
            long offset = Integer.toUnsignedLong(address) - Integer.toUnsignedLong(first);
            return offset >= 0 && offset < count ? offset : -1;
        }
        long key = address ^ Integer.MIN_VALUE;
        int lo = 0;
        int hi = sorted.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            long k = sorted[mid] >> 32;
            if (k < key) {
                lo = mid + 1;
            } else if (k > key) {
                hi = mid - 1;
            } else {
                return (int) sorted[mid];
            }
        }
        return -1;
    }

    /** Short description for messages: "100.64.0.0..100.127.255.255" or "[a, b, c]". */
    String describe() {
        if (list == null) {
            return format(first) + ".." + format(first + (int) (count - 1));
        }
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < list.length; i++) {
            if (i == 8 && list.length > 10) {
                sb.append(", ... ").append(list.length - 9).append(" more, ").append(format(list[list.length - 1]));
                break;
            }
            sb.append(i == 0 ? "" : ", ").append(format(list[i]));
        }
        return sb.append(']').toString();
    }

    // ------------------------------------------------------------------------------------------
    // Conversions

    static int toInt(Inet4Address address) {
        byte[] b = address.getAddress();
        return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
    }

    static Inet4Address toAddress(int address) {
        byte[] b = {(byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address};
        try {
            // A 4-byte array always yields an Inet4Address, and getByAddress never looks anything up.
            return (Inet4Address) InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError("4-byte address rejected", e);
        }
    }

    static String format(int address) {
        return (address >>> 24) + "." + (address >>> 16 & 0xff) + "." + (address >>> 8 & 0xff) + "." + (address & 0xff);
    }

    /** Parses a dotted quad "a.b.c.d" of decimal numbers 0..255 (no signs, no host names). */
    static int parse(String text, String context) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException(context + ": \"" + text + "\" is not a dotted-quad IPv4 address a.b.c.d");
        }
        int address = 0;
        for (String part : parts) {
            int octet = decimal(part, 3);
            if (octet < 0 || octet > 255) {
                throw new IllegalArgumentException(context + ": \"" + text
                        + "\" is not a dotted-quad IPv4 address (each part must be a number in 0..255)");
            }
            address = address << 8 | octet;
        }
        return address;
    }

    /** A string of 1..maxDigits ASCII digits as a number, or -1. */
    private static int decimal(String s, int maxDigits) {
        if (s.isEmpty() || s.length() > maxDigits) {
            return -1;
        }
        int value = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }
}
