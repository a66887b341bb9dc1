package dev.portalloc.internal.bitmap;

import dev.portalloc.PortSet;

/**
 * An immutable snapshot of which ports automatic selection may return: the automatic set minus the
 * reserved set, as a bit mask in {@link PortBitmap}'s word layout plus the ordered index space
 * ({@link PortSet#nth(int)}) that uniform and RFC 6056 selection draw from.
 *
 * <p>Thread-safe: immutable. A {@link PortBitmap} publishes a new snapshot whenever the reservation
 * list changes; operations read the current one once and work against it.
 *
 * <p>Memory: a single contiguous range needs no mask at all (its words are computed from the two
 * bounds); any other set stores one {@code long} per bitmap word between its first and last port.
 */
public final class Selection {
    private final PortSet automatic;
    private final PortSet reserved;
    private final PortSet selectable;
    /** Words of the mask, for word indices {@code firstWord..lastWord}; null for a single range. */
    private final long[] mask;
    private final int firstWord;
    private final int lastWord;
    private final int lo;
    private final int hi;
    private final int size;
    /**
     * The probe cover of the span {@code lo..hi}: offsets {@code 0..coverMask} (a power of two minus one, at most
     * 65535), of which {@code 0..hi-lo} are inside the span. See {@code PortBitmap.select}.
     */
    private final int coverMask;
    /**
     * Bit b: every automatic port of summary block b is selectable, so that its bound (which counts the free
     * automatic ports) bounds its free selectable ports.
     */
    private final long countedBlocks;
    /** Bit b: all {@value PortBitmap#PORTS_PER_BLOCK} ports of summary block b are selectable. */
    private final long wholeBlocks;
    /** For a single range: the masks of its first and last words. */
    private final long firstMask;
    private final long lastMask;

    /** The allocator-wide selection this one derives from; itself for an allocator-wide selection. */
    private final Selection base;
    /** Every automatic port is selectable: nothing reserved, and not a narrower view. */
    private final boolean allAutomatic;

    /** An allocator-wide selection: {@code automatic} minus {@code reserved}. */
    public Selection(PortSet automatic, PortSet reserved) {
        this(null, automatic, reserved, automatic.minus(reserved));
    }

    /**
     * A view of {@code base} restricted to {@code within}: its selectable ports are those of {@code base}
     * that are also in {@code within}. Valid only while {@code base} is the bitmap's current selection.
     */
    public Selection(Selection base, PortSet within) {
        this(base, base.automatic, base.reserved, base.selectable.intersect(within));
    }

    private Selection(Selection base, PortSet automatic, PortSet reserved, PortSet selectable) {
        this.base = base == null ? this : base;
        this.automatic = automatic;
        this.reserved = reserved;
        this.selectable = selectable;
        this.size = selectable.size();
        this.allAutomatic = size == automatic.size(); // selectable ports are automatic ones
        long counted = 0;
        long whole = 0;
        for (int b = 0; b < PortBitmap.BLOCKS; b++) {
            final int from = b * PortBitmap.PORTS_PER_BLOCK;
            final int to = from + PortBitmap.PORTS_PER_BLOCK; // exclusive; rank() accepts 65536
            final int selectableInBlock = selectable.rank(to) - selectable.rank(from);
            if (selectableInBlock == automatic.rank(to) - automatic.rank(from)) {
                counted |= 1L << b;
            }
            if (selectableInBlock == PortBitmap.PORTS_PER_BLOCK) {
                whole |= 1L << b;
            }
        }
        this.countedBlocks = counted;
        this.wholeBlocks = whole;
        if (size == 0) {
            lo = 1;
            hi = 0;
            coverMask = 0;
            firstWord = Integer.MAX_VALUE; // empty span: min/max with another span ignore it
            lastWord = Integer.MIN_VALUE;
            mask = null;
            firstMask = 0L;
            lastMask = 0L;
            return;
        }
        lo = selectable.first();
        hi = selectable.last();
        coverMask = hi == lo ? 0 : -1 >>> Integer.numberOfLeadingZeros(hi - lo); // smallest 2^k - 1 >= hi - lo
        firstWord = PortBitmap.wordIndex(lo);
        lastWord = PortBitmap.wordIndex(hi);
        firstMask = rangeMask(firstWord, lo, hi);
        lastMask = rangeMask(lastWord, lo, hi);
        if (selectable.rangeCount() == 1) {
            mask = null;
        } else {
            long[] m = new long[lastWord - firstWord + 1];
            for (int r = 0; r < selectable.rangeCount(); r++) {
                for (int w = PortBitmap.wordIndex(selectable.rangeFirst(r)),
                         end = PortBitmap.wordIndex(selectable.rangeLast(r)); w <= end; w++) {
                    m[w - firstWord] |= rangeMask(w, selectable.rangeFirst(r), selectable.rangeLast(r));
                }
            }
            mask = m;
        }
    }

    /**
     * @return bit b set if every automatic port of summary block b (ports {@code b * 1024 .. b * 1024 + 1023}) is
     *     selectable, so that the block's bound, which counts its free automatic ports, bounds how many of its
     *     ports may be chosen (a block without automatic ports counts too: its bound is 0)
     */
    public long countedBlocks() {
        return countedBlocks;
    }

    /** @return bit b set if every port of summary block b is selectable (never block 0: port 0 is not) */
    long wholeBlocks() {
        return wholeBlocks;
    }

    /** Bits of word {@code w} whose ports lie in {@code [first, last]}. */
    static long rangeMask(int w, int first, int last) {
        final int base = w * PortBitmap.PORTS_PER_WORD;
        final int from = Math.max(first, base) - base;
        final int to = Math.min(last, base + PortBitmap.PORTS_PER_WORD - 1) - base;
        if (from > to) {
            return 0L;
        }
        // bits from..to inclusive; to <= 31 so the shift never reaches 64
        return ((1L << (to + 1)) - 1) & -(1L << from);
    }

    /** @return whether every automatic port is selectable (nothing reserved, and not a narrower view) */
    public boolean allAutomatic() {
        return allAutomatic;
    }

    /** @return the selectable bits of bitmap word {@code w} (held-bit positions; never a mark bit) */
    public long maskOf(int w) {
        if (w < firstWord || w > lastWord) {
            return 0L;
        }
        final long[] m = mask;
        if (m != null) {
            return m[w - firstWord];
        }
        // A single range: only its first and last words are partial (computed once, in the constructor).
        return w == firstWord ? firstMask : w == lastWord ? lastMask : PortBitmap.HELD_BITS;
    }

    /**
     * @return the masks of words {@link #firstWord()}..{@link #lastWord()} (index 0 is the first word), or null
     *     for a single range, whose words are all fully selectable except its first and last ({@link #maskOf})
     */
    long[] maskWords() {
        return mask;
    }

    /** @return the lowest selectable port (the span's first; 1 for an empty selection) */
    public int lo() {
        return lo;
    }

    /** @return the span's length minus one: {@code hi - lo} (negative for an empty selection) */
    public int spanLast() {
        return hi - lo;
    }

    /**
     * @return {@code 2^k - 1} for the smallest k with {@code 2^k > hi - lo}: the offsets {@code 0..coverMask} from
     *     {@link #lo()} cover the span, and at least half of them lie inside it
     */
    public int coverMask() {
        return coverMask;
    }

    /** @return the {@code index}-th selectable port in ascending order (the RFC 6056 index space) */
    public int nth(int index) {
        return mask == null ? lo + index : selectable.nth(index);
    }

    /** @return number of selectable ports */
    public int size() {
        return size;
    }

    /** @return first bitmap word holding a selectable port (greater than {@link #lastWord()} if none) */
    public int firstWord() {
        return firstWord;
    }

    /** @return last bitmap word holding a selectable port */
    public int lastWord() {
        return lastWord;
    }

    /** @return the allocator-wide selection this one derives from ({@code this} if it is one) */
    public Selection base() {
        return base;
    }

    public PortSet automatic() {
        return automatic;
    }

    public PortSet reserved() {
        return reserved;
    }

    public PortSet selectable() {
        return selectable;
    }

    /** @return whether {@code port} may be chosen automatically */
    public boolean isSelectable(int port) {
        return port >= lo && port <= hi && (mask == null || selectable.contains(port));
    }
}
