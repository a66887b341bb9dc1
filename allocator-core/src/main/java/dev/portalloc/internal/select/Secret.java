package dev.portalloc.internal.select;

import dev.portalloc.internal.hash.SipHash;

import java.security.SecureRandom;

/**
 * An immutable 128-bit SipHash key: RFC 6056's {@code secret_key} (§3.3.3, §3.3.4).
 *
 * <p>Thread-safety: immutable. Derived keys ({@link #derived}) are predictable to anyone who knows the seed
 * and are meant for tests and simulations only.
 */
public final class Secret {
    /** Fixed key of the derivation: the 16 ASCII bytes {@code "portalloc/secret"}, little-endian words. */
    private static final long DERIVE_KEY_0 = 0x6f6c6c6174726f70L; // "portallo"
    private static final long DERIVE_KEY_1 = 0x7465726365732f63L; // "c/secret"

    private final long k0;
    private final long k1;

    private Secret(long k0, long k1) {
        this.k0 = k0;
        this.k1 = k1;
    }

    /**
     * @param key16 exactly 16 bytes (copied: later changes to the array have no effect)
     * @throws IllegalArgumentException if the length is not 16
     */
    public static Secret of(byte[] key16) {
        return new Secret(SipHash.k0(key16), SipHash.k1(key16));
    }

    /** @return a key of 16 fresh bytes from {@code random} */
    public static Secret random(SecureRandom random) {
        final byte[] key = new byte[16];
        random.nextBytes(key);
        final Secret s = of(key);
        java.util.Arrays.fill(key, (byte) 0);
        return s;
    }

    /**
     * @return the key number {@code generation} derived from {@code seed}:
     *     {@code k_i = SipHash.hash24("portalloc/secret", seed, generation, i)}
     */
    public static Secret derived(long seed, long generation) {
        return new Secret(SipHash.hash24(DERIVE_KEY_0, DERIVE_KEY_1, seed, generation, 0L),
            SipHash.hash24(DERIVE_KEY_0, DERIVE_KEY_1, seed, generation, 1L));
    }

    /** @return SipHash-2-4 of three little-endian words under this key */
    long hash24(long m0, long m1, long m2) {
        return SipHash.hash24(k0, k1, m0, m1, m2);
    }

    /** @return SipHash-2-4 of five little-endian words under this key */
    long hash40(long m0, long m1, long m2, long m3, long m4) {
        return SipHash.hash40(k0, k1, m0, m1, m2, m3, m4);
    }
}
