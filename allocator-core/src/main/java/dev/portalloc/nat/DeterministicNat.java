package dev.portalloc.nat;

import dev.portalloc.PortSet;

import java.net.Inet4Address;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Deterministic CGN address and port mapping (RFC 7422, section 2): every subscriber (inside address) is
 * given a fixed external address and a fixed contiguous block of external ports, computed by a
 * formula, so that "who used external address X, port P?" is answered by the reverse formula
 * instead of by per-connection translation logs.
 *
 * <h2>Parameters</h2>
 * <ul>
 *   <li>the <b>inside</b> (subscriber) addresses, in order: a prefix such as
 *       {@code "100.64.0.0/10"} (every address of it, network and broadcast included), a first
 *       address and a count, or an explicit list;</li>
 *   <li>the <b>outside</b> pool of external IPv4 addresses, in order, given the same ways;</li>
 *   <li>the <b>first usable port</b> {@code F}: ports {@code 0 .. F-1} are excluded from every
 *       block, {@code F..65535} are shared out; default 1024, which keeps the System Ports
 *       0-1023 out of the blocks as in the RFC's example ({@code U = 65536 - F} usable ports per
 *       external address, 64512 for the default);</li>
 *   <li>the <b>subscribers per external address</b> {@code S} and the <b>ports per user</b>
 *       {@code P}, with {@code S · P <= U}. Either, both or neither may be given: given only
 *       {@code S}, {@code P = floor(U / S)}; given only {@code P}, {@code S = floor(U / P)} (as
 *       many blocks as fit); given neither, {@code S = ceil(subscribers / external addresses)}
 *       and {@code P = floor(U / S)}. The RFC's example is 16 subscribers sharing one address:
 *       {@code P = (65536 - 1024) / 16 = 4032}.</li>
 * </ul>
 *
 * <h2>The mapping and its order</h2>
 * Subscribers are numbered {@code i = 0, 1, 2, ...} in inside order. Subscriber {@code i} gets
 * <pre>{@code
 *   external address = outside[i / S]
 *   ports            = F + (i mod S)·P  ..  F + (i mod S)·P + P - 1
 * }</pre>
 * so consecutive subscribers take consecutive blocks of one external address, from the lowest
 * port up, and the next external address is used only when the previous one has {@code S}
 * subscribers: sequential assignment, "the first block goes to address 1, the second block to
 * address 2, etc." in the words of FD.io VPP's det44 documentation. It is the order that the
 * deployed RFC 7422 implementations compute (VPP det44: {@code out = in_offset / sharing_ratio},
 * {@code lo_port = 1024 + ports_per_host · (in_offset mod sharing_ratio)}; Junos deterministic
 * NAPT: port offset {@code = subscriber offset · block size}), so the traces of an abuse desk used
 * to those agree with this class. With {@code S} fixed, adding external addresses to the end of
 * the pool changes no existing subscriber's mapping. The
 * reverse is {@code i = index(external)·S + (port - F) / P}. Ports {@code F + S·P .. 65535} (when
 * {@code S·P < U}) belong to nobody; so do the blocks of an address beyond the last subscriber.
 *
 * <pre>{@code
 * // ip("a.b.c.d") stands for (Inet4Address) InetAddress.getByName("a.b.c.d") (a literal: no DNS lookup)
 * DeterministicNat nat = DeterministicNat.builder()
 *     .inside("100.64.0.0/28")          // 16 subscribers
 *     .outside("198.51.100.1/32")       // one external address
 *     .build();                         // ports 1024..65535, S = 16, P = 4032
 * nat.forward(ip("100.64.0.1"));        // 198.51.100.1, ports 5056-9087
 * nat.reverse(ip("198.51.100.1"), 9000);    // Optional[/100.64.0.1]
 * }</pre>
 *
 * <h2>Validation</h2>
 * {@link Builder#build()} rejects, with an {@link IllegalArgumentException} naming the bad value and
 * the allowed range: a first usable port outside {@code 1..65535} (port 0 is never usable); ports
 * per user or subscribers per address outside {@code 1..U}, or with {@code S·P > U}; more
 * subscribers than the pool holds ({@code subscribers > S · external addresses}); prefixes with
 * host bits set, ranges past 255.255.255.255, empty lists and duplicate addresses.
 *
 * <h2>Thread safety</h2>
 * Instances are immutable (all fields final, no arrays exposed) and thread-safe; {@link #forward}
 * and {@link #reverse} are pure O(1) computations (O(log n) lookup for an address given as an explicit list)
 * that never block. {@link Builder} is not thread-safe.
 *
 * @see MapPsid the stateless port sets of MAP (RFC 7597), which interleave instead of using
 *      contiguous blocks
 */
public final class DeterministicNat {

    /** Default first usable port: ports 0-1023 (the System Ports) are excluded, as in RFC 7422's example. */
    public static final int DEFAULT_FIRST_PORT = 1024;

    private static final int MAX_PORT = 65535;

    private final Ipv4List inside;
    private final Ipv4List outside;
    private final int firstPort;
    private final int subscribersPerAddress;
    private final int portsPerUser;

    /**
     * The external side of one subscriber: its external address and its block of ports.
     *
     * @param external the external (public) IPv4 address
     * @param ports the subscriber's contiguous port block on that address
     */
    public record Mapping(Inet4Address external, PortSet ports) {
        /**
         * Checks that both components are present.
         *
         * @param external the external address
         * @param ports the port block
         */
        public Mapping {
            Objects.requireNonNull(external, "external");
            Objects.requireNonNull(ports, "ports");
        }
    }

    private DeterministicNat(Ipv4List inside, Ipv4List outside, int firstPort, int subscribersPerAddress,
            int portsPerUser) {
        this.inside = inside;
        this.outside = outside;
        this.firstPort = firstPort;
        this.subscribersPerAddress = subscribersPerAddress;
        this.portsPerUser = portsPerUser;
    }

    /**
     * Returns a new builder.
     *
     * @return a builder with the default first usable port {@value #DEFAULT_FIRST_PORT}
     */
    public static Builder builder() {
        return new Builder();
    }

    // ------------------------------------------------------------------------------------------
    // The two formulas

    /**
     * Returns the external address and port block of a subscriber (the forward mapping).
     *
     * @param internal a subscriber's inside address
     * @return its external address and its {@link #portsPerUser()} contiguous ports
     * @throws IllegalArgumentException if {@code internal} is not one of the inside addresses
     * @throws NullPointerException if {@code internal} is null
     */
    public Mapping forward(Inet4Address internal) {
        Objects.requireNonNull(internal, "internal");
        long i = inside.indexOf(Ipv4List.toInt(internal));
        if (i < 0) {
            throw new IllegalArgumentException("internal address " + internal.getHostAddress()
                    + " is not a subscriber; the inside addresses are " + inside.describe());
        }
        int external = outside.get(i / subscribersPerAddress);
        int lo = firstPort + (int) (i % subscribersPerAddress) * portsPerUser;
        return new Mapping(Ipv4List.toAddress(external), PortSet.range(lo, lo + portsPerUser - 1));
    }

    /**
     * Returns the subscriber that uses {@code port} on {@code external} (the reverse mapping).
     *
     * @param external an external address
     * @param port a port number; any int is accepted, and non-ports belong to nobody
     * @return the subscriber's inside address, or empty if {@code external} is not in the pool,
     *         the port is in no block ({@code port < firstPort()} or beyond the last block of an
     *         address), or the block has no subscriber (past the last inside address)
     * @throws NullPointerException if {@code external} is null
     */
    public Optional<Inet4Address> reverse(Inet4Address external, int port) {
        Objects.requireNonNull(external, "external");
        long e = outside.indexOf(Ipv4List.toInt(external));
        if (e < 0 || port < firstPort || port > MAX_PORT) {
            return Optional.empty();
        }
        int block = (port - firstPort) / portsPerUser;
        if (block >= subscribersPerAddress) {
            return Optional.empty();        // the leftover ports F + S·P .. 65535
        }
        long i = e * subscribersPerAddress + block;
        return i < inside.size() ? Optional.of(Ipv4List.toAddress(inside.get(i))) : Optional.empty();
    }

    // ------------------------------------------------------------------------------------------
    // Parameters

    /**
     * Returns the number of subscribers (inside addresses).
     *
     * @return the number of inside addresses, 1..2^32
     */
    public long subscriberCount() {
        return inside.size();
    }

    /**
     * Returns the number of external addresses in the pool.
     *
     * @return the pool size
     */
    public long externalCount() {
        return outside.size();
    }

    /**
     * Returns the first usable port {@code F}: ports below it are in no block.
     *
     * @return the first port of every external address's first block, in {@code 1..65535}
     */
    public int firstPort() {
        return firstPort;
    }

    /**
     * Returns {@code S}, the number of subscribers (blocks) per external address.
     *
     * @return the number of blocks on each external address
     */
    public int subscribersPerAddress() {
        return subscribersPerAddress;
    }

    /**
     * Returns {@code P}, the size of each subscriber's port block.
     *
     * @return the number of ports per subscriber
     */
    public int portsPerUser() {
        return portsPerUser;
    }

    @Override
    public String toString() {
        return "DeterministicNat[inside " + inside.describe() + ", outside " + outside.describe() + ", ports "
                + firstPort + ".." + MAX_PORT + ", " + subscribersPerAddress + " subscribers per address, "
                + portsPerUser + " ports per user]";
    }

    // ------------------------------------------------------------------------------------------
    // Builder

    /**
     * Builds a {@link DeterministicNat}. Set the inside and outside addresses; the port
     * parameters are optional (see the {@linkplain DeterministicNat class description}). Each
     * setter replaces an earlier value of the same parameter. Not thread-safe.
     */
    public static final class Builder {
        private Ipv4List inside;
        private Ipv4List outside;
        private int firstPort = DEFAULT_FIRST_PORT;
        private int portsPerUser;           // 0 = not set
        private int subscribersPerAddress;  // 0 = not set
        private boolean portsPerUserSet;
        private boolean subscribersPerAddressSet;

        private Builder() {
        }

        /**
         * Sets the subscribers to the addresses of a CIDR prefix, in ascending order, network
         * and broadcast addresses included (use {@link #inside(Inet4Address, long)} to leave them
         * out); a bare address is a {@code /32}.
         *
         * @param cidr for example {@code "100.64.0.0/10"}
         * @return this builder
         * @throws IllegalArgumentException if {@code cidr} is malformed or has host bits set
         */
        public Builder inside(String cidr) {
            this.inside = Ipv4List.cidr("inside", cidr);
            return this;
        }

        /**
         * Sets the subscribers to {@code count} consecutive addresses from {@code first}.
         *
         * @param first the first subscriber address
         * @param count the number of subscribers, at least 1, not passing 255.255.255.255
         * @return this builder
         * @throws IllegalArgumentException if {@code count} is out of range
         */
        public Builder inside(Inet4Address first, long count) {
            this.inside = Ipv4List.range("inside", first, count);
            return this;
        }

        /**
         * Sets the subscribers to the given addresses, in this order (subscriber {@code i} is
         * element {@code i}).
         *
         * @param subscribers distinct addresses, at least one
         * @return this builder
         * @throws IllegalArgumentException if the list is empty or has a null or repeated address
         */
        public Builder inside(List<Inet4Address> subscribers) {
            this.inside = Ipv4List.of("inside", subscribers);
            return this;
        }

        /**
         * Sets the external pool to the addresses of a CIDR prefix, in ascending order, network
         * and broadcast addresses included; a bare address is a {@code /32}.
         *
         * @param cidr for example {@code "198.51.100.0/24"}
         * @return this builder
         * @throws IllegalArgumentException if {@code cidr} is malformed or has host bits set
         */
        public Builder outside(String cidr) {
            this.outside = Ipv4List.cidr("outside", cidr);
            return this;
        }

        /**
         * Sets the external pool to {@code count} consecutive addresses from {@code first}.
         *
         * @param first the first external address
         * @param count the pool size, at least 1, not passing 255.255.255.255
         * @return this builder
         * @throws IllegalArgumentException if {@code count} is out of range
         */
        public Builder outside(Inet4Address first, long count) {
            this.outside = Ipv4List.range("outside", first, count);
            return this;
        }

        /**
         * Sets the external pool to the given addresses, in this order.
         *
         * @param pool distinct addresses, at least one
         * @return this builder
         * @throws IllegalArgumentException if the list is empty or has a null or repeated address
         */
        public Builder outside(List<Inet4Address> pool) {
            this.outside = Ipv4List.of("outside", pool);
            return this;
        }

        /**
         * Sets the first usable port: ports {@code 0 .. firstPort-1} are excluded from every
         * block. Checked by {@link #build()}: must be in {@code 1..65535}.
         *
         * @param firstPort the first port of each external address's first block; default 1024
         * @return this builder
         */
        public Builder firstPort(int firstPort) {
            this.firstPort = firstPort;
            return this;
        }

        /**
         * Sets the number of ports per subscriber block. Checked by {@link #build()}: must be in
         * {@code 1 .. 65536 - firstPort}, and at most {@code U / subscribersPerAddress} if that
         * is set too.
         *
         * @param portsPerUser the block size
         * @return this builder
         */
        public Builder portsPerUser(int portsPerUser) {
            this.portsPerUser = portsPerUser;
            this.portsPerUserSet = true;
            return this;
        }

        /**
         * Sets the number of subscribers that share each external address (the number of
         * blocks per address). Checked by {@link #build()}: must be in {@code 1 .. 65536 -
         * firstPort}, and at most {@code U / portsPerUser} if that is set too.
         *
         * @param subscribers subscribers per external address
         * @return this builder
         */
        public Builder subscribersPerAddress(int subscribers) {
            this.subscribersPerAddress = subscribers;
            this.subscribersPerAddressSet = true;
            return this;
        }

        /**
         * Validates the parameters and builds the mapping.
         *
         * @return the immutable mapping
         * @throws IllegalArgumentException if the inside or outside addresses are not set, or a
         *         parameter is out of range (the message names the value and the allowed range)
         */
        public DeterministicNat build() {
            if (inside == null) {
                throw new IllegalArgumentException("inside (subscriber) addresses are not set; call inside(...)");
            }
            if (outside == null) {
                throw new IllegalArgumentException("outside (external) addresses are not set; call outside(...)");
            }
            if (firstPort < 1 || firstPort > MAX_PORT) {
                throw new IllegalArgumentException("firstPort " + firstPort + " is out of range 1..65535"
                        + " (ports below it are excluded from every block; port 0 is never usable)");
            }
            int usable = MAX_PORT + 1 - firstPort;
            String usableText = usable + " usable ports " + firstPort + ".." + MAX_PORT;
            if (portsPerUserSet && (portsPerUser < 1 || portsPerUser > usable)) {
                throw new IllegalArgumentException("portsPerUser " + portsPerUser + " is out of range 1.." + usable
                        + " (the " + usableText + ")");
            }
            if (subscribersPerAddressSet && (subscribersPerAddress < 1 || subscribersPerAddress > usable)) {
                throw new IllegalArgumentException("subscribersPerAddress " + subscribersPerAddress
                        + " is out of range 1.." + usable + " (one port each at least, from the " + usableText + ")");
            }
            int s;
            int p;
            if (portsPerUserSet && subscribersPerAddressSet) {
                if ((long) portsPerUser * subscribersPerAddress > usable) {
                    throw new IllegalArgumentException("portsPerUser " + portsPerUser + " x subscribersPerAddress "
                            + subscribersPerAddress + " = " + (long) portsPerUser * subscribersPerAddress
                            + " ports do not fit in the " + usableText + "; allowed: portsPerUser 1.."
                            + usable / subscribersPerAddress + " for " + subscribersPerAddress
                            + " subscribers per address");
                }
                s = subscribersPerAddress;
                p = portsPerUser;
            } else if (portsPerUserSet) {
                p = portsPerUser;
                s = usable / p;             // as many blocks as fit on one address
            } else {
                // S given, or derived from the pool: the fewest subscribers per address that
                // still fit everyone, so that each gets the largest block.
                long derived = (inside.size() + outside.size() - 1) / outside.size();
                if (!subscribersPerAddressSet && derived > usable) {
                    throw new IllegalArgumentException(inside.size() + " subscribers on " + outside.size()
                            + " external addresses would need " + derived + " subscribers per address, but at most "
                            + usable + " fit (one port each, from the " + usableText + "); allowed: at most "
                            + (long) usable * outside.size() + " subscribers for this pool");
                }
                s = subscribersPerAddressSet ? subscribersPerAddress : (int) derived;
                p = usable / s;
            }
            long capacity = (long) s * outside.size();
            if (inside.size() > capacity) {
                long needed = (inside.size() + s - 1) / s;
                throw new IllegalArgumentException(inside.size() + " subscribers need " + needed
                        + " external addresses at " + s + " subscribers per address (" + p + " ports each), but the pool has "
                        + outside.size() + "; allowed: at most " + capacity + " subscribers for this pool");
            }
            return new DeterministicNat(inside, outside, firstPort, s, p);
        }
    }
}
