package dev.portalloc.nat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;

import dev.portalloc.PortSet;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * RFC 7422 deterministic mapping: the worked example, the order of blocks, reverse(forward(s)) = s
 * over whole blocks, disjointness of blocks, and rejection of bad parameters.
 */
class DeterministicNatTest {

    private static final int MAX = 65535;

    static Inet4Address ip(String literal) {
        try {
            return (Inet4Address) InetAddress.getByName(literal);   // literals only: no lookup
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    static Inet4Address ip(int address) {
        return ip((address >>> 24) + "." + (address >>> 16 & 0xff) + "." + (address >>> 8 & 0xff) + "." + (address & 0xff));
    }

    static int toInt(Inet4Address address) {
        byte[] b = address.getAddress();
        return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
    }

    // ------------------------------------------------------------------------------------------
    // RFC 7422 example and the order of blocks

    /** 16 subscribers share one external address, ports 0-1023 excluded: (65536 - 1024) / 16 = 4032 each. */
    @Test
    void rfc7422SixteenSubscribersPerAddressGet4032PortsEach() {
        DeterministicNat nat = DeterministicNat.builder()
                .inside("100.64.0.0/28")
                .outside("198.51.100.1")
                .build();

        assertThat(nat.subscribersPerAddress()).isEqualTo(16);
        assertThat(nat.portsPerUser()).isEqualTo((65536 - 1024) / 16).isEqualTo(4032);
        assertThat(nat.firstPort()).isEqualTo(1024);
        assertThat(nat.subscriberCount()).isEqualTo(16);
        assertThat(nat.externalCount()).isEqualTo(1);

        for (int s = 0; s < 16; s++) {
            DeterministicNat.Mapping m = nat.forward(ip("100.64.0." + s));
            assertThat(m.external()).isEqualTo(ip("198.51.100.1"));
            assertThat(m.ports()).isEqualTo(PortSet.range(1024 + 4032 * s, 1024 + 4032 * s + 4031));
        }
        // The 16 blocks tile 1024..65535 exactly: nothing left over, nothing below 1024.
        assertThat(nat.forward(ip("100.64.0.0")).ports()).isEqualTo(PortSet.range(1024, 5055));
        assertThat(nat.forward(ip("100.64.0.15")).ports()).isEqualTo(PortSet.range(61504, MAX));
        assertThat(nat.reverse(ip("198.51.100.1"), 1023)).isEmpty();
        assertThat(nat.reverse(ip("198.51.100.1"), 1024)).contains(ip("100.64.0.0"));
        assertThat(nat.reverse(ip("198.51.100.1"), 9000)).contains(ip("100.64.0.1"));
        assertThat(nat.reverse(ip("198.51.100.1"), MAX)).contains(ip("100.64.0.15"));
    }

    /** The same ratio with explicit parameters, on a larger pool: the pool fills address by address. */
    @Test
    void consecutiveSubscribersFillOneExternalAddressBeforeTheNext() {
        DeterministicNat nat = DeterministicNat.builder()
                .inside("100.64.0.0/26")                  // 64 subscribers
                .outside("198.51.100.0/30")               // 4 external addresses
                .subscribersPerAddress(16)
                .portsPerUser(4032)
                .build();

        assertThat(nat.forward(ip("100.64.0.15")))
                .isEqualTo(new DeterministicNat.Mapping(ip("198.51.100.0"), PortSet.range(61504, MAX)));
        assertThat(nat.forward(ip("100.64.0.16")))
                .isEqualTo(new DeterministicNat.Mapping(ip("198.51.100.1"), PortSet.range(1024, 5055)));
        assertThat(nat.forward(ip("100.64.0.17")))
                .isEqualTo(new DeterministicNat.Mapping(ip("198.51.100.1"), PortSet.range(5056, 9087)));
        assertThat(nat.forward(ip("100.64.0.63")))
                .isEqualTo(new DeterministicNat.Mapping(ip("198.51.100.3"), PortSet.range(61504, MAX)));
    }

    @Test
    void derivedParametersUseTheFewestSubscribersPerAddress() {
        // 1000 subscribers on 10 addresses: 100 per address, floor(64512 / 100) = 645 ports each.
        DeterministicNat nat = DeterministicNat.builder()
                .inside(ip("10.0.0.1"), 1000)
                .outside(ip("192.0.2.10"), 10)
                .build();
        assertThat(nat.subscribersPerAddress()).isEqualTo(100);
        assertThat(nat.portsPerUser()).isEqualTo(645);
        // The 12 ports 1024 + 100·645 = 65524 .. 65535 belong to nobody.
        assertThat(nat.reverse(ip("192.0.2.10"), 65523)).isPresent();
        assertThat(nat.reverse(ip("192.0.2.10"), 65524)).isEmpty();

        // Ports per user alone: as many blocks as fit on an address.
        DeterministicNat byPorts = DeterministicNat.builder()
                .inside("100.64.0.0/24").outside("192.0.2.0/24").portsPerUser(2000).build();
        assertThat(byPorts.subscribersPerAddress()).isEqualTo(32);       // floor(64512 / 2000)
        assertThat(byPorts.forward(ip("100.64.0.32")).external()).isEqualTo(ip("192.0.2.1"));

        // Subscribers per address alone.
        DeterministicNat byRatio = DeterministicNat.builder()
                .inside("100.64.0.0/24").outside("192.0.2.0/24").subscribersPerAddress(64).build();
        assertThat(byRatio.portsPerUser()).isEqualTo(1008);              // floor(64512 / 64)
    }

    @Test
    void firstPortMovesEveryBlock() {
        DeterministicNat nat = DeterministicNat.builder()
                .inside("10.1.0.0/31").outside("203.0.113.7").firstPort(32768).build();
        assertThat(nat.portsPerUser()).isEqualTo(16384);
        assertThat(nat.forward(ip("10.1.0.0")).ports()).isEqualTo(PortSet.range(32768, 49151));
        assertThat(nat.forward(ip("10.1.0.1")).ports()).isEqualTo(PortSet.range(49152, MAX));

        DeterministicNat all = DeterministicNat.builder()
                .inside("10.1.0.0/32").outside("203.0.113.7").firstPort(1).build();
        assertThat(all.forward(ip("10.1.0.0")).ports()).isEqualTo(PortSet.range(1, MAX));
    }

    /** Explicit lists keep their order, on both sides. */
    @Test
    void explicitListsAreOrdered() {
        DeterministicNat nat = DeterministicNat.builder()
                .inside(List.of(ip("10.9.9.9"), ip("10.0.0.1"), ip("172.16.0.5")))
                .outside(List.of(ip("203.0.113.200"), ip("198.51.100.3")))
                .subscribersPerAddress(2)
                .build();
        assertThat(nat.forward(ip("10.9.9.9")))
                .isEqualTo(new DeterministicNat.Mapping(ip("203.0.113.200"), PortSet.range(1024, 33279)));
        assertThat(nat.forward(ip("10.0.0.1")))
                .isEqualTo(new DeterministicNat.Mapping(ip("203.0.113.200"), PortSet.range(33280, MAX)));
        assertThat(nat.forward(ip("172.16.0.5")))
                .isEqualTo(new DeterministicNat.Mapping(ip("198.51.100.3"), PortSet.range(1024, 33279)));
        assertThat(nat.reverse(ip("198.51.100.3"), 2000)).contains(ip("172.16.0.5"));
        assertThat(nat.reverse(ip("198.51.100.3"), 40000)).isEmpty();     // block without subscriber
        assertThat(nat.reverse(ip("198.51.100.4"), 2000)).isEmpty();      // not in the pool
    }

    @Test
    void reverseOfNonPortsAndForeignAddressesIsEmpty() {
        DeterministicNat nat = DeterministicNat.builder().inside("100.64.0.0/28").outside("198.51.100.1").build();
        for (int port : new int[] {Integer.MIN_VALUE, -1, 0, 1, 1023, 65536, Integer.MAX_VALUE}) {
            assertThat(nat.reverse(ip("198.51.100.1"), port)).as("port %d", port).isEmpty();
        }
        assertThat(nat.reverse(ip("198.51.100.2"), 5000)).isEmpty();
        assertThat(nat.reverse(ip("100.64.0.1"), 5000)).isEmpty();
    }

    @Test
    void wholeAddressSpaceAsInsidePrefix() {
        // 2^32 subscribers, one port each, on 2^32 / 64512 rounded up external addresses.
        DeterministicNat nat = DeterministicNat.builder()
                .inside("0.0.0.0/0").outside(ip("1.0.0.0"), 66578).portsPerUser(1).build();
        assertThat(nat.subscriberCount()).isEqualTo(1L << 32);
        assertThat(nat.subscribersPerAddress()).isEqualTo(64512);
        DeterministicNat.Mapping last = nat.forward(ip("255.255.255.255"));
        long i = (1L << 32) - 1;
        assertThat(last.external()).isEqualTo(ip(toInt(ip("1.0.0.0")) + (int) (i / 64512)));
        assertThat(last.ports()).isEqualTo(PortSet.of(1024 + (int) (i % 64512)));
        assertThat(nat.reverse(last.external(), last.ports().first())).contains(ip("255.255.255.255"));
    }

    // ------------------------------------------------------------------------------------------
    // Properties on random configurations

    /** A random valid configuration: sizes, ratios, first port and whether lists or ranges are used. */
    static final class Config {
        final DeterministicNat nat;
        final List<Inet4Address> inside;
        final List<Inet4Address> outside;
        final String text;

        Config(int subscribers, int firstPort, int perAddress, int portsPerUser, long seed, boolean lists) {
            Random random = new Random(seed);
            int insideBase = random.nextInt();
            int outsideBase = random.nextInt();
            int pool = (subscribers + perAddress - 1) / perAddress + random.nextInt(3);
            if (Integer.toUnsignedLong(insideBase) + subscribers > 1L << 32) {
                insideBase = -subscribers;                  // keep the range below 2^32
            }
            if (Integer.toUnsignedLong(outsideBase) + pool > 1L << 32) {
                outsideBase = -pool;
            }
            List<Inet4Address> in = new ArrayList<>();
            for (int i = 0; i < subscribers; i++) {
                in.add(ip(insideBase + i));
            }
            List<Inet4Address> out = new ArrayList<>();
            for (int i = 0; i < pool; i++) {
                out.add(ip(outsideBase + i));
            }
            DeterministicNat.Builder b = DeterministicNat.builder().firstPort(firstPort)
                    .subscribersPerAddress(perAddress).portsPerUser(portsPerUser);
            if (lists) {
                Collections.shuffle(in, random);
                Collections.shuffle(out, random);
                b.inside(in).outside(out);
            } else {
                b.inside(ip(insideBase), subscribers).outside(ip(outsideBase), pool);
            }
            this.nat = b.build();
            this.inside = in;
            this.outside = out;
            this.text = nat.toString();
        }

        @Override
        public String toString() {
            return text;
        }
    }

    static Gen<Config> configs() {
        Gen<Integer> firstPorts = Generate.pick(List.of(1, 1024, 1024, 32768, 49152, 65535));
        return firstPorts.flatMap(first -> {
            int usable = MAX + 1 - first;
            return Generate.range(1, Math.min(usable, 64)).flatMap(perAddress ->
                    Generate.range(1, usable / perAddress).flatMap(ports ->
                            Generate.range(1, 300).flatMap(subscribers ->
                                    Generate.longRange(Long.MIN_VALUE, Long.MAX_VALUE).flatMap(seed ->
                                            Generate.booleans().map(lists ->
                                                    new Config(subscribers, first, perAddress, ports, seed, lists))))));
        });
    }

    /**
     * reverse(forward(s)) = s for every port of s's block, and the block has the configured size
     * and lies in firstPort..65535.
     */
    @Test
    void reverseInvertsForwardOnEveryPortOfTheBlock() {
        qt().withExamples(150).forAll(configs(), Generate.range(0, Integer.MAX_VALUE)).checkAssert((c, pick) -> {
            Inet4Address subscriber = c.inside.get(pick % c.inside.size());
            DeterministicNat.Mapping m = c.nat.forward(subscriber);
            assertThat(m.ports().size()).isEqualTo(c.nat.portsPerUser());
            assertThat(m.ports().rangeCount()).isEqualTo(1);
            assertThat(m.ports().first()).isGreaterThanOrEqualTo(c.nat.firstPort());
            assertThat(c.outside).contains(m.external());
            m.ports().stream().forEach(port -> {
                Optional<Inet4Address> back = c.nat.reverse(m.external(), port);
                if (!back.equals(Optional.of(subscriber))) {
                    assertThat(back).as("reverse(%s, %d)", m.external(), port).contains(subscriber);
                }
            });
        });
    }

    /**
     * All subscribers' blocks are pairwise disjoint, and reverse finds nobody outside them: every
     * (external, port) of the pool is either in exactly the block of reverse's answer or in none.
     */
    @Test
    void blocksOfDifferentSubscribersNeverOverlap() {
        qt().withExamples(60).forAll(configs()).checkAssert(c -> {
            Map<Inet4Address, PortSet> used = new HashMap<>();
            for (Inet4Address s : c.inside) {
                DeterministicNat.Mapping m = c.nat.forward(s);
                PortSet before = used.getOrDefault(m.external(), PortSet.empty());
                assertThat(before.intersect(m.ports()).isEmpty())
                        .as("block %s of %s overlaps %s on %s", m.ports(), s, before, m.external()).isTrue();
                used.put(m.external(), before.union(m.ports()));
            }
            long total = used.values().stream().mapToLong(PortSet::size).sum();
            assertThat(total).isEqualTo((long) c.inside.size() * c.nat.portsPerUser());
            // Probe every block edge (and one beyond) plus a stride through the port space.
            List<Integer> probes = new ArrayList<>();
            for (int k = 0; k <= c.nat.subscribersPerAddress(); k++) {
                int edge = c.nat.firstPort() + k * c.nat.portsPerUser();
                probes.addAll(List.of(edge - 2, edge - 1, edge, edge + 1));
            }
            for (int port = 0; port <= MAX + 1; port += 997) {
                probes.add(port);
            }
            probes.add(MAX);
            for (Inet4Address e : c.outside) {
                PortSet ports = used.getOrDefault(e, PortSet.empty());
                for (int port : probes) {
                    Optional<Inet4Address> owner = c.nat.reverse(e, port);
                    if (owner.isPresent() != ports.contains(port)) {
                        assertThat(owner.isPresent()).as("reverse(%s, %d) present", e, port).isEqualTo(ports.contains(port));
                    }
                    owner.ifPresent(o -> assertThat(c.nat.forward(o))
                            .isEqualTo(new DeterministicNat.Mapping(e, c.nat.forward(o).ports()))
                            .matches(m -> m.ports().contains(port), "block contains " + port));
                }
            }
        });
    }

    // ------------------------------------------------------------------------------------------
    // Bad parameters

    @Test
    void rejectsTooManySubscribersForThePool() {
        assertThatThrownBy(() -> DeterministicNat.builder()
                .inside("100.64.0.0/27").outside("198.51.100.1").subscribersPerAddress(16).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("32 subscribers need 2 external addresses")
                .hasMessageContaining("pool has 1").hasMessageContaining("at most 16 subscribers");
        assertThatThrownBy(() -> DeterministicNat.builder()
                .inside("100.64.0.0/16").outside("198.51.100.1").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("65536 subscribers").hasMessageContaining("at most 64512 subscribers");
        assertThatThrownBy(() -> DeterministicNat.builder()
                .inside("100.64.0.0/24").outside("198.51.100.1").portsPerUser(4032).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("256 subscribers");
    }

    @Test
    void rejectsPortsPerUserThatDoNotFit() {
        assertThatThrownBy(() -> DeterministicNat.builder().inside("100.64.0.0/28").outside("198.51.100.1")
                .portsPerUser(4033).subscribersPerAddress(16).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("portsPerUser 4033").hasMessageContaining("64528")
                .hasMessageContaining("64512 usable ports 1024..65535").hasMessageContaining("1..4032");
        assertThatThrownBy(() -> DeterministicNat.builder().inside("100.64.0.0/28").outside("198.51.100.1")
                .portsPerUser(64513).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("portsPerUser 64513 is out of range 1..64512");
        assertThatThrownBy(() -> DeterministicNat.builder().inside("100.64.0.0/28").outside("198.51.100.1")
                .portsPerUser(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("portsPerUser 0");
        assertThatThrownBy(() -> DeterministicNat.builder().inside("100.64.0.0/28").outside("198.51.100.1")
                .subscribersPerAddress(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("subscribersPerAddress 0 is out of range 1..64512");
        assertThatThrownBy(() -> DeterministicNat.builder().inside("100.64.0.0/28").outside("198.51.100.1")
                .firstPort(65535).subscribersPerAddress(2).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out of range 1..1");
    }

    @Test
    void rejectsPortZeroAndNonPortsAsFirstPort() {
        for (int bad : new int[] {0, -1, 65536}) {
            assertThatThrownBy(() -> DeterministicNat.builder().inside("100.64.0.0/28").outside("198.51.100.1")
                    .firstPort(bad).build())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("firstPort " + bad).hasMessageContaining("1..65535");
        }
    }

    @Test
    void rejectsBadAddresses() {
        assertThatThrownBy(() -> DeterministicNat.builder().inside("100.64.0.1/10"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("host bits set").hasMessageContaining("100.64.0.0/10");
        assertThatThrownBy(() -> DeterministicNat.builder().inside("100.64.0.0/33"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0..32");
        assertThatThrownBy(() -> DeterministicNat.builder().outside("example.com/24"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dotted-quad");
        assertThatThrownBy(() -> DeterministicNat.builder().outside("256.0.0.0/8"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0..255");
        assertThatThrownBy(() -> DeterministicNat.builder().inside((String) null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("null");
        assertThatThrownBy(() -> DeterministicNat.builder().inside(ip("255.255.255.0"), 257))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("257 addresses").hasMessageContaining("1..256");
        assertThatThrownBy(() -> DeterministicNat.builder().inside(ip("10.0.0.0"), 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0 addresses");
        assertThatThrownBy(() -> DeterministicNat.builder().outside(List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> DeterministicNat.builder()
                .outside(List.of(ip("192.0.2.1"), ip("192.0.2.2"), ip("192.0.2.1"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("192.0.2.1 appears twice").hasMessageContaining("positions 0 and 2");
        assertThatThrownBy(() -> DeterministicNat.builder().outside("198.51.100.1").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("inside");
        assertThatThrownBy(() -> DeterministicNat.builder().inside("10.0.0.0/8").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside");
    }

    @Test
    void forwardRejectsNonSubscribers() {
        DeterministicNat nat = DeterministicNat.builder().inside("100.64.0.0/28").outside("198.51.100.1").build();
        assertThatThrownBy(() -> nat.forward(ip("100.64.0.16")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("100.64.0.16 is not a subscriber")
                .hasMessageContaining("100.64.0.0..100.64.0.15");
        assertThatThrownBy(() -> nat.forward(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> nat.reverse(null, 1024)).isInstanceOf(NullPointerException.class);
    }
}
