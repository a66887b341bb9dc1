package dev.portalloc.internal.flow;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * A lock-free set of 64-bit tuple keys with a state per key (live or quarantined) that reuses the slots of
 * removed keys, so a stream of ever-new keys costs neither allocation nor growth. It replaces JCTools'
 * {@code NonBlockingHashMapLong} for IPv4 tuples: that map keeps a removed key's slot until a resize and
 * doubles its table when resizes come less than 10 s apart, so under connection churn (a new key per
 * connection) it grew to 2^21 slots for 14,000 live keys and cost microseconds per operation
 * (docs/design/connect-style.md).
 *
 * <h2>Layout</h2>
 * 2^{@code bucketBits} buckets ({@value #DEFAULT_BUCKET_BITS} by default: 4 MiB) of 8 {@code long}s (64 bytes):
 * 7 slots and a link to an overflow bucket. A key goes through a salted bijective mixer (MurmurHash3's
 * finalizer), its low {@code bucketBits} bits pick the bucket and the other bits are stored with a 3-bit
 * state in one word: {@code (mixed >>> bucketBits) << 3 | state}, 0 meaning empty. The bucket's chain is the bucket and its overflow
 * buckets in link order; overflow buckets come from chunks allocated on demand and are never unlinked
 * (they are reused as they empty), so memory follows the peak number of keys per chain.
 *
 * <h2>Uniqueness without locks: claim, scan, veto</h2>
 * An insert CASes an empty slot to CLAIMED, then scans the whole chain for other words with the same key:
 * a LIVE or QUARANTINED copy means the key is present (the claim is withdrawn); a CLAIMED copy earlier in
 * the chain wins (the claim is withdrawn and the caller is told to retry, {@link #BUSY}); a CLAIMED copy later
 * in the chain is vetoed (CAS to VETOED, which its owner finds when it tries to finalize and then clears).
 * The insert then CASes its own word CLAIMED to PENDING, which fails only if it was vetoed; the caller then
 * commits it (PENDING to LIVE) or cancels it (PENDING to empty). A PENDING copy counts as present for other
 * inserts, which report {@link #BUSY} on it, and readers that need a definite answer wait for it to resolve
 * ({@link TupleTable}). Two copies can
 * never both become LIVE: of two claimants, the later scanner sees the other's claim (claims precede
 * scans), and either defers to an earlier one or vetoes a later one before that one can finalize; a
 * finalized copy makes every later scanner withdraw. Words carry the whole key and state, so a CAS from a
 * stale view fails instead of acting on a reused slot (a stale veto can at worst cost a reclaimed slot of
 * the same key one retry).
 *
 * <p>Thread-safety: thread-safe; every operation is lock-free (CAS on one word; a chain is appended by CAS
 * on its last link) except that {@link #insert} reports {@link #BUSY} while another insert of the same key
 * is in flight. Reads are acquire loads, changes volatile CASes.
 */
final class Ipv4TupleTable {
    /** {@link #insert} result: the key is already live or quarantined. (A key now pending gets its slot, >= 0.) */
    static final int PRESENT = -1;
    /** {@link #insert} result: another insert of the same key is in flight; retry. */
    static final int BUSY = -2;

    static final int DEFAULT_BUCKET_BITS = 16;
    private static final int SLOTS = 7;
    private static final int BUCKET_LONGS = 8;
    private static final int LINK = 7;
    private static final int CHUNK_BUCKETS = 1024;
    private static final int MAX_CHUNKS = 1 << 16;
    /** Fewest and most main buckets, as log2. */
    static final int MIN_BUCKET_BITS = 3;
    static final int MAX_BUCKET_BITS = 24;
    /**
     * Most expected tuples {@link #bucketBitsFor} accepts: those that fill the largest table (2^24 buckets,
     * 1 GiB) to half its slots.
     */
    static final int MAX_EXPECTED_TUPLES = (SLOTS << MAX_BUCKET_BITS) / 2;
    /** The expected tuples of the default table: 2^16 buckets (4 MiB) at half their slots. */
    static final int DEFAULT_EXPECTED_TUPLES = (SLOTS << DEFAULT_BUCKET_BITS) / 2;

    private static final long STATE = 7L;
    private static final long CLAIMED = 1L;
    private static final long VETOED = 2L;
    static final long LIVE = 3L;
    static final long QUARANTINED = 4L;
    /** Won by an insert that has not yet committed ({@link #commit}) or cancelled ({@link #cancel}) it. */
    static final long PENDING = 5L;

    private static final VarHandle WORD = MethodHandles.arrayElementVarHandle(long[].class);

    private final long salt;
    private final int bucketBits;
    /** Number of main buckets; overflow bucket numbers start here. */
    private final int buckets;
    private final long[] main;
    private final AtomicReferenceArray<long[]> chunks = new AtomicReferenceArray<>(MAX_CHUNKS);
    private final AtomicInteger overflowBuckets = new AtomicInteger();
    private final LongAdder size = new LongAdder();

    Ipv4TupleTable(long salt) {
        this(salt, DEFAULT_BUCKET_BITS);
    }

    /** @param bucketBits log2 of the number of main buckets, 3..24 (tests use small tables for long chains) */
    Ipv4TupleTable(long salt, int bucketBits) {
        if (bucketBits < MIN_BUCKET_BITS || bucketBits > MAX_BUCKET_BITS) {
            throw new IllegalArgumentException("bucketBits " + bucketBits + " is out of range " + MIN_BUCKET_BITS
                + ".." + MAX_BUCKET_BITS);
        }
        this.salt = salt;
        this.bucketBits = bucketBits;
        this.buckets = 1 << bucketBits;
        this.main = new long[buckets * BUCKET_LONGS];
    }

    /**
     * The table size for an expected number of tuples at once: the fewest main buckets (a power of two, at least
     * 2^{@value #MIN_BUCKET_BITS}) whose slots are at least twice the tuples, so chains rarely overflow.
     *
     * @param tuples 1..{@value #MAX_EXPECTED_TUPLES}
     * @return log2 of the main buckets
     * @throws IllegalArgumentException if {@code tuples} is out of range
     */
    static int bucketBitsFor(int tuples) {
        if (tuples < 1 || tuples > MAX_EXPECTED_TUPLES) {
            throw new IllegalArgumentException("expected tuples " + tuples + " is out of range 1.."
                + MAX_EXPECTED_TUPLES);
        }
        final long buckets = (2L * tuples + SLOTS - 1) / SLOTS;
        final int bits = 64 - Long.numberOfLeadingZeros(buckets - 1); // ceil(log2(buckets)); 0 for one bucket
        return Math.max(MIN_BUCKET_BITS, bits);
    }

    private long mixed(long key) {
        long h = key + salt;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    /** @return the main bucket of {@code key} (tests choose keys that share a chain) */
    int bucketOf(long key) {
        return (int) (mixed(key) & (buckets - 1));
    }

    /** @return the word of {@code mixed} in {@code state} (bucketBits >= 3, so no bit of the key is lost) */
    private long word(long mixed, long state) {
        return ((mixed >>> bucketBits) << 3) | state;
    }

    /** @return whether word {@code w} holds the key of {@code stored} (a word with its state bits cleared) */
    private static boolean sameKey(long w, long stored) {
        return (w & ~STATE) == stored && w != 0;
    }

    /** @return the array holding bucket {@code b} (main buckets are 0..buckets-1, overflow buckets follow) */
    private long[] array(int b) {
        return b < buckets ? main : chunks.get((b - buckets) / CHUNK_BUCKETS);
    }

    private int base(int b) {
        return (b < buckets ? b : (b - buckets) % CHUNK_BUCKETS) * BUCKET_LONGS;
    }

    /** @return the next bucket of the chain, or -1 */
    private int next(int b) {
        final long link = (long) WORD.getAcquire(array(b), base(b) + LINK);
        return link == 0 ? -1 : (int) link - 1;
    }

    /**
     * @return the state of the key ({@link #LIVE}, {@link #QUARANTINED} or {@link #PENDING}), or 0 if it is
     *     absent
     */
    long state(long key) {
        final long m = mixed(key);
        final long stored = word(m, 0);
        for (int b = (int) (m & (buckets - 1)); b >= 0; b = next(b)) {
            final long[] a = array(b);
            final int at = base(b);
            for (int i = 0; i < SLOTS; i++) {
                final long w = (long) WORD.getAcquire(a, at + i);
                if (sameKey(w, stored) && (w & STATE) >= LIVE) {
                    return w & STATE;
                }
            }
        }
        return 0;
    }

    /**
     * Inserts the key as {@link #PENDING}: the caller must then {@link #commit} or {@link #cancel} it, by the slot
     * returned (a pending word is changed by its inserter only, so the slot stays its own until then).
     *
     * @return the key's slot, {@code >= 0}, if the key is now pending; {@link #PRESENT} (live or quarantined) or
     *     {@link #BUSY} (another insert of the key is in flight)
     */
    int insert(long key) {
        final long m = mixed(key);
        final long stored = word(m, 0);
        final long claim = stored | CLAIMED;
        final int home = (int) (m & (buckets - 1));
        // 1. Claim an empty slot: the first one of the chain, appending a bucket if there is none.
        int mineBucket = -1;
        int mine = -1;
        int position = 0;
        int minePosition = -1;
        for (int b = home; mine < 0; ) {
            final long[] a = array(b);
            final int at = base(b);
            for (int i = 0; i < SLOTS && mine < 0; i++, position++) {
                final long w = (long) WORD.getAcquire(a, at + i);
                if (sameKey(w, stored) && (w & STATE) >= LIVE) {
                    // cheap early exit; the scan below is what guarantees uniqueness
                    return (w & STATE) == PENDING ? BUSY : PRESENT;
                }
                if (w == 0 && WORD.compareAndSet(a, at + i, 0L, claim)) {
                    mineBucket = b;
                    mine = at + i;
                    minePosition = position;
                }
            }
            if (mine < 0) {
                final int n = next(b);
                b = n >= 0 ? n : append(b);
            }
        }
        final long[] mineArray = array(mineBucket);
        // 2. Scan the whole chain for other copies of the key.
        position = 0;
        for (int b = home; b >= 0; b = next(b)) {
            final long[] a = array(b);
            final int at = base(b);
            for (int i = 0; i < SLOTS; i++, position++) {
                if (position == minePosition) {
                    continue;
                }
                long w = (long) WORD.getAcquire(a, at + i);
                while (sameKey(w, stored)) {
                    final long state = w & STATE;
                    if (state >= LIVE) {
                        withdraw(mineArray, mine);
                        return state == PENDING ? BUSY : PRESENT;
                    }
                    if (state != CLAIMED) {
                        break; // VETOED: its owner will clear it
                    }
                    if (position < minePosition) {
                        withdraw(mineArray, mine);
                        return BUSY; // an earlier claim has priority
                    }
                    final long witness = (long) WORD.compareAndExchange(a, at + i, w, stored | VETOED);
                    if (witness == w) {
                        break;
                    }
                    w = witness; // it finalized or withdrew meanwhile: look again
                }
            }
        }
        // 3. Finalize as pending, unless an earlier claimant vetoed us.
        if (WORD.compareAndSet(mineArray, mine, claim, stored | PENDING)) {
            return mineBucket * BUCKET_LONGS + (mine - base(mineBucket));
        }
        WORD.compareAndSet(mineArray, mine, stored | VETOED, 0L);
        return BUSY;
    }

    /** Gives up our claimed (or vetoed) slot. */
    private static void withdraw(long[] a, int index) {
        final long w = (long) WORD.getAcquire(a, index);
        if (!WORD.compareAndSet(a, index, w, 0L)) {
            // Only a veto can race with us (CLAIMED -> VETOED); after it nobody else touches the slot.
            WORD.setVolatile(a, index, 0L);
        }
    }

    /** Appends an overflow bucket after {@code b} (or finds the one another thread appended). */
    private int append(int b) {
        final long[] a = array(b);
        final int linkIndex = base(b) + LINK;
        final int fresh = buckets + overflowBuckets.getAndIncrement();
        final int chunk = (fresh - buckets) / CHUNK_BUCKETS;
        if (chunk >= MAX_CHUNKS) {
            throw new IllegalStateException("tuple table full: " + MAX_CHUNKS * CHUNK_BUCKETS + " overflow buckets");
        }
        if (chunks.get(chunk) == null) {
            chunks.compareAndSet(chunk, null, new long[CHUNK_BUCKETS * BUCKET_LONGS]);
        }
        final long witness = (long) WORD.compareAndExchange(a, linkIndex, 0L, (long) fresh + 1);
        // Losing the race leaves our fresh bucket unlinked: a 64-byte leak per lost race, bounded by contention.
        return witness == 0 ? fresh : (int) witness - 1;
    }

    /**
     * Changes the state of a live or quarantined key.
     *
     * @param from {@link #LIVE} or {@link #QUARANTINED}
     * @param to {@link #LIVE}, {@link #QUARANTINED}, or 0 to remove the key
     * @return false (and no change) if the key was not in state {@code from}
     */
    boolean transition(long key, long from, long to) {
        // A pending key is its inserter's, finished by its slot (commit / cancel, which keep the size): a removal
        // from PENDING here would decrement a size it never incremented. An assertion, so the hot path pays nothing.
        assert from == LIVE || from == QUARANTINED : "transition from state " + from + ": only LIVE or QUARANTINED";
        final long m = mixed(key);
        final long expected = word(m, from);
        final long next = to == 0 ? 0L : word(m, to);
        for (int b = (int) (m & (buckets - 1)); b >= 0; b = next(b)) {
            final long[] a = array(b);
            final int at = base(b);
            for (int i = 0; i < SLOTS; i++) {
                if ((long) WORD.getAcquire(a, at + i) == expected) {
                    if (WORD.compareAndSet(a, at + i, expected, next)) {
                        if (to == 0) {
                            size.decrement();
                        }
                        return true;
                    }
                    return false; // the only copy changed under us: it is no longer in state `from`
                }
            }
        }
        return false;
    }

    /**
     * Makes the calling insert's pending key live: one CAS on its slot, without mixing the key again or scanning
     * its chain.
     *
     * @param slot what {@link #insert} returned
     */
    void commit(int slot) {
        finish(slot, LIVE);
        size.increment();
    }

    /**
     * Removes the calling insert's pending key.
     *
     * @param slot what {@link #insert} returned
     */
    void cancel(int slot) {
        finish(slot, 0L);
    }

    /** Moves the pending word of {@code slot} to state {@code to} (0: empty). */
    private void finish(int slot, long to) {
        final int b = slot / BUCKET_LONGS;
        final long[] a = array(b);
        final int index = base(b) + slot % BUCKET_LONGS;
        final long w = (long) WORD.getAcquire(a, index);
        // Acquire read, then CAS: only the inserter changes a pending word, so the CAS fails only on misuse.
        if ((w & STATE) != PENDING || !WORD.compareAndSet(a, index, w, to == 0L ? 0L : (w & ~STATE) | to)) {
            throw new AssertionError("slot " + slot + " was not pending: " + Long.toHexString(w));
        }
    }

    /** @return live and quarantined keys (weakly consistent) */
    long size() {
        return size.sum();
    }

    /** @return bytes of the main bucket array and of the overflow chunks allocated so far */
    long bytes() {
        final int overflow = overflowBuckets.get();
        return 16L + 8L * main.length + (long) ((overflow + CHUNK_BUCKETS - 1) / CHUNK_BUCKETS) * (16L + 8L * CHUNK_BUCKETS * BUCKET_LONGS);
    }
}
