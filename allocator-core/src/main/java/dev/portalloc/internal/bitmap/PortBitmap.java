package dev.portalloc.internal.bitmap;

import dev.portalloc.internal.random.IndexSource;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The lock-free port-state bitmap over the port space 0..65535 of one (protocol, local address), with
 * uniform random selection among the free ports of a {@link Selection} and a linearizable "nothing is
 * free" verdict.
 *
 * <h2>Layout: two bits per port</h2>
 * {@value #WORDS} {@code long} words of {@value #PORTS_PER_WORD} ports: port {@code p} lives in word
 * {@code p >>> 5}; its <em>held</em> bit is bit {@code p & 31} (the low half) and its <em>mark</em> bit is
 * bit {@code 32 + (p & 31)} (the high half). The whole state is 2,048 × 8 = 16 KiB.
 * <ul>
 * <li>held = 1: the port is held. Its mark says how: 0 = exclusively (this class), 1 = reserved for the
 *     flow-aware layer (shared by connections), which owns that state.</li>
 * <li>held = 0: the port is free. Its mark is the <em>dirty</em> flag explained below.</li>
 * </ul>
 * Port 0 is never held.
 *
 * <h2>Thread-safety and memory ordering</h2>
 * All methods are thread-safe. {@link #select}, {@link #tryClaim}, {@link #release} and {@link #isHeld} are
 * lock-free: every state change is one CAS on one word, and a CAS fails only because another thread's CAS
 * succeeded. Claims and releases are volatile read-modify-writes on the port's word, so a release
 * happens-before the claim that next returns the same port. Nothing allocates except the per-thread
 * scratch arrays of the exact pass (once per thread, shared by all bitmaps). {@link #publish} must be
 * serialised by the caller.
 *
 * <h2>Selection</h2>
 * {@link #select} first draws up to {@value #FAST_PROBES} ports uniformly from the selection's index space
 * and claims the first free one: rejection sampling, so each free port is equally likely. When all probes
 * hit held ports (likely only from about 85 % occupancy) it switches to an exact rank/select pass:
 * count the free selectable ports word by word (and per block of 64 words), draw {@code r} uniformly below
 * the count and claim the r-th free port (after an exact pass that found under 1/32 of the selection free,
 * later calls skip the probes until a pass finds more). Either way the choice is uniform over the free
 * selectable ports whatever their pattern, and the cost is bounded by one pass over the selection's words.
 *
 * <h2>The verdict, and why free ports carry a dirty mark</h2>
 * A pass that finds every word full cannot simply report exhaustion: words are read one after another, so
 * a port freed in an already-read word while a later word was being filled would go unseen, and no single
 * moment had every port held. A global release counter would fix that at the price of a contended write
 * per release. Instead only releases that could fool a pass pay, through an {@code epoch} counter:
 * <ol>
 * <li>A release into a word that is full (no free selectable port) or dirty (some free port marked) marks
 *     its port dirty in the same CAS that frees it, then increments the epoch, then clears, with one CAS
 *     from the value it wrote, the marks that were there (they predate its increment). If that CAS loses
 *     a race the marks stay, which is always safe.</li>
 * <li>Claiming a port clears its mark: a consumed port can no longer be seen free.</li>
 * <li>A read that sees a free port in a dirty word ({@link #isHeld}, a failing {@link #release}) increments
 *     the epoch before returning: whoever observes a freed port must not return before the increment
 *     owed for it has been paid.</li>
 * <li>The verdict reads the epoch, the selection and every word, then the epoch and the selection again.
 *     It reports exhaustion only if every word was full and neither changed.</li>
 * <li>A new selection (reservations changed) is published after marking every free port dirty and before
 *     an epoch increment, so releases that judged fullness against the old selection are covered.</li>
 * </ol>
 * Why that is enough: if a word the verdict read full is no longer full when the epoch is read the second
 * time, the first release into it after the read was into a full word, so it marked its port and owes an
 * increment. Either the increment happened (the verdict sees it and retries), or that release has not
 * returned, and every operation that returned meanwhile either consumed the port or saw it dirty and paid
 * an increment itself. The verdict is then linearized before the pending releases. At 50 % occupancy a full
 * word (32 held ports) practically never occurs, so a release normally costs exactly one CAS.
 */
public final class PortBitmap {
    /** Ports per word: the low 32 bits are held bits, the high 32 bits marks. */
    public static final int PORTS_PER_WORD = 32;
    /** Highest port. */
    public static final int MAX_PORT = 65535;
    /** Words covering ports 0..65535. */
    public static final int WORDS = (MAX_PORT + 1) / PORTS_PER_WORD;
    /** Returned by {@link #select} when no selectable port is free. */
    public static final int NONE = -1;
    /** Returned by {@link #select(IndexSource, Selection)} when the view's base is no longer current. */
    public static final int STALE = -2;
    /**
     * Uniform probes before the exact pass: at 50 % occupancy 1 acquisition in 65,536 gets that far, at 90 %
     * about 1 in 5. The exact pass reads every word of the selection, which with two threads means a cache
     * miss on most of them, so it pays to probe a little longer (measured: 8 probes left 2-thread
     * acquire+release at 50 % dominated by the 1-in-256 exact passes).
     */
    static final int FAST_PROBES = 16;
    /** Words per block of the exact pass's block counts. */
    private static final int BLOCK_SHIFT = 6;

    static final long HELD_BITS = 0xFFFF_FFFFL;

    private static final VarHandle WORD = MethodHandles.arrayElementVarHandle(long[].class);
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
    /** Written only by releases that freed into full or dirty words, and by {@link #publish}. */
    private final EpochCell epochCell = new EpochCell();
    @SuppressWarnings("unused") // written through SELECTION
    private volatile Selection selection;
    /** Hint: the last exact pass found under 1/32 of the selection free. Plain: races are harmless. */
    private boolean sparse;

    public PortBitmap(Selection initial) {
        this.selection = initial;
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
        // which of two uniform methods runs); every exact pass refreshes it.
        final int probes = view == selection && sparse ? 0 : FAST_PROBES;
        for (int probe = 0; probe < probes; probe++) {
            final int port = view.nth(random.nextIndex(n));
            if (claim(wordIndex(port), heldBit(port))) {
                return port;
            }
        }
        return selectExact(random, view);
    }

    /** Claims the port of {@code bit} in word {@code w} if it is free: one CAS, retried while it stays free. */
    private boolean claim(int w, long bit) {
        final long[] words = this.words;
        long cur = (long) WORD.getAcquire(words, w);
        while ((cur & bit) == 0) {
            final long witness = (long) WORD.compareAndExchange(words, w, cur, claimed(cur, bit));
            if (witness == cur) {
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

    /** Rank/select over the words of {@code s}: an exact uniform choice, or the exhaustion verdict. */
    private int selectExact(IndexSource random, Selection s) {
        final long[] words = this.words;
        final Scratch scratch = SCRATCH.get();
        final long[] seen = scratch.seen;
        final int[] blocks = scratch.blocks;
        final int first = s.firstWord();
        final int last = s.lastWord();
        for (;;) {
            final long epoch0 = (long) EPOCH.getVolatile(epochCell);
            if (selection != s.base()) {
                return STALE;
            }
            final long[] masks = s.maskWords(); // null for a single range: every inner word fully selectable
            int total = 0;
            for (int b = 0, start = first; start <= last; b++, start += 1 << BLOCK_SHIFT) {
                final int end = Math.min(last, start + (1 << BLOCK_SHIFT) - 1);
                int free = 0;
                if (masks == null) {
                    for (int w = start; w <= end; w++) {
                        final long value = (long) WORD.getAcquire(words, w);
                        seen[w] = value;
                        free += Long.bitCount(~value & HELD_BITS);
                    }
                } else {
                    for (int w = start; w <= end; w++) {
                        final long value = (long) WORD.getAcquire(words, w);
                        seen[w] = value;
                        free += Long.bitCount(~value & masks[w - first]);
                    }
                }
                blocks[b] = free;
                total += free;
            }
            if (masks == null) { // a single range: discount the unselectable ends of its first and last words
                final int head = Long.bitCount(~seen[first] & HELD_BITS & ~s.maskOf(first));
                final int tail = last == first ? 0 : Long.bitCount(~seen[last] & HELD_BITS & ~s.maskOf(last));
                blocks[0] -= head;
                blocks[(last - first) >>> BLOCK_SHIFT] -= tail;
                total -= head + tail;
            }
            final boolean nowSparse = total < s.size() >>> 5;
            if (s == s.base() && sparse != nowSparse) {
                sparse = nowSparse; // written only on change: the field shares a line with hot read-only fields
            }
            if (total > 0) {
                final int port = claimRank(s, seen, blocks, random.nextIndex(total));
                if (port != NONE) {
                    return port;
                }
            } else if ((long) EPOCH.getVolatile(epochCell) == epoch0) {
                return selection == s.base() ? NONE : STALE;
            }
        }
    }

    /** Claims the {@code rank}-th free port as seen in {@code seen}; NONE if it or the selection changed. */
    private int claimRank(Selection s, long[] seen, int[] blocks, int rank) {
        int r = rank;
        int b = 0;
        while (r >= blocks[b]) {
            r -= blocks[b++];
        }
        int w = s.firstWord() + (b << BLOCK_SHIFT);
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
        while ((cur & bit) == 0 && selection == s.base()) {
            final long witness = (long) WORD.compareAndExchange(words, w, cur, claimed(cur, bit));
            if (witness == cur) {
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
     * Frees an exclusively held port.
     *
     * @return false (and no change) if the port was not held
     */
    public boolean release(int port) {
        final int w = wordIndex(port);
        final long bit = heldBit(port);
        final long mask = selection.maskOf(w);
        final long[] words = this.words;
        long cur = (long) WORD.getAcquire(words, w);
        long next;
        for (;;) {
            if ((cur & bit) == 0) {
                payIfDirty(cur);
                return false;
            }
            next = cur & ~bit;
            final boolean full = mask != 0 && (~cur & mask) == 0; // a word with nothing selectable never is
            if (full || dirtyMarks(cur) != 0) {
                next |= bit << 32; // could fool a verdict: mark the port and owe an epoch increment
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

    /** @return whether the port is held; seeing it free in a dirty word pays the owed epoch increment */
    public boolean isHeld(int port) {
        final long cur = (long) WORD.getAcquire(words, wordIndex(port));
        final boolean held = (cur & heldBit(port)) != 0;
        if (!held) {
            payIfDirty(cur);
        }
        return held;
    }

    private void payIfDirty(long observed) {
        if (dirtyMarks(observed) != 0) {
            EPOCH.getAndAdd(epochCell, 1L);
        }
    }

    /**
     * Publishes a new selection: marks every free port dirty in the words that either selection covers,
     * publishes, increments the epoch, then clears the marks (its own and older ones) where the word has
     * not changed since. Words outside both selections need nothing: no verdict reads them and no release
     * judges them full. Callers serialise calls.
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

    /** @return bytes of mutable state: the word array and the padded epoch cell */
    public static long stateBytes() {
        return 16L + 8L * WORDS + EpochCell.BYTES;
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
        final int[] blocks = new int[(WORDS >>> BLOCK_SHIFT) + 1];
    }
}
