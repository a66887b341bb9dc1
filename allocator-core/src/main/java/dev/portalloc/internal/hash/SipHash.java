package dev.portalloc.internal.hash;

import static java.lang.Long.rotateLeft;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * SipHash-2-4 with 64-bit output: a keyed pseudo-random function for short inputs.
 *
 * <p>Reference: Jean-Philippe Aumasson and Daniel J. Bernstein, "SipHash: a fast short-input
 * PRF", INDOCRYPT 2012 (IACR ePrint <a href="https://eprint.iacr.org/2012/351">2012/351</a>,
 * <a href="https://131002.net/siphash/siphash.pdf">siphash.pdf</a>), and the authors' reference
 * implementation <a href="https://github.com/veorq/SipHash">veorq/SipHash</a>
 * ({@code siphash.c}, test vectors {@code vectors.h}). This class implements exactly that
 * function with c = 2 compression rounds and d = 4 finalization rounds; it is checked against the
 * reference vectors in the tests.
 *
 * <p>In portalloc it is the keyed hash behind RFC 6056 port-selection algorithms 3 and 4 and
 * Linux-style per-connection port offsets: the allocator hashes the connection identifiers
 * (addresses and ports) under a secret 128-bit key, so an off-path observer cannot predict the
 * offsets of other connections.
 *
 * <h2>Keys</h2>
 *
 * The 128-bit key is passed as two {@code long}s: {@code k0} is bytes 0..7 and {@code k1} is bytes
 * 8..15 of the 16-byte key, each read little-endian (as in the reference implementation). Use
 * {@link #k0(byte[])} and {@link #k1(byte[])} to convert a 16-byte key once, and keep the two
 * longs.
 *
 * <h2>Fast paths</h2>
 *
 * {@link #hash8}, {@link #hash16}, {@link #hash24}, {@link #hash32} and {@link #hash40} hash a
 * message of 1 to 5 little-endian 64-bit words without touching any array and without allocating.
 * Each returns exactly what {@link #hash(long, long, byte[], int, int)} returns for the
 * little-endian byte encoding of its words in order, i.e. for the 8·n byte message whose bytes
 * {@code 8i .. 8i+7} are {@code m_i} written least-significant byte first. 40 bytes hold an IPv6
 * local address, remote address and both ports.
 *
 * <p>All methods are static pure functions and therefore thread-safe. This class is internal to
 * portalloc and is not part of its API.
 */
public final class SipHash {

    /** Initialisation constants: ASCII "somepseudorandomlygeneratedbytes", as 4 big-endian words. */
    private static final long C0 = 0x736f6d6570736575L;
    private static final long C1 = 0x646f72616e646f6dL;
    private static final long C2 = 0x6c7967656e657261L;
    private static final long C3 = 0x7465646279746573L;

    /** Reads a little-endian long from a byte[] at any offset (no allocation, no alignment needed). */
    private static final VarHandle LONG_LE =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private SipHash() {
    }

    /**
     * Returns {@code k0}, the first key word: bytes 0..7 of the 16-byte key read little-endian.
     *
     * @throws IllegalArgumentException if {@code key16.length != 16}
     * @throws NullPointerException if {@code key16} is null
     */
    public static long k0(byte[] key16) {
        checkKey(key16);
        return (long) LONG_LE.get(key16, 0);
    }

    /**
     * Returns {@code k1}, the second key word: bytes 8..15 of the 16-byte key read little-endian.
     *
     * @throws IllegalArgumentException if {@code key16.length != 16}
     * @throws NullPointerException if {@code key16} is null
     */
    public static long k1(byte[] key16) {
        checkKey(key16);
        return (long) LONG_LE.get(key16, 8);
    }

    private static void checkKey(byte[] key16) {
        Objects.requireNonNull(key16, "key16");
        if (key16.length != 16) {
            throw new IllegalArgumentException(
                    "SipHash key must be 16 bytes, but its length is " + key16.length);
        }
    }

    /**
     * SipHash-2-4 of {@code data[offset .. offset+length-1]} under the key ({@code k0}, {@code k1}).
     *
     * @return the 64-bit SipHash-2-4 value (its little-endian encoding is the reference
     *     implementation's 8 output bytes)
     * @throws IndexOutOfBoundsException if the range is not within {@code data}
     * @throws NullPointerException if {@code data} is null
     */
    public static long hash(long k0, long k1, byte[] data, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, data.length);
        long v0 = k0 ^ C0;
        long v1 = k1 ^ C1;
        long v2 = k0 ^ C2;
        long v3 = k1 ^ C3;

        final int end = offset + length;
        final int wordsEnd = offset + (length & ~7);
        for (int i = offset; i < wordsEnd; i += 8) {
            final long m = (long) LONG_LE.get(data, i);
            v3 ^= m;
            // SipRound x2
            v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
            v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
            v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
            v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);

            v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
            v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
            v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
            v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);
            v0 ^= m;
        }

        // Last block: the remaining 0..7 bytes little-endian, and (length mod 256) in the top byte.
        long b = ((long) length) << 56;
        for (int i = wordsEnd, shift = 0; i < end; i++, shift += 8) {
            b |= (data[i] & 0xFFL) << shift;
        }
        return finish(v0, v1, v2, v3, b);
    }

    /**
     * SipHash-2-4 of the 8-byte message {@code m0} (little-endian), without allocation.
     * Equal to {@code hash} over the little-endian encoding of {@code m0}.
     */
    public static long hash8(long k0, long k1, long m0) {
        long v0 = k0 ^ C0;
        long v1 = k1 ^ C1;
        long v2 = k0 ^ C2;
        long v3 = k1 ^ C3;

        v3 ^= m0;
        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);

        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);
        v0 ^= m0;

        return finish(v0, v1, v2, v3, 8L << 56);
    }

    /**
     * SipHash-2-4 of the 16-byte message {@code m0 m1} (each word little-endian), without
     * allocation. Equal to {@code hash} over the little-endian encoding of the words in order.
     */
    public static long hash16(long k0, long k1, long m0, long m1) {
        long v0 = k0 ^ C0;
        long v1 = k1 ^ C1;
        long v2 = k0 ^ C2;
        long v3 = k1 ^ C3;

        v3 ^= m0;
        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);

        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);
        v0 ^= m0;

        v3 ^= m1;
        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);

        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);
        v0 ^= m1;

        return finish(v0, v1, v2, v3, 16L << 56);
    }

    /**
     * SipHash-2-4 of the 24-byte message {@code m0 m1 m2} (each word little-endian), without
     * allocation. Equal to {@code hash} over the little-endian encoding of the words in order.
     */
    public static long hash24(long k0, long k1, long m0, long m1, long m2) {
        long v0 = k0 ^ C0;
        long v1 = k1 ^ C1;
        long v2 = k0 ^ C2;
        long v3 = k1 ^ C3;

        v3 ^= m0;
        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);

        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);
        v0 ^= m0;

        v3 ^= m1;
        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);

        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);
        v0 ^= m1;

        v3 ^= m2;
        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);

        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);
        v0 ^= m2;

        return finish(v0, v1, v2, v3, 24L << 56);
    }

    /**
     * SipHash-2-4 of the 32-byte message {@code m0 .. m3} (each word little-endian), without
     * allocation. Equal to {@code hash} over the little-endian encoding of the words in order.
     */
    public static long hash32(long k0, long k1, long m0, long m1, long m2, long m3) {
        long v0 = k0 ^ C0;
        long v1 = k1 ^ C1;
        long v2 = k0 ^ C2;
        long v3 = k1 ^ C3;

        v3 ^= m0;
        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);

        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);
        v0 ^= m0;

        v3 ^= m1;
        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);

        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);
        v0 ^= m1;

        v3 ^= m2;
        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);

        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);
        v0 ^= m2;

        v3 ^= m3;
        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);

        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);
        v0 ^= m3;

        return finish(v0, v1, v2, v3, 32L << 56);
    }

    /**
     * SipHash-2-4 of the 40-byte message {@code m0 .. m4} (each word little-endian), without
     * allocation. Equal to {@code hash} over the little-endian encoding of the words in order.
     * Enough for an IPv6 (local address, remote address, local port, remote port) tuple.
     */
    public static long hash40(long k0, long k1, long m0, long m1, long m2, long m3, long m4) {
        long v0 = k0 ^ C0;
        long v1 = k1 ^ C1;
        long v2 = k0 ^ C2;
        long v3 = k1 ^ C3;

        v3 ^= m0;
        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);

        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);
        v0 ^= m0;

        v3 ^= m1;
        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);

        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);
        v0 ^= m1;

        v3 ^= m2;
        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);

        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);
        v0 ^= m2;

        v3 ^= m3;
        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);

        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);
        v0 ^= m3;

        v3 ^= m4;
        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);

        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);
        v0 ^= m4;

        return finish(v0, v1, v2, v3, 40L << 56);
    }

    /**
     * Compresses the last block {@code b} (tail bytes plus the length byte) with two SipRounds,
     * then finalizes with four SipRounds and folds the state to 64 bits.
     */
    private static long finish(long v0, long v1, long v2, long v3, long b) {
        v3 ^= b;
        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);

        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);
        v0 ^= b;

        v2 ^= 0xFF;
        // SipRound x4
        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);

        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);

        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);

        v0 += v1; v1 = rotateLeft(v1, 13); v1 ^= v0; v0 = rotateLeft(v0, 32);
        v2 += v3; v3 = rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotateLeft(v1, 17); v1 ^= v2; v2 = rotateLeft(v2, 32);

        return v0 ^ v1 ^ v2 ^ v3;
    }
}
