package dev.portalloc.internal.hash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks {@link SipHash} against the reference implementation's 64 SipHash-2-4 vectors
 * ({@code vectors.h}, {@code vectors_sip64}) and checks that the fixed-size fast paths agree with
 * the general {@code hash}.
 *
 * <p>The vectors are read from {@code ../shared/vectors/siphash24.tsv} next to the repository
 * when that directory exists; otherwise from the copy on the test class path
 * ({@code src/test/resources/vectors/siphash24.tsv}), so the vector test never skips.
 */
class SipHashTest {

    private static final String SHARED_RELATIVE = "../shared/vectors/siphash24.tsv";
    private static final String CLASSPATH_COPY = "/vectors/siphash24.tsv";

    /** The vectors' key: bytes 00 01 .. 0f. */
    private static final byte[] KEY = sequence(16);
    private static final long K0 = SipHash.k0(KEY);
    private static final long K1 = SipHash.k1(KEY);

    private static List<Vector> vectors;

    private record Vector(int length, long expected) {
    }

    @BeforeAll
    static void loadVectors() {
        Optional<Path> shared = findShared();
        String text = shared.isPresent() ? read(shared.get()) : readClasspathCopy();
        vectors = parse(text);
    }

    @Test
    void keyWordsAreTheKeyBytesReadLittleEndian() {
        assertThat(K0).isEqualTo(0x0706050403020100L);
        assertThat(K1).isEqualTo(0x0f0e0d0c0b0a0908L);
    }

    @Test
    void keyOfWrongLengthIsRejectedNamingTheLength() {
        assertThatThrownBy(() -> SipHash.k0(new byte[15]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("15");
        assertThatThrownBy(() -> SipHash.k1(new byte[17]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("17");
        assertThatThrownBy(() -> SipHash.k0(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void allReferenceVectorsMatch() {
        int checked = 0;
        for (Vector v : vectors) {
            byte[] message = sequence(v.length());
            assertThat(SipHash.hash(K0, K1, message, 0, message.length))
                    .as("SipHash-2-4 of the %d-byte vector message", v.length())
                    .isEqualTo(v.expected());
            checked++;
        }
        assertThat(checked).isEqualTo(64);
        assertThat(vectors).extracting(Vector::length)
                .containsExactlyElementsOf(IntStream.range(0, 64).boxed().toList());
    }

    @Test
    void hashHonoursOffsetAndLength() {
        byte[] padded = new byte[64 + 10];
        Arrays.fill(padded, (byte) 0xA5);
        for (Vector v : vectors) {
            System.arraycopy(sequence(v.length()), 0, padded, 3, v.length());
            assertThat(SipHash.hash(K0, K1, padded, 3, v.length())).isEqualTo(v.expected());
        }
    }

    @Test
    void fastPathsMatchTheReferenceVectors() {
        assertThat(SipHash.hash8(K0, K1, word(0))).isEqualTo(expected(8));
        assertThat(SipHash.hash16(K0, K1, word(0), word(1))).isEqualTo(expected(16));
        assertThat(SipHash.hash24(K0, K1, word(0), word(1), word(2))).isEqualTo(expected(24));
        assertThat(SipHash.hash32(K0, K1, word(0), word(1), word(2), word(3)))
                .isEqualTo(expected(32));
        assertThat(SipHash.hash40(K0, K1, word(0), word(1), word(2), word(3), word(4)))
                .isEqualTo(expected(40));
    }

    @Test
    void fastPathsAgreeWithGeneralHashOnRandomInputs() {
        SplittableRandom rnd = new SplittableRandom(0x5EED_5195L);
        for (int i = 0; i < 2_000; i++) {
            long k0 = rnd.nextLong();
            long k1 = rnd.nextLong();
            long[] m = {rnd.nextLong(), rnd.nextLong(), rnd.nextLong(), rnd.nextLong(), rnd.nextLong()};
            assertThat(SipHash.hash8(k0, k1, m[0])).isEqualTo(general(k0, k1, m, 1));
            assertThat(SipHash.hash16(k0, k1, m[0], m[1])).isEqualTo(general(k0, k1, m, 2));
            assertThat(SipHash.hash24(k0, k1, m[0], m[1], m[2])).isEqualTo(general(k0, k1, m, 3));
            assertThat(SipHash.hash32(k0, k1, m[0], m[1], m[2], m[3]))
                    .isEqualTo(general(k0, k1, m, 4));
            assertThat(SipHash.hash40(k0, k1, m[0], m[1], m[2], m[3], m[4]))
                    .isEqualTo(general(k0, k1, m, 5));
        }
    }

    @Test
    void outOfRangeSlicesAreRejected() {
        byte[] data = new byte[8];
        assertThatThrownBy(() -> SipHash.hash(K0, K1, data, -1, 2))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> SipHash.hash(K0, K1, data, 4, 5))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> SipHash.hash(K0, K1, data, 0, -1))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> SipHash.hash(K0, K1, null, 0, 0))
                .isInstanceOf(NullPointerException.class);
        assertThat(SipHash.hash(K0, K1, data, 8, 0)).isEqualTo(expected(0));
    }

    @Test
    void classpathCopyOfTheVectorsMatchesTheSharedFile() {
        Optional<Path> shared = findShared();
        Assumptions.assumeTrue(shared.isPresent(), "../shared/vectors is absent; nothing to compare");
        assertThat(readClasspathCopy()).isEqualTo(read(shared.get()));
    }

    // ---------------------------------------------------------------------------------------

    private static long general(long k0, long k1, long[] words, int count) {
        ByteBuffer buf = ByteBuffer.allocate(8 * count).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            buf.putLong(words[i]);
        }
        return SipHash.hash(k0, k1, buf.array(), 0, buf.capacity());
    }

    /** Word {@code i} (little-endian) of the vector message 00 01 02 ...: bytes 8i .. 8i+7. */
    private static long word(int i) {
        return ByteBuffer.wrap(sequence(8 * i + 8), 8 * i, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private static long expected(int length) {
        Vector v = vectors.get(length);
        assertThat(v.length()).isEqualTo(length);
        return v.expected();
    }

    private static byte[] sequence(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) i;
        }
        return b;
    }

    /** Looks for {@code ../shared/vectors/siphash24.tsv} from the working directory upwards. */
    private static Optional<Path> findShared() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve(SHARED_RELATIVE).normalize();
            if (Files.isRegularFile(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String readClasspathCopy() {
        try (InputStream in = SipHashTest.class.getResourceAsStream(CLASSPATH_COPY)) {
            assertThat(in).as("test resource %s", CLASSPATH_COPY).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Vector> parse(String text) {
        List<Vector> out = new ArrayList<>();
        for (String line : text.split("\\R")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] cols = line.strip().split("\t");
            assertThat(cols).as("vector line %s", line).hasSize(2);
            assertThat(cols[1]).as("vector output %s", line).hasSize(16);
            // The 8 output bytes in order are the little-endian encoding of the 64-bit result.
            long bigEndian = Long.parseUnsignedLong(cols[1], 16);
            out.add(new Vector(Integer.parseInt(cols[0]), Long.reverseBytes(bigEndian)));
        }
        return out;
    }
}
