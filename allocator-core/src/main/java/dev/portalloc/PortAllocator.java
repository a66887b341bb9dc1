package dev.portalloc;

import dev.portalloc.internal.bitmap.PortBitmap;
import dev.portalloc.internal.bitmap.Selection;
import dev.portalloc.internal.flow.FlowTable;
import dev.portalloc.internal.jfr.Origin;
import dev.portalloc.internal.jfr.PortExhaustedEvent;
import dev.portalloc.internal.jfr.RekeyEvent;
import dev.portalloc.internal.jfr.ReservationChangeEvent;
import dev.portalloc.internal.random.RandomSource;
import dev.portalloc.internal.select.ConnectContext;
import dev.portalloc.internal.select.ExclusiveContext;
import dev.portalloc.internal.select.PortSelector;
import dev.portalloc.internal.select.PortSelectors;
import dev.portalloc.internal.select.Secret;
import dev.portalloc.internal.thread.ThreadState;
import dev.portalloc.internal.thread.ThreadStates;

import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Allocates ports of one (protocol, local address): automatically, uniformly at random among the free
 * ports of an automatic set, or explicitly by number, as {@code bind()} does.
 *
 * <pre>{@code
 * PortAllocator a = PortAllocator.builder()
 *     .ports(PortSet.parse("32768-60999"))
 *     .reserved(PortSet.parse("40000-40010"))
 *     .build();
 * int p = a.acquire();          // a free port of 32768-60999 outside 40000-40010
 * boolean ok = a.tryAcquire(80); // any port 1..65535, as bind() to a named port
 * a.release(p);
 * }</pre>
 *
 * <h2>Semantics</h2>
 * The allocator tracks the whole port space 1..65535. A port is free, held by exactly one exclusive holder
 * ({@code bind()}-style), or shared by connect-style tuples (below); there is no owner identity, so whoever
 * holds a port or tuple may release it from any thread.
 * <ul>
 * <li>Automatic selection ({@link #acquire()}, {@link #tryAcquire()}) returns only ports of the automatic
 *     set minus the reserved set, evaluated at the moment of selection. Every free such port is equally
 *     likely, whatever the occupancy, the gaps or the reservations (no "random start + sequential scan"
 *     bias, RFC 6056 §5).</li>
 * <li>Explicit acquisition ({@link #tryAcquire(int)}) works for any port 1..65535, reserved or outside the
 *     automatic set, and conflicts with every holder.</li>
 * <li>Automatic selection fails only if, at some moment during the call, no selectable port was free:
 *     never a false exhaustion, under any interleaving of threads.</li>
 * <li>Changing reservations never affects current holders.</li>
 * </ul>
 *
 * <h2>Connect-style allocation</h2>
 * {@link #acquire(Destination)} picks a port for a connection to a destination the way {@code connect()}
 * does: the port may already carry connections to other destinations, as long as every 5-tuple (protocol,
 * local address, port, remote address, remote port) is unique. A port held exclusively is never used for
 * tuples, and a port with a live or quarantined tuple is never granted exclusively (as in Linux's bind
 * table). With {@link Builder#quarantine(java.time.Duration)}, released tuples and exclusive ports are
 * withheld for a while, expired lazily by later calls against the {@link Builder#clock(NanoClock) clock}.
 * The flow layer (about 4.3 MiB: a 4 MiB IPv4 tuple table of 2^16 cache-line buckets, which holds ~450,000
 * tuples before chains overflow, and 260 KiB of per-port counts; 448 KiB more with quarantine) is created on
 * the first connect-style call, or at build time when a quarantine is configured. Exclusive-only allocators
 * never pay for it. {@link Builder#expectedTuples(int)} sizes the tuple table for the load: a table that fits the
 * CPU's caches makes connect-style calls faster, one sized far too small makes them slower.
 *
 * <h2>Thread-safety and memory ordering</h2>
 * Every method is thread-safe. {@link #acquire()}, {@link #tryAcquire()}, {@link #tryAcquire(int)},
 * {@link #release(int)} and {@link #isHeld(int)} are lock-free (CAS on the port's 64-bit bitmap word), start
 * no threads and allocate nothing after a thread's first call. They are linearizable, and so are
 * {@link #unreserve} and the exhaustion verdict: an acquisition never reports exhaustion while a port it may
 * choose is free. One deliberate relaxation: an automatic acquisition already running when {@link #reserve}
 * is called may still return a port being reserved (the reservation applies to selections that start after
 * {@code reserve} returns; a change of reservations never affects holders anyway). A port
 * acquired in one thread may be released in another; a {@code release(p)} happens-before any later
 * acquisition that returns {@code p}, so data published by the releasing thread before the release is
 * visible to the next holder. {@link #reserve}/{@link #unreserve} serialise among themselves on a lock
 * (they are configuration, not a hot path) but never block the lock-free operations.
 * {@link #stats()} is weakly consistent (see {@link AllocatorStats}). Every call looks up the calling thread's
 * state (its generator and counters); a thread that acquires and releases at a high rate can skip that look-up
 * through its own {@link Local} handle ({@link #local()}), which is confined to that thread. The connect-style
 * methods are lock-free
 * and linearizable too, with the progress exceptions documented in docs/design/connect-style.md (a verdict
 * whose last candidates are mid-transition waits for one store; the first connect-style call creates the
 * flow layer under the allocator's monitor).
 *
 * <h2>Algorithms</h2>
 * Automatic selection follows the builder's {@link Algorithm}: {@link Algorithm#uniform()} by default (as
 * described above), or one of the RFC 6056 algorithms or Linux's. Whatever the algorithm, automatic selection
 * never reports a false exhaustion. {@link Subset} views always select uniformly.
 *
 * <h2>Randomness</h2>
 * Each thread draws from its own generator keyed with 128 bits from {@link java.security.SecureRandom}:
 * selection reads 32-bit slices of a batched AES-128/CTR keystream, other values are counter-mode SipHash-2-4
 * outputs. With {@link Builder#seed(long)} the keys derive from the seed instead
 * and a single-threaded caller gets exactly the same ports for the same calls on every run. The hash-based
 * algorithms use a separate 128-bit secret ({@link Builder#secret(byte[])}, {@link #rekey()}).
 *
 * <h2>Observability</h2>
 * {@link #stats()} gives the sizes and counters ({@code dev.portalloc.metrics.AllocatorMetrics} publishes them
 * to Micrometer). The allocator also records JFR events, in category {@code portalloc}, enabled and disabled
 * like any JFR event (all are on in a recording that does not mention them):
 * {@code dev.portalloc.PortExhausted} (an automatic acquisition found no port: protocol, local address,
 * destination, algorithm, selectable and held ports), {@code dev.portalloc.ReservationChange}
 * ({@link #reserve}/{@link #unreserve}: the ports, how many changed), {@code dev.portalloc.Rekey}
 * ({@link #rekey()}; never the key), {@code dev.portalloc.QuarantineOverflow} (the quarantine outgrew its
 * allocation-free ring of 16,384 entries) and {@code dev.portalloc.QuarantineExpiry} (a full pass over due
 * quarantine entries that took at least its threshold, 10 ms by default). They are recorded only on those
 * paths, never on a successful acquisition or a release. Until JFR is first started in the JVM an event costs
 * the read of one static flag and makes no object; after that, the JIT removes a disabled event's object.
 *
 * <h2>Cost</h2>
 * Acquire + release at moderate occupancy is a couple of random draws and two CAS; at high occupancy
 * selection switches to an exact rank/select (with rejection) over free-port bounds of 1,024-port blocks,
 * which claims and releases update only around high occupancy, and the words of one block, so the cost is
 * bounded at any occupancy and detecting exhaustion reads 64 bounds (plus the words of a range's unaligned
 * edge blocks). State: a 16 KiB bitmap (two bits per port), 384 bytes of padded block bounds, plus a mask
 * when the selectable set is not a single range; per thread that uses it, a generator with a 256-byte
 * keystream batch and its cipher.
 */
public final class PortAllocator {
    /** Returned by {@link #tryAcquire()} when no port is free. */
    public static final int NONE = -1;
    /** Lowest port. */
    public static final int MIN_PORT = 1;
    /** Highest port. */
    public static final int MAX_PORT = 65535;

    private final PortBitmap bitmap;
    private final ThreadStates threads;
    private final Object reservationLock = new Object();
    private final Algorithm algorithm;
    /** Null for {@link Algorithm#uniform()}: the bitmap's selection is used directly. */
    private final PortSelector selector;
    private final ExclusiveContext context;
    private final boolean seeded;
    private final long seed;
    /** Number of the last derived secret (seeded allocators). */
    private final AtomicLong secretGeneration = new AtomicLong();
    /**
     * The current secret, in a holder of its own: per-thread connect contexts read it, and must not reference
     * the allocator (a thread-local value that reaches its own thread-local key would keep the allocator
     * alive as long as the thread lives).
     */
    private final AtomicReference<Secret> secret;
    private final Protocol protocol;
    private final InetAddress localAddress;
    /** Protocol and local address as text, for JFR events. */
    private final Origin origin;
    /** The local address as 16 bytes of IPv6 (IPv4-mapped for IPv4): hash input. */
    private final byte[] localAddress16;
    private final long quarantineNanos;
    private final NanoClock clock;
    /** Thread locality: segment length in ports (0: off) and allocations per segment. */
    private final int segmentPorts;
    /** log2 of the flow layer's IPv4 tuple-table buckets ({@link Builder#expectedTuples}). */
    private final int tupleBucketBits;
    private final int allocationsPerSegment;
    /** The flow layer, created on first connect-style use (or at build when quarantine is configured). */
    private volatile FlowTable flows;
    /** Connect-style selector; written before {@link #flows} is published, read after reading it. */
    private PortSelector connectSelector;

    /** Stream of the seed used to initialise algorithm state; thread streams count up from 0. */
    private static final long ALGORITHM_STREAM = -1L;
    /** Stream of the seed used to initialise Linux's connect() perturbation table. */
    private static final long CONNECT_TABLE_STREAM = -2L;
    /** Thread locality: probes inside the thread's segment before falling back to uniform selection. */
    private static final int SEGMENT_PROBES = 4;
    /** Linux's default {@code 1 << CONFIG_INET_TABLE_PERTURB_ORDER}. */
    static final int LINUX_TABLE_LENGTH = 1 << 16;

    private PortAllocator(Builder b) {
        this.bitmap = new PortBitmap(new Selection(b.ports, b.reserved));
        this.threads = b.seeded ? ThreadStates.seeded(b.seed) : ThreadStates.secure();
        this.seeded = b.seeded;
        this.seed = b.seed;
        this.algorithm = b.algorithm;
        this.secret = new AtomicReference<>(b.secret != null ? Secret.of(b.secret)
            : b.seeded ? Secret.derived(b.seed, 0) : Secret.random(SecureRandomHolder.INSTANCE));
        this.protocol = b.protocol;
        this.localAddress = b.localAddress;
        this.localAddress16 = ipv6Bytes(b.localAddress);
        this.origin = new Origin(protocol.name(), localAddress.getHostAddress());
        this.quarantineNanos = b.quarantineNanos;
        this.clock = b.clock;
        this.segmentPorts = b.segmentPorts;
        this.tupleBucketBits = b.tupleBucketBits;
        this.allocationsPerSegment = b.allocationsPerSegment;
        this.context = new ExclusiveContext(bitmap, secret::get, protocol.number(), localAddress16);
        final RandomSource init = b.seeded ? RandomSource.fromSeed(b.seed, ALGORITHM_STREAM)
            : RandomSource.fromSecureRandom();
        this.selector = switch (algorithm.kind()) {
            case UNIFORM -> null;
            case BSD_SEQUENTIAL -> PortSelectors.bsdSequential();
            case RANDOM_START -> PortSelectors.randomStart();
            case RANDOM_PROBE -> PortSelectors.randomProbe();
            case HASH -> PortSelectors.hash();
            case DOUBLE_HASH -> PortSelectors.doubleHash(algorithm.parameter(), init);
            case RANDOM_INCREMENTS -> PortSelectors.randomIncrements(algorithm.parameter(), init);
            case LINUX -> PortSelectors.linuxBind();
        };
        if (quarantineNanos > 0) {
            flows();
        }
    }

    /** @return the address as 16 bytes of IPv6, IPv4 as {@code ::ffff:a.b.c.d} */
    private static byte[] ipv6Bytes(InetAddress address) {
        final byte[] raw = address.getAddress();
        if (raw.length == 16) {
            return raw;
        }
        final byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(raw, 0, mapped, 12, 4);
        return mapped;
    }

    /**
     * @return the flow layer, creating it on first use: once per allocator, under the allocator's monitor (the
     *     one lock outside configuration changes; later calls read a volatile field)
     */
    private FlowTable flows() {
        final FlowTable existing = flows;
        if (existing != null) {
            return existing;
        }
        synchronized (this) {
            if (flows == null) {
                connectSelector = switch (algorithm.kind()) {
                    case UNIFORM -> null;
                    // Linux's connect() has its own table; bind(0) keeps its scan (selector).
                    case LINUX -> PortSelectors.linuxConnect(LINUX_TABLE_LENGTH, seeded
                        ? RandomSource.fromSeed(seed, CONNECT_TABLE_STREAM) : RandomSource.fromSecureRandom());
                    default -> selector; // the same counters serve both modes (one next_ephemeral)
                };
                final long salt = seeded ? RandomSource.fromSeed(seed, CONNECT_TABLE_STREAM - 1).nextLong()
                    : SecureRandomHolder.INSTANCE.nextLong();
                // The volatile write publishes connectSelector.
                flows = new FlowTable(bitmap, quarantineNanos, clock, salt, tupleBucketBits, origin);
            }
            return flows;
        }
    }

    /** @return bytes of the flow layer's IPv4 tuple table, 0 before the layer exists (tests) */
    long tupleTableBytes() {
        final FlowTable f = flows;
        return f == null ? 0L : f.ipv4TableBytes();
    }

    /** @return the calling thread's connect context (created on its first connect-style call with a selector) */
    private ConnectContext connectContext(ThreadState thread) {
        Object c = thread.connectContext();
        if (c == null) {
            c = new ConnectContext(bitmap.selection().automatic(), secret::get, protocol.number(), localAddress16);
            thread.connectContext(c);
        }
        return (ConnectContext) c;
    }

    /** Lazily creates the shared {@link SecureRandom} for secrets (initialization-on-demand holder). */
    private static final class SecureRandomHolder {
        static final SecureRandom INSTANCE = new SecureRandom();
    }

    /** @return a builder with the defaults: {@link PortSet#IANA_DYNAMIC}, nothing reserved, secure random */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the automatic-selection algorithm given to the builder */
    public Algorithm algorithm() {
        return algorithm;
    }

    /**
     * Replaces the secret key of the hash-based algorithms ({@link Algorithm#hash()},
     * {@link Algorithm#doubleHash()}): with a fresh key from {@link SecureRandom}, or, for an allocator built
     * with {@link Builder#seed(long)}, with the next key derived from the seed (deterministic). Acquisitions that
     * start after this method returns use the new key; one already running may use either.
     *
     * <p>The RFC 6056 §3.4 trade-off: changing the key makes the offsets of future selections unpredictable
     * even to someone who learned the old ones, but the new offset is unrelated to the old sequence, so a
     * hash-based algorithm may pick recently released ports sooner than it would have without the change
     * (for a destination, a port whose previous connection to it has just closed: a 5-tuple reused while the
     * peer may still hold state). {@link Builder#quarantine(java.time.Duration)} removes that risk: a released
     * tuple is not reused for the quarantine's duration, whatever the key. Algorithm 4's and Linux's tables
     * are not reset.
     *
     * <p>Thread-safe and lock-free; it never blocks acquisitions.
     */
    public void rekey() {
        secret.set(seeded ? Secret.derived(seed, secretGeneration.incrementAndGet()) : Secret.random(SecureRandomHolder.INSTANCE));
        RekeyEvent.record(origin, algorithm, seeded);
    }

    /**
     * Acquires a free port of the automatic set minus the reserved set, chosen by the allocator's
     * {@link Algorithm} (uniformly at random by default).
     *
     * @return the port, now held by the caller
     * @throws PortExhaustedException if no such port is free
     */
    public int acquire() {
        return acquiredOrThrow(tryAcquire());
    }

    /** @return {@code port}, an exclusive acquisition's result, unless it is {@link #NONE}: then it throws */
    private int acquiredOrThrow(int port) {
        if (port == NONE) {
            throw exhausted(bitmap.selection(), null);
        }
        return port;
    }

    /** The exception for a failed acquisition from {@code view}, restricted to {@code within} if not null. */
    private PortExhaustedException exhausted(Selection view, PortSet within) {
        final PortSet automatic = within == null ? view.automatic() : view.automatic().intersect(within);
        return new PortExhaustedException(automatic.size(), automatic.intersect(view.reserved()).size(),
            bitmap.heldCount(view));
    }

    /**
     * Counts the outcome of an automatic acquisition in the calling thread's counters; a failure is also a JFR
     * {@code dev.portalloc.PortExhausted} event when that is enabled.
     *
     * @param view the selection of a {@link Subset} view, or null for the allocator's
     * @param d the destination of a connect-style acquisition, or null
     */
    private int counted(ThreadState thread, int port, Selection view, Destination d) {
        if (port == NONE) {
            thread.countFailure();
            PortExhaustedEvent.record(origin, view == null ? algorithm : null, d, bitmap,
                view == null ? bitmap.selection() : view);
        } else {
            thread.countAcquisition();
        }
        return port;
    }

    /**
     * Like {@link #acquire()}, but reports exhaustion by returning {@link #NONE} instead of throwing.
     *
     * @return the port, now held by the caller, or {@link #NONE}
     */
    public int tryAcquire() {
        return tryAcquire(threads.current());
    }

    /** {@link #tryAcquire()} for the calling thread, whose state is {@code thread}. */
    private int tryAcquire(ThreadState thread) {
        final PortSelector sel = selector;
        final FlowTable f = flows;
        if (f != null) {
            f.expireSome();
        }
        if (sel == null && segmentPorts != 0) {
            final int local = probeSegment(thread, null, null);
            if (local != NONE) {
                return counted(thread, local, null, null);
            }
        }
        int port;
        for (;;) {
            final long mark = f == null ? 0L : f.expiryMark();
            port = sel == null ? bitmap.select(thread.random()) : sel.select(context, thread.random());
            if (port != NONE || f == null || !f.expireAllDue(mark)) {
                break; // a port, or nothing even after due quarantine entries (and those being expired) expired
            }
        }
        return counted(thread, port, null, null);
    }

    /**
     * Thread locality ({@link Builder#threadLocality}): a few uniform probes inside the calling thread's current
     * segment of the index space, which it keeps for {@code allocationsPerSegment} calls and then replaces by a
     * uniformly chosen one.
     *
     * @param f the flow layer for a connect-style probe (with {@code d}), or null for an exclusive one
     * @return the claimed port, or {@link #NONE} if the probes missed (the caller falls back to uniform selection)
     */
    private int probeSegment(ThreadState thread, FlowTable f, Destination d) {
        final Selection s = bitmap.selection();
        final int n = s.size();
        if (n == 0) {
            return NONE;
        }
        final RandomSource random = thread.random();
        if (thread.segmentLeft <= 0 || thread.segmentStart >= n) {
            thread.segmentStart = random.nextIndex(n);
            thread.segmentLeft = allocationsPerSegment;
        }
        thread.segmentLeft--;
        final int length = Math.min(segmentPorts, n);
        for (int probe = 0; probe < SEGMENT_PROBES; probe++) {
            int index = thread.segmentStart + random.nextIndex(length);
            if (index >= n) {
                index -= n;
            }
            final int port = s.nth(index);
            random.countProbes(1);
            if (f == null ? bitmap.tryClaim(port)
                : f.tryJoin(port, d) == dev.portalloc.internal.flow.PortShares.JOINED) {
                return port;
            }
        }
        return NONE;
    }

    /**
     * Acquires one specific port, as {@code bind()} to a named port does: any port 1..65535, whether
     * reserved, outside the automatic set or not.
     *
     * @param port 1..65535
     * @return true if the port was free and is now held by the caller; false if it is held
     * @throws IllegalArgumentException if the port is outside 1..65535
     */
    public boolean tryAcquire(int port) {
        checkPort(port);
        final FlowTable f = flows;
        final long mark = f == null ? 0L : f.expiryMark();
        boolean claimed = bitmap.tryClaim(port);
        if (!claimed && f != null && f.expireAllDue(mark)) {
            claimed = bitmap.tryClaim(port);
        }
        if (claimed) {
            threads.current().countAcquisition();
        }
        return claimed;
    }

    /**
     * Releases a held port, making it available again at once.
     *
     * @param port 1..65535
     * @throws IllegalArgumentException if the port is outside 1..65535
     * @throws IllegalStateException if the port is not held (nothing changes)
     */
    public void release(int port) {
        releaseExclusive(port);
        threads.current().countRelease();
    }

    /** {@link #release(int)} without the count (the caller counts it in the calling thread's state). */
    private void releaseExclusive(int port) {
        checkPort(port);
        final FlowTable f = flows;
        if (f == null ? !bitmap.release(port) : !f.releaseExclusive(port)) {
            throw new IllegalStateException(notHeldExclusively(port, f));
        }
    }

    private String notHeldExclusively(int port, FlowTable f) {
        final int state = bitmap.state(port);
        if (state == PortBitmap.SHARED) {
            return "port " + port + " is not held exclusively: it carries connect-style tuples (release them with "
                + "release(port, destination))";
        }
        if (f != null && f.isExclusivelyQuarantined(port)) {
            return "port " + port + " is not held: it was released and is in quarantine";
        }
        return "port " + port + " is not held";
    }

    // ---------------------------------------------------------------------------------------------------------
    // Connect-style allocation

    /**
     * Acquires a local port for a connection to {@code d}, as {@code connect()} on an unbound socket does: a
     * port of the automatic set minus the reserved set that is not held exclusively and whose 5-tuple
     * (protocol, local address, port, {@code d}) is neither live nor quarantined, chosen by the allocator's
     * {@link Algorithm}. The port may be shared with connections to other destinations.
     *
     * @param d the remote address and port (reuse one instance per destination: then, for IPv4, nothing is
     *     allocated)
     * @return the local port; the tuple is live until {@link #release(int, Destination)}
     * @throws PortExhaustedException if no such port exists for {@code d}
     */
    public int acquire(Destination d) {
        return connectedOrThrow(tryAcquire(d), d);
    }

    /** @return {@code port}, a connect-style acquisition's result, unless it is {@link #NONE}: then it throws */
    private int connectedOrThrow(int port, Destination d) {
        if (port == NONE) {
            final Selection s = bitmap.selection();
            throw new PortExhaustedException(s.automatic().size(), s.automatic().intersect(s.reserved()).size(),
                bitmap.heldCount(s), d);
        }
        return port;
    }

    /**
     * Like {@link #acquire(Destination)}, but reports exhaustion by returning {@link #NONE}. It returns
     * {@link #NONE} only if, at some moment during the call, every selectable port was held exclusively or
     * already had a live or quarantined tuple to {@code d} (due quarantine entries are expired first).
     *
     * @param d the remote address and port
     * @return the local port, or {@link #NONE}
     */
    public int tryAcquire(Destination d) {
        return tryAcquire(threads.current(), d);
    }

    /** {@link #tryAcquire(Destination)} for the calling thread, whose state is {@code thread}. */
    private int tryAcquire(ThreadState thread, Destination d) {
        Objects.requireNonNull(d, "d");
        final FlowTable f = flows();
        f.expireSome();
        final PortSelector sel = connectSelector;
        if (sel == null && segmentPorts != 0) {
            final int local = probeSegment(thread, f, d);
            if (local != NONE) {
                return counted(thread, local, null, d);
            }
        }
        final int port;
        if (sel == null) {
            port = f.search(d, thread.random());
        } else {
            final ConnectContext ctx = connectContext(thread).target(bitmap, f, d, thread.random());
            try {
                port = sel.select(ctx, thread.random());
            } finally {
                ctx.clear();
            }
        }
        return counted(thread, port, null, d);
    }

    /**
     * Acquires one specific local port for a connection to {@code d}, as {@code bind()} to a named port with
     * {@code SO_REUSEADDR} followed by {@code connect()} does (NAT port preservation, for instance): any port
     * 1..65535, reserved or not. It succeeds if the port is not held exclusively (nor quarantined so) and the
     * 5-tuple is neither live nor quarantined.
     *
     * @param port 1..65535
     * @param d the remote address and port
     * @return true if the tuple is now live
     * @throws IllegalArgumentException if the port is outside 1..65535
     */
    public boolean tryAcquire(int port, Destination d) {
        checkPort(port);
        Objects.requireNonNull(d, "d");
        final FlowTable f = flows();
        f.expireSome();
        final long mark = f.expiryMark();
        boolean joined = f.join(port, d);
        if (!joined && f.expireAllDue(mark)) {
            joined = f.join(port, d);
        }
        if (joined) {
            threads.current().countAcquisition();
        }
        return joined;
    }

    /**
     * Releases a live tuple. Without quarantine the tuple (and, if it was the port's last, the port) is
     * available again at once; with quarantine the tuple stays unusable for {@code d}, and the port stays
     * unavailable for exclusive use, until the quarantine has passed.
     *
     * @param port 1..65535
     * @param d the remote address and port
     * @throws IllegalArgumentException if the port is outside 1..65535
     * @throws IllegalStateException if the tuple is not live (nothing changes)
     */
    public void release(int port, Destination d) {
        releaseTuple(port, d);
        threads.current().countRelease();
    }

    /** {@link #release(int, Destination)} without the count (the caller counts it in the calling thread's state). */
    private void releaseTuple(int port, Destination d) {
        checkPort(port);
        Objects.requireNonNull(d, "d");
        final FlowTable f = flows;
        if (f == null || !f.release(port, d)) {
            throw new IllegalStateException("no live tuple " + protocol + " " + localText() + ":" + port + " -> " + d);
        }
    }

    /**
     * @param port 1..65535
     * @param d the remote address and port
     * @return whether the tuple (port, {@code d}) is live at the moment of the call (quarantined tuples are not)
     * @throws IllegalArgumentException if the port is outside 1..65535
     */
    public boolean isLive(int port, Destination d) {
        checkPort(port);
        Objects.requireNonNull(d, "d");
        final FlowTable f = flows;
        return f != null && f.isLive(port, d);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Leases: the AutoCloseable form of acquire/release (they allocate; the methods above do not)

    /**
     * Acquires a port as {@link #acquire()} does, held until the lease is closed.
     *
     * @return an open lease of the port
     * @throws PortExhaustedException if no port is free
     * @see PortLease
     */
    public PortLease lease() {
        return leaseOf(acquire(), null);
    }

    /**
     * Acquires a port as {@link #tryAcquire()} does, held until the lease is closed.
     *
     * @return an open lease of the port, or null if no port is free (try-with-resources accepts a null resource)
     * @see PortLease
     */
    public PortLease tryLease() {
        final int port = tryAcquire();
        return port == NONE ? null : leaseOf(port, null);
    }

    /**
     * Acquires a port for a connection to {@code d} as {@link #acquire(Destination)} does, the tuple live until
     * the lease is closed.
     *
     * @param d the remote address and port
     * @return an open connect-style lease
     * @throws PortExhaustedException if no port is left for {@code d}
     * @see PortLease
     */
    public PortLease lease(Destination d) {
        return leaseOf(acquire(d), d);
    }

    /**
     * Acquires a port for a connection to {@code d} as {@link #tryAcquire(Destination)} does, the tuple live until
     * the lease is closed.
     *
     * @param d the remote address and port
     * @return an open connect-style lease, or null if no port is left for {@code d}
     * @see PortLease
     */
    public PortLease tryLease(Destination d) {
        final int port = tryAcquire(d);
        return port == NONE ? null : leaseOf(port, d);
    }

    /**
     * Wraps a port (or tuple) just acquired in a lease; if that fails (leak reporting, memory), releases it again,
     * because nobody else knows it is held.
     */
    private PortLease leaseOf(int port, Destination d) {
        try {
            return new PortLease(this, port, d);
        } catch (Throwable t) {
            try {
                if (d == null) {
                    release(port);
                } else {
                    release(port, d);
                }
            } catch (RuntimeException e) {
                t.addSuppressed(e);
            }
            throw t;
        }
    }

    /** @return the protocol given to the builder (hash input and messages) */
    public Protocol protocol() {
        return protocol;
    }

    /** @return the local address given to the builder */
    public InetAddress localAddress() {
        return localAddress;
    }

    private String localText() {
        final String host = localAddress.getHostAddress();
        return localAddress instanceof Inet4Address ? host : "[" + host + "]";
    }

    /**
     * @return whether the port is held at the moment of the call: exclusively, in exclusive quarantine, or by
     *     at least one live or quarantined connect-style tuple. Quarantine expiry is lazy: a port whose
     *     quarantine has passed still counts as held until an acquisition expires it (every acquisition expires
     *     a few due entries, and one that would otherwise fail expires all of them). Lock-free; a "no" also
     *     increments one counter, shared by all threads, that exhaustion verdicts read (so that no verdict
     *     contradicts it): concurrent "no" answers contend on it, so this is not a call for a tight polling loop.
     * @throws IllegalArgumentException if the port is outside 1..65535
     */
    public boolean isHeld(int port) {
        checkPort(port);
        final boolean held = bitmap.isHeld(port);
        if (!held) {
            final FlowTable f = flows;
            if (f != null) {
                f.afterRelease(); // an observer of a freed port pays what its release may owe a verdict
            }
        }
        return held;
    }

    /**
     * Adds ports to the reserved set: automatic selections that start after this method returns never return
     * them (one already running may). Holders of those ports keep them; explicit {@link #tryAcquire(int)}
     * still works for them.
     *
     * @param ports ports to reserve (any ports 1..65535; reserving a reserved port is a no-op)
     */
    public void reserve(PortSet ports) {
        Objects.requireNonNull(ports, "ports");
        changeReservations("reserve", ports, reserved -> reserved.union(ports));
    }

    /**
     * Removes ports from the reserved set, making those of the automatic set selectable again.
     *
     * @param ports ports to unreserve (ports that are not reserved are ignored)
     */
    public void unreserve(PortSet ports) {
        Objects.requireNonNull(ports, "ports");
        changeReservations("unreserve", ports, reserved -> reserved.minus(ports));
    }

    private void changeReservations(String operation, PortSet ports, java.util.function.UnaryOperator<PortSet> change) {
        synchronized (reservationLock) {
            final Selection s = bitmap.selection();
            final PortSet next = change.apply(s.reserved());
            if (!next.equals(s.reserved())) {
                bitmap.publish(new Selection(s.automatic(), next));
            }
            ReservationChangeEvent.record(origin, operation, ports, s.reserved(), next); // in order of changes
        }
    }

    /**
     * Returns a view of this allocator whose automatic selection is restricted to {@code within}: whatever the
     * allocator's {@link Algorithm}, uniform over
     * the free ports of the automatic set, minus reserved ports, that are also in {@code within}. It is the one
     * mechanism behind parity-preserving allocation (all even or all odd ports, RFC 4787 REQ-4) and port
     * blocks (a subscriber's range of a CGNAT address): keep the subset and reuse it, as building one costs
     * an intersection of port sets.
     *
     * @param within the ports the view may choose from (ports outside the automatic set are never chosen)
     * @return a thread-safe view sharing this allocator's state
     */
    public Subset subset(PortSet within) {
        return new Subset(Objects.requireNonNull(within, "within"));
    }

    /** @return the current reserved set */
    public PortSet reserved() {
        return bitmap.selection().reserved();
    }

    /** @return the automatic-selection set given to the builder */
    public PortSet ports() {
        return bitmap.selection().automatic();
    }

    /**
     * Also reports {@link PortLease}s found leaked since the last lease operation (see {@link PortLease}), so
     * that reading statistics, a metrics scrape for instance, surfaces leaks; this is off the hot path.
     *
     * @return a weakly consistent snapshot of sizes and counters
     */
    public AllocatorStats stats() {
        LeaseLeaks.reportLeaks();
        final Selection s = bitmap.selection();
        final long[] totals = threads.totals();
        final FlowTable f = flows;
        return new AllocatorStats(s.automatic().size(), s.reserved().size(), s.size(), bitmap.heldCount(),
            s.size() - bitmap.heldCount(s), totals[0], totals[1], totals[2], f == null ? 0 : f.liveTuples(),
            f == null ? 0 : f.quarantined(), totals[3]);
    }

    /**
     * A view of a {@link PortAllocator} whose automatic selection is restricted to a set of ports; see
     * {@link PortAllocator#subset(PortSet)}. Ports it acquires are ordinary holdings of the allocator: release
     * them with {@link PortAllocator#release(int)}.
     *
     * <p>Thread-safe and lock-free, like the allocator. The restricted selection is cached and rebuilt (one
     * allocation) only after the allocator's reservations change.
     */
    public final class Subset {
        private final PortSet within;
        /** Rebuilt when the allocator's selection changes; racing rebuilds are harmless (same content). */
        private volatile Selection view;

        private Subset(PortSet within) {
            this.within = within;
            this.view = new Selection(bitmap.selection(), within);
        }

        /** @return the ports this view may choose from, as given */
        public PortSet within() {
            return within;
        }

        /**
         * Acquires a uniformly chosen free port of this view.
         *
         * @return the port, now held by the caller, or {@link PortAllocator#NONE} if none is free
         */
        public int tryAcquire() {
            final ThreadState thread = threads.current();
            final FlowTable f = flows;
            if (f != null) {
                f.expireSome();
            }
            int port;
            for (;;) {
                Selection v = view;
                if (v.base() != bitmap.selection()) {
                    v = new Selection(bitmap.selection(), within);
                    view = v;
                }
                final long mark = f == null ? 0L : f.expiryMark();
                port = bitmap.select(thread.random(), v);
                if (port != PortBitmap.STALE && (port != NONE || f == null || !f.expireAllDue(mark))) {
                    break; // a port, or none even after expiring due quarantine entries
                }
            }
            return counted(thread, port, view, null);
        }

        /**
         * Like {@link #tryAcquire()} but throws when no port of the view is free.
         *
         * @return the port, now held by the caller
         * @throws PortExhaustedException if no port of this view is free
         */
        public int acquire() {
            final int port = tryAcquire();
            if (port == NONE) {
                throw exhausted(view, within);
            }
            return port;
        }

        @Override
        public String toString() {
            return "PortAllocator.Subset[" + within + "]";
        }
    }

    /**
     * Returns the calling thread's {@link Local} handle on this allocator, the same instance on every call from
     * this thread. Obtain it once per thread and keep it where the thread's hot loop can reach it.
     *
     * @return the calling thread's handle
     */
    public Local local() {
        final ThreadState thread = threads.current();
        Object handle = thread.handle();
        if (handle == null) {
            handle = new Local(thread, Thread.currentThread());
            thread.handle(handle);
        }
        return (Local) handle;
    }

    /**
     * A handle on a {@link PortAllocator} for one thread, obtained with {@link PortAllocator#local()}: the
     * allocator's automatic acquisitions and its releases, with the same semantics, guarantees and statistics,
     * minus the look-up of the calling thread's state (its generator and counters) that every call on the
     * allocator itself makes. For a thread that acquires and releases at a high rate (an event loop, a load
     * generator's worker); the allocator's own methods remain the simple way for everybody else.
     *
     * <p>Ports and tuples acquired through a handle are ordinary holdings of the allocator: they may be
     * released through the allocator, or through any thread's handle, from any thread.
     *
     * <p>Thread-safety: confined to the thread that obtained it. Each method first checks that the calling
     * thread is that thread and otherwise throws {@link IllegalStateException} without changing anything; the
     * operations themselves are lock-free and linearizable as on the allocator. A handle keeps a strong
     * reference to its thread; once the thread has ended, the allocator drops its state (and this handle) when
     * the next thread first uses the allocator.
     */
    public final class Local {
        private final ThreadState thread;
        private final Thread owner;

        private Local(ThreadState thread, Thread owner) {
            this.thread = thread;
            this.owner = owner;
        }

        /** @return the allocator this handle acts on */
        public PortAllocator allocator() {
            return PortAllocator.this;
        }

        /**
         * {@link PortAllocator#tryAcquire()} for this handle's thread.
         *
         * @return the port, now held by the caller, or {@link PortAllocator#NONE} if no port is free
         * @throws IllegalStateException if called from another thread
         */
        public int tryAcquire() {
            confined();
            return PortAllocator.this.tryAcquire(thread);
        }

        /**
         * {@link PortAllocator#acquire()} for this handle's thread.
         *
         * @return the port, now held by the caller
         * @throws PortExhaustedException if no port is free
         * @throws IllegalStateException if called from another thread
         */
        public int acquire() {
            return acquiredOrThrow(tryAcquire());
        }

        /**
         * {@link PortAllocator#release(int)} for this handle's thread.
         *
         * @param port 1..65535
         * @throws IllegalArgumentException if the port is outside 1..65535
         * @throws IllegalStateException if the port is not held exclusively, or if called from another thread
         *     (nothing changes)
         */
        public void release(int port) {
            confined();
            releaseExclusive(port);
            thread.countRelease();
        }

        /**
         * {@link PortAllocator#tryAcquire(Destination)} for this handle's thread.
         *
         * @param d the remote address and port
         * @return the local port, or {@link PortAllocator#NONE}
         * @throws IllegalStateException if called from another thread
         */
        public int tryAcquire(Destination d) {
            confined();
            return PortAllocator.this.tryAcquire(thread, d);
        }

        /**
         * {@link PortAllocator#acquire(Destination)} for this handle's thread.
         *
         * @param d the remote address and port
         * @return the local port; the tuple is live until released
         * @throws PortExhaustedException if no port is left for {@code d}
         * @throws IllegalStateException if called from another thread
         */
        public int acquire(Destination d) {
            return connectedOrThrow(tryAcquire(d), d);
        }

        /**
         * {@link PortAllocator#release(int, Destination)} for this handle's thread.
         *
         * @param port 1..65535
         * @param d the remote address and port
         * @throws IllegalArgumentException if the port is outside 1..65535
         * @throws IllegalStateException if the tuple is not live, or if called from another thread (nothing
         *     changes)
         */
        public void release(int port, Destination d) {
            confined();
            releaseTuple(port, d);
            thread.countRelease();
        }

        private void confined() {
            if (Thread.currentThread() != owner) {
                throw new IllegalStateException(misuse());
            }
        }

        private String misuse() {
            return "PortAllocator.Local of thread \"" + owner.getName() + "\" used by thread \""
                + Thread.currentThread().getName() + "\": each thread obtains its own with PortAllocator.local()";
        }

        @Override
        public String toString() {
            return "PortAllocator.Local[thread=" + owner.getName() + ", " + PortAllocator.this + "]";
        }
    }

    private static void checkPort(int port) {
        if (port < MIN_PORT || port > MAX_PORT) {
            throw new IllegalArgumentException("port " + port + " is out of range " + MIN_PORT + ".." + MAX_PORT);
        }
    }

    @Override
    public String toString() {
        final Selection s = bitmap.selection();
        return "PortAllocator[ports=" + s.automatic() + ", reserved=" + s.reserved() + ", held=" + bitmap.heldCount() + "]";
    }

    /**
     * Configures a {@link PortAllocator}. Not thread-safe; {@link #build()} may be called more than once and
     * each allocator is independent.
     */
    public static final class Builder {
        private static final Duration MAX_QUARANTINE = Duration.ofDays(36_500);
        private static final InetAddress WILDCARD = wildcard();

        private static InetAddress wildcard() {
            try {
                return InetAddress.getByAddress(new byte[4]);
            } catch (java.net.UnknownHostException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private PortSet ports = PortSet.IANA_DYNAMIC;
        private PortSet reserved = PortSet.empty();
        private boolean seeded;
        private long seed;
        private Algorithm algorithm = Algorithm.uniform();
        private byte[] secret;
        private Protocol protocol = Protocol.TCP;
        private InetAddress localAddress = WILDCARD;
        private long quarantineNanos;
        private NanoClock clock = new SystemNanoClock();
        private int segmentPorts;
        private int allocationsPerSegment;
        private int tupleBucketBits = FlowTable.tupleBucketBitsFor(FlowTable.DEFAULT_EXPECTED_TUPLES);

        private Builder() {
        }

        /**
         * @param ports the automatic-selection set; default {@link PortSet#IANA_DYNAMIC}
         * @throws IllegalArgumentException if the set is empty
         */
        public Builder ports(PortSet ports) {
            Objects.requireNonNull(ports, "ports");
            if (ports.isEmpty()) {
                throw new IllegalArgumentException("ports must not be empty: automatic selection needs at least one "
                    + "port of 1..65535 (to exclude ports, use reserved(...))");
            }
            this.ports = ports;
            return this;
        }

        /** @param reserved ports never chosen automatically; default empty; may cover the whole automatic set */
        public Builder reserved(PortSet reserved) {
            this.reserved = Objects.requireNonNull(reserved, "reserved");
            return this;
        }

        /**
         * Makes choices deterministic: a single-threaded caller gets the same ports for the same calls.
         * Without a seed, generators are keyed from {@link java.security.SecureRandom}. With a seed, the
         * algorithm's initial state and, unless {@link #secret(byte[])} is given, the secret (and every key
         * {@link PortAllocator#rekey()} installs) derive from the seed too. Use a seed for tests
         * and simulations only: anyone who knows it can predict every port.
         */
        public Builder seed(long seed) {
            this.seeded = true;
            this.seed = seed;
            return this;
        }

        /**
         * @param algorithm the automatic-selection algorithm; default {@link Algorithm#uniform()}. Each allocator
         *     built gets its own algorithm state (counters, table), randomly initialised (from the seed when
         *     seeded).
         * @return this builder
         */
        public Builder algorithm(Algorithm algorithm) {
            this.algorithm = Objects.requireNonNull(algorithm, "algorithm");
            return this;
        }

        /**
         * Sets the 128-bit secret key of the hash-based algorithms (RFC 6056's {@code secret_key}; SipHash-2-4
         * key, bytes 0..7 and 8..15 read little-endian). Default: 16 bytes from {@link SecureRandom}, or, when
         * {@link #seed(long)} is set, a key derived from the seed. The array is copied.
         *
         * @param key16 exactly 16 bytes
         * @return this builder
         * @throws IllegalArgumentException if {@code key16} is not 16 bytes long
         */
        public Builder secret(byte[] key16) {
            Objects.requireNonNull(key16, "key16");
            if (key16.length != 16) {
                throw new IllegalArgumentException("secret must be 16 bytes, but its length is " + key16.length);
            }
            this.secret = key16.clone();
            return this;
        }

        /**
         * @param protocol the protocol of every 5-tuple (hash input of the keyed algorithms, and messages);
         *     default {@link Protocol#TCP}
         * @return this builder
         */
        public Builder protocol(Protocol protocol) {
            this.protocol = Objects.requireNonNull(protocol, "protocol");
            return this;
        }

        /**
         * @param address the local address of every 5-tuple (hash input of the keyed algorithms, and messages);
         *     default the IPv4 wildcard {@code 0.0.0.0}. IPv4 and IPv6 addresses are both accepted; the
         *     allocator does not check that destinations are of the same family.
         * @return this builder
         */
        public Builder localAddress(InetAddress address) {
            this.localAddress = Objects.requireNonNull(address, "address");
            return this;
        }

        /**
         * Sets the quarantine (TIME_WAIT-like reuse delay): a released exclusive port is granted to nobody, and
         * a released tuple (port, d) is not granted again to {@code d}, until {@code duration} has passed on the
         * {@link #clock(NanoClock) clock}; while a port has quarantined tuples it is not granted exclusively
         * either. Expiry is lazy: allocating threads expire due entries (no background thread). Motivating
         * values: Linux's TIME_WAIT of 60 s for a stack that reuses ports towards the same peer, RFC 6888
         * REQ-8's 120 s for a CGNAT's external ports.
         *
         * @param duration zero (the default) for no quarantine, or a positive duration up to 100 years
         * @return this builder
         * @throws IllegalArgumentException if the duration is negative or longer than 100 years
         */
        public Builder quarantine(Duration duration) {
            Objects.requireNonNull(duration, "duration");
            if (duration.isNegative() || duration.compareTo(MAX_QUARANTINE) > 0) {
                throw new IllegalArgumentException("quarantine " + duration + " is out of range PT0S.." + MAX_QUARANTINE);
            }
            this.quarantineNanos = duration.toNanos();
            return this;
        }

        /**
         * @param clock the time source of quarantine expiry and of Linux's 10-second re-salting; default the
         *     system's monotonic clock. A simulator injects its virtual clock here.
         * @return this builder
         */
        public Builder clock(NanoClock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Opt-in thread locality for {@link Algorithm#uniform()}: each thread keeps choosing inside a segment of
         * {@code segmentPorts} consecutive ports of the index space (uniformly within it, a few probes) for
         * {@code allocationsPerSegment} automatic acquisitions, then jumps to a new uniformly chosen segment;
         * when its probes miss, it falls back to uniform selection over all ports.
         *
         * <p>The trade-off: threads then touch mostly their own cache lines of the bitmap, so two threads scale
         * better; but within a segment's lifetime an observer who saw one port of a thread can guess its next
         * ports among {@code segmentPorts} instead of all free ports (the evaluation harness measures both:
         * {@code allocator-jmh/README.md}). Ignored by the other algorithms, which follow their published
         * sequences, and by {@link Subset} views. Default: off.
         *
         * @param segmentPorts ports per segment, 32..65535
         * @param allocationsPerSegment acquisitions before a jump, 1..2^20
         * @return this builder
         * @throws IllegalArgumentException if a value is out of range
         */
        public Builder threadLocality(int segmentPorts, int allocationsPerSegment) {
            if (segmentPorts < 32 || segmentPorts > MAX_PORT) {
                throw new IllegalArgumentException("segmentPorts " + segmentPorts + " is out of range 32.." + MAX_PORT);
            }
            if (allocationsPerSegment < 1 || allocationsPerSegment > 1 << 20) {
                throw new IllegalArgumentException("allocationsPerSegment " + allocationsPerSegment
                    + " is out of range 1.." + (1 << 20));
            }
            this.segmentPorts = segmentPorts;
            this.allocationsPerSegment = allocationsPerSegment;
            return this;
        }

        /**
         * Sizes the connect-style flow layer's IPv4 tuple table for about {@code tuples} live and quarantined
         * tuples at once: 2^k buckets of 64 bytes (7 tuples each), the fewest with at least twice as many slots
         * as {@code tuples} (at least 8 buckets). More tuples still fit: a bucket that fills links to an overflow
         * bucket (allocated on demand, reused as it empties), so nothing fails, but operations on longer chains
         * read more cache lines. Fewer tuples in a smaller table is what makes it fast: each connect-style
         * operation reads one bucket of a random key, and a table that fits the CPU's caches serves it without a
         * miss. Measured with 14,116 live tuples to 10,000 destinations: 106-122 ns per acquire + release with
         * the default 4 MiB table, 98 ns with {@code expectedTuples(28_232)} (512 KiB), 250 ns with
         * {@code expectedTuples(1_000)} (allocator-jmh/README.md). The table is allocated with the flow layer: on the
         * first connect-style call, or at build time with a quarantine. IPv6 tuples live in a map that grows, and
         * are not counted here.
         *
         * @param tuples 1..58,720,256 (2^24 buckets, 1 GiB); default 229,376 (2^16 buckets, 4 MiB)
         * @return this builder
         * @throws IllegalArgumentException if {@code tuples} is out of range
         */
        public Builder expectedTuples(int tuples) {
            this.tupleBucketBits = FlowTable.tupleBucketBitsFor(tuples);
            return this;
        }

        /** @return a new allocator with no port held */
        public PortAllocator build() {
            return new PortAllocator(this);
        }
    }
}
