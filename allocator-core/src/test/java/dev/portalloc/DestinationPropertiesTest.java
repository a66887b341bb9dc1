package dev.portalloc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.StringJoiner;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/**
 * Property tests: random IPv4 and IPv6 destinations round-trip through text, agree with the JDK's
 * {@link InetAddress} and with an independent RFC 5952 formatter, and pack into injective keys.
 */
class DestinationPropertiesTest {

    private static final int EXAMPLES = 2000;

    /** Ports, with the bounds often. */
    private static Gen<Integer> ports() {
        return integers().between(1, 65535).mix(integers().between(1, 2).mix(integers().between(65534, 65535)));
    }

    /**
     * Random 64-bit halves whose 16-bit groups are zeroed by a random 4-bit mask, so that zero runs
     * of every length and position (and the "::" cases of RFC 5952) come up often.
     */
    private static Gen<Long> halves() {
        return longs().all().zip(integers().between(0, 15), (bits, mask) -> {
            long v = bits;
            for (int g = 0; g < 4; g++) {
                if ((mask & (1 << g)) != 0) {
                    v &= ~(0xFFFFL << (16 * g));
                }
            }
            return v;
        });
    }

    private static InetAddress jdk(String literal) {
        try {
            return InetAddress.getByName(literal);    // a literal: no DNS lookup
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static String dotted(int a) {
        return (a >>> 24) + "." + ((a >>> 16) & 0xFF) + "." + ((a >>> 8) & 0xFF) + "." + (a & 0xFF);
    }

    /** The eight groups in full, without leading zeros: {@code 2001:db8:0:0:0:0:0:1}. */
    private static String fullIpv6(long hi, long lo, String format) {
        StringJoiner j = new StringJoiner(":");
        for (int g = 0; g < 8; g++) {
            long half = g < 4 ? hi : lo;
            j.add(String.format(format, (half >>> (48 - 16 * (g % 4))) & 0xFFFF));
        }
        return j.toString();
    }

    private static final Pattern ZERO_RUN = Pattern.compile("(?<![0-9a-f])0(:0)+(?![0-9a-f])");

    /** Reference RFC 5952 formatter: replace the first longest run of two or more zero groups by "::". */
    private static String rfc5952(long hi, long lo) {
        String full = fullIpv6(hi, lo, "%x");
        Matcher m = ZERO_RUN.matcher(full);
        int start = -1;
        int end = -1;
        while (m.find()) {
            if (m.end() - m.start() > end - start) {
                start = m.start();
                end = m.end();
            }
        }
        if (start < 0) {
            return full;
        }
        String before = full.substring(0, start).replaceAll(":$", "");
        String after = full.substring(end).replaceAll("^:", "");
        return before + "::" + after;
    }

    @Test
    void ipv4RoundTripsAndAgreesWithTheJdk() {
        qt().withExamples(EXAMPLES).forAll(integers().all(), ports()).checkAssert((a, port) -> {
            Destination d = Destination.ipv4(a, port);
            String text = dotted(a) + ":" + port;
            assertThat(d).hasToString(text);
            assertThat(d.isIpv4()).isTrue();
            assertThat(d.port()).isEqualTo(port);
            assertThat(d.ipv4Address()).isEqualTo(a);
            assertThat(d.ipv4Key()).isEqualTo((Integer.toUnsignedLong(a) << 16) | port);
            assertThat(d.ipv4Key() >>> 48).isZero();
            assertThat(d.ipv6High()).isZero();
            assertThat(d.ipv6Low()).isEqualTo(0x0000_FFFF_0000_0000L | Integer.toUnsignedLong(a));

            Destination parsed = Destination.parse(text);
            InetAddress address = jdk(dotted(a));
            Destination[] same = {
                parsed,
                Destination.of(address, port),
                Destination.of(new InetSocketAddress(address, port)),
                Destination.ipv6(d.ipv6High(), d.ipv6Low(), port),
                Destination.parse("[::ffff:" + dotted(a) + "]:" + port),
            };
            for (Destination e : same) {
                assertThat(e).isEqualTo(d).hasSameHashCodeAs(d).hasToString(text);
            }
            assertThat(d.address()).isEqualTo(address);
            assertThat(d.toSocketAddress()).isEqualTo(new InetSocketAddress(address, port));
        });
    }

    @Test
    void ipv6RoundTripsAndAgreesWithTheJdkAndRfc5952() {
        qt().withExamples(EXAMPLES).forAll(halves(), halves(), ports()).checkAssert((hi, lo, port) -> {
            Destination d = Destination.ipv6(hi, lo, port);
            boolean mapped = hi == 0 && (lo >>> 32) == 0xFFFF;
            assertThat(d.isIpv4()).isEqualTo(mapped);
            assertThat(d.ipv6High()).isEqualTo(hi);
            assertThat(d.ipv6Low()).isEqualTo(lo);
            assertThat(d.port()).isEqualTo(port);

            byte[] bytes = ByteBuffer.allocate(16).putLong(hi).putLong(lo).array();
            InetAddress address = jdk(fullIpv6(hi, lo, "%x"));
            assertThat(address.getAddress()).isEqualTo(mapped ? new byte[] {bytes[12], bytes[13], bytes[14], bytes[15]}
                    : bytes);
            String text = mapped ? dotted(lo.intValue()) + ":" + port : "[" + rfc5952(hi, lo) + "]:" + port;
            assertThat(d).hasToString(text);
            assertThat(d.address()).isEqualTo(address);

            Destination[] same = {
                Destination.parse(text),
                Destination.parse("[" + fullIpv6(hi, lo, "%04X") + "]:" + port),
                Destination.parse("[" + fullIpv6(hi, lo, "%x").replaceAll("(:[0-9a-f]+){2}$", "")
                        + ":" + dotted(lo.intValue()) + "]:" + port),
                Destination.of(address, port),
                Destination.of(d.toSocketAddress()),
            };
            for (Destination e : same) {
                assertThat(e).isEqualTo(d).hasSameHashCodeAs(d).hasToString(text);
            }
        });
    }

    @Test
    void distinctDestinationsAreUnequalAndIpv4KeysAreInjective() {
        qt().withExamples(EXAMPLES)
                .forAll(integers().all(), ports(), integers().between(-2, 2), integers().between(-1, 1))
                .checkAssert((a, port, da, dp) -> {
                    int b = a + da;
                    int q = Math.max(1, Math.min(65535, port + dp));
                    Destination x = Destination.ipv4(a, port);
                    Destination y = Destination.ipv4(b, q);
                    boolean same = a == b && port == q;
                    assertThat(x.equals(y)).isEqualTo(same);
                    assertThat(x.ipv4Key() == y.ipv4Key()).isEqualTo(same);
                });
    }
}
