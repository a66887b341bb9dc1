package dev.portalloc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Example-based tests: factories, accessors, key packing, text form and every kind of bad input. */
class DestinationTest {

    private static final String FORM = "; expected \"a.b.c.d:port\" or \"[IPv6]:port\" with a numeric address"
            + " (no host names: parse does no DNS lookups) and a port in 1..65535";

    /** Parses an IP literal with the JDK; for literals {@code getByName} makes no DNS lookup. */
    private static InetAddress literal(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Factories agree

    @Test
    void ipv4FactoriesAgree() throws Exception {
        Destination parsed = Destination.parse("203.0.113.7:443");
        Destination[] same = {
            Destination.ipv4(0xCB007107, 443),
            Destination.of(literal("203.0.113.7"), 443),
            Destination.of(InetAddress.getByAddress(new byte[] {(byte) 203, 0, 113, 7}), 443),
            Destination.of(new InetSocketAddress(literal("203.0.113.7"), 443)),
            Destination.ipv6(0, 0x0000_FFFF_CB00_7107L, 443),
            Destination.parse("[::ffff:203.0.113.7]:443"),
            Destination.parse("[::FFFF:cb00:7107]:443"),
        };
        for (Destination d : same) {
            assertThat(d).isEqualTo(parsed).hasSameHashCodeAs(parsed).hasToString("203.0.113.7:443");
            assertThat(d.isIpv4()).isTrue();
        }
    }

    @Test
    void ipv6FactoriesAgree() {
        Destination parsed = Destination.parse("[2001:db8::1]:443");
        Destination[] same = {
            Destination.ipv6(0x2001_0DB8_0000_0000L, 1L, 443),
            Destination.of(literal("2001:db8::1"), 443),
            Destination.of(new InetSocketAddress(literal("2001:0db8:0:0:0:0:0:1"), 443)),
            Destination.parse("[2001:DB8:0000::0:0001]:443"),
        };
        for (Destination d : same) {
            assertThat(d).isEqualTo(parsed).hasSameHashCodeAs(parsed).hasToString("[2001:db8::1]:443");
            assertThat(d.isIpv4()).isFalse();
        }
    }

    @Test
    void equalsComparesAddressAndPort() {
        Destination d = Destination.parse("203.0.113.7:443");
        assertThat(d).isNotEqualTo(Destination.parse("203.0.113.7:444"))
                .isNotEqualTo(Destination.parse("203.0.113.8:443"))
                .isNotEqualTo(Destination.parse("[::203.0.113.7]:443"))   // IPv4-compatible: IPv6
                .isNotEqualTo(Destination.parse("[64:ff9b::203.0.113.7]:443"))
                .isNotEqualTo(null)
                .isNotEqualTo("203.0.113.7:443")
                .isEqualTo(d);
        Destination v6 = Destination.parse("[2001:db8::1]:443");
        assertThat(v6).isNotEqualTo(Destination.parse("[2001:db8::2]:443"))
                .isNotEqualTo(Destination.parse("[2001:db8:0:0:1::]:443"));
    }

    // ---------------------------------------------------------------------------------------
    // Accessors and key packing

    @Test
    void ipv4KeyPacksAddressAndPort() {
        Destination d = Destination.parse("203.0.113.7:443");
        assertThat(d.ipv4Key()).isEqualTo(0xCB007107_01BBL);
        assertThat(d.ipv4Address()).isEqualTo(0xCB007107);
        assertThat(d.port()).isEqualTo(443);
        assertThat(Destination.parse("255.255.255.255:65535").ipv4Key()).isEqualTo(0xFFFF_FFFF_FFFFL);
        assertThat(Destination.parse("0.0.0.0:1").ipv4Key()).isEqualTo(1L);
        assertThat(Destination.ipv4(-1, 1).ipv4Address()).isEqualTo(-1);
    }

    @Test
    void ipv6HalvesAreBigEndian() {
        Destination d = Destination.parse("[2001:db8::1]:443");
        assertThat(d.ipv6High()).isEqualTo(0x2001_0DB8_0000_0000L);
        assertThat(d.ipv6Low()).isEqualTo(1L);
        Destination all = Destination.parse("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:1");
        assertThat(all.ipv6High()).isEqualTo(-1L);
        assertThat(all.ipv6Low()).isEqualTo(-1L);
    }

    @Test
    void ipv4HalvesAreTheMappedForm() {
        Destination d = Destination.parse("203.0.113.7:443");
        assertThat(d.ipv6High()).isZero();
        assertThat(d.ipv6Low()).isEqualTo(0x0000_FFFF_CB00_7107L);
    }

    @Test
    void ipv4OnlyAccessorsRejectIpv6() {
        Destination d = Destination.parse("[2001:db8::1]:443");
        assertThatThrownBy(d::ipv4Key).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ipv4Key()").hasMessageContaining("[2001:db8::1]:443");
        assertThatThrownBy(d::ipv4Address).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ipv4Address()");
    }

    @Test
    void addressAndSocketAddressEqualTheJdkOnes() {
        Destination v4 = Destination.parse("203.0.113.7:443");
        assertThat(v4.address()).isInstanceOf(Inet4Address.class).isEqualTo(literal("203.0.113.7"));
        assertThat(v4.toSocketAddress()).isEqualTo(new InetSocketAddress(literal("203.0.113.7"), 443));
        assertThat(v4.toSocketAddress().isUnresolved()).isFalse();
        Destination v6 = Destination.parse("[2001:db8::1]:8443");
        assertThat(v6.address()).isInstanceOf(Inet6Address.class).isEqualTo(literal("2001:db8::1"));
        assertThat(((Inet6Address) v6.address()).getScopeId()).isZero();
        assertThat(v6.toSocketAddress()).isEqualTo(new InetSocketAddress(literal("2001:db8::1"), 8443));
        assertThat(Destination.of(v6.toSocketAddress())).isEqualTo(v6);
    }

    @Test
    void mappedInet6AddressBecomesIpv4() throws Exception {
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, (byte) 203, 0, 113, 7};
        // The only way to get an Inet6Address holding a mapped address; InetAddress's factories make Inet4Address.
        Inet6Address v6 = Inet6Address.getByAddress(null, mapped, 0);
        assertThat(InetAddress.getByAddress(mapped)).isInstanceOf(Inet4Address.class);
        Destination d = Destination.of(v6, 443);
        assertThat(d.isIpv4()).isTrue();
        assertThat(d).isEqualTo(Destination.parse("203.0.113.7:443"));
        assertThat(d.address()).isInstanceOf(Inet4Address.class).isEqualTo(literal("203.0.113.7"));
        assertThat(Destination.parse("[::ffff:0:0]:1")).isEqualTo(Destination.parse("0.0.0.0:1"));
    }

    // ---------------------------------------------------------------------------------------
    // Text form

    @ParameterizedTest(name = "parse(\"{0}\") prints as \"{1}\"")
    @CsvSource(delimiter = '|', value = {
        "203.0.113.7:443                    | 203.0.113.7:443",
        "0.0.0.0:1                          | 0.0.0.0:1",
        "255.255.255.255:65535              | 255.255.255.255:65535",
        "203.0.113.7:00443                  | 203.0.113.7:443",
        "[2001:db8::1]:443                  | [2001:db8::1]:443",
        "[2001:db8:0:0:0:0:2:1]:1           | [2001:db8::2:1]:1",
        "[2001:db8:0:1:1:1:1:1]:1           | [2001:db8:0:1:1:1:1:1]:1",
        "[2001:0:0:1:0:0:0:1]:1             | [2001:0:0:1::1]:1",
        "[2001:db8:0:0:1:0:0:1]:1           | [2001:db8::1:0:0:1]:1",
        "[2001:DB8::1]:1                    | [2001:db8::1]:1",
        "[0:0:0:0:0:0:0:0]:1                | [::]:1",
        "[::]:1                             | [::]:1",
        "[::1]:1                            | [::1]:1",
        "[1::]:1                            | [1::]:1",
        "[1:0:0:0:0:0:0:0]:1                | [1::]:1",
        "[1:2:3:4:5:6:7::]:1                | [1:2:3:4:5:6:7:0]:1",
        "[::2:3:4:5:6:7:8]:1                | [0:2:3:4:5:6:7:8]:1",
        "[1:2:3:4:5:6:7:8]:1                | [1:2:3:4:5:6:7:8]:1",
        "[fe80::1]:1                        | [fe80::1]:1",
        "[::ffff:203.0.113.7]:443           | 203.0.113.7:443",
        "[0:0:0:0:0:ffff:cb00:7107]:443     | 203.0.113.7:443",
        "[::203.0.113.7]:443                | [::cb00:7107]:443",
        "[64:ff9b::203.0.113.7]:443         | [64:ff9b::cb00:7107]:443",
        "[1:2:3:4:5:6:1.2.3.4]:1            | [1:2:3:4:5:6:102:304]:1",
        "[::ffff:1:203.0.113.7]:1           | [::ffff:1:cb00:7107]:1",
    })
    void parsesAndPrintsCanonically(String text, String canonical) {
        Destination d = Destination.parse(text);
        assertThat(d).hasToString(canonical);
        assertThat(Destination.parse(canonical)).isEqualTo(d);
    }

    // ---------------------------------------------------------------------------------------
    // Bad input

    @ParameterizedTest(name = "parse(\"{0}\") fails: {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
        "203.0.113.7                   | missing port",
        "203.0.113.7:                  | missing port",
        "garbage                       | missing port",
        "203.0.113.7:0                 | port \"0\" is out of range 1..65535",
        "203.0.113.7:65536             | port \"65536\" is out of range 1..65535",
        "203.0.113.7:99999999999999999 | port \"99999999999999999\" is out of range 1..65535",
        "203.0.113.7:-1                | port \"-1\" is not a decimal number",
        "203.0.113.7:+443              | port \"+443\" is not a decimal number",
        "203.0.113.7:https             | port \"https\" is not a decimal number",
        "'203.0.113.7:443 '            | port \"443 \" is not a decimal number",
        "' 203.0.113.7:443'            | \" 203.0.113.7\" is not an IPv4 address",
        "1.2.3.4:80:90                 | more than one ':'",
        "2001:db8::1:443               | an IPv6 address must be in brackets",
        "2001:db8::1                   | an IPv6 address must be in brackets",
        "[2001:db8::1                  | missing ']'",
        "[2001:db8::1:443              | missing ']'",
        "2001:db8::1]:443              | misplaced bracket",
        "1.2.3.4]:443                  | misplaced bracket",
        "[2001:db8::1]443              | expected ':' after ']'",
        "[[::1]]:443                   | expected ':' after ']'",
        "[2001:db8::1]                 | missing port",
        "[2001:db8::1]:                | missing port",
        "[2001:db8::1]:0               | port \"0\" is out of range 1..65535",
        "[2001:db8::1]:65536           | port \"65536\" is out of range 1..65535",
        "[203.0.113.7]:443             | brackets are only for IPv6",
        "[]:443                        | empty IPv6 address",
        "[1:2:3:4:5:6:7:8:9]:1         | \"1:2:3:4:5:6:7:8:9\" is not an IPv6 address",
        "[1:2:3:4:5:6:7]:1             | is not an IPv6 address",
        "[1:2:3:4:5:6:7:8::]:1         | is not an IPv6 address",
        "[::1:2:3:4:5:6:7:8]:1         | is not an IPv6 address",
        "[1::2::3]:1                   | is not an IPv6 address",
        "[:::1]:1                      | is not an IPv6 address",
        "[:1::]:1                      | is not an IPv6 address",
        "[1::2:]:1                     | is not an IPv6 address",
        "[12345::]:1                   | is not an IPv6 address",
        "[::1.2.3]:1                   | is not an IPv6 address",
        "[::256.1.2.3]:1               | is not an IPv6 address",
        "[::01.2.3.4]:1                | is not an IPv6 address",
        "[1.2.3.4::]:1                 | is not an IPv6 address",
        "[1:2:3:4:5:6:7:1.2.3.4]:1     | is not an IPv6 address",
        "[fe80::1%eth0]:80             | zone IDs",
        "[fe80::1%25eth0]:80           | zone IDs",
        "256.0.0.1:80                  | \"256.0.0.1\" is not an IPv4 address",
        "1.2.3:80                      | is not an IPv4 address",
        "1.2.3.4.5:80                  | is not an IPv4 address",
        "1.2.3.4.:80                   | is not an IPv4 address",
        "01.2.3.4:80                   | without leading zeros",
        "1..3.4:80                     | is not an IPv4 address",
        "0x7f.0.0.1:80                 | is not an IPv4 address",
        "2130706433:80                 | is not an IPv4 address",
        ":80                           | missing address",
        "example.com:80                | host names are not resolved",
        "localhost:80                  | host names are not resolved",
        "[example.com]:80              | host names are not resolved",
        "[g::1]:1                      | is not an IPv6 address",
        "💥:1                          | is not an IPv4 address",
        "'\t203.0.113.7:443'           | is not an IPv4 address",
    })
    void rejectsBadTextQuotingItAndNamingTheForm(String text, String problem) {
        String quoted = "\"" + text.replace("\t", "\\t") + "\"";
        assertThatThrownBy(() -> Destination.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(problem)
                .hasMessageContaining(" in " + quoted)
                .hasMessageEndingWith(FORM);
    }

    @Test
    void exactMessages() {
        assertThatThrownBy(() -> Destination.parse("203.0.113.7:0"))
                .hasMessage("port \"0\" is out of range 1..65535 in \"203.0.113.7:0\"" + FORM);
        assertThatThrownBy(() -> Destination.parse("example.com:80"))
                .hasMessage("\"example.com\" is not an IPv4 address (four decimal numbers 0..255 without leading"
                        + " zeros); host names are not resolved in \"example.com:80\"" + FORM);
        assertThatThrownBy(() -> Destination.parse("a\"b:1")).hasMessageContaining("in \"a\\\"b:1\"");
    }

    @Test
    void rejectsNullAndEmptyText() {
        assertThatThrownBy(() -> Destination.parse(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("destination text is null" + FORM);
        assertThatThrownBy(() -> Destination.parse(""))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("empty destination in \"\"" + FORM);
    }

    @Test
    void parseNeverLooksUpHostNames() {
        // Rejected from the text alone: no resolver is consulted, so even a name whose lookup would hang
        // or fail slowly (.invalid, RFC 6761) is refused at once.
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            for (String text : new String[] {"example.com:80", "localhost:80", "[localhost]:80",
                    "no-such-host.invalid:80", "[example.com]:80", "ip6-localhost:80"}) {
                long start = System.nanoTime();
                assertThatThrownBy(() -> Destination.parse(text))
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("no DNS lookups");
                assertThat(System.nanoTime() - start).as("time to reject %s", text)
                        .isLessThan(Duration.ofSeconds(1).toNanos()); // generous: CI machines are loaded
            }
        });
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 65536, Integer.MIN_VALUE, Integer.MAX_VALUE})
    void factoriesRejectBadPorts(int port) {
        String message = "port " + port + " is out of range 1..65535";
        assertThatThrownBy(() -> Destination.ipv4(0xCB007107, port))
                .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
        assertThatThrownBy(() -> Destination.ipv6(0, 1, port))
                .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
        assertThatThrownBy(() -> Destination.of(literal("203.0.113.7"), port))
                .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
    }

    @Test
    void socketAddressMustBeResolvedWithAPort() {
        InetSocketAddress unresolved = InetSocketAddress.createUnresolved("example.com", 443);
        assertThatThrownBy(() -> Destination.of(unresolved))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unresolved")
                .hasMessageContaining("example.com")
                .hasMessageContaining("443")
                .hasMessageContaining("no DNS lookups");
        assertThatThrownBy(() -> Destination.of(new InetSocketAddress(literal("203.0.113.7"), 0)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("port 0 is out of range 1..65535");
    }

    @Test
    void rejectsScopedIpv6Addresses() throws Exception {
        Inet6Address scoped = Inet6Address.getByAddress(null, literal("fe80::1").getAddress(), 2);
        assertThatThrownBy(() -> Destination.of(scoped, 80))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("fe80:0:0:0:0:0:0:1%2")
                .hasMessageContaining("scope (zone) ID");
        assertThatThrownBy(() -> Destination.of(new InetSocketAddress(scoped, 80)))
                .isInstanceOf(IllegalArgumentException.class);
        // Scope 0 means no scope: accepted.
        Inet6Address unscoped = Inet6Address.getByAddress(null, literal("fe80::1").getAddress(), 0);
        assertThat(Destination.of(unscoped, 80)).isEqualTo(Destination.parse("[fe80::1]:80"));
    }

    @Test
    void nullArgumentsAreRejected() {
        assertThatThrownBy(() -> Destination.of((InetSocketAddress) null))
                .isInstanceOf(NullPointerException.class).hasMessage("address");
        assertThatThrownBy(() -> Destination.of(null, 80))
                .isInstanceOf(NullPointerException.class).hasMessage("address");
    }
}
