package dev.portalloc.internal.bitmap;

import dev.portalloc.PortSet;
import dev.portalloc.internal.random.IndexSource;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The lock-free port-state bitmap over the port space 0..65535 of one (protocol, local address), with
 * uniform random selection among the free ports of a {@link Selection}, a summary of free-port bounds per
 * block that claims and releases write only around high occupancy, and a linearizable "nothing is free" verdict.
 *
 * <h2>Layout: two bits per port, and a bound per block</h2>
 * {@value #WORDS} {@code long} words of {@value #PORTS_PER_WORD} ports: port {@code p} lives in word
 * {@code p >>> 5}; its <em>held</em> bit is bit {@code p & 31} (the low half) and its <em>mark</em> bit is
 * bit {@code 32 + (p & 31)} (the high half): 16 KiB in all.
 * <ul>
 * <li>held = 1: the port is held. Its mark says how: 0 = exclusively (this class), 1 = reserved for the
 *     flow-aware layer (shared by connections), which owns that state.</li>
 * <li>held = 0: the port is free. Its mark is the <em>dirty</em> flag explained below.</li>
 * </ul>
 * Port 0 is never held. The summary: {@value #BLOCKS} blocks of {@value #PORTS_PER_BLOCK} ports (32 words),
 * each with a <em>bound</em>: the sum over its words of their {@link #weight weight}, a word's count of free
 * <em>automatic</em> ports when it has at most {@value #EXACT_FREE} of them and {@value #PORTS_PER_WORD} when it
 * has more. Automatic ports count whether reserved or not, and the automatic set never changes, so neither does
 * this definition; ports outside it (which only explicit claims take) weigh nothing, so a block that a range
 * covers only in part, like block 59 under Linux's 32768-60999, is judged by its bound as long as none of its
 * automatic ports is reserved. The bounds are dense (64 ints, 4 cache lines) because they are rarely written: a
 * claim or release changes a word's weight only when the word has at most {@value #EXACT_FREE} + 1 free ports,
 * which at 50 % occupancy is about 1 % of operations. That replaced exact per-block counts, whose two atomic adds
 * per acquire+release moved a shared line between cores on two threads (on one thread, removing them did not
 * measurably change the cost at 50 %), and whose padding put the exact pass's reads on 28 cache lines.
 *
 * <h2>Thread-safety and memory ordering</h2>
 * All methods are thread-safe. {@link #select}, {@link #tryClaim}, {@link #release} and {@link #isHeld} are
 * lock-free: every state change is a CAS on one word (plus, around high occupancy, an atomic add on its block's
 * bound), and a CAS fails only because another thread's CAS succeeded. Claims and releases are volatile
 * read-modify-writes on the port's word, so a release happens-before the claim that next returns the same
 * port. Nothing allocates except the exact pass's block weights, kept by the calling thread's generator
 * ({@link IndexSource#scratch()}, once per generator). {@link #publish} must be serialised by the caller.
 *
 * <h2>Selection</h2>
 * {@link #select} first probes up to {@value #FAST_PROBES} candidates, in rounds of {@value #PROBES_PER_ROUND}
 * taken from one 64-bit draw: each candidate is a uniform offset over the smallest power-of-two cover of the
 * selection's span (lowest to highest selectable port; at least half the cover lies inside the span), and it is
 * accepted if it lies inside the span, is selectable and is free. The round's four tests are combined without a
 * branch and the first accepted candidate is claimed: rejection sampling over the cover, so each free selectable
 * port is equally likely (each candidate is independent and uniform, so the first accepted one is uniform over
 * the accepted set), and the one unpredictable branch per probe of plain rejection becomes one mostly
 * predictable branch per round. When all probes hit held ports (likely only from about 85 % occupancy) it
 * switches to an exact pass: each block weighs its bound (blocks whose automatic ports are all selectable) or
 * its free selectable ports counted from its words (the others: blocks with reserved ports), a rank drawn below
 * the total picks a block and a walk over its words the port of that rank; a rank beyond the block's actual free
 * ports (a bound that overstates) is rejected and drawn again over the block's exact count (see
 * {@link #selectExact}). After a pass that found under 1/32 of the selection free, later calls
 * skip the probes until a pass finds more. Either way the choice is uniform over the free selectable ports
 * whatever their pattern, and the cost is bounded: {@value #BLOCKS} bounds plus the words of blocks with reserved
 * ports and of one block for a single range.
 *
 * <h2>The verdict, and why free ports carry a dirty mark</h2>
 * A pass that finds every block empty cannot simply report exhaustion: bounds and words are read one after
 * another, so a port freed in an already-read block while a later block was being filled would go unseen,
 * and no single moment had every port held. A global release counter would fix that at the price of a
 * contended write per release. Instead only releases that could fool a pass pay, through an {@code epoch}
 * counter:
 * <ol>
 * <li>Bounds never understate: a release adds the weight its word gains <em>before</em> the CAS that frees
 *     the port (recomputed if the CAS fails), a claim subtracts the weight its word loses <em>after</em> the CAS
 *     that takes it. A word's weight is 0 only when it has no free automatic port, hence no free selectable
 *     port (selectable ports are automatic): it is full. So a bound of 0 means that every word of the block was
 *     full when the bound was read, and what follows for full words covers bounded blocks too.
 *     (The proof per word: its weight changes only through claims and releases of its ports, each of which
 *     accounts for exactly its own change, before the release and after the claim.)</li>
 * <li>A release into a word that is full (no free selectable port) or dirty marks its port dirty in the
 *     freeing CAS, increments the epoch, then clears, by one CAS from the value it wrote, the marks that
 *     predate its increment (losing that race is safe: they stay).</li>
 * <li>Claiming a port clears its mark: a consumed port can no longer be seen free.</li>
 * <li>A read that reports a port free ({@link #isHeld}, {@link #state}, a {@link #release} refused because the
 *     port is free) increments the epoch before returning, whatever the word's marks: whoever observes a freed
 *     port must not return before the increment owed for it has been paid, and a release under rule 7 or 8
 *     leaves no mark to say it owes one. (Reads that report nothing free, like {@link #isExclusive}, pay nothing, and
 *     a claim consumes the port it sees.)</li>
 * <li>The verdict reads the epoch, the selection and every bound (and the words of blocks with reserved
 *     ports, and of blocks whose draws were rejected), then the epoch and the selection again, and reports
 *     exhaustion only if nothing was free and neither changed.</li>
 * <li>A new selection (reservations changed) is published after marking every free port dirty and before
 *     an epoch increment, so that releases that judged fullness against the old selection and read the word
 *     before the marks fail their CAS, and those that read it after see the marks. Bounds cover all free
 *     automatic ports, reserved or not, and the automatic set cannot change, so they need no recount.</li>
 * <li>That is not enough on its own: the marks are cleared again (by the publication, or by a release into the
 *     marked word), and a word can return to the very value a slow release read before the marks, whose CAS
 *     then succeeds after a verdict under the new selection has read the word as full (ABA; found by
 *     {@code ReservationLincheckTest}). So a release that set no mark reads the selection again after its CAS
 *     and, if it is no longer the one it judged the word by, increments the epoch before returning: it is
 *     then treated as a release into a full word, with rule 4 in place of its mark.</li>
 * <li>A view's pass ({@link #select(IndexSource, Selection)} with a restricted selection, as subsets and parity
 *     preservation make them) judges words by the view's masks: a word whose ports of the view are all held
 *     is full for it and not for a release into it, which judges by the allocator-wide selection and sets no
 *     mark (found by {@code ViewLincheckTest}). So a view's exact pass announces itself in a counter beside the
 *     epoch while it runs, and a release that set no mark reads that counter after its CAS, as it reads the
 *     selection for rule 7, and increments the epoch if a view's pass is running: every release behind such a
 *     pass then pays, whatever the word, as in the flow layer's verdict.</li>
 * </ol>
 * Why that is enough: if a block or word the verdict read as full is no longer full when the epoch is read
 * the second time, the first release into it after the read was into a full word, so it marked its port
 * and owes an increment, as does a release that judged fullness by a replaced selection (rule 7) and, behind a
 * view's pass, every release (rule 8: the pass announces itself by an atomic add before the volatile read of the
 * epoch that precedes its plain loads, and a release reads the announcement, volatile, after its CAS; so a
 * release whose CAS the pass's loads do not see sees the announcement. As in the flow layer's verdict, this
 * store-then-load handshake relies on the add being a full fence and the epoch read an acquire, as HotSpot
 * compiles them; the Java memory model alone orders only the volatile accesses among themselves). Either the
 * increment happened (the verdict sees it and retries), or that release has not returned, and every operation
 * that returned meanwhile either consumed its port or reported it free and paid an increment itself. The
 * verdict is then linearized before the pending releases. At 50 % occupancy a full word practically never
 * occurs, so a release costs one CAS (and two reads after it: the selection and the views' counter).
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
    /**
     * Uniform probes before the exact pass: at 50 % occupancy 1 acquisition in 65,536 gets that far, at 90 %
     * about 1 in 5. The exact pass reads many shared cache lines, which with two threads means a miss on most
     * of them, so it pays to probe a little longer (measured: with 8 probes, the 1-in-256 exact passes
     * dominated 2-thread acquire+release at 50 %).
     */
    static final int FAST_PROBES = 16;
    /** Candidates per round of {@link #select(IndexSource, Selection)}: four 16-bit offsets from one 64-bit draw. */
    static final int PROBES_PER_ROUND = 4;
    /** Rounds of probes before the exact pass: {@value #FAST_PROBES} candidates. */
    static final int PROBE_ROUNDS = FAST_PROBES / PROBES_PER_ROUND;

    static final long HELD_BITS = 0xFFFF_FFFFL;
    /**
     * A word with at most this many free ports weighs its free count in its block's bound; a word with more
     * weighs {@value #PORTS_PER_WORD}. At 50 % occupancy a word has 16 free ports on average and 8 or 9 in
     * about 1 % of cases, so the bound changes on about 1 % of claims and releases (at 60 %, about 1 in 6); from
     * about 90 % on it counts the free ports of nearly every word exactly, so the exact pass rarely rejects.
     */
    static final int EXACT_FREE = 8;
    /** Ints of padding before and after the bounds (one cache line each), against false sharing with neighbours. */
    private static final int BOUNDS_PAD = 16;

    private static final VarHandle WORD = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle BOUND = MethodHandles.arrayElementVarHandle(int[].class);
    private static final VarHandle SELECTION;
    private static final VarHandle EPOCH;
    private static final VarHandle VIEW_PASSES;

    static {
        try {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            SELECTION = lookup.findVarHandle(PortBitmap.class, "selection", Selection.class);
            EPOCH = lookup.findVarHandle(EpochCell.class, "epoch", long.class);
            VIEW_PASSES = lookup.findVarHandle(EpochCell.class, "viewPasses", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * The automatic set as a selection with nothing reserved: the ports the bounds count. It never changes (a new
     * selection only changes the reserved ports), so neither does the bounds' definition.
     */
    private final Selection automatic;
    /**
     * Bit w: word w is an <em>edge</em> word, with automatic ports and others. Only there can its free automatic
     * ports be fewer than its free ports, so claims and releases elsewhere decide from the word alone that its
     * weight does not change.
     */
    private final long[] edgeWords = new long[WORDS / 64];
    private final long[] words = new long[WORDS];
    /**
     * The bound of block b at index {@code BOUNDS_PAD + b}: never below the sum of its words' weights
     * ({@link #weight}), written only when a claim or release changes a word's weight. Dense: the exact pass
     * reads the 64 bounds from 4 cache lines; a line is written only around high occupancy.
     */
    private final int[] bounds = new int[BLOCKS + 2 * BOUNDS_PAD];
    /**
     * The epoch, written by releases into full or dirty words, by reads that report a port free, by releases that
     * judged by a replaced selection or ran behind a view's pass, and by {@link #publish}; and the count of
     * views' exact passes running, written by those passes.
     */
    private final EpochCell epochCell = new EpochCell();
    @SuppressWarnings("unused") // written through SELECTION
    private volatile Selection selection;
    /** Hint: the last exact pass found under 1/32 of the selection free. Plain: races are harmless. */
    private boolean sparse;

    public PortBitmap(Selection initial) {
        this.selection = initial;
        this.automatic = new Selection(initial.automatic(), PortSet.empty());
        for (int w = 0; w < WORDS; w++) { // every port free
            final long auto = automatic.maskOf(w);
            bounds[boundIndex(w >>> BLOCK_SHIFT)] += weight(Long.bitCount(auto));
            if (auto != 0 && auto != HELD_BITS) {
                edgeWords[w >>> 6] |= 1L << w;
            }
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

    private static int boundIndex(int block) {
        return BOUNDS_PAD + block;
    }

    /** @return the free ports of word value {@code w}, automatic or not (port 0 counts as free) */
    static int freePorts(long w) {
        return PORTS_PER_WORD - Long.bitCount(w & HELD_BITS);
    }

    /** @return the bits of word {@code w}'s automatic ports (the ports its weight counts) */
    long automaticMask(int w) {
        return automatic.maskOf(w);
    }

    /**
     * @return whether a claim or release on word value {@code cur} might change word {@code w}'s weight: the word
     *     has at most {@code limit} free ports, or it is an edge word (its free automatic ports may be fewer)
     */
    private boolean mayReweigh(int w, long cur, int limit) {
        return freePorts(cur) <= limit || (edgeWords[w >>> 6] >>> w & 1L) != 0;
    }

    /**
     * A word's weight in its block's bound, from its count of free automatic ports: that count up to
     * {@value #EXACT_FREE}, {@value #PORTS_PER_WORD} above. Never below the count, 0 only when it is 0, and
     * constant while the count stays above {@value #EXACT_FREE}: at moderate occupancy claims and releases leave
     * the bounds alone.
     */
    static int weight(int free) {
        return free <= EXACT_FREE ? free : PORTS_PER_WORD;
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
        final int rounds = view == selection && sparse ? 0 : PROBE_ROUNDS;
        final long[] words = this.words;
        final long[] masks = view.maskWords();
        final int lo = view.lo();
        final int spanLast = view.spanLast();
        final int cover = view.coverMask();
        final int firstWord = view.firstWord();
        final int lastMaskIndex = masks == null ? 0 : masks.length - 1;
        for (int round = 0; round < rounds; round++) {
            final long bits = random.nextBits();
            // Four candidates per round, tested without a branch: ok bit j says candidate j is inside the span,
            // selectable and free (plain loads: a stale word only makes the claim's CAS below fail or retry).
            int ok = 0;
            for (int j = 0; j < PROBES_PER_ROUND; j++) {
                final int offset = (int) (bits >>> (16 * j)) & cover;
                final int port = lo + offset;
                // Past the span (then inside == 0) the indices are clamped into their arrays.
                final int w = (port >>> 5) & (WORDS - 1);
                final long selectable = masks == null ? HELD_BITS
                    : masks[Math.min((port >>> 5) - firstWord, lastMaskIndex)];
                final long candidate = ~words[w] & selectable;
                final int inside = (spanLast - offset) >>> 31 ^ 1; // offset <= spanLast
                ok |= ((int) (candidate >>> (port & 31)) & inside & 1) << j;
            }
            if (ok != 0) {
                final int j = Integer.numberOfTrailingZeros(ok);
                final int port = lo + ((int) (bits >>> (16 * j)) & cover);
                if (claim(wordIndex(port), heldBit(port))) {
                    random.countProbes(round * PROBES_PER_ROUND + j + 1); // one tally write per call
                    return port;
                }
            }
        }
        random.countProbes(rounds * PROBES_PER_ROUND);
        return selectExact(random, view, view.countedBlocks());
    }

    /** Claims the port of {@code bit} in word {@code w} if it is free: one CAS, retried while it stays free. */
    private boolean claim(int w, long bit) {
        return claim(w, bit, (long) WORD.getAcquire(words, w));
    }

    /** {@link #claim(int, long)} from {@code cur}, a value of word {@code w} read by the caller (acquire). */
    private boolean claim(int w, long bit, long cur) {
        final long[] words = this.words;
        while ((cur & bit) == 0) {
            final long witness = (long) WORD.compareAndExchange(words, w, cur, claimed(cur, bit));
            if (witness == cur) {
                boundClaimed(w, cur, bit);
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

    /**
     * After a claim's CAS from word value {@code before} that took {@code bit}: lowers the block's bound by the
     * weight the word lost (bounds never understate: lowered only once the port is taken). Nothing to write while
     * the word keeps more than {@value #EXACT_FREE} free automatic ports, or for a port outside the automatic set.
     */
    private void boundClaimed(int w, long before, long bit) {
        if (mayReweigh(w, before, EXACT_FREE + 1)) {
            boundClaimedSlow(w, before, bit);
        }
    }

    /** {@link #boundClaimed} for a word whose weight may change (not inlined: it is rare at moderate occupancy). */
    private void boundClaimedSlow(int w, long before, long bit) {
        final long auto = automatic.maskOf(w);
        final int free = Long.bitCount(~before & auto);
        if (free <= EXACT_FREE + 1 && (bit & auto) != 0) {
            BOUND.getAndAdd(bounds, boundIndex(w >>> BLOCK_SHIFT), weight(free - 1) - weight(free));
        }
    }

    /**
     * The exact pass over the blocks and words of {@code s}: a uniform choice by rejection over the blocks'
     * weights, or the exhaustion verdict.
     *
     * <p>Each block has a weight: for a counted block (all its automatic ports selectable) its bound, read from
     * {@link #bounds}; for the others, their free selectable ports, counted from their words. A rank drawn below
     * the total weight picks a block with probability proportional to its weight, and a walk over the block's
     * words looks for the free port of that rank within the block. When the block has fewer free ports than the
     * rank (its bound overstates, or a change was in flight) the draw is rejected, the block's weight becomes the
     * count the walk found, and the pass draws again over the tightened weights. Every free port is therefore
     * chosen with the same probability, 1 / (total weight), at every draw: the choice is uniform whatever the
     * bounds overstate, and rejections only cost time (bounds are exact for words with at most
     * {@value #EXACT_FREE} free ports, so at high occupancy nearly every draw is accepted).
     *
     * <p>Loads: the pass reads bounds and words with plain loads, between the volatile read of the epoch (an
     * acquire: no later load moves before it) and an acquire fence before the epoch's second read (no earlier
     * load moves after it), which is all the verdict's argument needs (with rule 8's announcement before the
     * first epoch read for a view's pass). Acquire or opaque loads would order each
     * load against the next and keep the JIT from unrolling the loops: measured, they cost more than the rest of
     * the pass. A plain load of a word races with CASes on it (benign: the held bits are its low 32 bits, read
     * whole, and a stale value only makes a claim's CAS fail and the pass retry).
     *
     * @param counted blocks judged by their bound (see {@link Selection#countedBlocks}); the others are counted
     *     from words
     */
    private int selectExact(IndexSource random, Selection s, long counted) {
        if (s == s.base()) {
            return exactPass(random, s, counted);
        }
        // A view judges words by its own masks, which releases do not know: announce the pass (rule 8), so that
        // every release that sets no mark pays an increment while it runs.
        VIEW_PASSES.getAndAdd(epochCell, 1L);
        try {
            return exactPass(random, s, counted);
        } finally {
            VIEW_PASSES.getAndAdd(epochCell, -1L);
        }
    }

    /** {@link #selectExact}'s pass. */
    private int exactPass(IndexSource random, Selection s, long counted) {
        final long[] words = this.words;
        final int[] bounds = this.bounds;
        final int[] weights = random.scratch(); // BLOCKS ints at least (PortBitmapBoundsTest)
        final int first = s.firstWord();
        final int last = s.lastWord();
        final int firstBlock = first >>> BLOCK_SHIFT;
        final int lastBlock = last >>> BLOCK_SHIFT;
        final long partial = ~counted & blocksMask(firstBlock, lastBlock); // blocks with reserved ports
        final long whole = s.wholeBlocks(); // blocks whose words need no mask in the walk
        for (;;) {
            final long epoch0 = (long) EPOCH.getVolatile(epochCell);
            if (selection != s.base()) {
                return STALE;
            }
            // Two simple loops rather than one with a branch per block: the blocks' bounds, then the few
            // blocks with reserved ports word by word (measured: the mixed loop cost 3-4x as much).
            for (int b = firstBlock; b <= lastBlock; b++) {
                weights[b - firstBlock] = bounds[boundIndex(b)];
            }
            int read = lastBlock - firstBlock + 1;
            for (long m = partial; m != 0; m &= m - 1) {
                final int b = Long.numberOfTrailingZeros(m);
                final int from = Math.max(first, b << BLOCK_SHIFT);
                final int to = Math.min(last + 1, (b + 1) << BLOCK_SHIFT);
                weights[b - firstBlock] = countFree(words, s, from, to);
                read += to - from - 1;
            }
            int total = 0;
            for (int i = 0; i <= lastBlock - firstBlock; i++) {
                total += weights[i];
            }
            final boolean nowSparse = total < s.size() >>> 5;
            if (s == s.base() && sparse != nowSparse) {
                sparse = nowSparse; // written only on change: the field shares a line with hot read-only fields
            }
            int port = NONE;
            while (total > 0) {
                int r = random.nextIndex(total);
                int i = 0;
                while (r >= weights[i]) {
                    r -= weights[i++];
                }
                final int block = firstBlock + i;
                final int from = Math.max(first, block << BLOCK_SHIFT);
                final int to = Math.min(last + 1, (block + 1) << BLOCK_SHIFT);
                // Walk to the word holding the free port of rank r (half the block on average).
                final boolean unmasked = (whole >>> block & 1L) != 0; // every word fully selectable
                int found = 0;
                int w = from;
                long value = 0L;
                long free = 0L;
                for (; w < to; w++) {
                    value = words[w];
                    free = ~value & (unmasked ? HELD_BITS : s.maskOf(w));
                    final int count = Long.bitCount(free);
                    if (r < count) {
                        break;
                    }
                    r -= count;
                    found += count;
                }
                read += w - from + 1;
                if (w == to) {
                    total -= weights[i] - found; // rejected: weigh the block by what it holds, draw again
                    weights[i] = found;
                    continue;
                }
                port = claimRank(s, w, value, free, r);
                break;
            }
            random.countProbes(read);
            if (port != NONE) {
                return port; // a port, or STALE
            }
            // The fence keeps the pass's plain loads before the second epoch read (a volatile read alone would not).
            VarHandle.acquireFence();
            if (total == 0 && (long) EPOCH.getVolatile(epochCell) == epoch0) {
                // Every block was read empty (a bound of 0 means every word of the block was full when read) and
                // no release into a full word paid its increment meanwhile: see the class Javadoc.
                return selection == s.base() ? NONE : STALE;
            }
            // The chosen port was taken meanwhile, or something was freed during an empty pass: pass again.
        }
    }

    /** @return bits {@code first..last} of a block mask */
    private static long blocksMask(int first, int last) {
        return (-1L >>> (63 - last)) & (-1L << first);
    }

    /** @return the free selectable ports of words {@code from..to-1} (plain loads) */
    private static int countFree(long[] words, Selection s, int from, int to) {
        int free = 0;
        final long[] masks = s.maskWords();
        if (masks != null) {
            final int first = s.firstWord();
            for (int w = from; w < to; w++) {
                free += Long.bitCount(~words[w] & masks[w - first]);
            }
            return free;
        }
        // A single range: every word is fully selectable but its first and last. Each word is read once: a count
        // made of two reads of one word could miss a port freed between them, which the verdict must not.
        final int first = s.firstWord();
        final int last = s.lastWord();
        int lo = from;
        int hi = to;
        if (lo == first) {
            free += Long.bitCount(~words[lo] & s.maskOf(lo));
            lo++;
        }
        if (hi - 1 == last && hi - 1 >= lo) {
            free += Long.bitCount(~words[hi - 1] & s.maskOf(hi - 1));
            hi--;
        }
        for (int w = lo; w < hi; w++) {
            free += Long.bitCount(~words[w] & HELD_BITS);
        }
        return free;
    }

    /**
     * Claims the free port of rank {@code rank} among {@code free}, the free selectable ports of word {@code w}
     * as read in {@code value}.
     *
     * @return the port; NONE if it was taken meanwhile; STALE if the selection changed
     */
    private int claimRank(Selection s, int w, long value, long free, int rank) {
        long f = free;
        for (int r = rank; r > 0; r--) {
            f &= f - 1; // drop the lowest free port until the rank-th is the lowest
        }
        final long bit = Long.lowestOneBit(f);
        long cur = value;
        // Re-checking the selection before each CAS keeps the choice consistent with the reservations in
        // force when it is claimed: the rank was drawn over that selection's free ports.
        while ((cur & bit) == 0) {
            if (selection != s.base()) {
                return STALE;
            }
            final long witness = (long) WORD.compareAndExchange(words, w, cur, claimed(cur, bit));
            if (witness == cur) {
                boundClaimed(w, cur, bit);
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
     * {@link #tryClaim(int)} from {@code observed}, the caller's acquire read of the port's word
     * ({@link #word}): the first CAS expects that value, so a caller that has just read the word to find the
     * port does not read it again. A stale value only makes that CAS fail and the claim retry from its witness.
     *
     * @return true if the port was free and is now held by the caller
     */
    public boolean tryClaim(int port, long observed) {
        return claim(wordIndex(port), heldBit(port), observed);
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
                boundClaimed(w, cur, bit);
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

    /**
     * Frees {@code port} if it is held in the given kind (SHARED or exclusive), following the dirty-mark rule.
     *
     * <p>The common case at moderate occupancy takes one CAS and nothing else: the word is not an edge word and
     * keeps more than {@value #EXACT_FREE} free ports (its weight, hence its block's bound, does not change), has a
     * free selectable port (it is not full) and no dirty mark (so the port needs none and no epoch increment is
     * owed). That is the first iteration of {@link #freeAnyCase}'s loop with every branch decided; it is split off
     * so that the JIT inlines it into callers (the whole method is over C2's inlining size limit).
     */
    private boolean free(int port, boolean shared) {
        final int w = wordIndex(port);
        final long bit = heldBit(port);
        final long mark = bit << 32;
        final long kind = shared ? mark : 0L;
        final long[] words = this.words;
        final long cur = (long) WORD.getAcquire(words, w);
        if ((cur & (bit | mark)) == (bit | kind) && dirtyMarks(cur) == 0 && !mayReweigh(w, cur, EXACT_FREE)) {
            // Not full? A word past those tests keeps more than EXACT_FREE free ports and is all automatic or has no
            // automatic port. When every automatic port is selectable, the first kind has free selectable ports and
            // the second has no selectable port to be full of, so only other selections need the mask (one field
            // read instead of maskOf's range tests: measured 2-7 % less per acquire + release at 50 %).
            final Selection s = selection;
            if ((s.allAutomatic() || notFull(cur, s.maskOf(w)))
                && WORD.compareAndSet(words, w, cur, cur & ~bit & ~mark)) {
                payForUnmarkedRelease(s);
                return true;
            }
        }
        return freeAnyCase(port, shared);
    }

    /** @return whether word value {@code cur} has a free port among {@code mask}, or {@code mask} is empty */
    private static boolean notFull(long cur, long mask) {
        return mask == 0 || (~cur & mask) != 0;
    }

    /**
     * {@link #free}: every case, from a fresh read of the port's word. (Its size keeps C2 from inlining it into
     * {@link #free}, whose callers then inline the common case.)
     */
    private boolean freeAnyCase(int port, boolean shared) {
        final int w = wordIndex(port);
        final long bit = heldBit(port);
        final long mark = bit << 32;
        final long kind = shared ? mark : 0L;
        final long[] words = this.words;
        long cur = (long) WORD.getAcquire(words, w);
        if ((cur & bit) == 0 || (cur & mark) != kind) {
            refused(cur, bit);
            return false;
        }
        final Selection judged = selection;
        final long mask = judged.maskOf(w);
        final long auto = automatic.maskOf(w);
        final int boundAt = boundIndex(w >>> BLOCK_SHIFT);
        int raised = 0; // what this release has added to the block's bound so far
        long next;
        for (;;) {
            if ((cur & bit) == 0 || (cur & mark) != kind) { // changed meanwhile (a double release): undo the bound
                if (raised != 0) {
                    BOUND.getAndAdd(bounds, boundAt, -raised);
                }
                refused(cur, bit);
                return false;
            }
            // Bounds never understate: raise the block's bound by the weight the word gains *before* the CAS
            // that frees the port; if the word changed meanwhile, the weight gained is recomputed for the new value.
            final int free = Long.bitCount(~cur & auto);
            final int gain = (bit & auto) == 0 ? 0 : weight(free + 1) - weight(free);
            if (gain != raised) {
                BOUND.getAndAdd(bounds, boundAt, gain - raised);
                raised = gain;
            }
            next = cur & ~bit & ~mark;
            final boolean full = !notFull(cur, mask); // a word with nothing selectable never is
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
        } else {
            payForUnmarkedRelease(judged);
        }
        return true;
    }

    /**
     * After a release's freeing CAS that set no mark: pays an epoch increment if a pass may have read the word full
     * and not know about this release, because the selection it judged the word "not full" by has been replaced
     * since (rule 7 of the class Javadoc) or a view's pass, which judges words by other masks, is running (rule 8).
     * Two volatile reads after the CAS, off its critical path; the increment only around a publication or while a
     * view's exact pass runs (for a parity view at 50 % occupancy, about 1-2 % of its calls: its probes accept
     * about one candidate in four or five).
     */
    private void payForUnmarkedRelease(Selection judged) {
        if (selection != judged || (long) VIEW_PASSES.getVolatile(epochCell) != 0) {
            EPOCH.getAndAdd(epochCell, 1L);
        }
    }

    /**
     * @param w a word index
     * @return the word (acquire read): held bits low, marks high; a port is exclusive where held and unmarked
     */
    public long word(int w) {
        return (long) WORD.getAcquire(words, w);
    }

    /** @return the epoch (volatile read): how many increments releases, reads and publications have paid (tests) */
    long epoch() {
        return (long) EPOCH.getVolatile(epochCell);
    }

    /**
     * @param block 0 .. {@value #BLOCKS} - 1
     * @return the block's bound on its free automatic ports (volatile read): never below them, exact for words with
     *     at most {@value #EXACT_FREE} of them, {@value #PORTS_PER_WORD} for each word with more (see the class
     *     Javadoc)
     */
    public int freeBound(int block) {
        return (int) BOUND.getVolatile(bounds, boundIndex(block));
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
     * @return {@link #FREE}, {@link #EXCLUSIVE} or {@link #SHARED} (acquire read); {@link #FREE} pays an epoch
     *     increment first, as {@link #isHeld} does (rule 4 of the class Javadoc)
     */
    public int state(int port) {
        final long cur = (long) WORD.getAcquire(words, wordIndex(port));
        final long bit = heldBit(port);
        if ((cur & bit) == 0) {
            reportedFree();
            return FREE;
        }
        return (cur & (bit << 32)) != 0 ? SHARED : EXCLUSIVE;
    }

    /**
     * @return whether the port is held exclusively (acquire read). Unlike {@link #state} it pays nothing: "no"
     *     does not tell the caller that the port is free, so callers that go on to claim it (the flow layer's
     *     joins) use this.
     */
    public boolean isExclusive(int port) {
        return (exclusiveBits((long) WORD.getAcquire(words, wordIndex(port))) & heldBit(port)) != 0;
    }

    /** @return whether the port is held; a "no" pays an epoch increment first (rule 4 of the class Javadoc) */
    public boolean isHeld(int port) {
        final int w = wordIndex(port);
        final long cur = (long) WORD.getAcquire(words, w);
        final boolean held = (cur & heldBit(port)) != 0;
        if (!held) {
            reportedFree();
        }
        return held;
    }

    /** A free port was seen in word value {@code observed}: pay the increment a dirty word may still owe. */
    private void payIfObservedFree(long observed) {
        if (dirtyMarks(observed) != 0) {
            EPOCH.getAndAdd(epochCell, 1L);
        }
    }

    /** A release refused for word value {@code cur}: its port {@code bit} is free (reported so) or held otherwise. */
    private void refused(long cur, long bit) {
        if ((cur & bit) == 0) {
            reportedFree();
        } else {
            payIfObservedFree(cur);
        }
    }

    /**
     * The caller is about to report a port free (rule 4 of the class Javadoc): pay an epoch increment, whatever the
     * word's marks, since a release judged by a replaced selection frees its port without a mark.
     */
    private void reportedFree() {
        EPOCH.getAndAdd(epochCell, 1L);
    }

    /**
     * Publishes a new selection: marks every free port dirty in the words that either selection covers,
     * publishes, increments the epoch, then clears the marks (its own and older ones) where the word has
     * not changed since. Words outside both selections need nothing: no verdict reads them and no release
     * judges them full. Bounds cover all free automatic ports and need no change. Callers serialise calls.
     *
     * @throws IllegalArgumentException if {@code next} has another automatic set (nothing changes)
     */
    public void publish(Selection next) {
        if (!next.automatic().equals(automatic.automatic())) {
            throw new IllegalArgumentException("a new selection must keep the automatic set " + automatic.automatic()
                + " (the bounds count its free ports), not " + next.automatic());
        }
        final Selection previous = selection;
        final int first = Math.min(previous.firstWord(), next.firstWord());
        final int last = Math.max(previous.lastWord(), next.lastWord());
        final long[] words = this.words;
        final long[] marked = new long[WORDS]; // configuration, not a hot path
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

    /**
     * @return bytes of mutable state: the word array, the padded bounds and the padded epoch cell (the edge words'
     *     bits, 272 bytes, are fixed at construction)
     */
    public static long stateBytes() {
        return 16L + 8L * WORDS + 16L + 4L * (BLOCKS + 2 * BOUNDS_PAD) + EpochCell.BYTES;
    }

    /** Padding before the epoch: superclass fields are laid out first (as in JCTools/Agrona). */
    @SuppressWarnings("unused")
    static class EpochPadBefore {
        long p01, p02, p03, p04, p05, p06, p07, p08;
    }

    /** The epoch counter, and the count of views' exact passes running (rule 8 of the class Javadoc). */
    static class EpochValue extends EpochPadBefore {
        volatile long epoch;
        /** Written only by views' exact passes; read by every release that sets no mark. */
        volatile long viewPasses;
    }

    /** The epoch on its own cache line, away from the bitmap's read-mostly fields. */
    @SuppressWarnings("unused")
    static final class EpochCell extends EpochValue {
        static final int BYTES = 12 + 8 * 8 + 8 + 8 + 8 * 8 + 4;
        long p11, p12, p13, p14, p15, p16, p17, p18;
    }

}
