package dev.portalloc.nat;

import dev.portalloc.PortSet;

import java.util.Arrays;

/**
 * The port sets of the MAP port-mapping algorithm: which ports of a shared IPv4 address belong to
 * the CE with a given Port Set ID (PSID), and which PSID a port belongs to.
 *
 * <h2>The formula (RFC 7597 section 5.1, Figure 2, and Appendix B)</h2>
 * A 16-bit port number is read as three fields, most significant first:
 * <pre>
 *    0                   1
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
 *   +-----------+-----------+-------+
 *   |     A     |    PSID   |   j   |
 *   |    &gt; 0    |           |       |
 *   +-----------+-----------+-------+
 *   |  a bits   |  k bits   |m bits |
 * </pre>
 * so the port set of {@code psid} is
 * <pre>{@code
 *   port = ((A << k) | psid) << m | j      for every A in Amin .. 2^a - 1 and every j in 0 .. 2^m - 1
 * }</pre>
 * with {@code a + k + m = 16}. {@code a} is the PSID offset (RFC 7597's default is 6), {@code k}
 * the PSID length (2^k CEs share one address: the sharing ratio) and {@code 2^m} the number of
 * contiguous ports in each of the set's ranges. In Appendix B's notation, with {@code R = 2^k} and
 * {@code M = 2^m}, the port is {@code R·M·A + M·PSID + j} and the inverse is
 * {@code PSID = trunc((P mod (R·M)) / M)}, which is what {@link #psidOf} computes.
 *
 * <h2>Why A starts at 1 (and when it does not)</h2>
 * Figure 2 requires {@code A > 0} whenever there are offset bits ({@code a > 0}): the value
 * {@code A = 0} would select the ports below {@code 2^(16-a)}, for the default {@code a = 6}
 * exactly the System Ports 0-1023, and excluding it from <em>every</em> PSID keeps all port sets
 * the same size instead of penalising one CE. So {@code Amin = 1} if {@code a > 0}, and each set
 * holds {@code (2^a - 1) · 2^m} ports. With {@code a = 0} there is no A field (A is always 0) and
 * nothing to exclude: {@code Amin = 0}, the set of {@code psid} is the single contiguous block
 * {@code psid·2^m .. psid·2^m + 2^m - 1} of {@code 2^m} ports. The one exception is port 0, which
 * is not a usable transport port and lies outside {@link PortSet}'s domain {@code 1..65535}: for
 * {@code a = 0} the set of PSID 0 omits it and has {@code 2^m - 1} ports (with {@code k = 16} that
 * set is empty).
 *
 * <h2>Partition</h2>
 * For fixed {@code (a, k, m)} the {@code 2^k} sets are pairwise disjoint (they differ in the PSID
 * bits) and together cover every port except those with {@code A = 0} when {@code a > 0} (ports
 * {@code 1 .. 2^(16-a) - 1}) and port 0. CEs sharing one address must use the same {@code a} and
 * {@code k} for this to hold (RFC 7597 section 5.1), which is why both are parameters of every
 * call rather than being inferred.
 *
 * <h2>Example (RFC 7599 Appendix A, Example 1)</h2>
 * PSID offset {@code a = 6}, PSID length {@code k = 8}, hence {@code m = 2}, PSID {@code 0x34}:
 * 63 ranges {@code 1232-1235, 2256-2259, ..., 63696-63699, 64720-64723}, 252 ports.
 * <pre>{@code
 * PortSet ports = MapPsid.portSet(6, 8, 2, 0x34);   // 1232-1235,2256-2259,...,64720-64723
 * int psid = MapPsid.psidOf(2257, 6, 8, 2);         // 0x34
 * }</pre>
 *
 * <h2>Thread safety</h2>
 * This class has no state: its static methods are pure functions of their arguments and are
 * thread-safe. The returned {@link PortSet}s are immutable.
 */
public final class MapPsid {

    /** Returned by {@link #psidOf} for a port that belongs to no port set ({@code A = 0}, {@code a > 0}). */
    public static final int NONE = -1;

    /** Port numbers are 16-bit: a + k + m must cover exactly these bits. */
    private static final int PORT_BITS = 16;

    private MapPsid() {
    }

    /**
     * Returns the port set of {@code psid}: the ports {@code ((A << k) | psid) << m | j} for
     * {@code A} in {@code 1 .. 2^a - 1} (in {@code 0 .. 0} if {@code a = 0}) and {@code j} in
     * {@code 0 .. 2^m - 1}, without port 0. See the {@linkplain MapPsid class description}.
     *
     * @param a the PSID offset, number of bits of A, in {@code 0..16}
     * @param k the PSID length in bits, in {@code 0..16}
     * @param m the number of bits of j (each range holds {@code 2^m} ports), in {@code 0..16}
     * @param psid the Port Set ID, in {@code 0 .. 2^k - 1}
     * @return the ports of {@code psid}: {@code (2^a - 1) · 2^m} ports in {@code 2^a - 1} ranges if
     *         {@code a > 0} (fewer ranges only when adjacent ones merge, i.e. {@code k = 0}); the
     *         block of {@code 2^m} ports (minus port 0 for PSID 0) if {@code a = 0}
     * @throws IllegalArgumentException if a bit count is out of range, {@code a + k + m != 16}, or
     *         {@code psid} does not fit in {@code k} bits
     */
    public static PortSet portSet(int a, int k, int m, int psid) {
        checkBits(a, k, m);
        checkPsid(psid, k);
        int firstA = a > 0 ? 1 : 0;             // Figure 2: A > 0 when there is an A field
        int rangeLength = 1 << m;
        int[] ports = new int[((1 << a) - firstA) << m];
        int n = 0;
        for (int bigA = firstA; bigA < 1 << a; bigA++) {
            int base = ((bigA << k) | psid) << m;   // < 2^16: A has a bits, PSID k bits, shift m
            for (int j = 0; j < rangeLength; j++) {
                ports[n++] = base | j;
            }
        }
        if (firstA == 0 && psid == 0) {
            // a = 0, PSID 0: the formula's first port is 0, which is not a port PortSet (or a
            // transport protocol) can use. Ports are generated in ascending order, so it is ports[0].
            return PortSet.of(Arrays.copyOfRange(ports, 1, n));
        }
        return PortSet.of(ports);
    }

    /**
     * Returns the Port Set ID whose {@linkplain #portSet port set} contains {@code port}: the k
     * PSID bits of the port, {@code trunc((port mod 2^(k+m)) / 2^m)} (RFC 7597 Appendix B), or
     * {@link #NONE} if {@code a > 0} and the port's A field is 0 (a port below {@code 2^(16-a)},
     * which no CE may use). For every port {@code p} in {@code 1..65535} and every PSID {@code s},
     * {@code psidOf(p, a, k, m) == s} exactly when {@code portSet(a, k, m, s).contains(p)}.
     *
     * @param port the port, in {@code 1..65535}
     * @param a the PSID offset, in {@code 0..16}
     * @param k the PSID length, in {@code 0..16}
     * @param m the number of bits of j, in {@code 0..16}
     * @return the PSID, in {@code 0 .. 2^k - 1}, or {@link #NONE}
     * @throws IllegalArgumentException if {@code port} is outside {@code 1..65535}, a bit count is
     *         out of range, or {@code a + k + m != 16}
     */
    public static int psidOf(int port, int a, int k, int m) {
        checkBits(a, k, m);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is out of range 1..65535");
        }
        if (a > 0 && port >>> (PORT_BITS - a) == 0) {
            return NONE;
        }
        return (port >>> m) & ((1 << k) - 1);
    }

    /** Validates a, k and m: each in 0..16 and a + k + m = 16 (the bits of a port number). */
    private static void checkBits(int a, int k, int m) {
        checkBitCount("PSID offset a", a);
        checkBitCount("PSID length k", k);
        checkBitCount("port range bits m", m);
        if (a + k + m != PORT_BITS) {
            throw new IllegalArgumentException("a + k + m = " + a + " + " + k + " + " + m + " = " + (a + k + m)
                    + ", but the three fields must split the 16 bits of a port exactly (a + k + m = 16)");
        }
    }

    private static void checkBitCount(String name, int bits) {
        if (bits < 0 || bits > PORT_BITS) {
            throw new IllegalArgumentException(name + " = " + bits + " is out of range 0..16");
        }
    }

    private static void checkPsid(int psid, int k) {
        if (psid < 0 || psid >= 1 << k) {
            throw new IllegalArgumentException("PSID " + psid + " does not fit in k = " + k
                    + " bits; allowed 0.." + ((1 << k) - 1));
        }
    }
}
