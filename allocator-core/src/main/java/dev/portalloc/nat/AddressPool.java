package dev.portalloc.nat;

import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;
import dev.portalloc.internal.bitmap.CompactBitmap;
import dev.portalloc.internal.hash.SipHash;
import dev.portalloc.internal.random.RandomSource;
import dev.portalloc.internal.thread.ThreadStates;

import java.net.Inet4Address;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A pool of external IPv4 addresses with "paired" address pooling: every subscriber (internal IPv4 address)
 * is mapped to one external address by a keyed hash, and all its mappings get ports of that address
 * (RFC 4787 section 4.1, REQ-2; RFC 6888 REQ-2 makes "paired" the mandatory default of a CGN).
 *
 * <pre>{@code
 * AddressPool pool = AddressPool.builder()
 *     .external("198.51.100.0/22")               // 1,024 external addresses
 *     .ports(PortSet.parse("1024-65535"))         // the default
 *     .build();
 * long m = pool.tryAcquire(subscriber);           // subscriber: the internal IPv4 address as an int
 * if (m != AddressPool.NONE) {
 *     int address = AddressPool.externalAddress(m);   // always pool.externalFor(subscriber) with FAIL
 *     int port = AddressPool.externalPort(m);
 *     ...
 *     pool.release(m);
 * }
 * }</pre>
 *
 * <h2>The mapping: a pure function, no table</h2>
 * The external address of subscriber {@code s} is {@code pool[floor(SipHash-2-4(key, s) · n / 2^64)]} for
 * the 128-bit {@code key} and the {@code n} pool addresses ({@link #primaryIndex}). Nothing is stored per
 * subscriber, so the lookup is lock-free, allocation-free and the same on every thread. Why a keyed hash:
 * subscribers spread evenly over the addresses whatever their numbering (consecutive subscribers do not pile
 * onto one address, as they do by design in RFC 7422's {@link DeterministicNat}), and without the key an
 * outsider cannot tell which subscribers share an external address. The key is, in order of precedence,
 * the one given to {@link Builder#key(long, long)}, one derived from {@link Builder#seed(long)} (tests,
 * simulations: not secret), or 16 bytes of {@link SecureRandom}; a fixed secret key makes the mapping
 * survive restarts, a random one changes it on every start (harmless for a NAT, whose mappings do not
 * survive a restart either, but logs then need the key or the per-restart mapping).
 *
 * <h2>When the subscriber's address is full</h2>
 * {@link WhenFull#FAIL} (the default) keeps pairing strict: the acquisition fails, as RFC 6888 REQ-11 asks
 * of a CGN that runs out of resources (drop, and do not take another subscriber's mappings). It is the
 * default because RFC 6888 REQ-2 requires "paired" as the default pooling behaviour: applications that open
 * several flows (RTP and RTCP, FTP control and data, web sessions checked by client address) break when
 * their flows leave from different addresses. {@link WhenFull#NEXT_ADDRESS} trades that for availability:
 * it probes the other addresses in a deterministic per-subscriber order (double hashing, below) and uses
 * the first with a free port; such mappings are not paired, which RFC 6888 REQ-2 allows an administrator to
 * choose. Size the pool (or use per-subscriber quotas, {@link PortBlockAllocator}) so that an address does
 * not fill up, and FAIL never triggers. With NEXT_ADDRESS a failed acquisition means that each address, asked
 * in turn, had no free port at some moment during the call: the addresses are asked one after another, so not
 * necessarily all at the same moment (a port freed on an address already asked is not seen).
 *
 * <p>The probe order of subscriber {@code s} is {@code (primary + i · step) mod n} for {@code i = 0..n-1},
 * where {@code step} in {@code 1..n-1} comes from the low half of the same hash and is made coprime to
 * {@code n}: every address is visited once, and subscribers of one full address spread over different
 * next addresses instead of all falling onto the same neighbour (linear probing's clustering).
 *
 * <h2>Ports and memory: one bit per port, built lazily per address</h2>
 * Each address has its own port space, an exclusive allocator of the pool's automatic ports minus its reserved
 * ports, the same for every address and fixed for the life of the pool. Its state is one bit per port (8 KiB
 * for the whole port space), built the first time the address is used: the pool costs 4 bytes per address as
 * built plus an 8 KiB mask of the selectable ports shared by all (24.9 KB for 4,096 addresses) and grows by
 * 8,216 bytes per address in use, so a fully used pool of 4,096
 * addresses costs about 32 MiB whatever its port set. Parity preservation and port blocks
 * ({@link PortBlockAllocator}) use the same bits and add nothing per address. A per-address
 * {@link PortAllocator} would cost 21 KB per address and several cache misses per operation (measured,
 * {@code PoolFootprint} and {@code AddressPoolBenchmark} in {@code allocator-jmh}); that is why the pool has its
 * own compact layout, with exclusive holdings only (a NAT mapping owns its external port; there is no
 * connect-style sharing here).
 *
 * <p>Selection is uniform over the free selectable ports of the address (random candidates, then an exact
 * count-and-select pass), like the library's default algorithm, and "no free port" is a linearizable verdict:
 * at some moment during the call every selectable port of the address (of the parity, when parity is
 * preserved) was held.
 *
 * <p>Cost: with few addresses the bits stay in the cache and an acquisition plus release costs about 1.5 × one
 * {@link PortAllocator}'s (44 against 29 ns, 64 addresses). With thousands of addresses each operation on a
 * random address pays one cache miss after the subscriber's hash, whatever the layout: 199 ns at 4,096
 * addresses, where the hash and a cold word alone cost 168 ns. With {@code -XX:+UseTransparentHugePages},
 * which spares the TLB misses of 32 MiB in 4 KiB pages, the pool measured 140 ns. Figures:
 * {@code AddressPoolBenchmark}.
 *
 * <p>Explicit acquisitions ({@link #tryAcquire(int, int)}: static mappings, port forwards) take a given port
 * of an address, reserved or not, and share the address's ports with automatic selection.
 *
 * <h2>Thread-safety</h2>
 * Thread-safe. Acquisitions and releases are lock-free: a hash, an array read and a CAS on the port's word of
 * the address; they allocate nothing except when they build an address's bits (once per address: racing
 * builders both build, one wins) and on a thread's first call (its generator). The pool has no owner
 * identity: whoever holds a mapping may release it from any thread. The mapping subscriber → address never
 * changes for the life of the pool. Counts ({@link #heldPorts}) are weakly consistent.
 */
public final class AddressPool {

    /** Returned by the acquisition methods when no port could be acquired. */
    public static final long NONE = -1L;

    /** Largest pool: the table of lazily built port bits costs 4 bytes per address (16 MiB at this size). */
    public static final int MAX_ADDRESSES = 1 << 22;

    /** Key for deriving keys and per-address seeds from a seed: ASCII "portalloc/a-pool", little-endian. */
    private static final long SEED_KEY_0 = 0x6f6c6c6174726f70L; // "portallo"
    private static final long SEED_KEY_1 = 0x6c6f6f702d612f63L; // "c/a-pool"
    private static final long MAPPING_KEY_DOMAIN = 0x6b6579L;    // "key"
    private static final long SELECTION_DOMAIN = 0x6c6573L;      // "sel" (the pool's own generators)
    private static final long THREADS_DOMAIN = 0x6461657274L;    // "tread" (per-layer generators)

    /** What to do when the subscriber's external address has no free port. */
    public enum WhenFull {
        /** Fail: strict "paired" pooling (RFC 4787 REQ-2, RFC 6888 REQ-2). The default. */
        FAIL,
        /**
         * Try the other addresses, in the subscriber's deterministic probe order; such mappings are not paired. A
         * failure means each address was full at some moment of the call, one after another, not all at once.
         */
        NEXT_ADDRESS
    }

    private final Ipv4List external;
    private final int size;
    private final PortSet ports;
    private final PortSet reserved;
    private final boolean seeded;
    private final long seed;
    private final long k0;
    private final long k1;
    private final WhenFull whenFull;
    private final boolean preserveParity;
    /** The shape shared by every address: its selectable ports. */
    private final CompactBitmap bitmap;
    /** Per address: its port bits, built on first use ({@link CompactBitmap#newWords()}). */
    private final AtomicReferenceArray<long[]> words;
    private final AtomicInteger built = new AtomicInteger();
    /** The generators of the pool's own selections (one per thread for all addresses). */
    private final ThreadStates threads;

    private AddressPool(Builder b, long k0, long k1) {
        this.external = b.external;
        this.size = (int) b.external.size();
        this.ports = b.ports;
        this.reserved = b.reserved;
        this.seeded = b.seeded;
        this.seed = b.seed;
        this.k0 = k0;
        this.k1 = k1;
        this.whenFull = b.whenFull;
        this.preserveParity = b.preserveParity;
        this.bitmap = new CompactBitmap(b.ports.minus(b.reserved));
        this.words = new AtomicReferenceArray<>(size);
        this.threads = threadStates(SELECTION_DOMAIN);
    }

    /** @return a builder; set the external addresses, everything else has a default */
    public static Builder builder() {
        return new Builder();
    }

    // ---------------------------------------------------------------------------------------------------------
    // The subscriber → address mapping

    /**
     * The position in the pool of the external address of {@code subscriber}: a pure function of the
     * subscriber and the key, the same for the life of the pool.
     *
     * @param subscriber the subscriber's internal IPv4 address (any int: all 2^32 values are addresses)
     * @return its address's position, {@code 0..size()-1}
     */
    public int primaryIndex(int subscriber) {
        return primary(hash(subscriber));
    }

    /**
     * @param subscriber the subscriber's internal IPv4 address
     * @return the subscriber's external address, as an int (see {@link #primaryIndex})
     */
    public int externalFor(int subscriber) {
        return external.get(primaryIndex(subscriber));
    }

    /**
     * @param subscriber the subscriber's internal IPv4 address
     * @return the subscriber's external address
     */
    public Inet4Address externalFor(Inet4Address subscriber) {
        return Ipv4List.toAddress(externalFor(Ipv4List.toInt(Objects.requireNonNull(subscriber, "subscriber"))));
    }

    /** SipHash-2-4 of the subscriber under the pool key. */
    long hash(int subscriber) {
        return SipHash.hash8(k0, k1, Integer.toUnsignedLong(subscriber));
    }

    /** Maps the high 32 bits of the hash onto 0..size-1 (multiply-shift: bias below size / 2^32). */
    int primary(long hash) {
        return (int) (((hash >>> 32) * size) >>> 32);
    }

    /**
     * The {@code attempt}-th address of the probe order of the subscriber with hash {@code hash}: attempt 0 is
     * the primary address; attempts 0..size-1 visit every address once.
     */
    int candidate(long hash, int attempt) {
        final int primary = primary(hash);
        if (attempt == 0) {
            return primary;
        }
        return (int) ((primary + (long) attempt * step(hash)) % size);
    }

    /** The probe step: from the low 32 bits of the hash, in 1..size-1, coprime to size. */
    private int step(long hash) {
        if (size == 1) {
            return 1;
        }
        int step = 1 + (int) (((hash & 0xFFFF_FFFFL) * (size - 1)) >>> 32);
        while (gcd(step, size) != 1) {
            step = step == size - 1 ? 1 : step + 1; // terminates: 1 is coprime to everything
        }
        return step;
    }

    private static int gcd(int a, int b) {
        while (b != 0) {
            final int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    /** @return the number of addresses to probe: 1 with {@link WhenFull#FAIL}, all of them otherwise */
    int attempts() {
        return whenFull == WhenFull.FAIL ? 1 : size;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Allocation

    /**
     * Acquires a uniformly chosen free port of the subscriber's external address; with
     * {@link WhenFull#NEXT_ADDRESS}, of the first address in the subscriber's probe order that has one.
     *
     * @param subscriber the subscriber's internal IPv4 address
     * @return the mapping (external address and port, see {@link #externalAddress} and {@link #externalPort}),
     *     or {@link #NONE}
     */
    public long tryAcquire(int subscriber) {
        final long hash = hash(subscriber);
        final RandomSource random = threads.current().random();
        final int attempts = attempts();
        for (int attempt = 0; attempt < attempts; attempt++) {
            final int index = candidate(hash, attempt);
            final int port = bitmap.select(words(index), random);
            if (port != CompactBitmap.NONE) {
                return mapping(index, port);
            }
        }
        return NONE;
    }

    /**
     * Acquires a port of the subscriber's external address, honouring a suggested port per {@code preservation}
     * (RFC 4787 section 4.2.1, RFC 6887 section 11.3; see {@link PortPreservation}: only a port that automatic
     * selection could return is honoured); when the pool preserves parity ({@link Builder#preserveParity}), a
     * port chosen instead of the suggestion has its parity, uniformly among the free ports of that parity
     * (RFC 4787 REQ-4). With {@link WhenFull#NEXT_ADDRESS}, the next addresses are tried the same way when the
     * subscriber's address yields nothing, except under {@link PortPreservation#FAIL}, which only ever asks the
     * subscriber's own address (a different address would not be the mapping the client asked to preserve).
     *
     * @param subscriber the subscriber's internal IPv4 address
     * @param suggestedPort 1..65535: the internal source port, or a PCP suggested external port
     * @param preservation whether to try the suggestion and what to do if it is unavailable
     * @return the mapping, or {@link #NONE}
     * @throws IllegalArgumentException if {@code suggestedPort} is outside 1..65535
     */
    public long tryAcquire(int subscriber, int suggestedPort, PortPreservation preservation) {
        Objects.requireNonNull(preservation, "preservation");
        PortPreservation.checkPort(suggestedPort);
        final long hash = hash(subscriber);
        final RandomSource random = threads.current().random();
        final int attempts = preservation == PortPreservation.FAIL ? 1 : attempts();
        final PortSet selectable = bitmap.selectable();
        final long parity = !preserveParity ? CompactBitmap.ALL
            : (suggestedPort & 1) == 0 ? CompactBitmap.EVEN : CompactBitmap.ODD;
        for (int attempt = 0; attempt < attempts; attempt++) {
            final int index = candidate(hash, attempt);
            final long[] w = words(index);
            if (preservation != PortPreservation.OFF && bitmap.isSelectable(suggestedPort)
                && bitmap.tryClaim(w, suggestedPort)) {
                return mapping(index, suggestedPort);
            }
            if (preservation == PortPreservation.FAIL) {
                return NONE;
            }
            final int port = parity == CompactBitmap.ALL ? bitmap.select(w, random)
                : bitmap.select(w, random, selectable.first(), selectable.last(), parity);
            if (port != CompactBitmap.NONE) {
                return mapping(index, port);
            }
        }
        return NONE;
    }

    /**
     * Acquires a given port of a given external address, if it is free: static mappings and port forwards.
     * Any port 1..65535 may be taken this way, reserved or outside the automatic set; automatic selection
     * never returns a port held so.
     *
     * @param address an external address of the pool, as an int
     * @param port 1..65535
     * @return whether this call acquired it (false: it is held)
     * @throws IllegalArgumentException if the address is not in the pool or the port is outside 1..65535
     */
    public boolean tryAcquire(int address, int port) {
        final int index = indexOrThrow(address);
        checkPort(port);
        return bitmap.tryClaim(words(index), port);
    }

    /**
     * Releases a mapping returned by an acquisition.
     *
     * @param mapping the mapping
     * @throws IllegalArgumentException if it does not name an address of the pool and a port 1..65535
     * @throws IllegalStateException if the port is not held (nothing changes)
     */
    public void release(long mapping) {
        if (mapping < 0 || mapping > 0xFFFF_FFFF_FFFFL) {
            throw new IllegalArgumentException("mapping " + mapping + " is not an (address, port) of a pool: "
                + "expected 0..2^48-1 as returned by tryAcquire");
        }
        release(externalAddress(mapping), externalPort(mapping));
    }

    /**
     * Releases port {@code port} of external address {@code address}.
     *
     * @param address an external address of the pool, as an int
     * @param port 1..65535
     * @throws IllegalArgumentException if the address is not in the pool or the port is outside 1..65535
     * @throws IllegalStateException if the port is not held (nothing changes)
     */
    public void release(int address, int port) {
        final int index = indexOrThrow(address);
        checkPort(port);
        releaseAt(index, port);
    }

    /**
     * @param address an external address of the pool, as an int
     * @param port 1..65535
     * @return whether the port is held (linearizable)
     * @throws IllegalArgumentException if the address is not in the pool or the port is outside 1..65535
     */
    public boolean isHeld(int address, int port) {
        final int index = indexOrThrow(address);
        checkPort(port);
        final long[] w = words.get(index);
        return w != null && bitmap.isHeld(w, port);
    }

    /**
     * @param address an external address of the pool, as an int
     * @return how many of its ports are held (weakly consistent)
     * @throws IllegalArgumentException if the address is not in the pool
     */
    public int heldPorts(int address) {
        final long[] w = words.get(indexOrThrow(address));
        return w == null ? 0 : CompactBitmap.heldCount(w);
    }

    /** @return how many ports are held on all addresses (weakly consistent; reads every address in use) */
    public long heldPorts() {
        long held = 0;
        for (int i = 0; i < size; i++) {
            final long[] w = words.get(i);
            if (w != null) {
                held += CompactBitmap.heldCount(w);
            }
        }
        return held;
    }

    /** @return the mapping value of port {@code port} of the address at {@code index} */
    long mapping(int index, int port) {
        return Integer.toUnsignedLong(external.get(index)) << 16 | port;
    }

    /**
     * @param mapping a mapping returned by an acquisition
     * @return its external IPv4 address, as an int
     */
    public static int externalAddress(long mapping) {
        return (int) (mapping >>> 16);
    }

    /**
     * @param mapping a mapping returned by an acquisition
     * @return its external port
     */
    public static int externalPort(long mapping) {
        return (int) (mapping & 0xFFFF);
    }

    /** @throws IllegalArgumentException naming the port and the range, if {@code port} is outside 1..65535 */
    static void checkPort(int port) {
        if (port < PortAllocator.MIN_PORT || port > PortAllocator.MAX_PORT) {
            throw new IllegalArgumentException("port " + port + " is out of range "
                + PortAllocator.MIN_PORT + ".." + PortAllocator.MAX_PORT);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Per-address operations for the layers above (PortBlockAllocator), by position in the pool

    /** A uniformly chosen free selectable port of {@code first..last} of the address at {@code index}, or -1. */
    int selectIn(int index, int first, int last, RandomSource random) {
        return bitmap.select(words(index), random, first, last, CompactBitmap.ALL);
    }

    /** Claims {@code port} (1..65535) of the address at {@code index} if free. */
    boolean tryClaimAt(int index, int port) {
        return bitmap.tryClaim(words(index), port);
    }

    /**
     * Frees {@code port} (1..65535) of the address at {@code index}.
     *
     * @throws IllegalStateException if it is not held (nothing changes)
     */
    void releaseAt(int index, int port) {
        final long[] w = words.get(index); // null: never used, nothing is held
        if (w == null || !bitmap.release(w, port)) {
            throw new IllegalStateException("port " + port + " of " + Ipv4List.format(external.get(index))
                + " is not held");
        }
    }

    /** @return whether automatic selection may return {@code port} */
    boolean isSelectable(int port) {
        return bitmap.isSelectable(port);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Addresses

    /** @return the number of external addresses */
    public int size() {
        return size;
    }

    /**
     * @param index 0..size()-1
     * @return the external address at that position, as an int
     * @throws IndexOutOfBoundsException if {@code index} is out of range
     */
    public int addressAt(int index) {
        return external.get(Objects.checkIndex(index, size));
    }

    /**
     * @param address any IPv4 address, as an int
     * @return its position in the pool, or -1 if it is not an external address of the pool
     */
    public int indexOf(int address) {
        return (int) external.indexOf(address);
    }

    /** @throws IllegalArgumentException naming the address and the pool, if it is not in the pool */
    int indexOrThrow(int address) {
        final int index = indexOf(address);
        if (index < 0) {
            throw new IllegalArgumentException("address " + Ipv4List.format(address)
                + " is not in the pool " + external.describe());
        }
        return index;
    }

    /** The port bits of the address at {@code index}, built on first use. */
    private long[] words(int index) {
        final long[] w = words.get(index);
        return w != null ? w : build(index);
    }

    private long[] build(int index) {
        final long[] fresh = bitmap.newWords();
        // Racing builders both build; the loser's array was never used and is dropped.
        if (words.compareAndSet(index, null, fresh)) {
            built.incrementAndGet();
            return fresh;
        }
        return words.get(index);
    }

    /** @return how many addresses have their port bits built (have been used): the pool's memory grows with it */
    public int addressesBuilt() {
        return built.get();
    }

    /** @return the automatic port set of every address */
    public PortSet ports() {
        return ports;
    }

    /** @return the reserved ports of every address (as configured; see {@link PortAllocator#reserve}) */
    public PortSet reserved() {
        return reserved;
    }

    /** @return the policy for a full address */
    public WhenFull whenFull() {
        return whenFull;
    }

    /** @return whether ports chosen instead of a suggestion keep its parity */
    public boolean preservesParity() {
        return preserveParity;
    }

    /** Per-thread generators for a layer above the pool: seeded from the pool's seed when it has one. */
    ThreadStates threadStates(long stream) {
        return seeded ? ThreadStates.seeded(SipHash.hash24(SEED_KEY_0, SEED_KEY_1, seed, THREADS_DOMAIN, stream))
            : ThreadStates.secure();
    }

    String describe() {
        return external.describe();
    }

    @Override
    public String toString() {
        return "AddressPool[" + external.describe() + ", ports=" + ports + ", reserved=" + reserved + ", whenFull="
            + whenFull + ", parity=" + preserveParity + ", addresses built=" + built.get() + "]";
    }

    // ---------------------------------------------------------------------------------------------------------
    // Builder

    /**
     * Configures an {@link AddressPool}. Not thread-safe; each {@link #build()} makes an independent pool.
     */
    public static final class Builder {
        private Ipv4List external;
        private PortSet ports = PortSet.RFC6056_RECOMMENDED;
        private PortSet reserved = PortSet.empty();
        private boolean seeded;
        private long seed;
        private boolean keyed;
        private long k0;
        private long k1;
        private WhenFull whenFull = WhenFull.FAIL;
        private boolean preserveParity;

        private Builder() {
        }

        /**
         * Sets the external addresses to those of a CIDR prefix, in ascending order (network and broadcast
         * addresses included); a bare address is a {@code /32}.
         *
         * @param cidr for example {@code "198.51.100.0/22"}
         * @return this builder
         * @throws IllegalArgumentException if malformed, with host bits set, or larger than
         *     {@link #MAX_ADDRESSES}
         */
        public Builder external(String cidr) {
            return external(Ipv4List.cidr("external", cidr));
        }

        /**
         * Sets the external addresses to {@code count} consecutive addresses from {@code first}.
         *
         * @param first the first address
         * @param count 1..{@link #MAX_ADDRESSES}, not passing 255.255.255.255
         * @return this builder
         * @throws IllegalArgumentException if {@code count} is out of range
         */
        public Builder external(Inet4Address first, long count) {
            return external(Ipv4List.range("external", first, count));
        }

        /**
         * Sets the external addresses to the given ones, in this order (the order defines the mapping).
         *
         * @param addresses distinct addresses, 1..{@link #MAX_ADDRESSES} of them
         * @return this builder
         * @throws IllegalArgumentException if empty, too long, or with a null or repeated address
         */
        public Builder external(List<Inet4Address> addresses) {
            return external(Ipv4List.of("external", addresses));
        }

        private Builder external(Ipv4List list) {
            if (list.size() > MAX_ADDRESSES) {
                throw new IllegalArgumentException("external pool of " + list.size() + " addresses ("
                    + list.describe() + ") is too large: allowed 1.." + MAX_ADDRESSES + " addresses (a /10)");
            }
            this.external = list;
            return this;
        }

        /**
         * @param ports the automatic port set of every address; default {@link PortSet#RFC6056_RECOMMENDED}
         *     (1024-65535: RFC 4787 REQ-3 keeps 0-1023 for internal ports in that range)
         * @return this builder
         * @throws IllegalArgumentException if empty
         */
        public Builder ports(PortSet ports) {
            Objects.requireNonNull(ports, "ports");
            if (ports.isEmpty()) {
                throw new IllegalArgumentException("ports must not be empty: each external address needs at least "
                    + "one port of 1..65535 to hand out");
            }
            this.ports = ports;
            return this;
        }

        /**
         * @param reserved ports of every address never chosen automatically; default empty
         * @return this builder
         */
        public Builder reserved(PortSet reserved) {
            this.reserved = Objects.requireNonNull(reserved, "reserved");
            return this;
        }

        /**
         * Makes the pool deterministic: the mapping key (unless {@link #key} is given), the generators of the
         * pool's selections (stream n for the n-th thread to acquire) and those of layers above derive from
         * {@code seed}. For tests and simulations only: whoever knows the seed can predict the mapping and the
         * ports.
         *
         * @param seed any value
         * @return this builder
         */
        public Builder seed(long seed) {
            this.seeded = true;
            this.seed = seed;
            return this;
        }

        /**
         * Sets the 128-bit SipHash key of the subscriber → address mapping (keep it secret).
         *
         * @param k0 key bytes 0..7, little-endian (see {@link SipHash#k0})
         * @param k1 key bytes 8..15, little-endian
         * @return this builder
         */
        public Builder key(long k0, long k1) {
            this.keyed = true;
            this.k0 = k0;
            this.k1 = k1;
            return this;
        }

        /**
         * Sets the 128-bit SipHash key of the subscriber → address mapping from 16 bytes.
         *
         * @param key16 exactly 16 bytes (copied)
         * @return this builder
         * @throws IllegalArgumentException if {@code key16} is not 16 bytes long
         */
        public Builder key(byte[] key16) {
            return key(SipHash.k0(key16), SipHash.k1(key16));
        }

        /**
         * @param whenFull what to do when a subscriber's address is full; default {@link WhenFull#FAIL}
         * @return this builder
         */
        public Builder whenFull(WhenFull whenFull) {
            this.whenFull = Objects.requireNonNull(whenFull, "whenFull");
            return this;
        }

        /**
         * Makes {@link AddressPool#tryAcquire(int, int, PortPreservation)} keep the parity of the suggested
         * port (RFC 4787 REQ-4). Costs nothing per address: the parities are masks over the same bits.
         *
         * @param preserveParity default false
         * @return this builder
         */
        public Builder preserveParity(boolean preserveParity) {
            this.preserveParity = preserveParity;
            return this;
        }

        /**
         * @return a new pool; no address's port bits are built yet
         * @throws IllegalArgumentException if the external addresses are not set, or every port is reserved
         */
        public AddressPool build() {
            if (external == null) {
                throw new IllegalArgumentException("external addresses are not set; call external(...)");
            }
            if (ports.minus(reserved).isEmpty()) {
                throw new IllegalArgumentException("every port of " + ports + " is reserved (" + reserved
                    + "): no port could ever be acquired automatically");
            }
            long key0 = k0;
            long key1 = k1;
            if (!keyed) {
                if (seeded) {
                    key0 = SipHash.hash24(SEED_KEY_0, SEED_KEY_1, seed, MAPPING_KEY_DOMAIN, 0);
                    key1 = SipHash.hash24(SEED_KEY_0, SEED_KEY_1, seed, MAPPING_KEY_DOMAIN, 1);
                } else {
                    final byte[] key = new byte[16];
                    new SecureRandom().nextBytes(key);
                    key0 = SipHash.k0(key);
                    key1 = SipHash.k1(key);
                    Arrays.fill(key, (byte) 0);
                }
            }
            return new AddressPool(this, key0, key1);
        }
    }
}
