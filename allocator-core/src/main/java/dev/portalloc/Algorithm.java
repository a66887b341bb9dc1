package dev.portalloc;

import java.util.Objects;

/**
 * An automatic port-selection algorithm and its parameters, given to {@link PortAllocator.Builder#algorithm}.
 *
 * <p>This release implements <em>exclusive</em> selection ({@code bind(0)}-style: a port is suitable if it is
 * selectable and free, and is then held by one holder). The RFC 6056 algorithms are defined for connections,
 * where the hash input includes the destination; in exclusive mode there is no destination, so the hash
 * covers only the local part (protocol number and local address, RFC 6056 §3.5) and is constant between
 * rekeys. Connect-style (5-tuple) selection will use the same algorithms with the destination hashed.
 *
 * <p>Every algorithm follows its published probe sequence and counter updates (RFC 6056 pseudo-code: the
 * index space is the automatic set in ascending order, {@code num_ephemeral} is its size, counters advance
 * per candidate, reserved and held ports fail {@code check_suitable_port}), with one deliberate improvement:
 * <b>no false exhaustion</b>. Where the published sequence would give up after {@code num_ephemeral}
 * candidates while a port may still be free (possible under concurrency, and for {@link #randomProbe()} and
 * {@link #randomIncrements()} even in a single thread), the allocator falls back to its complete uniform
 * search, so automatic selection fails only if at some moment during the call no selectable port was free.
 *
 * <p>Hash-based algorithms ({@link #hash()}, {@link #doubleHash()}) key SipHash-2-4 with the allocator's
 * 128-bit secret ({@link PortAllocator.Builder#secret}, {@link PortAllocator#rekey()}).
 *
 * <p>Thread-safety: instances are immutable values and may be shared freely; two algorithms are
 * {@link #equals equal} if they have the same kind and parameter. The mutable state an algorithm needs
 * (counters, Algorithm 4's table) belongs to each allocator built with it, not to this value.
 */
public final class Algorithm {
    /** Default table length of {@link #doubleHash()}: 2^16, Linux's default (research doc §2.3). */
    public static final int DEFAULT_TABLE_LENGTH = 1 << 16;
    /** Largest table length {@link #doubleHash(int)} accepts (2^24 entries, 64 MiB). */
    public static final int MAX_TABLE_LENGTH = 1 << 24;
    /** Default {@code N} of {@link #randomIncrements()}: 500, the RFC's value (RFC 6056 §3.3.5). */
    public static final int DEFAULT_INCREMENTS = 500;

    enum Kind {
        UNIFORM("uniform"),
        BSD_SEQUENTIAL("bsdSequential"),
        RANDOM_START("randomStart"),
        RANDOM_PROBE("randomProbe"),
        HASH("hash"),
        DOUBLE_HASH("doubleHash"),
        RANDOM_INCREMENTS("randomIncrements"),
        LINUX("linux");

        final String factory;

        Kind(String factory) {
            this.factory = factory;
        }
    }

    private static final Algorithm UNIFORM = new Algorithm(Kind.UNIFORM, 0);
    private static final Algorithm BSD_SEQUENTIAL = new Algorithm(Kind.BSD_SEQUENTIAL, 0);
    private static final Algorithm RANDOM_START = new Algorithm(Kind.RANDOM_START, 0);
    private static final Algorithm RANDOM_PROBE = new Algorithm(Kind.RANDOM_PROBE, 0);
    private static final Algorithm HASH = new Algorithm(Kind.HASH, 0);
    private static final Algorithm LINUX = new Algorithm(Kind.LINUX, 0);

    private final Kind kind;
    private final int parameter;

    private Algorithm(Kind kind, int parameter) {
        this.kind = kind;
        this.parameter = parameter;
    }

    /**
     * The default: every free selectable port is equally likely, whatever the occupancy pattern (no
     * "random start + sequential scan" bias). Not an RFC 6056 listing; it has the unpredictability of
     * Algorithm 2 without its false exhaustion or its cost at high occupancy.
     *
     * @return the uniform algorithm
     */
    public static Algorithm uniform() {
        return UNIFORM;
    }

    /**
     * Traditional BSD selection (RFC 6056 §2.2): a global {@code next_ephemeral}, starting at the first port
     * of the automatic set and advanced by one per candidate, so successive acquisitions get consecutive
     * ports (wrapping). Trivially predictable: for tests and compatibility only.
     *
     * @return the BSD sequential algorithm
     */
    public static Algorithm bsdSequential() {
        return BSD_SEQUENTIAL;
    }

    /**
     * RFC 6056 §3.3.1, Algorithm 1 (Simple Port Randomization): a random start on each call, then the next
     * port (wrapping) until a suitable one is found. Known bias: the first free port after a run of held
     * ports is chosen far more often than others.
     *
     * @return Algorithm 1
     */
    public static Algorithm randomStart() {
        return RANDOM_START;
    }

    /**
     * RFC 6056 §3.3.2, Algorithm 2 (Another Simple Port Randomization): a fresh random candidate each time.
     * After 16 candidates (none when the destination is known to use over 3/4 of the ports) the complete
     * uniform search takes over. That changes no probability: the first suitable port among independent
     * uniform candidates is uniform over the suitable ports, as is the complete search's choice; it removes
     * the RFC's cost at high occupancy (100 candidates on average at 99 %) and its false exhaustion after
     * {@code num_ephemeral} misses. Algorithm 2 has no counter state; what it does differently from
     * {@link #uniform()} is only these first probes.
     *
     * @return Algorithm 2
     */
    public static Algorithm randomProbe() {
        return RANDOM_PROBE;
    }

    /**
     * RFC 6056 §3.3.3, Algorithm 3 (Simple Hash-Based): {@code offset = F(identifiers, secret)}, a global
     * {@code next_ephemeral} advanced by one per candidate. In exclusive mode the offset is constant between
     * rekeys, so successive acquisitions get consecutive ports.
     *
     * @return Algorithm 3
     */
    public static Algorithm hash() {
        return HASH;
    }

    /**
     * RFC 6056 §3.3.4, Algorithm 4 (Double-Hash) with {@value #DEFAULT_TABLE_LENGTH} table entries, Linux's
     * default since the Kol–Klein–Gilad attack (the RFC suggests 10).
     *
     * @return Algorithm 4 with the default table length
     */
    public static Algorithm doubleHash() {
        return doubleHash(DEFAULT_TABLE_LENGTH);
    }

    /**
     * RFC 6056 §3.3.4, Algorithm 4 (Double-Hash): {@code offset = F(identifiers, key1)},
     * {@code index = G(identifiers, key2)} into a table of {@code tableLength} counters (randomly initialised,
     * one table per allocator), and {@code table[index]} advanced by one per candidate. In exclusive mode
     * there is one bucket in use, so successive acquisitions get consecutive ports.
     *
     * @param tableLength number of table entries (the RFC's {@code TABLE_LENGTH}), 1..{@value #MAX_TABLE_LENGTH};
     *     each allocator built with it allocates 4 bytes per entry
     * @return Algorithm 4
     * @throws IllegalArgumentException if {@code tableLength} is out of range
     */
    public static Algorithm doubleHash(int tableLength) {
        if (tableLength < 1 || tableLength > MAX_TABLE_LENGTH) {
            throw new IllegalArgumentException("doubleHash tableLength must be 1.." + MAX_TABLE_LENGTH
                + ", but was " + tableLength);
        }
        return new Algorithm(Kind.DOUBLE_HASH, tableLength);
    }

    /**
     * RFC 6056 §3.3.5, Algorithm 5 (Random-Increments) with the RFC's {@code N = }{@value #DEFAULT_INCREMENTS}.
     *
     * @return Algorithm 5 with the default {@code N}
     */
    public static Algorithm randomIncrements() {
        return randomIncrements(DEFAULT_INCREMENTS);
    }

    /**
     * RFC 6056 §3.3.5, Algorithm 5 (Random-Increments): a global {@code next_ephemeral} advanced by a random
     * {@code 1..n} per candidate. Larger {@code n} is less predictable, smaller {@code n} reuses ports later.
     *
     * @param n the RFC's {@code N}, at least 1
     * @return Algorithm 5
     * @throws IllegalArgumentException if {@code n < 1}
     */
    public static Algorithm randomIncrements(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("randomIncrements n must be at least 1, but was " + n);
        }
        return new Algorithm(Kind.RANDOM_INCREMENTS, n);
    }

    /**
     * Linux's selection. In exclusive mode: {@code bind()} to port 0, {@code inet_csk_find_open_port()}
     * (without {@code SO_REUSEADDR}'s half-range pass): a random start forced to an odd offset from the first
     * port, a scan in steps of 2 (wrapping), then the even offsets. The index space is rounded down to an even
     * size, as Linux does, so with an odd-sized automatic set its last port is only found by the complete
     * search. Connect-style mode will use Linux's {@code __inet_hash_connect()}.
     *
     * @return Linux's algorithm
     */
    public static Algorithm linux() {
        return LINUX;
    }

    Kind kind() {
        return kind;
    }

    int parameter() {
        return parameter;
    }

    /** @return whether {@code o} is an algorithm of the same kind with the same parameter */
    @Override
    public boolean equals(Object o) {
        return o instanceof Algorithm a && a.kind == kind && a.parameter == parameter;
    }

    /** @return a hash code consistent with {@link #equals} */
    @Override
    public int hashCode() {
        return Objects.hash(kind, parameter);
    }

    /** @return the factory call that makes this algorithm, e.g. {@code doubleHash(65536)} or {@code hash()} */
    @Override
    public String toString() {
        return kind.factory + (kind == Kind.DOUBLE_HASH || kind == Kind.RANDOM_INCREMENTS ? "(" + parameter + ")" : "()");
    }
}
