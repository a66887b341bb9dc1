package dev.portalloc.internal.bitmap;

import dev.portalloc.internal.random.IndexSource;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The lock-free port-state bitmap over the port space 0..65535 of one (protocol, local address), with
 * uniform random selection among the free ports of a {@link Selection}, a summary of free-port counts per
 * block, and a linearizable "nothing is free" verdict.
 *
 * <h2>Layout: two bits per port, and a count per block</h2>
 * {@value #WORDS} {@code long} words of {@value #PORTS_PER_WORD} ports: port {@code p} lives in word
 * {@code p >>> 5}; its <em>held</em> bit is bit {@code p & 31} (the low half) and its <em>mark</em> bit is
 * bit {@code 32 + (p & 31)} (the high half): 16 KiB in all.
 * <ul>
 * <li>held = 1: the port is held. Its mark says how: 0 = exclusively (this class), 1 = reserved for the
 *     flow-aware layer (shared by connections), which owns that state.</li>
 * <li>held = 0: the port is free. Its mark is the <em>dirty</em> flag explained below.</li>
 * </ul>
 * Port 0 is never held. The summary: {@value #BLOCKS} blocks of {@value #PORTS_PER_BLOCK} ports (32 words),
 * each with a count of its free ports (port 0 included), one per cache line (4 KiB).
 *
 * <h2>Thread-safety and memory ordering</h2>
 * All methods are thread-safe. {@link #select}, {@link #tryClaim}, {@link #release} and {@link #isHeld} are
 * lock-free: every state change is a CAS on one word plus an atomic add on its block's count, and a CAS
 * fails only because another thread's CAS succeeded. Claims and releases are volatile read-modify-writes on
 * the port's word, so a release happens-before the claim that next returns the same port. Nothing
 * allocates except the per-thread scratch arrays of the exact pass (once per thread, shared by all
 * bitmaps). {@link #publish} must be serialised by the caller.
 *
 * <h2>Selection</h2>
 * {@link #select} first draws up to {@value #FAST_PROBES} ports uniformly from the selection's index space
 * and claims the first free one: rejection sampling, so each free port is equally likely. When all probes
 * hit held ports (likely only from about 85 % occupancy) it switches to an exact rank/select pass: the free
 * count of each block (read from the summary for blocks whose ports are all selectable, counted from the
 * words for the others), {@code r} drawn uniformly below the total, then the r-th free port, found by
 * reading one block's words. After a pass that found under 1/32 of the selection free, later calls skip the
 * probes until a pass finds more. Either way the choice is uniform over the free selectable ports whatever
 * their pattern, and the cost is bounded: {@value #BLOCKS} counts plus 32 words for a single range.
 *
 * <h2>The verdict, and why free ports carry a dirty mark</h2>
 * A pass that finds every block empty cannot simply report exhaustion: counts and words are read one after
 * another, so a port freed in an already-read block while a later block was being filled would go unseen,
 * and no single moment had every port held. A global release counter would fix that at the price of a
 * contended write per release. Instead only releases that could fool a pass pay, through an {@code epoch}
 * counter:
 * <ol>
 * <li>Counts never understate: a release adds 1 to its block's count <em>before</em> the CAS that frees
 *     the port, a claim subtracts 1 <em>after</em> the CAS that takes it. A count of 0 therefore means that
 *     every word of the block was full when the count was read, so what follows for full words covers
 *     counted blocks too.</li>
 * <li>A release into a word that is full (no free selectable port) or dirty marks its port dirty in the
 *     freeing CAS, increments the epoch, then clears, by one CAS from the value it wrote, the marks that
 *     predate its increment (losing that race is safe: they stay).</li>
 * <li>Claiming a port clears its mark: a consumed port can no longer be seen free.</li>
 * <li>A read that sees a free port in a dirty word ({@link #isHeld}, a failing {@link #release}) increments
 *     the epoch before returning: whoever observes a freed port must not return before the increment owed
 *     for it has been paid.</li>
 * <li>The verdict reads the epoch, the selection and every count (and the words of partially selectable
 *     blocks), then the epoch and the selection again, and reports exhaustion only if nothing was free and
 *     neither changed.</li>
 * <li>A new selection (reservations changed) is published after marking every free port dirty and before
 *     an epoch increment, so releases that judged fullness against the old selection are covered. Counts
 *     cover all free ports, selectable or not, so they need no recount.</li>
 * </ol>
 * Why that is enough: if a block or word the verdict read as full is no longer full when the epoch is read
 * the second time, the first release into it after the read was into a full word, so it marked its port
 * and owes an increment. Either the increment happened (the verdict sees it and retries), or that release
 * has not returned, and every operation that returned meanwhile either consumed its port or saw the mark
 * and paid an increment itself. The verdict is then linearized before the pending releases. At 50 %
 * occupancy a full word practically never occurs, so a release costs one atomic add and one CAS.
 */
public final class PortBitmap {
    /** Ports per word: the low 32 bits are held bits, the high 32 bits marks. */
    public static final int PORTS_PER_WORD = 32;
    /** Highest port. */
    public static final int MAX_PORT = 65535;
    /** Words covering ports 0..65535. */
    public static final int WORDS = (MAX_PORT + 1) / PORTS_PER_WORD;
    /** log2 of the words per summary block. */
    public static final int BLOCK_SHIFT = 5;
    /** Ports per summary block. */
    public static final int PORTS_PER_BLOCK = PORTS_PER_WORD << BLOCK_SHIFT;
    /** Summary blocks covering ports 0..65535. */
    public static final int BLOCKS = WORDS >>> BLOCK_SHIFT;
    /** Returned by {@link #select} when no selectable port is free. */
    public static final int NONE = -1;
    /** Returned by {@link #select(IndexSource, Selection)} when the view's base is no longer current. */
    public static final int STALE = -2;
    /** Internal: a block held fewer free ports than its count said (a claim between CAS and decrement). */
    private static final int INCONSISTENT = -3;
    /**
     * Uniform probes before the exact pass: at 50 % occupancy 1 acquisition in 65,536 gets that far, at 90 %
     * about 1 in 5. The exact pass reads many shared cache lines, which with two threads means a miss on most
     * of them, so it pays to probe a little longer (measured: with 8 probes, the 1-in-256 exact passes
     * dominated 2-thread acquire+release at 50 %).
     */
    static final int FAST_PROBES = 16;

    static final long HELD_BITS = 0xFFFF_FFFFL;
    /** Ints per count slot: one count per 64-byte cache line. */
    private static final int COUNT_STRIDE = 16;

    private static final VarHandle WORD = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle COUNT = MethodHandles.arrayElementVarHandle(int[].class);
    private static final VarHandle SELECTION;
    private static final VarHandle EPOCH;

    static {
        try {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            SELECTION = lookup.findVarHandle(PortBitmap.class, "selection", Selection.class);
            EPOCH = lookup.findVarHandle(EpochCell.class, "epoch", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final long[] words = new long[WORDS];
    /** Free ports per block at index {@code (b + 1) * COUNT_STRIDE}; the first line is padding. */
    private final int[] counts = new int[(BLOCKS + 1) * COUNT_STRIDE];
    /** Written only by releases into full or dirty words, by reads that see those, and by {@link #publish}. */
    private final EpochCell epochCell = new EpochCell();
    @SuppressWarnings("unused") // written through SELECTION
    private volatile Selection selection;
    /** Hint: the last exact pass found under 1/32 of the selection free. Plain: races are harmless. */
    private boolean sparse;

    public PortBitmap(Selection initial) {
        this.selection = initial;
        for (int b = 0; b < BLOCKS; b++) {
            counts[countIndex(b)] = PORTS_PER_BLOCK; // every port free, port 0 included
        }
    }

    /** @return the word holding {@code port} */
    public static int wordIndex(int port) {
        return port >>> 5;
    }

    /** @return the held bit of {@code port} within its word */
    static long heldBit(int port) {
        return 1L << (port & 31);
    }

    /** @return the marks of the free ports of word value {@code w}, as held-bit positions */
    static long dirtyMarks(long w) {
        return (w >>> 32) & ~w & HELD_BITS;
    }

    private static int countIndex(int block) {
        return (block + 1) * COUNT_STRIDE;
    }

    /** @return the current selection snapshot (volatile read) */
    public Selection selection() {
        return selection;
    }

    /**
     * Claims a uniformly chosen free port of the current selection.
     *
     * @param random the calling thread's generator
     * @return the claimed port, or {@link #NONE} if at some moment during the call no selectable port was free
     */
    public int select(IndexSource random) {
        for (;;) {
            final int port = select(random, selection);
            if (port != STALE) {
                return port;
            }
        }
    }

    /**
     * Claims a uniformly chosen free port of {@code view}, a selection derived from (or equal to) the current
     * selection.
     *
     * @param random the calling thread's generator
     * @param view the ports to choose from: the current selection or a view of it
     * @return the claimed port; {@link #NONE} if at some moment during the call no port of the view was free;
     *     {@link #STALE} if the reservations changed, so that the view must be rebuilt
     */
    public int select(IndexSource random, Selection view) {
        final int n = view.size();
        if (n == 0) {
            return view.base() == selection ? NONE : STALE;
        }
        // When the last exact pass over the allocator-wide selection found under 1/32 of it free, probes would
        // mostly miss: go straight to the exact pass. The hint is a plain field (a racy read only changes
        // which of two uniform methods runs); exact passes refresh it.
        final int probes = view == selection && sparse ? 0 : FAST_PROBES;
        for (int probe = 0; probe < probes; probe++) {
            final int port = view.nth(random.nextIndex(n));
            random.countProbes(1);
            if (claim(wordIndex(port), heldBit(port))) {
                return port;
            }
        }
        final int port = selectExact(random, view, view.countedBlocks());
        return port != INCONSISTENT ? port : selectExact(random, view, 0L);
    }

    /** Claims the port of {@code bit} in word {@code w} if it is free: one CAS, retried while it stays free. */
    private boolean claim(int w, long bit) {
        final long[] words = this.words;
        long cur = (long) WORD.getAcquire(words, w);
        while ((cur & bit) == 0) {
            final long witness = (long) WORD.compareAndExchange(words, w, cur, claimed(cur, bit));
            if (witness == cur) {
                countClaimed(w);
                return true;
            }
            cur = witness; // another port of this word changed; ours may still be free
        }
        return false;
    }

    /** The word value after claiming the free port {@code bit} exclusively: held, mark cleared. */
    private static long claimed(long w, long bit) {
        return (w | bit) & ~(bit << 32);
    }

    /** After a claim's CAS: the block has one free port fewer. */
    private void countClaimed(int w) {
        COUNT.getAndAdd(counts, countIndex(w >>> BLOCK_SHIFT), -1);
    }

    /** Before a release's CAS: the block will have one free port more (counts never understate). */
    private void countFreeing(int w) {
        COUNT.getAndAdd(counts, countIndex(w >>> BLOCK_SHIFT), 1);
    }

    /**
     * Rank/select over the blocks and words of {@code s}: an exact uniform choice, or the exhaustion verdict.
     *
     * @param counted blocks judged by their count (fully selectable ones); the others are counted from words
     */
    private int selectExact(IndexSource random, Selection s, long counted) {
        final long[] words = this.words;
        final Scratch scratch = SCRATCH.get();
        final long[] seen = scratch.seen;
        final int[] blocks = scratch.blocks;
        final long[] masks = s.maskWords(); // null for a single range: inner words fully selectable
        final int first = s.firstWord();
        final int last = s.lastWord();
        final int firstBlock = first >>> BLOCK_SHIFT;
        final int lastBlock = last >>> BLOCK_SHIFT;
        for (;;) {
            final long epoch0 = (long) EPOCH.getVolatile(epochCell);
            if (selection != s.base()) {
                return STALE;
            }
            int total = 0;
            int read = 0;
            for (int b = firstBlock; b <= lastBlock; b++) {
                int free = 0;
                if ((counted >>> b & 1L) != 0) {
                    free = (int) COUNT.getVolatile(counts, countIndex(b));
                    read++;
                } else {
                    final int end = Math.min(last, ((b + 1) << BLOCK_SHIFT) - 1);
                    read += end - Math.max(first, b << BLOCK_SHIFT) + 1;
                    for (int w = Math.max(first, b << BLOCK_SHIFT); w <= end; w++) {
                        final long value = (long) WORD.getAcquire(words, w);
                        seen[w] = value;
                        final long mask = masks != null ? masks[w - first]
                            : w == first || w == last ? s.maskOf(w) : HELD_BITS;
                        free += Long.bitCount(~value & mask);
                    }
                }
                blocks[b - firstBlock] = free;
                total += free;
            }
            final boolean nowSparse = total < s.size() >>> 5;
            if (s == s.base() && sparse != nowSparse) {
                sparse = nowSparse; // written only on change: the field shares a line with hot read-only fields
            }
            if (total > 0) {
                read += 1 << BLOCK_SHIFT; // claimRank reads (at most) one block's words
                random.countProbes(read);
                final int port = claimRank(s, counted, seen, blocks, random.nextIndex(total));
                if (port != NONE) {
                    return port; // a port, STALE or INCONSISTENT
                }
            } else {
                random.countProbes(read);
                if ((long) EPOCH.getVolatile(epochCell) == epoch0) {
                    return selection == s.base() ? NONE : STALE;
                }
            }
        }
    }

    /**
     * Claims the {@code rank}-th free port over the blocks' free counts.
     *
     * @return the port; NONE if it was taken meanwhile; STALE if the selection changed; INCONSISTENT if a
     *     counted block held fewer free ports than its count said
     */
    private int claimRank(Selection s, long counted, long[] seen, int[] blocks, int rank) {
        final int first = s.firstWord();
        final int last = s.lastWord();
        int r = rank;
        int b = 0;
        while (r >= blocks[b]) {
            r -= blocks[b++];
        }
        final int block = (first >>> BLOCK_SHIFT) + b;
        final int start = Math.max(first, block << BLOCK_SHIFT);
        final int end = Math.min(last, ((block + 1) << BLOCK_SHIFT) - 1);
        if ((counted >>> block & 1L) != 0) {
            // The count was read, not the words: read them now and check that the rank exists.
            int actual = 0;
            for (int w = start; w <= end; w++) {
                seen[w] = (long) WORD.getAcquire(words, w);
                actual += Long.bitCount(~seen[w] & HELD_BITS);
            }
            if (r >= actual) {
                return INCONSISTENT;
            }
        }
        int w = start;
        long free;
        for (;; w++) {
            free = ~seen[w] & s.maskOf(w);
            final int count = Long.bitCount(free);
            if (r < count) {
                break;
            }
            r -= count;
        }
        for (; r > 0; r--) {
            free &= free - 1; // drop the lowest free port until the r-th is the lowest
        }
        final long bit = Long.lowestOneBit(free);
        long cur = seen[w];
        // Re-checking the selection before each CAS keeps the choice consistent with the reservations in
        // force when it is claimed: the rank was drawn over that selection's free ports.
        while ((cur & bit) == 0) {
            if (selection != s.base()) {
                return STALE;
            }
            final long witness = (long) WORD.compareAndExchange(words, w, cur, claimed(cur, bit));
            if (witness == cur) {
                countClaimed(w);
                return w * PORTS_PER_WORD + Long.numberOfTrailingZeros(bit);
            }
            cur = witness;
        }
        return NONE;
    }

    /**
     * Claims one specific port exclusively, whatever the selection.
     *
     * @return true if the port was free and is now held by the caller
     */
    public boolean tryClaim(int port) {
        return claim(wordIndex(port), heldBit(port));
    }

    /**
     * Turns one specific free port into a SHARED port (held, mark set), whatever the selection: the flow
     * layer's first join of a port. Same CAS and count as an exclusive claim.
     *
     * @return true if the port was free and is now SHARED
     */
    public boolean tryClaimShared(int port) {
        final int w = wordIndex(port);
        final long bit = heldBit(port);
        final long[] words = this.words;
        long cur = (long) WORD.getAcquire(words, w);
        while ((cur & bit) == 0) {
            final long witness = (long) WORD.compareAndExchange(words, w, cur, cur | bit | (bit << 32));
            if (witness == cur) {
                countClaimed(w);
                return true;
            }
            cur = witness;
        }
        return false;
    }

    /**
     * Frees an exclusively held port.
     *
     * @return false (and no change) if the port was not held exclusively (free, or SHARED)
     */
    public boolean release(int port) {
        return free(port, false);
    }

    /**
     * Frees a SHARED port. Only the flow layer's unique leaver of the port calls this.
     *
     * @return false (and no change) if the port was not SHARED
     */
    public boolean releaseShared(int port) {
        return free(port, true);
    }

    /** Frees {@code port} if it is held in the given kind (SHARED or exclusive), following the dirty-mark rule. */
    private boolean free(int port, boolean shared) {
        final int w = wordIndex(port);
        final long bit = heldBit(port);
        final long mark = bit << 32;
        final long kind = shared ? mark : 0L;
        final long[] words = this.words;
        long cur = (long) WORD.getAcquire(words, w);
        if ((cur & bit) == 0 || (cur & mark) != kind) {
            payIfObservedFree(cur);
            return false;
        }
        countFreeing(w); // counts never understate: count the port before it is free
        final long mask = selection.maskOf(w);
        long next;
        for (;;) {
            if ((cur & bit) == 0 || (cur & mark) != kind) { // changed meanwhile (a double release): undo the count
                COUNT.getAndAdd(counts, countIndex(w >>> BLOCK_SHIFT), -1);
                payIfObservedFree(cur);
                return false;
            }
            next = cur & ~bit & ~mark;
            final boolean full = mask != 0 && (~cur & mask) == 0; // a word with nothing selectable never is
            if (full || dirtyMarks(cur) != 0) {
                next |= mark; // could fool a verdict: mark the port and owe an epoch increment
            }
            final long witness = (long) WORD.compareAndExchange(words, w, cur, next);
            if (witness == cur) {
                break;
            }
            cur = witness;
        }
        final long marks = dirtyMarks(next);
        if (marks != 0) {
            EPOCH.getAndAdd(epochCell, 1L);
            // Every mark in `next` predates that increment, so they may all go; losing the race is safe.
            WORD.compareAndSet(words, w, next, next & ~(marks << 32));
        }
        return true;
    }

    /**
     * @param w a word index
     * @return the word (acquire read): held bits low, marks high; a port is exclusive where held and unmarked
     */
    public long word(int w) {
        return (long) WORD.getAcquire(words, w);
    }

    /**
     * @param block 0 .. {@value #BLOCKS} - 1
     * @return the block's free-port count (volatile read; never understates, see the class Javadoc)
     */
    public int freeCount(int block) {
        return (int) COUNT.getVolatile(counts, countIndex(block));
    }

    /** @return the exclusively held ports of word value {@code w}, as held-bit positions */
    public static long exclusiveBits(long w) {
        return w & ~(w >>> 32) & HELD_BITS;
    }

    /** {@link #state}: the port is free. */
    public static final int FREE = 0;
    /** {@link #state}: the port is held exclusively. */
    public static final int EXCLUSIVE = 1;
    /** {@link #state}: the port is SHARED (owned by the flow layer). */
    public static final int SHARED = 3;

    /**
     * @return {@link #FREE}, {@link #EXCLUSIVE} or {@link #SHARED} (acquire read); seeing the port free in a
     *     dirty word pays the owed epoch increment, as {@link #isHeld} does
     */
    public int state(int port) {
        final long cur = (long) WORD.getAcquire(words, wordIndex(port));
        final long bit = heldBit(port);
        if ((cur & bit) == 0) {
            payIfObservedFree(cur);
            return FREE;
        }
        return (cur & (bit << 32)) != 0 ? SHARED : EXCLUSIVE;
    }

    /** @return whether the port is held; seeing it free in a dirty word pays the owed epoch increment */
    public boolean isHeld(int port) {
        final int w = wordIndex(port);
        final long cur = (long) WORD.getAcquire(words, w);
        final boolean held = (cur & heldBit(port)) != 0;
        if (!held) {
            payIfObservedFree(cur);
        }
        return held;
    }

    /** A free port was seen in word value {@code observed}: pay the increment a dirty word may still owe. */
    private void payIfObservedFree(long observed) {
        if (dirtyMarks(observed) != 0) {
            EPOCH.getAndAdd(epochCell, 1L);
        }
    }

    /**
     * Publishes a new selection: marks every free port dirty in the words that either selection covers,
     * publishes, increments the epoch, then clears the marks (its own and older ones) where the word has
     * not changed since. Words outside both selections need nothing: no verdict reads them and no release
     * judges them full. Counts cover all free ports and need no change. Callers serialise calls.
     */
    public void publish(Selection next) {
        final Selection previous = selection;
        final int first = Math.min(previous.firstWord(), next.firstWord());
        final int last = Math.max(previous.lastWord(), next.lastWord());
        final long[] words = this.words;
        final long[] marked = SCRATCH.get().seen;
        for (int w = first; w <= last; w++) {
            long cur = (long) WORD.getAcquire(words, w);
            for (;;) {
                final long dirty = cur | ((~cur & HELD_BITS) << 32);
                final long witness = (long) WORD.compareAndExchange(words, w, cur, dirty);
                if (witness == cur) {
                    marked[w] = dirty;
                    break;
                }
                cur = witness;
            }
        }
        SELECTION.setVolatile(this, next);
        EPOCH.getAndAdd(epochCell, 1L);
        for (int w = first; w <= last; w++) {
            WORD.compareAndSet(words, w, marked[w], marked[w] & ~(dirtyMarks(marked[w]) << 32));
        }
    }

    /** @return ports held anywhere in 0..65535 (weakly consistent under concurrent updates) */
    public int heldCount() {
        int count = 0;
        for (int w = 0; w < WORDS; w++) {
            count += Long.bitCount((long) WORD.getOpaque(words, w) & HELD_BITS);
        }
        return count;
    }

    /** @return held ports that are selectable in {@code s} (weakly consistent) */
    public int heldCount(Selection s) {
        int count = 0;
        for (int w = s.firstWord(); w <= s.lastWord(); w++) {
            count += Long.bitCount((long) WORD.getOpaque(words, w) & s.maskOf(w));
        }
        return count;
    }

    /** @return bytes of mutable state: the word array, the padded counts and the padded epoch cell */
    public static long stateBytes() {
        return 16L + 8L * WORDS + 16L + 4L * (BLOCKS + 1) * COUNT_STRIDE + EpochCell.BYTES;
    }

    /** Padding before the epoch: superclass fields are laid out first (as in JCTools/Agrona). */
    @SuppressWarnings("unused")
    static class EpochPadBefore {
        long p01, p02, p03, p04, p05, p06, p07, p08;
    }

    /** The epoch counter. */
    static class EpochValue extends EpochPadBefore {
        volatile long epoch;
    }

    /** The epoch on its own cache line, away from the bitmap's read-mostly fields. */
    @SuppressWarnings("unused")
    static final class EpochCell extends EpochValue {
        static final int BYTES = 12 + 8 * 8 + 8 + 8 * 8 + 4;
        long p11, p12, p13, p14, p15, p16, p17, p18;
    }

    /** Per-thread buffers of the exact pass and of {@link #publish}, allocated once per thread. */
    private static final class Scratch {
        final long[] seen = new long[WORDS];
        final int[] blocks = new int[BLOCKS];
    }
}
