package dev.portalloc;

/**
 * An IP protocol number ({@code 0..255}, the IPv4 "Protocol" / IPv6 "Next Header" field, from the
 * IANA "Assigned Internet Protocol Numbers" registry), with named constants for the transport
 * protocols that have ports.
 *
 * <p>The protocol is the first element of the 5-tuple (protocol, local address, local port, remote
 * address, remote port) that identifies a connection: port spaces are per protocol, so TCP port 80
 * and UDP port 80 never conflict and one {@link PortAllocator} serves one (protocol, local
 * address). For the same reason the protocol belongs in the input of the keyed hash of RFC 6056
 * sections 3.3.3 and 3.3.4 (connect()-style, per-destination selection), next to the local
 * address, remote address and remote port that RFC 6056's {@code F()} lists: it keeps the offsets
 * that different protocols derive for one destination independent of each other.
 *
 * <p>This is a class rather than an enum because it must represent every protocol number, not only
 * the named ones. Instances are canonical: {@link #of(int)} returns the same instance for the same
 * number (so {@code Protocol.of(6) == Protocol.TCP}), and {@link #equals}, which compares numbers,
 * agrees with {@code ==}.
 *
 * <h2>Thread safety</h2>
 * Instances are immutable and thread-safe; {@link #of(int)} and every accessor are allocation-free
 * and may be called from any thread.
 */
public final class Protocol {

    private static final int MIN_NUMBER = 0;
    private static final int MAX_NUMBER = 255;

    /** All 256 instances, indexed by number; filled by the constants below, then the static block. */
    private static final Protocol[] BY_NUMBER = new Protocol[MAX_NUMBER + 1];

    /** Transmission Control Protocol, number 6 (RFC 9293). */
    public static final Protocol TCP = named(6, "TCP");
    /** User Datagram Protocol, number 17 (RFC 768). */
    public static final Protocol UDP = named(17, "UDP");
    /** Datagram Congestion Control Protocol, number 33 (RFC 4340). */
    public static final Protocol DCCP = named(33, "DCCP");
    /** Stream Control Transmission Protocol, number 132 (RFC 9260). */
    public static final Protocol SCTP = named(132, "SCTP");
    /** UDP-Lite, number 136 (RFC 3828; IANA keyword "UDPLite"). */
    public static final Protocol UDPLITE = named(136, "UDPLITE");

    static {
        for (int number = MIN_NUMBER; number <= MAX_NUMBER; number++) {
            if (BY_NUMBER[number] == null) {
                BY_NUMBER[number] = new Protocol(number, "protocol " + number);
            }
        }
    }

    private final int number;
    private final String name;

    private Protocol(int number, String name) {
        this.number = number;
        this.name = name;
    }

    private static Protocol named(int number, String name) {
        Protocol p = new Protocol(number, name);
        BY_NUMBER[number] = p;
        return p;
    }

    /**
     * Returns the protocol with the given IANA number: the named constant for 6, 17, 33, 132 and
     * 136, a shared unnamed instance otherwise. Thread-safe and allocation-free.
     *
     * @param number the IP protocol number, {@code 0..255}
     * @return the canonical instance for {@code number}
     * @throws IllegalArgumentException if {@code number} is outside {@code 0..255}
     */
    public static Protocol of(int number) {
        if (number < MIN_NUMBER || number > MAX_NUMBER) {
            throw new IllegalArgumentException("protocol number " + number + " is out of range "
                    + MIN_NUMBER + ".." + MAX_NUMBER);
        }
        return BY_NUMBER[number];
    }

    /**
     * Returns the IANA protocol number. Thread-safe.
     *
     * @return the number, {@code 0..255}
     */
    public int number() {
        return number;
    }

    /**
     * Returns the name: the constant's name ({@code "TCP"}, {@code "UDP"}, {@code "DCCP"},
     * {@code "SCTP"}, {@code "UDPLITE"}) for the named protocols, {@code "protocol N"} (for example
     * {@code "protocol 47"}) for every other number. Thread-safe and allocation-free.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * Two protocols are equal when their numbers are equal; since instances are canonical this is
     * the same as {@code ==}.
     *
     * @param o the object to compare with
     * @return true if {@code o} is a Protocol with the same number
     */
    @Override
    public boolean equals(Object o) {
        return o == this || (o instanceof Protocol && ((Protocol) o).number == number);
    }

    /**
     * Returns the protocol number, consistent with {@link #equals}.
     *
     * @return the protocol number
     */
    @Override
    public int hashCode() {
        return number;
    }

    /**
     * Returns {@link #name()}: {@code "TCP"}, or {@code "protocol 47"} for an unnamed number.
     *
     * @return the name
     */
    @Override
    public String toString() {
        return name;
    }
}
