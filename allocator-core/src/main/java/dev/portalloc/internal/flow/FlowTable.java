package dev.portalloc.internal.flow;

import dev.portalloc.Destination;
import dev.portalloc.internal.bitmap.PortBitmap;
import dev.portalloc.internal.bitmap.Selection;
import dev.portalloc.internal.jfr.Origin;
import dev.portalloc.internal.jfr.QuarantineExpiryEvent;
import dev.portalloc.internal.random.IndexSource;
import org.agrona.concurrent.NanoClock;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The flow layer of one allocator: connect-style tuples on SHARED ports, the quarantine of released tuples
 * and exclusive ports, and the uniform, complete selection of a port for a destination.
 *
 * <h2>Joining a port for a destination ({@code check_suitable_port})</h2>
 * {@link #tryJoin}: the tuple is reserved in the {@link TupleTable} (PENDING: no other insert of it can
 * succeed; a used tuple or another insert in flight ends the attempt here), then {@link PortShares#join}
 * adds a user to the port (making a FREE port SHARED, or refusing an exclusive one): that step is the
 * linearization point of a successful join, and the tuple is then committed LIVE; a refused join cancels the
 * reservation. Readers that need a definite answer about a PENDING tuple wait for its commit or cancel, so
 * nobody can see the port SHARED for a tuple that is then withdrawn (an earlier order, port first, let an
 * exclusive claim fail on a port whose join then lost its tuple). A tuple in the table therefore always has its user counted, so a port
 * with live or quarantined tuples stays SHARED, and an exclusive claim (which needs a FREE word) can never
 * take it; a port held exclusively is never joined because {@code join} only turns FREE words SHARED.
 *
 * <h2>Releasing</h2>
 * Without quarantine, {@link #release} removes the live tuple (linearization point) and then leaves the
 * port. With quarantine it replaces LIVE by QUARANTINED (the tuple stays unusable for that destination and
 * the port stays SHARED) and queues the expiry; the expiring thread later removes the tuple and leaves the
 * port. Exclusive releases with quarantine keep the port held in the bitmap ({@link PortShares}).
 *
 * <h2>The exhaustion verdict for a destination</h2>
 * {@link #search} probes uniformly first, then lists every candidate (selectable, not held exclusively,
 * tuple unused) and tries them in random order. If none is left it must decide "nothing suitable"
 * although ports and tuples are read one after another. Verdict passes announce themselves in
 * {@code scanners} before reading and check a release {@code epoch} after; every operation that makes a port
 * suitable again (a tuple removed, an exclusive port freed) reads {@code scanners} after its freeing step
 * and, only if a verdict pass is running, increments the epoch. These are volatile accesses (sequentially
 * consistent), so a release that lands behind the pass either sees the announcement and moves the epoch
 * (the pass retries) or has not returned when the verdict returns (the verdict linearizes before it).
 * Operations that observe a freed state pay the increment the same way before they return: {@link #isLive},
 * refused releases, and successful joins (a join shows the port not held exclusively, which an exclusive
 * release still owing its increment may have made so). The cost outside verdicts is one read per release and
 * per join of a counter that only verdicts write. As for {@code PortBitmap}'s rule 8, this store-then-load
 * handshake also relies on the announcement being a full fence and the pass's reads (acquire) not moving
 * before it, as HotSpot compiles them.
 *
 * <p>Thread-safety: thread-safe; joins, releases and expiry are lock-free, with the exceptions documented in
 * {@link PortShares} (a verdict whose last candidates are mid-transition waits for one store) and
 * {@link QuarantineQueue} (one drainer at a time, never waiting).
 */
public final class FlowTable {
    /** Uniform probes before the exhaustive candidate list. */
    static final int PROBES = 16;
    /** {@link #tryJoin} result: the tuple is already live or quarantined. */
    public static final int USED = 3;
    /** Probes (of {@link #PROBES}, all failed) that hit the destination's own tuples before it is made hot. */
    public static final int PROMOTE_AFTER = 12;
    /** Lost joins (the port went to another caller) on a hot destination's hint before the exhaustive pass. */
    static final int HOT_ATTEMPTS = 4;
    /** Quarantined entries expired per allocation at most (the verdict expires all due ones). */
    static final int EXPIRE_PER_CALL = 4;
    /** Queue reference of an exclusive port's quarantine entry (the key is the port). */
    private static final Object EXCLUSIVE = new Object();

    private final PortBitmap bitmap;
    private final PortShares shares;
    private final TupleTable tuples;
    private final HotDestinations hot = new HotDestinations();
    private final QuarantineQueue quarantine;
    private final NanoClock clock;
    /** The allocator, for JFR events. */
    private final Origin origin;
    private final AtomicInteger scanners = new AtomicInteger();
    private final AtomicLong epoch = new AtomicLong();
    private final LongAdder quarantinedTuples = new LongAdder();
    /** Entries expired so far: written only on expiry, read before attempts that may retry after expiry. */
    private final AtomicLong expired = new AtomicLong();
    private final QuarantineQueue.Expiry expiry = this::expire;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** A thread's work arrays for searches (shared by all flow tables; one lookup per search). */
    private static final class Scratch {
        final int[] candidates = new int[PortBitmap.MAX_PORT + 1];
        final int[] blockEstimates = new int[PortBitmap.BLOCKS];
    }

    /** Expected live and quarantined IPv4 tuples of the default tuple table: 2^16 buckets of 64 bytes (4 MiB). */
    public static final int DEFAULT_EXPECTED_TUPLES = Ipv4TupleTable.DEFAULT_EXPECTED_TUPLES;
    /** Most expected tuples {@link #tupleBucketBitsFor} accepts (2^24 buckets, 1 GiB). */
    public static final int MAX_EXPECTED_TUPLES = Ipv4TupleTable.MAX_EXPECTED_TUPLES;

    /**
     * Sizes the IPv4 tuple table for {@code expectedTuples} live and quarantined tuples at once: the fewest main
     * buckets (a power of two, at least 8) with at least twice as many slots, so that chains rarely overflow.
     *
     * @param expectedTuples 1..{@value #MAX_EXPECTED_TUPLES}
     * @return log2 of the main buckets
     * @throws IllegalArgumentException if {@code expectedTuples} is out of range
     */
    public static int tupleBucketBitsFor(int expectedTuples) {
        return Ipv4TupleTable.bucketBitsFor(expectedTuples);
    }

    /**
     * @param bitmap the allocator's bitmap
     * @param quarantineNanos quarantine duration; 0 for none
     * @param clock the time source of quarantine expiry
     * @param salt random bits for the tuple table's key mixer
     */
    public FlowTable(PortBitmap bitmap, long quarantineNanos, NanoClock clock, long salt) {
        this(bitmap, quarantineNanos, clock, salt, Origin.UNKNOWN);
    }

    /**
     * As {@link #FlowTable(PortBitmap, long, NanoClock, long)}, naming the allocator in JFR events.
     *
     * @param origin the allocator's protocol and local address
     */
    public FlowTable(PortBitmap bitmap, long quarantineNanos, NanoClock clock, long salt, Origin origin) {
        this(bitmap, quarantineNanos, clock, salt, Ipv4TupleTable.DEFAULT_BUCKET_BITS, origin);
    }

    /**
     * As {@link #FlowTable(PortBitmap, long, NanoClock, long)} with an IPv4 tuple table of
     * {@code 2^tupleBucketBits} buckets (tests build many small flow layers).
     */
    FlowTable(PortBitmap bitmap, long quarantineNanos, NanoClock clock, long salt, int tupleBucketBits) {
        this(bitmap, quarantineNanos, clock, salt, tupleBucketBits, Origin.UNKNOWN);
    }

    /**
     * As {@link #FlowTable(PortBitmap, long, NanoClock, long, Origin)} with an IPv4 tuple table of
     * {@code 2^tupleBucketBits} main buckets (see {@link #tupleBucketBitsFor}).
     *
     * @throws IllegalArgumentException if {@code tupleBucketBits} is outside 3..24
     */
    public FlowTable(PortBitmap bitmap, long quarantineNanos, NanoClock clock, long salt, int tupleBucketBits,
                     Origin origin) {
        this.bitmap = bitmap;
        this.tuples = new TupleTable(salt, tupleBucketBits);
        this.shares = new PortShares(bitmap);
        this.origin = origin;
        this.quarantine = quarantineNanos > 0 ? new QuarantineQueue(quarantineNanos, origin) : null;
        this.clock = clock;
    }

    /** @return the time source */
    public NanoClock clock() {
        return clock;
    }

    /**
     * RFC 6056's {@code check_suitable_port} for a destination: joins the port if it is not held exclusively
     * and the tuple is unused.
     *
     * @return {@link PortShares#JOINED} (the tuple is now live), {@link PortShares#UNSUITABLE} (held
     *     exclusively), {@link #USED} (the tuple is live or quarantined) or {@link PortShares#BUSY} (the port
     *     is mid-transition)
     */
    public int tryJoin(int port, Destination d) {
        return tryJoin(port, d, hot.get(d));
    }

    /**
     * @param d a destination
     * @return its port hint if it is hot, else null (then its ports are found only through the tuple table)
     */
    public DestinationPorts hint(Destination d) {
        return hot.get(d);
    }

    /**
     * {@link #tryJoin(int, Destination)} with the destination's hint already looked up: a caller that tries many
     * ports for one destination looks it up once ({@link #hint}); null if it was not hot then.
     */
    public int tryJoin(int port, Destination d, DestinationPorts hint) {
        return tryJoin(port, d, hint, true);
    }

    /**
     * @param readFirst whether to read the tuple before reserving it: worth it where used tuples are likely, not
     *     for a uniform probe of a destination that is not hot (then the tuple is nearly always unused)
     */
    private int tryJoin(int port, Destination d, DestinationPorts hint, boolean readFirst) {
        // Read before reserving: a used tuple is then refused without a claim and a withdrawal in the table
        // (the RFC sequences try many used tuples in a row for a destination that holds many ports). An unused
        // one costs the read, a key mix and a scan of the bucket that the reservation repeats: measured 6 % of
        // a uniform acquire + release to many destinations (allocator-jmh README, 2026-12-07 evening). Either
        // way the outcome is the same: the reservation reports a used tuple as PRESENT.
        if (readFirst && tuples.isUsed(port, d)) {
            if (hint != null) {
                repair(port, d, hint);
            }
            return USED;
        }
        // Reserve the tuple first (unique from here on), then join the port: the join is the linearization
        // point, so no one sees the port SHARED for a tuple that might still fail.
        final int reserved = tuples.reserve(port, d);
        if (reserved < 0) {
            return reserved == TupleTable.PRESENT ? USED : PortShares.BUSY;
        }
        final int joined = shares.join(port);
        if (joined != PortShares.JOINED) {
            tuples.cancel(port, d, reserved);
            return joined;
        }
        tuples.commit(port, d, reserved);
        if (hint != null) {
            hint.set(port); // after the commit: a set bit means a used port (up to a racing release)
        }
        // The join saw the port not held exclusively, a state an exclusive release may have made without having
        // paid its increment yet: pay it as any observer of a freed state does (the join does not make the port
        // unsuitable for other destinations).
        afterRelease();
        return PortShares.JOINED;
    }

    /** A used port found unmarked in a hot destination's hint: mark it, unless a release just removed it. */
    private void repair(int port, Destination d, DestinationPorts hint) {
        hint.set(port);
        if (!tuples.isUsed(port, d)) {
            hint.clear(port);
        }
    }

    /** After a tuple of {@code d} was removed: unmark it in the hint; the last unmark demotes the destination. */
    private void unmark(int port, Destination d) {
        final DestinationPorts hint = hot.get(d);
        if (hint != null && hint.clear(port) == 0) {
            hot.demote(d, hint);
        }
    }

    /**
     * Joins one specific port for a destination, waiting out a transition in progress.
     *
     * @return true if the tuple is now live
     */
    public boolean join(int port, Destination d) {
        for (;;) {
            final int r = tryJoin(port, d);
            if (r != PortShares.BUSY) {
                return r == PortShares.JOINED;
            }
            Thread.onSpinWait();
        }
    }

    /**
     * Releases a live tuple: at once, or into quarantine.
     *
     * @return false (and no change) if the tuple was not live
     */
    public boolean release(int port, Destination d) {
        if (quarantine == null) {
            if (!tuples.removeLive(port, d)) {
                afterRelease(); // refused: it saw the tuple unused, as isLive reports, and pays like it
                return false;
            }
            unmark(port, d);
            shares.leave(port);
            afterRelease();
            return true;
        }
        if (!tuples.quarantine(port, d)) {
            afterRelease(); // refused: as above
            return false;
        }
        quarantinedTuples.increment();
        final long now = clock.nanoTime();
        if (d.isIpv4()) {
            quarantine.offer(now, TupleTable.ipv4Key(port, d), null);
        } else {
            quarantine.offer(now, port, TupleTable.ipv6Key(port, d));
        }
        return true;
    }

    /**
     * Releases an exclusively held port: at once, or into quarantine.
     *
     * @return false (and no change) if the port was not held exclusively (or is already quarantined)
     */
    public boolean releaseExclusive(int port) {
        if (quarantine == null) {
            if (!bitmap.release(port)) {
                afterRelease(); // refused: it may have seen the port free, and pays as an observer of that
                return false;
            }
            afterRelease();
            return true;
        }
        if (!shares.quarantineExclusive(port)) {
            afterRelease(); // refused: as above
            return false;
        }
        quarantine.offer(clock.nanoTime(), port, EXCLUSIVE);
        return true;
    }

    /** After a port or tuple became usable again: pay an epoch increment if a verdict pass is running. */
    public void afterRelease() {
        if (scanners.get() != 0) {
            epoch.incrementAndGet();
        }
    }

    private void expire(long key, Object ref) {
        if (ref == EXCLUSIVE) {
            shares.expireExclusive((int) key);
        } else {
            final boolean removed = ref == null ? tuples.expireIpv4(key) : tuples.expireIpv6((TupleTable.Ipv6Tuple) ref);
            if (!removed) {
                throw new AssertionError("quarantined tuple vanished: " + (ref == null ? Long.toHexString(key) : ref));
            }
            quarantinedTuples.decrement();
            final int port = ref == null ? TupleTable.portOf(key) : ((TupleTable.Ipv6Tuple) ref).localPort();
            if (hot.size() != 0) {
                final TupleTable.Ipv6Tuple t = (TupleTable.Ipv6Tuple) ref;
                unmark(port, ref == null ? Destination.ipv4((int) (key >>> 32), (int) (key >>> 16) & 0xFFFF)
                    : Destination.ipv6(t.high(), t.low(), t.remotePort())); // allocates only while a destination is hot
            }
            shares.leave(port);
        }
        expired.incrementAndGet(); // before the drainer's flag is cleared: see expireAllDue
        afterRelease();
    }

    /** Expires a few due quarantine entries (an allocating thread's share of the lazy work). */
    public void expireSome() {
        final QuarantineQueue q = quarantine;
        if (q != null && !q.isEmpty()) {
            q.drain(clock.nanoTime(), EXPIRE_PER_CALL, expiry);
        }
    }

    /**
     * @return a mark for {@link #expireAllDue(long)}: read it before an attempt that due quarantine entries
     *     could make fail
     */
    public long expiryMark() {
        return expired.get();
    }

    /**
     * Expires every due entry, waiting for a concurrent drainer to finish first (also one that has already
     * taken the last entries off the queue but not finished expiring them).
     *
     * @param mark {@link #expiryMark()} read before the caller's failed attempt
     * @return whether any entry finished expiring since {@code mark}, by this thread or another: then the
     *     attempt is worth repeating. After this method returns, every entry that was due when it was called
     *     has expired, except one queued behind a later one (a release that read the clock before another but
     *     queued its entry after it, or a clock that went back): {@link QuarantineQueue} expires it late, with
     *     the entry before it, never early. Such a tuple is still quarantined, hence not suitable, so the
     *     verdict stays right about the quarantine as it stands.
     */
    public boolean expireAllDue(long mark) {
        final QuarantineQueue q = quarantine;
        if (q == null) {
            return false;
        }
        // Empty and idle: nothing due. The order matters: a drainer takes the flag before it empties the queue.
        if (!q.isEmpty() || q.isDraining()) {
            final QuarantineExpiryEvent pass = QuarantineExpiryEvent.startPass(); // JFR; null while it is off
            int done;
            while ((done = q.drain(clock.nanoTime(), Integer.MAX_VALUE, expiry)) < 0) {
                Thread.onSpinWait();
            }
            QuarantineExpiryEvent.endPass(pass, origin, done, q);
        }
        return expired.get() != mark;
    }

    /** @return whether the tuple is live; seeing it unused pays the epoch increment a release may owe */
    public boolean isLive(int port, Destination d) {
        final boolean live = tuples.isLive(port, d);
        if (!live) {
            afterRelease();
        }
        return live;
    }

    /** @return whether the port is in exclusive quarantine */
    public boolean isExclusivelyQuarantined(int port) {
        return shares.isExclusivelyQuarantined(port);
    }

    /**
     * Uniform selection of a suitable port of the current selection for {@code d}, joined for it: each port
     * that is selectable, not held exclusively and has no live or quarantined tuple to {@code d} is equally
     * likely.
     *
     * @return the port, or {@link PortBitmap#NONE} if at some moment during the call no port was suitable
     */
    public int search(Destination d, IndexSource random) {
        final DestinationPorts hint = hot.get(d);
        if (hint != null) {
            return searchHot(d, hint, random);
        }
        final Selection s = bitmap.selection();
        final int n = s.size();
        if (n > 0) {
            int used = 0;
            for (int probe = 0; probe < PROBES; probe++) {
                final int port = s.nth(random.nextIndex(n));
                random.countProbes(1);
                final int r = tryJoin(port, d, null, false);
                if (r == PortShares.JOINED) {
                    return port;
                }
                used += r == USED ? 1 : 0;
            }
            if (used >= PROMOTE_AFTER) {
                return searchHot(d, promote(d, random), random);
            }
        }
        return searchExhaustively(d, random);
    }

    /**
     * Makes {@code d} hot (if it is not already): the creating thread marks the ports it already uses, one
     * tuple lookup per joinable port of the selection, once. Selection calls it when a call's candidates keep
     * hitting the destination's own tuples ({@link #PROMOTE_AFTER} of them).
     *
     * @param tally where the lookups are counted
     * @return the destination's hint
     */
    public DestinationPorts promote(Destination d, IndexSource tally) {
        final DestinationPorts existing = hot.get(d);
        if (existing != null) {
            return existing;
        }
        final DestinationPorts hint = hot.promote(d);
        final Selection s = bitmap.selection();
        tally.countProbes(s.lastWord() - s.firstWord() + 1);
        for (int w = s.firstWord(); w <= s.lastWord(); w++) {
            long bits = joinable(s, w);
            tally.countProbes(Long.bitCount(bits));
            while (bits != 0) {
                final int port = w * PortBitmap.PORTS_PER_WORD + Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                if (tuples.isUsed(port, d)) {
                    repair(port, d, hint);
                }
            }
        }
        return hint;
    }

    /**
     * Selection for a hot destination: probes that skip its marked ports, then rank/select with rejection over
     * per-block estimates of the ports it may use (the bitmap's free bound + SHARED - marked: never below the
     * candidates when nothing is in flight) and the words of one block. Uniform over the suitable ports when the
     * hint is exact; the exhaustive pass remains the backstop and the only source of the verdict.
     */
    private int searchHot(Destination d, DestinationPorts hint, IndexSource random) {
        final Selection s = bitmap.selection();
        final int n = s.size();
        if (n == 0) {
            return searchExhaustively(d, random);
        }
        // Probe only while the destination uses under 3/4 of the ports: beyond, most probes would miss.
        final int probes = hint.total() < n - (n >>> 2) ? PROBES : 0;
        for (int probe = 0; probe < probes; probe++) {
            final int port = s.nth(random.nextIndex(n));
            random.countProbes(1);
            if (!hint.isSet(port) && tryJoin(port, d, hint) == PortShares.JOINED) {
                return port;
            }
        }
        final Scratch scratch = SCRATCH.get();
        final int[] estimates = scratch.blockEstimates;
        final long counted = s.countedBlocks();
        final int first = s.firstWord();
        final int last = s.lastWord();
        final int firstBlock = first >>> PortBitmap.BLOCK_SHIFT;
        final int lastBlock = last >>> PortBitmap.BLOCK_SHIFT;
        int total = 0;
        int read = 0;
        for (int b = firstBlock; b <= lastBlock; b++) {
            final int estimate;
            if ((counted >>> b & 1L) != 0) {
                estimate = Math.max(0, bitmap.freeBound(b) + shares.sharedCount(b) - hint.count(b));
                read += 3;
            } else {
                int c = 0;
                for (int w = Math.max(first, b << PortBitmap.BLOCK_SHIFT),
                     end = Math.min(last, ((b + 1) << PortBitmap.BLOCK_SHIFT) - 1); w <= end; w++) {
                    c += Long.bitCount(candidates(s, hint, w));
                    read += 2;
                }
                estimate = c;
            }
            estimates[b - firstBlock] = estimate;
            total += estimate;
        }
        random.countProbes(read);
        // Draws over the estimates. A block with fewer candidates than the rank (its bitmap bound overstates, or a
        // change was in flight) rejects the draw, and its estimate becomes the count its walk found: every
        // candidate keeps probability 1 / total at every draw, so the choice stays uniform (the argument of
        // PortBitmap's exact pass). A rejection lowers the total, so only lost joins count as failed attempts.
        int failed = 0;
        while (failed < HOT_ATTEMPTS && total > 0) {
            int r = random.nextIndex(total);
            int b = 0;
            while (r >= estimates[b]) {
                r -= estimates[b++];
            }
            final int block = firstBlock + b;
            final int start = Math.max(first, block << PortBitmap.BLOCK_SHIFT);
            final int end = Math.min(last, ((block + 1) << PortBitmap.BLOCK_SHIFT) - 1);
            // Walk the block's words to the r-th candidate (half the block on average).
            int w = start;
            long c = 0;
            int seen = 0;
            for (; w <= end; w++) {
                c = candidates(s, hint, w);
                final int k = Long.bitCount(c);
                if (r < k) {
                    break;
                }
                r -= k;
                seen += k;
            }
            random.countProbes(2 * (Math.min(w, end) - start + 1)); // a bitmap word and a hint word each
            if (w > end) {
                total -= estimates[b] - seen; // seen <= the rank < the estimate: the total shrinks
                estimates[b] = seen;
                continue;
            }
            for (; r > 0; r--) {
                c &= c - 1;
            }
            final int port = w * PortBitmap.PORTS_PER_WORD + Long.numberOfTrailingZeros(c);
            random.countProbes(1);
            if (tryJoin(port, d, hint) == PortShares.JOINED) {
                return port;
            }
            failed++;
        }
        return searchExhaustively(d, random);
    }

    /** @return the ports of word {@code w} a hot destination may try: selectable, not exclusive, not marked */
    private long candidates(Selection s, DestinationPorts hint, int w) {
        return joinable(s, w) & ~hint.marksOfWord(w);
    }

    /** @return the ports of word {@code w} that are selectable in {@code s} and not held exclusively */
    private long joinable(Selection s, int w) {
        return s.maskOf(w) & ~PortBitmap.exclusiveBits(bitmap.word(w));
    }

    private int searchExhaustively(Destination d, IndexSource random) {
        final int[] candidates = SCRATCH.get().candidates;
        final DestinationPorts hint = hot.get(d);
        scanners.incrementAndGet();
        try {
            for (;;) {
                expireAllDue(0L); // waits for a drainer in progress: afterwards every entry due now has expired
                final long epoch0 = epoch.get();
                final Selection s = bitmap.selection();
                int count = 0;
                random.countProbes(s.lastWord() - s.firstWord() + 1);
                for (int w = s.firstWord(); w <= s.lastWord(); w++) {
                    long bits = joinable(s, w);
                    random.countProbes(Long.bitCount(bits)); // a tuple lookup each
                    while (bits != 0) {
                        final int port = w * PortBitmap.PORTS_PER_WORD + Long.numberOfTrailingZeros(bits);
                        bits &= bits - 1;
                        if (!tuples.isUsed(port, d)) {
                            candidates[count++] = port;
                        }
                    }
                }
                boolean busy = false;
                while (count > 0) {
                    final int i = random.nextIndex(count);
                    final int port = candidates[i];
                    random.countProbes(1);
                    final int r = tryJoin(port, d, hint);
                    if (r == PortShares.JOINED) {
                        return port;
                    }
                    busy |= r == PortShares.BUSY;
                    candidates[i] = candidates[--count];
                }
                if (busy) {
                    Thread.onSpinWait(); // a port mid-transition may be suitable: look again
                } else if (epoch.get() == epoch0 && bitmap.selection() == s) {
                    return PortBitmap.NONE;
                }
            }
        } finally {
            scanners.decrementAndGet();
        }
    }

    /** @return bytes of the IPv4 tuple table (main buckets and overflow chunks allocated so far) */
    public long ipv4TableBytes() {
        return tuples.ipv4Bytes();
    }

    /** @return live tuples (weakly consistent) */
    public long liveTuples() {
        return tuples.size() - quarantinedTuples.sum();
    }

    /** @return quarantined tuples and exclusive ports (weakly consistent) */
    public long quarantined() {
        return quarantine == null ? 0 : quarantine.size();
    }
}
