package dev.portalloc.internal.random;

import dev.portalloc.internal.hash.SipHash;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * A keyed counter-mode random generator: the {@code i}-th 64-bit output is SipHash-2-4 of the
 * counter {@code i} under a 128-bit key, {@code nextLong() = SipHash.hash8(k0, k1, counter++)}.
 *
 * <h2>Why counter-mode SipHash</h2>
 *
 * SipHash-2-4 is a pseudo-random function (PRF) keyed with a 128-bit secret (Aumasson and
 * Bernstein, 2012; see {@link SipHash}). Evaluating a PRF on distinct inputs (0, 1, 2, ...) gives
 * outputs that, without the key, cannot be told apart from independent uniform values: observing
 * any number of outputs reveals nothing useful about the key, about earlier outputs, or about
 * future ones. That is what port randomization needs: an off-path attacker who sees some of the
 * ports we pick must not be able to predict the next ones. Fast statistical generators such as
 * SplitMix64, xorshift or LFSRs (and {@code java.util.Random}) do not have this property: their
 * state is recoverable from a handful of outputs, after which every future output is known.
 *
 * <h2>Cost</h2>
 *
 * Each {@link #nextLong()} is one SipHash of an 8-byte message: 8 SipRounds (2 for the word, 2
 * for the length block, 4 for finalization), about an order of magnitude more arithmetic than
 * SplitMix64, but still only register arithmetic, with no allocation, no locking and no shared
 * state. {@link #nextInt()} and {@link #nextInt(int)} use 32 bits per draw and keep the unused
 * half of the last 64-bit output, so one SipHash serves two 32-bit draws. The counter is 64 bits;
 * it does not wrap in any realistic run.
 *
 * <p>Implements {@link IndexSource}, the narrow interface selection code draws from, and
 * {@link RandomGenerator} for everything else; only {@link #nextLong()}, {@link #nextInt()} and {@link #nextInt(int)} are
 * specialised here, the other methods are the interface's defaults built on them.
 *
 * <h2>Threading</h2>
 *
 * <strong>Not thread-safe</strong>: the counter and the buffered half are plain fields. Use one
 * instance per thread (for example in a {@code ThreadLocal} or in per-thread allocator state);
 * instances are cheap (three longs, an int and a flag).
 *
 * <h2>Construction</h2>
 *
 * <ul>
 *   <li>{@link #fromSecureRandom()}: a fresh secret key from a shared {@link SecureRandom}; use
 *       this in production.
 *   <li>{@link #fromSeed(long, long)}: a key derived deterministically from a seed and a stream
 *       id, for reproducible tests and simulations. Such keys are <em>not</em> secret: anybody
 *       knowing the seed can reproduce the outputs.
 * </ul>
 */
public final class RandomSource implements RandomGenerator, IndexSource {

    /**
     * Fixed key for {@link #fromSeed(long, long)}'s key derivation: the 16 ASCII bytes
     * {@code "portalloc/seeded"}, read little-endian as SipHash key words. Changing it changes
     * every seeded sequence.
     */
    static final long SEED_KEY_0 = 0x6f6c6c6174726f70L; // "portallo"
    static final long SEED_KEY_1 = 0x6465646565732f63L; // "c/seeded"

    private static final int SLICE_BITS = 21;
    private static final long SLICE_MASK = (1L << SLICE_BITS) - 1;

    private static final VarHandle PROBES;

    static {
        try {
            PROBES = MethodHandles.lookup().findVarHandle(RandomSource.class, "probes", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long k0;
    private final long k1;
    private long counter;
    /** Candidates examined by the owner's selections: owner writes (plain read, opaque write), others read opaque. */
    private long probes;
    /** Unused 21-bit slices of the last output taken by {@link #nextIndex(int)}, and how many are left. */
    private long slices;
    private int slicesLeft;

    /** The unused upper 32 bits of the last 64-bit output, valid when {@link #hasHalf}. */
    private int half;
    private boolean hasHalf;

    RandomSource(long k0, long k1) {
        this.k0 = k0;
        this.k1 = k1;
    }

    /**
     * A generator keyed with 16 fresh bytes from a {@link SecureRandom} (one instance, created on
     * first use and shared by all calls; {@code SecureRandom} is safe for concurrent use).
     */
    public static RandomSource fromSecureRandom() {
        byte[] key = new byte[16];
        SecureRandomHolder.INSTANCE.nextBytes(key);
        RandomSource source = new RandomSource(SipHash.k0(key), SipHash.k1(key));
        Arrays.fill(key, (byte) 0);
        return source;
    }

    /**
     * A deterministic generator for seed {@code seed} and stream id {@code stream}. The key is
     * <pre>{@code
     * k0 = SipHash.hash24(SEED_KEY_0, SEED_KEY_1, seed, stream, 0)
     * k1 = SipHash.hash24(SEED_KEY_0, SEED_KEY_1, seed, stream, 1)
     * }</pre>
     * where ({@code SEED_KEY_0}, {@code SEED_KEY_1}) is the fixed key {@code "portalloc/seeded"}
     * (ASCII, little-endian). Because SipHash is a PRF, keys of different (seed, stream) pairs
     * behave as independent random keys, so the streams are independent of each other. Use one
     * stream id per thread or per simulated host. Not for production: the outputs are predictable
     * to anybody who knows the seed.
     */
    public static RandomSource fromSeed(long seed, long stream) {
        return new RandomSource(
                SipHash.hash24(SEED_KEY_0, SEED_KEY_1, seed, stream, 0L),
                SipHash.hash24(SEED_KEY_0, SEED_KEY_1, seed, stream, 1L));
    }

    /** The next 64 uniformly distributed bits: {@code SipHash.hash8(k0, k1, counter++)}. */
    @Override
    public long nextLong() {
        return SipHash.hash8(k0, k1, counter++);
    }

    /**
     * The next 32 uniformly distributed bits. Two consecutive calls share one {@link #nextLong()}
     * output: first its low half, then its high half.
     */
    @Override
    public int nextInt() {
        if (hasHalf) {
            hasHalf = false;
            return half;
        }
        long bits = nextLong();
        half = (int) (bits >>> 32);
        hasHalf = true;
        return (int) bits;
    }

    /**
     * A uniformly distributed int in {@code [0, bound)}, without modulo bias.
     *
     * <p>Uses Lemire's multiply-shift with rejection (D. Lemire, "Fast Random Integer Generation
     * in an Interval", ACM TOMACS 29(1), 2019): with {@code x} a uniform 32-bit value, the
     * result is the high 32 bits of {@code x * bound}; a draw whose low 32 bits fall below
     * {@code 2^32 mod bound} is rejected and redrawn, which makes every result exactly equally
     * likely. The division computing {@code 2^32 mod bound} only runs when the low bits are below
     * {@code bound}, i.e. rarely.
     *
     * @throws IllegalArgumentException if {@code bound <= 0}
     */
    @Override
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, but was " + bound);
        }
        long product = Integer.toUnsignedLong(nextInt()) * bound; // < 2^63: no overflow
        long low = product & 0xFFFF_FFFFL;
        if (low < bound) {
            long threshold = (0x1_0000_0000L - bound) % bound; // == 2^32 mod bound
            while (low < threshold) {
                product = Integer.toUnsignedLong(nextInt()) * bound;
                low = product & 0xFFFF_FFFFL;
            }
        }
        return (int) (product >>> 32);
    }

    /**
     * A uniformly distributed index in {@code [0, bound)}, like {@link #nextInt(int)}, but cheaper for the
     * bounds that port selection uses: a bound of at most 2^16 takes a 21-bit slice of an output, so one
     * SipHash serves three draws. Lemire's method with 21-bit slices rejects a slice with probability
     * {@code (2^21 mod bound) / 2^21}, below 1/32 for such bounds; the result is exactly uniform.
     */
    @Override
    public int nextIndex(int bound) {
        if (bound <= 0 || bound > 1 << 16) {
            return nextInt(bound);
        }
        long product = next21() * bound;
        long low = product & SLICE_MASK;
        if (low < bound) {
            final long threshold = ((1L << SLICE_BITS) - bound) % bound; // == 2^21 mod bound
            while (low < threshold) {
                product = next21() * bound;
                low = product & SLICE_MASK;
            }
        }
        return (int) (product >>> SLICE_BITS);
    }

    /** Adds to the owner's probe tally: a plain read and an opaque write (single writer), never a fence. */
    @Override
    public void countProbes(int n) {
        PROBES.setOpaque(this, probes + n);
    }

    /** @return the probe tally (opaque read: any thread, eventually exact) */
    public long probes() {
        return (long) PROBES.getOpaque(this);
    }

    /** The next 21 uniformly distributed bits; three per {@link #nextLong()} output (the top bit unused). */
    private long next21() {
        if (slicesLeft == 0) {
            slices = nextLong();
            slicesLeft = 3;
        }
        final long slice = slices & SLICE_MASK;
        slices >>>= SLICE_BITS;
        slicesLeft--;
        return slice;
    }

    /** Lazily creates the one shared {@link SecureRandom} (initialization-on-demand holder). */
    private static final class SecureRandomHolder {
        static final SecureRandom INSTANCE = new SecureRandom();
    }
}
