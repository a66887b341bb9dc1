package dev.portalloc.internal.random;

import dev.portalloc.internal.hash.SipHash;

import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * A keyed random generator with two counter-mode streams under one 128-bit key: {@link #nextLong()} and
 * {@link #nextInt()} are SipHash-2-4 of a counter, {@code nextLong() = SipHash.hash8(k0, k1, counter++)}, and
 * {@link #nextIndex(int)}, the draw that port selection makes on every probe, reads 32-bit slices of an AES-128
 * counter-mode keystream generated in batches of {@value #BATCH_BYTES} bytes.
 *
 * <h2>Why keyed counter mode</h2>
 *
 * SipHash-2-4 is a pseudo-random function (PRF) keyed with a 128-bit secret (Aumasson and Bernstein, 2012; see
 * {@link SipHash}), and AES-128 is a pseudo-random permutation: evaluated on distinct counters (0, 1, 2, ...),
 * either gives outputs that, without the key, cannot be told apart from independent uniform values. Observing
 * any number of outputs reveals nothing useful about the key, about earlier outputs, or about future ones. That
 * is what port randomization needs: an off-path attacker who sees some of the ports we pick must not be able to
 * predict the next ones. Fast statistical generators such as SplitMix64, xorshift or LFSRs (and
 * {@code java.util.Random}) do not have this property: their state is recoverable from a handful of outputs,
 * after which every future output is known. AES in counter mode is the generator of NIST SP 800-90A's
 * {@code CTR_DRBG}, and batching it is what Linux's {@code get_random_u32} does with ChaCha20 per CPU.
 *
 * <h2>Cost</h2>
 *
 * One {@link #nextLong()} is one SipHash of an 8-byte message (8 SipRounds, register arithmetic only).
 * {@link #nextIndex(int)} costs a 4-byte read from the current batch, and once every {@value #BATCH_BYTES} / 4
 * draws one call of the JDK's AES/CTR cipher, for which HotSpot has an AES-NI counter-mode intrinsic on x86 (and
 * uses the AES instructions of other platforms where it has them): measured on x86, a draw costs less than a
 * {@code ThreadLocalRandom} draw (allocator-jmh's {@code ExclusiveAllocationBenchmark.controlRandomSource}). Nothing is allocated
 * after the first refill. The AES key is derived from the generator's key
 * ({@code SipHash.hash24(k0, k1, KEYSTREAM_DOMAIN, i, 0)} for its two halves, little-endian), the initial counter
 * block is zero; the 128-bit counter does not wrap in any realistic run.
 *
 * <p>Implements {@link IndexSource}, the narrow interface selection code draws from, and
 * {@link RandomGenerator} for everything else; only {@link #nextLong()}, {@link #nextInt()},
 * {@link #nextInt(int)} and {@link #nextIndex(int)} are specialised here, the other methods are the interface's
 * defaults built on them.
 *
 * <h2>Threading</h2>
 *
 * <strong>Not thread-safe</strong>: counters and batch are plain fields. Use one instance per thread (for
 * example in a {@code ThreadLocal} or in per-thread allocator state). An instance is three longs and a few ints
 * until its first {@link #nextIndex(int)}, which creates its cipher and its {@value #BATCH_BYTES}-byte batch (and
 * its first {@link #scratch()}, which creates an array of {@value IndexSource#SCRATCH_INTS} ints).
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

    /**
     * Domain of the AES key's derivation from (k0, k1): the ASCII bytes {@code "aes/ctr!"} read little-endian.
     * SipHash's input length differs from {@link #nextLong()}'s, so no counter value can produce the key.
     */
    static final long KEYSTREAM_DOMAIN = 0x21_72_74_63_2f_73_65_61L;
    /** Keystream bytes per refill: 64 draws. */
    static final int BATCH_BYTES = 256;
    /** The plaintext of every refill: the keystream itself. Read-only; shared by all instances. */
    private static final byte[] ZEROS = new byte[BATCH_BYTES];
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

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
    /** The AES/CTR keystream of {@link #nextIndex(int)}, created on its first draw. */
    private Cipher keystream;
    /** The current batch of keystream bytes, and the offset of the next unused 4 bytes. */
    private byte[] batch;
    private int batchOffset = BATCH_BYTES;

    /** {@link #scratch()}, created on its first call. */
    private int[] scratch;

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
        return bounded(bound, false);
    }

    /**
     * A uniformly distributed index in {@code [0, bound)}, by Lemire's method like {@link #nextInt(int)}, from the
     * AES/CTR keystream: one 32-bit slice per draw (a redraw with probability {@code (2^32 mod bound) / 2^32},
     * below 2^-15 for the bounds of port selection); the result is exactly uniform.
     *
     * @throws IllegalArgumentException if {@code bound <= 0}
     */
    @Override
    public int nextIndex(int bound) {
        return bounded(bound, true);
    }

    /**
     * Lemire's multiply-shift with rejection over unsigned 32-bit draws, the one implementation behind
     * {@link #nextInt(int)} (SipHash halves) and {@link #nextIndex(int)} (keystream slices).
     *
     * @param fromKeystream draw from the AES/CTR keystream rather than from {@link #nextInt()}; constant at each
     *     call site, so the JIT keeps one branch-free path per caller
     */
    private int bounded(int bound, boolean fromKeystream) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, but was " + bound);
        }
        long product = draw32(fromKeystream) * bound; // < 2^63: no overflow
        long low = product & 0xFFFF_FFFFL;
        if (low < bound) {
            final long threshold = (0x1_0000_0000L - bound) % bound; // == 2^32 mod bound
            while (low < threshold) {
                product = draw32(fromKeystream) * bound;
                low = product & 0xFFFF_FFFFL;
            }
        }
        return (int) (product >>> 32);
    }

    /** @return the next 32 bits of the chosen stream, as an unsigned value */
    private long draw32(boolean fromKeystream) {
        return fromKeystream ? next32() : Integer.toUnsignedLong(nextInt());
    }

    /** Adds to the owner's probe tally: a plain read and an opaque write (single writer), never a fence. */
    @Override
    public void countProbes(int n) {
        PROBES.setOpaque(this, probes + n);
    }

    /** The owner's own working space (allocated on the first call), so selection needs no {@link ThreadLocal}. */
    @Override
    public int[] scratch() {
        int[] s = scratch;
        if (s == null) {
            s = new int[SCRATCH_INTS];
            scratch = s;
        }
        return s;
    }

    /** @return the probe tally (opaque read: any thread, eventually exact) */
    public long probes() {
        return (long) PROBES.getOpaque(this);
    }

    /** 64 bits of the AES/CTR keystream, as for {@link #nextIndex(int)}. */
    @Override
    public long nextBits() {
        int offset = batchOffset;
        if (offset > BATCH_BYTES - 8) {
            refill(); // the < 8 bytes left (4 at most: draws take 4 or 8) are skipped
            offset = 0;
        }
        batchOffset = offset + 8;
        return (long) LONG_LE.get(batch, offset);
    }

    /** @return the next 32 bits of the keystream, as an unsigned value */
    private long next32() {
        int offset = batchOffset;
        if (offset == BATCH_BYTES) {
            refill();
            offset = 0;
        }
        batchOffset = offset + 4;
        return Integer.toUnsignedLong((int) INT_LE.get(batch, offset));
    }

    /**
     * Encrypts {@link #ZEROS} into the batch: the next {@value #BATCH_BYTES} keystream bytes.
     *
     * <p>Kept small on purpose: the JIT inlines it into selection's probe loop or not depending on how often it
     * ran before that loop was compiled, and when the one-time creation of the cipher was part of it, the
     * inlined copy made the probe loop's compiled code slower (measured: 8 forks of the allocator benchmark
     * split into about 29 and about 42 ns per acquire + release). The creation is therefore in its own method.
     */
    private void refill() {
        final Cipher cipher = keystream != null ? keystream : createKeystream();
        try {
            cipher.update(ZEROS, 0, BATCH_BYTES, batch, 0);
        } catch (GeneralSecurityException e) {
            // The batch always fits (ShortBufferException is the only checked failure of update).
            throw new IllegalStateException("AES/CTR keystream unavailable", e);
        }
    }

    /** Creates the AES/CTR cipher under the derived key, and the batch: once, on the first keystream draw. */
    private Cipher createKeystream() {
        final byte[] key = new byte[16];
        LONG_LE.set(key, 0, SipHash.hash24(k0, k1, KEYSTREAM_DOMAIN, 0L, 0L));
        LONG_LE.set(key, 8, SipHash.hash24(k0, k1, KEYSTREAM_DOMAIN, 1L, 0L));
        try {
            final Cipher cipher = Cipher.getInstance("AES/CTR/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(new byte[16]));
            batch = new byte[BATCH_BYTES];
            keystream = cipher;
            return cipher;
        } catch (GeneralSecurityException e) {
            // Every OpenJDK build provides AES/CTR/NoPadding (SunJCE).
            throw new IllegalStateException("AES/CTR keystream unavailable", e);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** Lazily creates the one shared {@link SecureRandom} (initialization-on-demand holder). */
    private static final class SecureRandomHolder {
        static final SecureRandom INSTANCE = new SecureRandom();
    }
}
