package dev.portalloc.internal.bitmap;

import dev.portalloc.PortSet;
import dev.portalloc.internal.random.IndexSource;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One bit per port, exclusive holdings only: the port state of the many addresses of an address pool, where
 * {@link PortBitmap}'s two bits per port, block bounds and per-allocator objects would cost too much memory
 * and too many cache misses per operation.
 *
 * <h2>Layout: a flyweight over plain arrays</h2>
 * An instance is the shared, immutable shape of every address: which ports are selectable (the automatic
 * set minus the reserved set, fixed for the life of the pool). The state of one address is a plain
 * {@code long[]} of {@value #LENGTH} words made by {@link #newWords()}: word {@code p >>> 6} holds port
 * {@code p} at bit {@code p & 63} (1 = held), and the last word is the address's <em>epoch</em> and count of
 * pending releases, explained below. 8,216 bytes per address with the array header, and an operation touches
 * that array and nothing else of the address: no per-address object, no per-block counts. An acquisition reads
 * the lines of its candidates; a release writes its port's line and reads the last word's line (a second cache
 * miss on a cold address, measured below the noise of {@code AddressPoolBenchmark}).
 *
 * <h2>Selection</h2>
 * Up to {@value #FAST_PROBES} uniformly drawn candidates, claiming the first free one (rejection sampling:
 * each free port equally likely; over the whole selection they are loaded in pairs, so that the cache misses
 * of two candidates overlap), then an exact pass: count the free ports word by word, draw {@code r}
 * below the count, claim the r-th. Uniform over the free selectable ports either way (exactly so when
 * nothing changes during a pass). The same mechanism serves subsets, a port range ({@code first..last})
 * intersected with a parity: {@link #ALL}, {@link #EVEN} or {@link #ODD} bits of every word.
 *
 * <h2>The verdict "nothing free", without counts</h2>
 * An exact pass that counts no free port reports {@link #NONE} only if the epoch did not change during the
 * pass. The words are read one after another, so a port freed in an already-read word while a later one was
 * being filled would go unseen; the epoch catches exactly those releases. The address's last word holds the
 * epoch in its high 40 bits and, in its low 24 bits, the count of <em>pending</em> releases: those into a full
 * word that have announced themselves and not yet paid.
 * <ol>
 * <li>A release whose word has no free selectable port of the released port's parity (a word full for the whole
 *     selection is full for each parity, so this covers whole-selection and parity passes) announces itself
 *     (pending + 1) before its freeing CAS and pays after it: epoch + 1 and pending - 1, in one atomic add.</li>
 * <li>Any other release reads the last word after its freeing CAS and, if a release is pending, pays an epoch
 *     increment itself before returning. Its word may be free only thanks to a pending release's port (word 0
 *     full, a release of 60 pending, a release of 62 into the word that is no longer full): without this it
 *     would return, unannounced, with its port free in a word the pass read as full (found by
 *     {@code CompactBitmapLincheckTest}).</li>
 * <li>Whoever reports a port free without consuming it ({@link #isHeld}, a {@link #release} of a free port)
 *     increments the epoch before returning: an observer of a freed port must not return before the
 *     increment owed for it has been paid.</li>
 * </ol>
 * If a word the pass read as full is no longer full when the epoch is read the second time, the first
 * release into it after the read was into a full word, so it announced itself before its CAS. Either it has
 * paid (the pass sees the increment and starts over) or it has not returned; every release into that word
 * after it either saw it pending and paid, or read the last word after its payment; and every other operation
 * that returned meanwhile either consumed its port or saw it and paid. The verdict is linearized before the
 * pending releases (the argument of {@link PortBitmap}, whose dirty marks do the announcing there; this layout
 * has no room for them, so observers always pay, and a pending release makes every release pay).
 * Claims never write the last word. A release into a word with a free port of its parity costs one CAS and a
 * read of the last word (written only by releases into full words, the releases that pay for them and
 * observers, and shared with the port words around it): the other 31 ports
 * of its parity in the word are all held with probability about q^31 at occupancy q (4 % at 90 %, 20 % at
 * 95 %), so below about 90 % almost every release costs one CAS. A pass restricted to a port range
 * is exact only when nothing changes during it: a word read as full for the range may not be full for its
 * parity, so a release into it does not announce itself (port blocks, whose reservations guarantee a free
 * port, count again instead).
 *
 * <h2>Thread-safety and memory ordering</h2>
 * Thread-safe and lock-free: every change is a CAS on one word that fails only because another thread's CAS
 * succeeded; claims and releases are volatile read-modify-writes, so a release happens-before the claim that
 * next returns the same port. Passes read words and epoch with volatile loads (plain loads on x86), which
 * keeps the words between the two epoch reads. Nothing allocates.
 */
public final class CompactBitmap {
    /** Ports per word. */
    public static final int PORTS_PER_WORD = 64;
    /** Words covering ports 0..65535. */
    public static final int WORDS = 65536 / PORTS_PER_WORD;
    /** Length of an address's array: the port words, then the epoch. */
    public static final int LENGTH = WORDS + 1;
    /** Returned by the selections when no port was free. */
    public static final int NONE = -1;
    /** Every port of a word: no parity restriction. */
    public static final long ALL = -1L;
    /** The even ports of a word (bits 0, 2, ...: ports 64w, 64w + 2, ...). */
    public static final long EVEN = 0x5555_5555_5555_5555L;
    /** The odd ports of a word. */
    public static final long ODD = ~EVEN;
    /**
     * Uniform candidates before the exact pass: at 50 % occupancy 1 selection in 65,536 gets that far, at 90 %
     * about 1 in 5. Each candidate of a random address is likely a cache miss, the exact pass reads 8 KiB.
     */
    static final int FAST_PROBES = 16;

    /**
     * Index of the last word: the epoch (high 40 bits: a pass misses a change only if 2^40 increments are paid
     * while it runs) and the pending releases (low 24 bits: at most one per thread).
     */
    private static final int EPOCH = WORDS;
    /** One pending release, in the last word. */
    private static final long PENDING = 1L;
    /** One epoch increment, in the last word. */
    private static final long INCREMENT = 1L << 24;
    private static final VarHandle WORD = MethodHandles.arrayElementVarHandle(long[].class);

    private final PortSet selectable;
    /** The selectable ports, in the word layout. */
    private final long[] mask = new long[WORDS];

    /**
     * @param selectable the ports automatic selection may return (the automatic set minus the reserved set);
     *     must not be empty
     * @throws IllegalArgumentException if {@code selectable} is empty
     */
    public CompactBitmap(PortSet selectable) {
        if (selectable.isEmpty()) {
            throw new IllegalArgumentException("no selectable port: every automatic port is reserved");
        }
        this.selectable = selectable;
        for (int i = 0; i < selectable.rangeCount(); i++) {
            for (int p = selectable.rangeFirst(i); p <= selectable.rangeLast(i); p++) {
                mask[p >>> 6] |= 1L << p;
            }
        }
    }

    /** @return the state of a new address: every port free, epoch 0 */
    public long[] newWords() {
        return new long[LENGTH];
    }

    /** @return the selectable ports */
    public PortSet selectable() {
        return selectable;
    }

    /** @return whether automatic selection may return {@code port} (any int) */
    public boolean isSelectable(int port) {
        return port >= 0 && port <= 65535 && (mask[port >>> 6] & 1L << port) != 0;
    }

    /**
     * Claims a uniformly chosen free selectable port.
     *
     * @param words an address's state
     * @param random the calling thread's generator
     * @return the port, or {@link #NONE} if at some moment during the call no selectable port was free
     */
    public int select(long[] words, IndexSource random) {
        final PortSet s = selectable;
        final int n = s.size();
        // Candidates in pairs, both words loaded before either is tested: on a cold address the two cache
        // misses overlap, and at 50 % occupancy the pair settles 3 selections in 4 for the price of one miss.
        // The draws stay independent and are tried in order, so this is still rejection sampling.
        for (int probe = 0; probe < FAST_PROBES; probe += 2) {
            final int p1 = s.nth(random.nextIndex(n));
            final int p2 = s.nth(random.nextIndex(n));
            final long w1 = (long) WORD.getVolatile(words, p1 >>> 6);
            final long w2 = (long) WORD.getVolatile(words, p2 >>> 6);
            if ((w1 & 1L << p1) == 0 && tryClaim(words, p1)) {
                random.countProbes(probe + 1);
                return p1;
            }
            if ((w2 & 1L << p2) == 0 && tryClaim(words, p2)) {
                random.countProbes(probe + 2);
                return p2;
            }
        }
        random.countProbes(FAST_PROBES);
        return selectExact(words, random, s.first(), s.last(), ALL);
    }

    /**
     * Claims a uniformly chosen free selectable port of {@code first..last} whose bit is in {@code parity}.
     *
     * @param words an address's state
     * @param random the calling thread's generator
     * @param first lowest port of the subset, 0..65535
     * @param last highest port of the subset, {@code first..65535}
     * @param parity {@link #ALL}, {@link #EVEN} or {@link #ODD}
     * @return the port, or {@link #NONE}: with the whole range and a parity, at some moment during the call no
     *     such port was free; with a narrower range, no such port was seen free
     */
    public int select(long[] words, IndexSource random, int first, int last, long parity) {
        // Candidates: the ports of first..last with the parity, drawn uniformly (a superset of the targets).
        final int step = parity == ALL ? 1 : 2;
        final int start = parity == ALL || (parity == EVEN) == ((first & 1) == 0) ? first : first + 1;
        if (start > last) {
            return NONE;
        }
        final int n = (last - start) / step + 1;
        for (int probe = 1; probe <= FAST_PROBES; probe++) {
            final int port = start + step * random.nextIndex(n);
            if ((mask[port >>> 6] & 1L << port) != 0 && tryClaim(words, port)) {
                random.countProbes(probe);
                return port;
            }
        }
        random.countProbes(FAST_PROBES);
        return selectExact(words, random, first, last, parity);
    }

    /**
     * Rank/select over the words of {@code first..last}: an exact uniform choice, or the verdict.
     */
    private int selectExact(long[] words, IndexSource random, int first, int last, long parity) {
        final int fw = first >>> 6;
        final int lw = last >>> 6;
        for (;;) {
            final long epoch = epoch(words);
            int total = 0;
            for (int w = fw; w <= lw; w++) {
                total += Long.bitCount(free(words, w, first, last, parity));
            }
            random.countProbes(lw - fw + 1);
            if (total == 0) {
                if (epoch(words) == epoch) {
                    return NONE;
                }
                continue; // a port was freed in a word already read: count again
            }
            int r = random.nextIndex(total);
            for (int w = fw; w <= lw; w++) {
                long f = free(words, w, first, last, parity);
                final int c = Long.bitCount(f);
                if (r < c) {
                    for (; r > 0; r--) {
                        f &= f - 1; // drop the lowest free port: r of them precede the chosen one
                    }
                    final int port = w << 6 | Long.numberOfTrailingZeros(f);
                    if (tryClaim(words, port)) {
                        return port;
                    }
                    break; // taken meanwhile: another thread progressed; count again
                }
                r -= c;
            }
        }
    }

    /** The free selectable ports of word {@code w} within {@code first..last} and {@code parity}. */
    private long free(long[] words, int w, int first, int last, long parity) {
        long m = mask[w] & parity;
        final int base = w << 6;
        if (first > base) {
            m &= -1L << first; // shifts are mod 64: first - base
        }
        if (last < base + 63) {
            m &= -1L >>> (63 - (last - base));
        }
        return ~(long) WORD.getVolatile(words, w) & m;
    }

    /**
     * Claims {@code port} if it is free: one CAS, retried while it stays free. Any port 0..65535, selectable
     * or not (explicit acquisitions); the caller keeps port 0 out.
     *
     * @return whether this call claimed it
     */
    public boolean tryClaim(long[] words, int port) {
        final int w = port >>> 6;
        final long bit = 1L << port;
        long cur = (long) WORD.getVolatile(words, w);
        while ((cur & bit) == 0) {
            final long witness = (long) WORD.compareAndExchange(words, w, cur, cur | bit);
            if (witness == cur) {
                return true;
            }
            cur = witness; // another port of this word changed; ours may still be free
        }
        return false;
    }

    /**
     * Frees {@code port} if it is held.
     *
     * @return true if this call freed it; false if it was not held (nothing changed)
     */
    public boolean release(long[] words, int port) {
        final int w = port >>> 6;
        final long bit = 1L << port;
        final long selectableBits = mask[w];
        // The ports that make the word full for this port's parity when held (or unselectable).
        final long sameParity = (selectableBits & bit) == 0 ? 0L : (port & 1) == 0 ? EVEN : ODD;
        boolean announced = false;
        long cur = (long) WORD.getVolatile(words, w);
        for (;;) {
            if ((cur & bit) == 0) {
                if (announced) {
                    payAnnounced(words); // withdraw, and pay as rule 3 asks
                } else {
                    bumpEpoch(words); // an observer of a free port pays (rule 3)
                }
                return false;
            }
            if (!announced && sameParity != 0 && ((cur | ~selectableBits) & sameParity) == sameParity) {
                WORD.getAndAdd(words, EPOCH, PENDING); // into a full word: announce before the CAS (rule 1)
                announced = true;
            }
            final long witness = (long) WORD.compareAndExchange(words, w, cur, cur & ~bit);
            if (witness == cur) {
                break;
            }
            cur = witness; // another port of this word changed: judge its fullness again
        }
        if (announced) {
            payAnnounced(words); // rule 1
        } else {
            payIfPending(words);
        }
        return true;
    }

    /**
     * After a freeing CAS that announced nothing: pays an epoch increment if a release into a full word is
     * pending, since this port's word may be free only thanks to it (rule 2). A volatile read of the last word
     * after the CAS; the increment only while a release into a full word is in flight.
     */
    private static void payIfPending(long[] words) {
        if (pending(words) != 0) {
            bumpEpoch(words);
        }
    }

    /**
     * @return whether {@code port} is held; linearizable (a false answer pays an epoch increment, rule 3)
     */
    public boolean isHeld(long[] words, int port) {
        if (((long) WORD.getVolatile(words, port >>> 6) & 1L << port) != 0) {
            return true;
        }
        bumpEpoch(words); // rule 3
        return false;
    }

    /** @return the held ports of an address, weakly consistent (words read one after another) */
    public static int heldCount(long[] words) {
        int held = 0;
        for (int w = 0; w < WORDS; w++) {
            held += Long.bitCount((long) WORD.getOpaque(words, w));
        }
        return held;
    }

    /** Settles an announced release: epoch + 1 and pending - 1, in one atomic add (rule 1). */
    private static void payAnnounced(long[] words) {
        WORD.getAndAdd(words, EPOCH, INCREMENT - PENDING);
    }

    private static void bumpEpoch(long[] words) {
        WORD.getAndAdd(words, EPOCH, INCREMENT);
    }

    /** @return the epoch of an address (volatile read of its last word, pending releases left out) */
    static long epoch(long[] words) {
        return (long) WORD.getVolatile(words, EPOCH) >>> Long.numberOfTrailingZeros(INCREMENT);
    }

    /** @return the releases into full words of an address that have announced themselves and not paid */
    static long pending(long[] words) {
        return (long) WORD.getVolatile(words, EPOCH) & (INCREMENT - 1);
    }
}
