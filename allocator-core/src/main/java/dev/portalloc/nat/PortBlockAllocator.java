package dev.portalloc.nat;

import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;
import dev.portalloc.internal.random.RandomSource;
import dev.portalloc.internal.thread.ThreadStates;

import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.SystemEpochClock;
import org.jctools.maps.NonBlockingHashMapLong;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Per-subscriber port quotas and port block allocation over an {@link AddressPool}, as a CGN does it
 * (RFC 6888 REQ-4 quotas, REQ-11 fail-closed, REQ-13/14 utilization versus log volume, REQ-15 unguessable
 * ports).
 *
 * <pre>{@code
 * PortBlockAllocator cgn = PortBlockAllocator.builder(AddressPool.builder().external("198.51.100.0/22"))
 *     .blockSize(512)                  // ports 1024-65535 of each address: 126 blocks
 *     .maxBlocksPerSubscriber(4)
 *     .maxPortsPerSubscriber(1500)     // RFC 6888 REQ-4
 *     .listener(blockLog)              // one record per block, not per mapping
 *     .build();
 * long m = cgn.tryAcquire(subscriber);  // a mapping, or EXHAUSTED / QUOTA_EXCEEDED
 * ...
 * cgn.release(subscriber, m);
 * }</pre>
 *
 * <h2>Blocks</h2>
 * The automatic port range of every address, from its first port {@code F}, is cut into aligned blocks of
 * {@code B} consecutive ports: block {@code k} is {@code F + kB .. F + kB + B - 1}, for the
 * {@code floor((last - F + 1) / B)} blocks that fit; the ports of a final partial block are never used. A
 * block may contain reserved ports (or gaps of the automatic set): they are never handed out, and a block
 * with no usable port is never claimed. A subscriber receives a whole block at a time, from its address in
 * the pool (the pool's pairing applies: {@link AddressPool.WhenFull}), and the {@link BlockListener} records
 * (subscriber, address, first..last, time) when the block is claimed and when it is given back. Blocks
 * trade port utilization (ports of a subscriber's blocks are unavailable to others, REQ-13) for log volume
 * (one record per block instead of per mapping, REQ-14); {@code B} sets the balance.
 *
 * <h2>Which block, which port</h2>
 * <ul>
 * <li>A new block is chosen uniformly at random among the free blocks of the address (random probes, then an
 *     exact count-and-select pass over the block bitmap), so block positions do not reveal the subscriber
 *     order.</li>
 * <li>A port is uniform among the free ports of all the subscriber's blocks: a block is drawn with
 *     probability proportional to its free ports, then a port uniformly within it (random candidates, then
 *     a count-and-select pass over the block's bits, counted again if the block changed under it; exactly
 *     uniform when nothing changes concurrently). A new block is claimed only when all the subscriber's
 *     blocks are full.</li>
 * </ul>
 *
 * <h2>Quotas and exhaustion: fail closed</h2>
 * A subscriber holds at most {@code maxPortsPerSubscriber} ports and {@code maxBlocksPerSubscriber} blocks;
 * an acquisition beyond either returns {@link #QUOTA_EXCEEDED}, one that finds no free block on its address
 * (or, with {@link AddressPool.WhenFull#NEXT_ADDRESS}, on any address) returns {@link #EXHAUSTED}. Nothing
 * is ever taken from another subscriber (RFC 6888 REQ-11: do not delete mappings to make room). The verdict
 * "no free block" is exact, not a guess from random probes: a counter of unclaimed blocks was zero at some
 * moment during the call (every block owned or being claimed), and an acquisition that sees ports of its own
 * blocks freed meanwhile tries them again before failing. With {@link AddressPool.WhenFull#NEXT_ADDRESS} the
 * addresses are asked one after another, so each had no free block at some moment, not necessarily all at
 * once. "Every block full" for {@link #QUOTA_EXCEEDED} is read block by block: with the same subscriber
 * acquiring and releasing on other threads at the same time, each block was seen full, not necessarily all
 * of them at one moment (a per-subscriber quota decision, not a linearizable verdict).
 *
 * <h2>Giving blocks back (a choice)</h2>
 * A block is released the moment its last port is released, not kept until some idle timeout. Why: the
 * block returns at once to the other subscribers (REQ-13), the log says exactly when the subscriber stopped
 * using it, and the allocator needs no timer or sweeping thread. The cost is churn for a subscriber that
 * repeatedly goes from one mapping to none: each time a block is logged out and a new one in. Mapping
 * lifetimes bound that churn in practice (UDP mappings live at least two minutes, RFC 4787 REQ-5; TCP ones
 * much longer, RFC 5382), and quarantine of released ports (RFC 6888 REQ-8) is a separate layer.
 *
 * <h2>Port preservation</h2>
 * {@link #tryAcquire(int, int, PortPreservation)} honours a suggested port only inside the subscriber's own
 * blocks (a block belongs to one subscriber, so other ports are not the subscriber's to take). Parity
 * preservation is not offered with blocks.
 *
 * <h2>Thread-safety and cost</h2>
 * Thread-safe; the acquisition and release paths are lock-free (CAS loops on a subscriber word, a block
 * counter, the block bitmap and the port bitmap; the subscriber table is a JCTools
 * {@link NonBlockingHashMapLong} keyed by the subscriber address). They allocate only when a subscriber
 * with no port appears (its state, with one slot per possible block) and when a block is claimed (a small
 * object), never per port. Subscriber state disappears when its last block is released. Measured
 * ({@code PoolFootprint} in {@code allocator-jmh}): 4,096 addresses of 1024-65535 in blocks of 512 with every
 * block owned, by 516,096 subscribers, cost 97.6 MiB, 198 bytes per block with the addresses' port bits and
 * the subscriber state. Queries ({@link #heldPorts}, {@link #blocksInUse}, ...) are
 * weakly consistent. The {@link BlockListener} is called on the acquiring or releasing thread.
 */
public final class PortBlockAllocator {

    /** No port: no free block (and port) on the subscriber's address, or on any address with NEXT_ADDRESS. */
    public static final long EXHAUSTED = -1L;
    /** No port: the subscriber is at its port quota, or at its block quota with every block full. */
    public static final long QUOTA_EXCEEDED = -2L;
    /** No port: {@link PortPreservation#FAIL} and the suggested port was not available. */
    public static final long NOT_PRESERVED = -3L;

    /** Default block size. */
    public static final int DEFAULT_BLOCK_SIZE = 512;
    /** Default number of blocks per subscriber. */
    public static final int DEFAULT_MAX_BLOCKS = 4;
    /** Largest number of blocks per subscriber: each subscriber's state has one slot per possible block. */
    public static final int MAX_BLOCKS_LIMIT = 1024;

    /** Random block probes before the exact pass over the block bitmap. */
    private static final int BLOCK_PROBES = 8;
    /** At the block quota, or with no free block, but ports of the subscriber's blocks were freed: try again. */
    private static final long RETRY_QUOTA = -100L;
    private static final long RETRY_EXHAUSTED = -101L;
    /** Retries of an acquisition whose subscriber is at its block quota while its blocks change. */
    private static final int MAX_ROUNDS = 64;
    /** Passes over a reserved block before giving up on it (each miss means another thread progressed). */
    private static final int RESERVED_PASSES = 64;

    private final AddressPool pool;
    private final int firstPort;
    private final int blockSize;
    private final int blockCount;
    /** Usable (automatic, unreserved) ports per block; 0 = never claimed. */
    private final int[] capacity;
    /** Block bitmap of a fresh address: blocks with no usable port and the bits past the last block set. */
    private final long[] initialOwned;
    private final int initialFree;
    private final int maxPorts;
    private final int maxBlocks;
    private final BlockListener listener;
    private final EpochClock clock;
    private final ThreadStates threads;
    private final AtomicReferenceArray<BlockTable> tables;
    private final NonBlockingHashMapLong<Subscriber> subscribers = new NonBlockingHashMapLong<>();
    private final AtomicLong quotaRejections = new AtomicLong();
    private final AtomicLong exhaustions = new AtomicLong();
    private final AtomicLong unloggedReleases = new AtomicLong();

    private PortBlockAllocator(Builder b, AddressPool pool, int[] capacity, long[] initialOwned, int initialFree) {
        this.pool = pool;
        this.firstPort = pool.ports().first();
        this.blockSize = b.blockSize;
        this.blockCount = capacity.length;
        this.capacity = capacity;
        this.initialOwned = initialOwned;
        this.initialFree = initialFree;
        this.maxBlocks = b.maxBlocks;
        this.maxPorts = b.maxPortsSet ? b.maxPorts : b.maxBlocks * b.blockSize;
        this.listener = b.listener;
        this.clock = b.clock;
        this.threads = pool.threadStates(1);
        this.tables = new AtomicReferenceArray<>(pool.size());
    }

    /**
     * @param pool the configuration of the address pool; the block allocator builds and owns the pool, so that
     *     no port of a block can be handed out past it
     * @return a builder with the defaults (block size {@value #DEFAULT_BLOCK_SIZE}, {@value #DEFAULT_MAX_BLOCKS}
     *     blocks and as many ports per subscriber, no listener, the system clock)
     */
    public static Builder builder(AddressPool.Builder pool) {
        return new Builder(Objects.requireNonNull(pool, "pool"));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Acquisition

    /**
     * Acquires a port for {@code subscriber}: uniformly among the free ports of its blocks, claiming a new block
     * when they are all full.
     *
     * @param subscriber the subscriber's internal IPv4 address
     * @return the mapping (see {@link AddressPool#externalAddress}, {@link AddressPool#externalPort}), or
     *     {@link #QUOTA_EXCEEDED} or {@link #EXHAUSTED}
     */
    public long tryAcquire(int subscriber) {
        return acquire(subscriber, 0, PortPreservation.OFF);
    }

    /**
     * Like {@link #tryAcquire(int)}, but first tries {@code suggestedPort} if it lies in one of the subscriber's
     * blocks (see {@link PortPreservation} for the policies).
     *
     * @param subscriber the subscriber's internal IPv4 address
     * @param suggestedPort 1..65535: the internal source port or a PCP suggested external port
     * @param preservation whether to try the suggestion and what to do if it is unavailable
     * @return the mapping, or {@link #QUOTA_EXCEEDED}, {@link #EXHAUSTED} or (with
     *     {@link PortPreservation#FAIL}) {@link #NOT_PRESERVED}
     * @throws IllegalArgumentException if {@code suggestedPort} is outside 1..65535
     */
    public long tryAcquire(int subscriber, int suggestedPort, PortPreservation preservation) {
        Objects.requireNonNull(preservation, "preservation");
        PortPreservation.checkPort(suggestedPort);
        return acquire(subscriber, suggestedPort, preservation);
    }

    private long acquire(int subscriber, int suggestedPort, PortPreservation preservation) {
        final Subscriber sub = reservePort(subscriber);
        if (sub == null) {
            quotaRejections.incrementAndGet();
            return QUOTA_EXCEEDED;
        }
        long result = EXHAUSTED;
        try {
            result = acquireReserved(sub, suggestedPort, preservation);
        } finally {
            if (result < 0) {
                decrement(sub, 1); // give the quota back, also when the listener threw
            }
        }
        if (result == QUOTA_EXCEEDED) {
            quotaRejections.incrementAndGet();
        } else if (result == EXHAUSTED) {
            exhaustions.incrementAndGet();
        }
        return result;
    }

    /** Counts one more port for the subscriber if it is below its quota; creates its state if needed. */
    private Subscriber reservePort(int subscriber) {
        final long key = Integer.toUnsignedLong(subscriber);
        for (;;) {
            Subscriber sub = subscribers.get(key);
            if (sub == null) {
                final Subscriber fresh = new Subscriber(subscriber, maxBlocks);
                sub = subscribers.putIfAbsent(key, fresh);
                if (sub == null) {
                    sub = fresh;
                }
            }
            for (;;) {
                final long w = sub.word();
                if ((w & Subscriber.DEAD) != 0) {
                    // Its last block was just released: help unlink it and start from a fresh state.
                    subscribers.remove(key, sub);
                    break;
                }
                if (Subscriber.ports(w) >= maxPorts) {
                    return null;
                }
                if (sub.cas(w, w + 1)) {
                    return sub;
                }
            }
        }
    }

    private long acquireReserved(Subscriber sub, int suggestedPort, PortPreservation preservation) {
        final RandomSource random = threads.current().random();
        if (preservation != PortPreservation.OFF) {
            final long preserved = acquireSuggested(sub, suggestedPort);
            if (preserved >= 0) {
                return preserved;
            }
            if (preservation == PortPreservation.FAIL) {
                return NOT_PRESERVED;
            }
        }
        for (int round = 0; ; round++) {
            final long owned = acquireInOwnedBlocks(sub, random);
            if (owned >= 0) {
                return owned;
            }
            final long fresh = acquireInNewBlock(sub, random);
            if (fresh != RETRY_QUOTA && fresh != RETRY_EXHAUSTED) {
                return fresh;
            }
            if (round == MAX_ROUNDS) {
                // Its blocks keep filling up and emptying under us: report what stopped it the last time.
                return fresh == RETRY_QUOTA ? QUOTA_EXCEEDED : EXHAUSTED;
            }
        }
    }

    /** The suggested port, if it is in one of the subscriber's blocks, preservable and free. */
    private long acquireSuggested(Subscriber sub, int port) {
        for (int i = 0; i < maxBlocks; i++) {
            final Block b = sub.blocks.get(i);
            if (b == null || port < b.first || port > b.last || !b.reserve()) {
                continue;
            }
            if (pool.isSelectable(port) && pool.tryClaimAt(b.addressIndex, port)) {
                return pool.mapping(b.addressIndex, port);
            }
            unreserve(sub, b);
        }
        return -1;
    }

    /**
     * A port of one of the subscriber's blocks: a block drawn with probability proportional to its free ports,
     * then a uniform port of it; other blocks in slot order if that one filled up meanwhile.
     */
    private long acquireInOwnedBlocks(Subscriber sub, RandomSource random) {
        final AtomicReferenceArray<Block> blocks = sub.blocks;
        int total = 0;
        for (int i = 0; i < maxBlocks; i++) {
            final Block b = blocks.get(i);
            if (b != null) {
                total += b.free();
            }
        }
        if (total == 0) {
            return -1;
        }
        int r = random.nextIndex(total);
        int start = 0;
        for (int i = 0; i < maxBlocks; i++) {
            final Block b = blocks.get(i);
            if (b != null) {
                final int free = b.free();
                if (r < free) {
                    start = i;
                    break;
                }
                r -= free;
            }
        }
        for (int j = 0; j < maxBlocks; j++) {
            final int i = start + j < maxBlocks ? start + j : start + j - maxBlocks;
            final Block b = blocks.get(i);
            if (b != null && b.reserve()) {
                final int port = selectInReserved(b, random);
                if (port != PortAllocator.NONE) {
                    return pool.mapping(b.addressIndex, port);
                }
                unreserve(sub, b); // only if the block kept changing under every pass
            }
        }
        return -1;
    }

    /** Claims a new block for the subscriber (within its block quota) and acquires a port of it. */
    private long acquireInNewBlock(Subscriber sub, RandomSource random) {
        for (;;) {
            final long w = sub.word();
            if (Subscriber.blocks(w) >= maxBlocks) {
                // At the block quota. If ports were released since the subscriber's blocks looked full, retry.
                return freePorts(sub) > 0 ? RETRY_QUOTA : QUOTA_EXCEEDED;
            }
            if (sub.cas(w, w + Subscriber.BLOCK)) {
                break;
            }
        }
        boolean published = false;
        try {
            final long hash = pool.hash(sub.address);
            final int attempts = pool.attempts();
            for (int attempt = 0; attempt < attempts; attempt++) {
                final int index = pool.candidate(hash, attempt);
                final BlockTable table = table(index);
                final int k = claimBlock(table, random);
                if (k < 0) {
                    continue;
                }
                final Block block = newBlock(index, k);
                boolean logged = false;
                try {
                    // Log before the block is used: a port must never be in use without its block record.
                    listener.blockAllocated(sub.address, pool.addressAt(index), block.first, block.last, clock.time());
                    logged = true;
                } finally {
                    if (!logged) {
                        freeBlock(table, k); // never published, never logged: it simply was not claimed
                    }
                }
                publish(sub, block);
                published = true;
                final int port = selectInReserved(block, random);
                if (port != PortAllocator.NONE) {
                    return pool.mapping(index, port);
                }
                unreserve(sub, block); // only if the block kept changing under every pass: give it back
                return EXHAUSTED;
            }
            // No free block. If ports of the subscriber's own blocks were released meanwhile, use them instead.
            return freePorts(sub) > 0 ? RETRY_EXHAUSTED : EXHAUSTED;
        } finally {
            if (!published) {
                decrement(sub, Subscriber.BLOCK);
            }
        }
    }

    /**
     * A uniformly chosen free port of a block the caller holds a reservation of. The reservation guarantees a
     * free port at every moment of the call (held ports plus reservations never exceed the block's capacity,
     * and only reservations hold its ports), but a pass over a port range is exact only when nothing changes
     * during it: a release into a word shared with another block does not announce itself. So a pass that
     * finds nothing means the block changed under it, another thread made progress, and it counts again.
     * Bounded, so that a broken invariant would fail the acquisition instead of spinning.
     */
    private int selectInReserved(Block b, RandomSource random) {
        for (int pass = 0; pass < RESERVED_PASSES; pass++) {
            final int port = pool.selectIn(b.addressIndex, b.first, b.last, random);
            if (port != PortAllocator.NONE) {
                return port;
            }
        }
        return PortAllocator.NONE;
    }

    private int freePorts(Subscriber sub) {
        int total = 0;
        for (int i = 0; i < maxBlocks; i++) {
            final Block b = sub.blocks.get(i);
            if (b != null) {
                total += b.free();
            }
        }
        return total;
    }

    private Block newBlock(int index, int k) {
        final int first = firstPort + k * blockSize;
        final int last = first + blockSize - 1;
        return new Block(index, k, first, last, capacity[k]);
    }

    /** Puts a new block in a free slot; one exists, since live blocks never outnumber the counted blocks. */
    private void publish(Subscriber sub, Block block) {
        for (;;) {
            for (int i = 0; i < maxBlocks; i++) {
                if (sub.blocks.get(i) == null && sub.blocks.compareAndSet(i, null, block)) {
                    return;
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Release

    /**
     * Releases a mapping of {@code subscriber}; releasing the last port of a block releases the block.
     *
     * @param subscriber the subscriber that acquired the mapping
     * @param mapping the mapping returned by an acquisition
     * @throws IllegalArgumentException if the mapping does not name an address of the pool and a port
     * @throws IllegalStateException if the port is not in one of the subscriber's blocks, or not held
     */
    public void release(int subscriber, long mapping) {
        if (mapping < 0 || mapping > 0xFFFF_FFFF_FFFFL) {
            throw new IllegalArgumentException("mapping " + mapping + " is not an (address, port): expected 0..2^48-1 "
                + "as returned by tryAcquire");
        }
        release(subscriber, AddressPool.externalAddress(mapping), AddressPool.externalPort(mapping));
    }

    /**
     * Releases port {@code port} of external address {@code address}, held by {@code subscriber}.
     *
     * @param subscriber the subscriber that acquired the port
     * @param address the external address, as an int
     * @param port 1..65535
     * @throws IllegalArgumentException if the address is not in the pool or the port is outside 1..65535
     * @throws IllegalStateException if the port is not in one of the subscriber's blocks, or not held (nothing
     *     changes)
     */
    public void release(int subscriber, int address, int port) {
        final int index = pool.indexOrThrow(address);
        AddressPool.checkPort(port);
        final Subscriber sub = subscribers.get(Integer.toUnsignedLong(subscriber));
        final Block block = sub == null ? null : sub.blockContaining(index, port);
        if (block == null) {
            throw new IllegalStateException("port " + port + " of " + Ipv4List.format(address)
                + " is not in a block of subscriber " + Ipv4List.format(subscriber));
        }
        pool.releaseAt(index, port); // IllegalStateException if not held: nothing changed yet
        try {
            unreserve(sub, block);
        } finally {
            decrement(sub, 1); // also when the listener threw: the port is released either way
        }
    }

    /** Gives back one count of the block; the last one retires the block. */
    private void unreserve(Subscriber sub, Block block) {
        if (block.unreserve()) {
            retire(sub, block);
        }
    }

    /** Unlinks a retired block from its subscriber, logs its release and returns it to the free blocks. */
    private void retire(Subscriber sub, Block block) {
        for (int i = 0; i < maxBlocks; i++) {
            if (sub.blocks.compareAndSet(i, block, null)) {
                break;
            }
        }
        boolean logged = false;
        try {
            listener.blockReleased(sub.address, pool.addressAt(block.addressIndex), block.first, block.last,
                clock.time());
            logged = true;
        } finally {
            if (logged) {
                freeBlock(tables.get(block.addressIndex), block.index);
            } else {
                unloggedReleases.incrementAndGet(); // fail closed: never hand out a block whose release is unlogged
            }
            decrement(sub, Subscriber.BLOCK);
        }
    }

    /** Subtracts {@code unit} from the subscriber word; the state dies (and leaves the table) at zero. */
    private void decrement(Subscriber sub, long unit) {
        long w;
        do {
            w = sub.word();
        } while (!sub.cas(w, w - unit));
        if (w - unit == 0 && sub.cas(0, Subscriber.DEAD)) {
            subscribers.remove(Integer.toUnsignedLong(sub.address), sub);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Block tables

    private BlockTable table(int index) {
        BlockTable t = tables.get(index);
        if (t == null) {
            final BlockTable fresh = new BlockTable(initialOwned, initialFree);
            t = tables.compareAndSet(index, null, fresh) ? fresh : tables.get(index);
        }
        return t;
    }

    /**
     * Claims a uniformly chosen free block of the table, or returns -1 if at some moment during the call no
     * block was free. The free counter is the verdict: a claimer first takes one unit of it, so a bit is then
     * guaranteed to be clear for it somewhere, and finding it is a matter of looking.
     */
    private int claimBlock(BlockTable table, RandomSource random) {
        for (;;) {
            final int free = table.free.get();
            if (free == 0) {
                return -1;
            }
            if (table.free.compareAndSet(free, free - 1)) {
                break;
            }
        }
        final AtomicLongArray owned = table.owned;
        for (int probe = 0; probe < BLOCK_PROBES; probe++) {
            final int k = random.nextIndex(blockCount);
            if (setBit(owned, k)) {
                return k;
            }
        }
        final int words = owned.length();
        for (;;) {
            int total = 0;
            for (int w = 0; w < words; w++) {
                total += Long.bitCount(~owned.get(w));
            }
            if (total == 0) {
                continue; // the clear bits moved while we counted; ours is still there
            }
            int r = random.nextIndex(total);
            for (int w = 0; w < words; w++) {
                long clear = ~owned.get(w);
                final int count = Long.bitCount(clear);
                if (r < count) {
                    for (; r > 0; r--) {
                        clear &= clear - 1;
                    }
                    final int k = (w << 6) + Long.numberOfTrailingZeros(clear);
                    if (setBit(owned, k)) {
                        return k;
                    }
                    break; // taken meanwhile: count again
                }
                r -= count;
            }
        }
    }

    private static boolean setBit(AtomicLongArray owned, int k) {
        final int w = k >>> 6;
        final long bit = 1L << k;
        long cur = owned.get(w);
        while ((cur & bit) == 0) {
            final long witness = owned.compareAndExchange(w, cur, cur | bit);
            if (witness == cur) {
                return true;
            }
            cur = witness;
        }
        return false;
    }

    private static void freeBlock(BlockTable table, int k) {
        final int w = k >>> 6;
        final long bit = 1L << k;
        long cur = table.owned.get(w);
        for (;;) {
            final long witness = table.owned.compareAndExchange(w, cur, cur & ~bit);
            if (witness == cur) {
                break;
            }
            cur = witness;
        }
        table.free.incrementAndGet(); // after the bit: a claimer that takes this unit finds the bit clear
    }

    // ---------------------------------------------------------------------------------------------------------
    // Queries

    /**
     * @param subscriber the subscriber's internal IPv4 address
     * @return the ports it holds, counting acquisitions in progress (weakly consistent)
     */
    public int heldPorts(int subscriber) {
        final Subscriber sub = subscribers.get(Integer.toUnsignedLong(subscriber));
        final long w = sub == null ? 0 : sub.word();
        return (w & Subscriber.DEAD) != 0 ? 0 : Subscriber.ports(w);
    }

    /**
     * @param subscriber the subscriber's internal IPv4 address
     * @return the blocks it holds, counting claims and releases in progress (weakly consistent)
     */
    public int heldBlocks(int subscriber) {
        final Subscriber sub = subscribers.get(Integer.toUnsignedLong(subscriber));
        final long w = sub == null ? 0 : sub.word();
        return (w & Subscriber.DEAD) != 0 ? 0 : Subscriber.blocks(w);
    }

    /** @return subscribers that hold a port or a block, roughly (weakly consistent) */
    public int activeSubscribers() {
        return subscribers.size();
    }

    /** @return blocks owned on all addresses, including those kept out after an unlogged release */
    public long blocksInUse() {
        long inUse = 0;
        for (int i = 0; i < tables.length(); i++) {
            final BlockTable t = tables.get(i);
            if (t != null) {
                inUse += initialFree - t.free.get();
            }
        }
        return inUse;
    }

    /** @return acquisitions that returned {@link #QUOTA_EXCEEDED} */
    public long quotaRejections() {
        return quotaRejections.get();
    }

    /** @return acquisitions that returned {@link #EXHAUSTED} */
    public long exhaustions() {
        return exhaustions.get();
    }

    /** @return blocks kept out of use because their {@link BlockListener#blockReleased} threw */
    public long unloggedReleases() {
        return unloggedReleases.get();
    }

    /** @return the external address of {@code subscriber}'s blocks (with FAIL; the first choice otherwise) */
    public int externalFor(int subscriber) {
        return pool.externalFor(subscriber);
    }

    /** @return the number of external addresses */
    public int addresses() {
        return pool.size();
    }

    /**
     * @param index 0..addresses()-1
     * @return the external address at that position, as an int
     */
    public int addressAt(int index) {
        return pool.addressAt(index);
    }

    /** @return ports per block */
    public int blockSize() {
        return blockSize;
    }

    /** @return blocks per external address (including any with no usable port) */
    public int blocksPerAddress() {
        return blockCount;
    }

    /** @return the first port of block 0 of every address */
    public int firstBlockPort() {
        return firstPort;
    }

    /** @return the port quota per subscriber */
    public int maxPortsPerSubscriber() {
        return maxPorts;
    }

    /** @return the block quota per subscriber */
    public int maxBlocksPerSubscriber() {
        return maxBlocks;
    }

    /** @return the pool's policy when a subscriber's address has no free block */
    public AddressPool.WhenFull whenFull() {
        return pool.whenFull();
    }

    /** The pool this allocator owns (tests). */
    AddressPool pool() {
        return pool;
    }

    @Override
    public String toString() {
        return "PortBlockAllocator[" + pool.describe() + ", " + blockCount + " blocks of " + blockSize + " ports from "
            + firstPort + ", per subscriber " + maxPorts + " ports / " + maxBlocks + " blocks, whenFull="
            + pool.whenFull() + "]";
    }

    // ---------------------------------------------------------------------------------------------------------
    // State

    /** One address's block ownership: a bit per block, and the number of clear bits not yet claimed. */
    private static final class BlockTable {
        final AtomicLongArray owned;
        final AtomicInteger free;

        BlockTable(long[] initial, int free) {
            this.owned = new AtomicLongArray(initial); // copies
            this.free = new AtomicInteger(free);
        }
    }

    /** A block owned by a subscriber: its ports, and a count of held plus reserved ports. */
    private static final class Block {
        private static final VarHandle COUNT;
        /** The count of a released block: no port may be reserved in it any more. */
        private static final int RETIRED = -1;

        static {
            try {
                COUNT = MethodHandles.lookup().findVarHandle(Block.class, "count", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final int addressIndex;
        final int index;
        final int first;
        final int last;
        final int capacity;
        /** Held ports plus reservations in progress (never below the held ports); RETIRED at the end. */
        @SuppressWarnings("unused") // accessed through COUNT
        private volatile int count = 1; // the claimer's reservation

        Block(int addressIndex, int index, int first, int last, int capacity) {
            this.addressIndex = addressIndex;
            this.index = index;
            this.first = first;
            this.last = last;
            this.capacity = capacity;
        }

        /** Reserves one port of capacity; fails if the block is full or released. */
        boolean reserve() {
            int c = (int) COUNT.getVolatile(this);
            while (c >= 0 && c < capacity) {
                final int witness = (int) COUNT.compareAndExchange(this, c, c + 1);
                if (witness == c) {
                    return true;
                }
                c = witness;
            }
            return false;
        }

        /** Gives back one reservation; returns true if that was the last one and this call retired the block. */
        boolean unreserve() {
            int c = (int) COUNT.getVolatile(this);
            for (;;) {
                final int next = c == 1 ? RETIRED : c - 1;
                final int witness = (int) COUNT.compareAndExchange(this, c, next);
                if (witness == c) {
                    return next == RETIRED;
                }
                c = witness;
            }
        }

        /** @return ports neither held nor reserved (0 once released) */
        int free() {
            final int c = (int) COUNT.getVolatile(this);
            return c < 0 ? 0 : capacity - c;
        }
    }

    /** One subscriber: its counts in one word, and its blocks. */
    private static final class Subscriber {
        private static final VarHandle WORD;
        static final long PORT_MASK = 0xFFFF_FFFFL;
        /** One block in the word: bits 32..61 count blocks. */
        static final long BLOCK = 1L << 32;
        /** Set once the state has no port and no block left and is leaving the table. */
        static final long DEAD = 1L << 62;

        static {
            try {
                WORD = MethodHandles.lookup().findVarHandle(Subscriber.class, "word", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final int address;
        final AtomicReferenceArray<Block> blocks;
        /** Ports (held or being acquired) in bits 0..31, blocks (owned or being claimed) in bits 32..61, DEAD. */
        @SuppressWarnings("unused") // accessed through WORD
        private volatile long word;

        Subscriber(int address, int maxBlocks) {
            this.address = address;
            this.blocks = new AtomicReferenceArray<>(maxBlocks);
        }

        long word() {
            return (long) WORD.getVolatile(this);
        }

        boolean cas(long expected, long next) {
            return WORD.compareAndSet(this, expected, next);
        }

        static int ports(long word) {
            return (int) (word & PORT_MASK);
        }

        static int blocks(long word) {
            return (int) ((word & ~DEAD) >>> 32);
        }

        Block blockContaining(int addressIndex, int port) {
            for (int i = 0; i < blocks.length(); i++) {
                final Block b = blocks.get(i);
                if (b != null && b.addressIndex == addressIndex && port >= b.first && port <= b.last) {
                    return b;
                }
            }
            return null;
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Builder

    /** Configures a {@link PortBlockAllocator}. Not thread-safe; each {@link #build()} makes an independent one. */
    public static final class Builder {
        private final AddressPool.Builder pool;
        private int blockSize = DEFAULT_BLOCK_SIZE;
        private int maxBlocks = DEFAULT_MAX_BLOCKS;
        private int maxPorts;
        private boolean maxPortsSet;
        private BlockListener listener = BlockListener.NONE;
        private EpochClock clock = SystemEpochClock.INSTANCE;

        private Builder(AddressPool.Builder pool) {
            this.pool = pool;
        }

        /**
         * @param blockSize ports per block; checked by {@link #build()}: 1 up to the size of the automatic range
         *     (its first to last port)
         * @return this builder
         */
        public Builder blockSize(int blockSize) {
            this.blockSize = blockSize;
            return this;
        }

        /**
         * @param maxBlocks the block quota per subscriber; checked by {@link #build()}: 1..{@value #MAX_BLOCKS_LIMIT}
         * @return this builder
         */
        public Builder maxBlocksPerSubscriber(int maxBlocks) {
            this.maxBlocks = maxBlocks;
            return this;
        }

        /**
         * @param maxPorts the port quota per subscriber (RFC 6888 REQ-4); default {@code maxBlocks × blockSize};
         *     checked by {@link #build()}: 1..maxBlocks × blockSize (more could never be reached)
         * @return this builder
         */
        public Builder maxPortsPerSubscriber(int maxPorts) {
            this.maxPorts = maxPorts;
            this.maxPortsSet = true;
            return this;
        }

        /**
         * @param listener receives block allocations and releases; default {@link BlockListener#NONE}
         * @return this builder
         */
        public Builder listener(BlockListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * @param clock the time of block events; default {@link SystemEpochClock#INSTANCE}
         * @return this builder
         */
        public Builder clock(EpochClock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Builds the pool and the block allocator over it.
         *
         * @return the allocator; no address's port bits or block table are built yet
         * @throws IllegalArgumentException if the pool configuration is invalid, asks for parity preservation, or
         *     a block parameter is out of range (the message names the value and the allowed range)
         */
        public PortBlockAllocator build() {
            final AddressPool built = pool.build();
            if (built.preservesParity()) {
                throw new IllegalArgumentException("parity preservation is not supported with port blocks; "
                    + "build the pool without preserveParity(true)");
            }
            final PortSet ports = built.ports();
            final int first = ports.first();
            final int span = ports.last() - first + 1;
            if (blockSize < 1 || blockSize > span) {
                throw new IllegalArgumentException("blockSize " + blockSize + " is out of range 1.." + span
                    + " (the automatic ports " + first + ".." + ports.last() + ")");
            }
            if (maxBlocks < 1 || maxBlocks > MAX_BLOCKS_LIMIT) {
                throw new IllegalArgumentException("maxBlocksPerSubscriber " + maxBlocks + " is out of range 1.."
                    + MAX_BLOCKS_LIMIT);
            }
            final long reachable = (long) maxBlocks * blockSize;
            if (maxPortsSet && (maxPorts < 1 || maxPorts > reachable)) {
                throw new IllegalArgumentException("maxPortsPerSubscriber " + maxPorts + " is out of range 1.."
                    + reachable + " (maxBlocksPerSubscriber " + maxBlocks + " x blockSize " + blockSize + ")");
            }
            if (!maxPortsSet && reachable > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("maxBlocksPerSubscriber " + maxBlocks + " x blockSize " + blockSize
                    + " = " + reachable + " ports exceeds " + Integer.MAX_VALUE + "; set maxPortsPerSubscriber");
            }
            final PortSet selectable = ports.minus(built.reserved());
            final int count = span / blockSize;
            final int[] capacity = new int[count];
            final long[] owned = new long[(count + 63) >>> 6];
            int free = 0;
            for (int k = 0; k < count; k++) {
                final int lo = first + k * blockSize;
                capacity[k] = selectable.rank(lo + blockSize) - selectable.rank(lo);
                if (capacity[k] == 0) {
                    owned[k >>> 6] |= 1L << k; // nothing to hand out: never claimed
                } else {
                    free++;
                }
            }
            for (int k = count; k < owned.length * 64; k++) {
                owned[k >>> 6] |= 1L << k;
            }
            if (free == 0) {
                throw new IllegalArgumentException("no block of " + blockSize + " ports from " + first
                    + " contains a usable port (ports " + ports + ", reserved " + built.reserved() + ")");
            }
            return new PortBlockAllocator(this, built, capacity, owned, free);
        }
    }
}
