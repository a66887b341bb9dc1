package dev.portalloc.nat;

import dev.portalloc.ChiSquare;

import static dev.portalloc.nat.DeterministicNatTest.ip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import dev.portalloc.PortSet;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Paired address pooling (RFC 4787 REQ-2, RFC 6888 REQ-2): sticky keyed-hash mapping, even spread, the FAIL
 * and NEXT_ADDRESS policies, lazy allocators, release and bad input.
 */
class AddressPoolTest {

    private static final int SUBSCRIBERS = 0x6440_0000; // 100.64.0.0

    @Test
    void sameSubscriberAlwaysGetsTheSameAddress() {
        qt().withExamples(100).forAll(longs().all(), integers().all(), integers().between(1, 300))
            .checkAssert((seed, subscriber, n) -> {
                AddressPool pool = AddressPool.builder().external(ip("198.51.100.0"), n)
                    .ports(PortSet.range(1024, 1100)).seed(seed).build();
                int address = pool.externalFor(subscriber);
                assertThat(pool.indexOf(address)).isEqualTo(pool.primaryIndex(subscriber));
                for (int i = 0; i < 20; i++) {
                    long m = pool.tryAcquire(subscriber);
                    assertThat(m).isNotEqualTo(AddressPool.NONE);
                    assertThat(AddressPool.externalAddress(m)).isEqualTo(address);
                    assertThat(AddressPool.externalPort(m)).isBetween(1024, 1100);
                }
                // a second pool with the same seed maps the same way: the mapping is a pure function
                AddressPool again = AddressPool.builder().external(ip("198.51.100.0"), n).seed(seed).build();
                assertThat(again.externalFor(subscriber)).isEqualTo(address);
                assertThat(pool.addressesBuilt()).isEqualTo(1);
            });
    }

    /** 40,000 consecutive subscribers over 64 addresses: counts pass a chi-square test at 0.1 %. */
    @Test
    void subscribersSpreadEvenlyOverTheAddresses() {
        for (long seed : new long[] {1, 2, 3}) {
            AddressPool pool = AddressPool.builder().external("198.51.100.0/26").seed(seed).build();
            int perAddress = 625;
            long[] counts = new long[64];
            for (int s = 0; s < 64 * perAddress; s++) {
                counts[pool.primaryIndex(SUBSCRIBERS + s)]++;
            }
            assertThat(ChiSquare.statistic(counts, perAddress)).isLessThan(ChiSquare.criticalValue(63));
            assertThat(pool.addressesBuilt()).isZero(); // the mapping builds nothing
        }
    }

    @Test
    void theKeyDecidesTheMapping() {
        byte[] key = new byte[16];
        for (int i = 0; i < 16; i++) {
            key[i] = (byte) i;
        }
        AddressPool a = AddressPool.builder().external("198.51.100.0/24").key(key).build();
        AddressPool b = AddressPool.builder().external("198.51.100.0/24").key(key).seed(99).build(); // key wins
        AddressPool c = AddressPool.builder().external("198.51.100.0/24").build();                    // secure key
        int same = 0;
        int sameAsRandom = 0;
        for (int s = 0; s < 1000; s++) {
            same += a.primaryIndex(SUBSCRIBERS + s) == b.primaryIndex(SUBSCRIBERS + s) ? 1 : 0;
            sameAsRandom += a.primaryIndex(SUBSCRIBERS + s) == c.primaryIndex(SUBSCRIBERS + s) ? 1 : 0;
        }
        assertThat(same).isEqualTo(1000);
        assertThat(sameAsRandom).isLessThan(30); // 1000 / 256 expected by chance
        assertThat(a.externalFor(ip("100.64.0.7"))).isEqualTo(ip(a.externalFor(SUBSCRIBERS + 7)));
    }

    @Test
    void failKeepsPairingWhenTheAddressIsFull() {
        AddressPool pool = AddressPool.builder().external("198.51.100.0/29").ports(PortSet.range(5000, 5007))
            .seed(4).build();
        int subscriber = SUBSCRIBERS + 1;
        int address = pool.externalFor(subscriber);
        BitSet ports = new BitSet();
        for (int i = 0; i < 8; i++) {
            long m = pool.tryAcquire(subscriber);
            assertThat(AddressPool.externalAddress(m)).isEqualTo(address);
            ports.set(AddressPool.externalPort(m));
        }
        assertThat(ports.cardinality()).isEqualTo(8);
        assertThat(pool.tryAcquire(subscriber)).isEqualTo(AddressPool.NONE);
        assertThat(pool.addressesBuilt()).isEqualTo(1);
        // a subscriber of another address is unaffected
        int other = otherSubscriber(pool, subscriber);
        assertThat(AddressPool.externalAddress(pool.tryAcquire(other))).isEqualTo(pool.externalFor(other));
        // releasing one port makes it available to the subscriber again
        pool.release(address, 5003);
        assertThat(pool.tryAcquire(subscriber)).isEqualTo(Integer.toUnsignedLong(address) << 16 | 5003);
    }

    @Test
    void nextAddressFollowsTheSubscribersProbeOrder() {
        AddressPool pool = AddressPool.builder().external("198.51.100.0/29").ports(PortSet.range(5000, 5003))
            .whenFull(AddressPool.WhenFull.NEXT_ADDRESS).seed(6).build();
        int subscriber = SUBSCRIBERS + 2;
        long hash = pool.hash(subscriber);
        Set<Integer> seen = new HashSet<>();
        for (int attempt = 0; attempt < 8; attempt++) {
            int expected = pool.addressAt(pool.candidate(hash, attempt));
            for (int i = 0; i < 4; i++) {
                assertThat(AddressPool.externalAddress(pool.tryAcquire(subscriber))).isEqualTo(expected);
            }
            seen.add(expected);
        }
        assertThat(seen).hasSize(8);
        assertThat(pool.tryAcquire(subscriber)).isEqualTo(AddressPool.NONE); // all 32 ports of the pool held
        assertThat(pool.addressesBuilt()).isEqualTo(8);
    }

    /** The probe order visits every address exactly once, for prime, even and power-of-two pool sizes. */
    @Test
    void probeOrderIsAPermutation() {
        qt().withExamples(200).forAll(integers().between(1, 600), integers().all(), longs().all())
            .checkAssert((n, subscriber, seed) -> {
                AddressPool pool = AddressPool.builder().external(ip("10.0.0.0"), n).seed(seed).build();
                long hash = pool.hash(subscriber);
                BitSet visited = new BitSet(n);
                for (int attempt = 0; attempt < n; attempt++) {
                    visited.set(pool.candidate(hash, attempt));
                }
                assertThat(visited.cardinality()).isEqualTo(n);
                assertThat(pool.candidate(hash, 0)).isEqualTo(pool.primaryIndex(subscriber));
            });
    }

    /** With NEXT_ADDRESS, the subscribers of one full address spread over several next addresses. */
    @Test
    void overflowSpreadsInsteadOfPilingOntoOneNeighbour() {
        AddressPool pool = AddressPool.builder().external("198.51.100.0/24").seed(8).build();
        int full = 0;
        Set<Integer> next = new HashSet<>();
        for (int s = 0; s < 200_000 && next.size() < 20; s++) {
            if (pool.primaryIndex(SUBSCRIBERS + s) == full) {
                next.add(pool.candidate(pool.hash(SUBSCRIBERS + s), 1));
            }
        }
        assertThat(next.size()).isGreaterThanOrEqualTo(20);
    }

    @Test
    void preservationAndParityThroughThePool() {
        AddressPool pool = AddressPool.builder().external("198.51.100.0/30").ports(PortSet.range(6000, 6099))
            .preserveParity(true).seed(10).build();
        int subscriber = SUBSCRIBERS + 3;
        int address = pool.externalFor(subscriber);
        long m = pool.tryAcquire(subscriber, 6042, PortPreservation.FALLBACK);
        assertThat(m).isEqualTo(Integer.toUnsignedLong(address) << 16 | 6042);
        assertThat(pool.tryAcquire(subscriber, 6042, PortPreservation.FAIL)).isEqualTo(AddressPool.NONE);
        for (int i = 0; i < 49; i++) {
            long other = pool.tryAcquire(subscriber, 6042, PortPreservation.FALLBACK);
            assertThat(AddressPool.externalPort(other) % 2).isZero();
            assertThat(AddressPool.externalAddress(other)).isEqualTo(address);
        }
        // all 50 even ports held: FAIL pooling does not look elsewhere, odd ports stay untouched
        assertThat(pool.tryAcquire(subscriber, 6042, PortPreservation.FALLBACK)).isEqualTo(AddressPool.NONE);
        assertThat(AddressPool.externalPort(pool.tryAcquire(subscriber, 6043, PortPreservation.OFF)) % 2).isOne();
        assertThat(pool.preservesParity()).isTrue();
    }

    /** NEXT_ADDRESS with parity: a full parity moves to the next address, keeping the parity. */
    @Test
    void parityWithNextAddress() {
        AddressPool pool = AddressPool.builder().external("198.51.100.0/31").ports(PortSet.range(7000, 7009))
            .preserveParity(true).whenFull(AddressPool.WhenFull.NEXT_ADDRESS).seed(14).build();
        int subscriber = SUBSCRIBERS + 5;
        int own = pool.externalFor(subscriber);
        int[] perAddress = new int[2];
        for (int i = 0; i < 10; i++) {
            long m = pool.tryAcquire(subscriber, 1001, PortPreservation.FALLBACK); // odd; 1001 is not preservable
            assertThat(AddressPool.externalPort(m) % 2).isOne();
            assertThat(AddressPool.externalAddress(m) == own).isEqualTo(i < 5); // own address first
            perAddress[pool.indexOf(AddressPool.externalAddress(m))]++;
        }
        assertThat(perAddress).containsExactly(5, 5);
        assertThat(pool.tryAcquire(subscriber, 1001, PortPreservation.FALLBACK)).isEqualTo(AddressPool.NONE);
        assertThat(AddressPool.externalPort(pool.tryAcquire(subscriber, 1000, PortPreservation.OFF)) % 2).isZero();
    }

    /** A seeded pool used by one thread makes the same choices on every run. */
    @Test
    void aSeedMakesTheChoicesReproducible() {
        long[][] runs = new long[2][];
        for (int run = 0; run < 2; run++) {
            AddressPool pool = AddressPool.builder().external("198.51.100.0/28").seed(15).preserveParity(true)
                .build();
            long[] trace = new long[3000];
            for (int i = 0; i < trace.length; i++) {
                trace[i] = i % 3 == 0 ? pool.tryAcquire(SUBSCRIBERS + i % 40)
                    : pool.tryAcquire(SUBSCRIBERS + i % 40, 1024 + i, PortPreservation.FALLBACK);
                if (i % 4 == 3) {
                    pool.release(trace[i - 2]);
                }
            }
            runs[run] = trace;
        }
        assertThat(runs[1]).containsExactly(runs[0]);
        AddressPool other = AddressPool.builder().external("198.51.100.0/28").seed(16).build();
        int same = 0;
        for (int i = 0; i < 100; i++) {
            same += other.tryAcquire(SUBSCRIBERS + i % 40) == runs[0][3 * i] ? 1 : 0;
        }
        assertThat(same).isLessThan(50); // another seed, other choices
    }

    /** Pool without parity: the suggestion is preserved, a reserved suggestion is not. */
    @Test
    void preservationWithoutParity() {
        AddressPool pool = AddressPool.builder().external("198.51.100.9").ports(PortSet.range(6000, 6009))
            .reserved(PortSet.of(6005)).seed(11).build();
        assertThat(AddressPool.externalPort(pool.tryAcquire(1, 6001, PortPreservation.FAIL))).isEqualTo(6001);
        assertThat(pool.tryAcquire(1, 6005, PortPreservation.FAIL)).isEqualTo(AddressPool.NONE);
        assertThat(AddressPool.externalPort(pool.tryAcquire(1, 6005, PortPreservation.FALLBACK))).isNotEqualTo(6005);
        assertThatThrownBy(() -> pool.tryAcquire(1, 0, PortPreservation.FALLBACK))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("suggested port 0");
    }

    @Test
    void addressesAreBuiltLazilyAndExplicitHoldingsAreShared() {
        AddressPool pool = AddressPool.builder().external("198.51.100.0/24").ports(PortSet.range(8000, 8003))
            .reserved(PortSet.of(8001)).seed(12).build();
        assertThat(pool.addressesBuilt()).isZero();
        assertThat(pool.size()).isEqualTo(256);
        int address = pool.addressAt(17);
        assertThat(pool.isHeld(address, 8080)).isFalse();
        assertThat(pool.heldPorts(address)).isZero();
        assertThat(pool.addressesBuilt()).isZero(); // queries build nothing
        // explicit holdings: any port, reserved or outside the automatic set; shared with automatic selection
        assertThat(pool.tryAcquire(address, 8080)).isTrue();
        assertThat(pool.tryAcquire(address, 8080)).isFalse();
        assertThat(pool.tryAcquire(address, 8001)).isTrue();
        assertThat(pool.tryAcquire(address, 8000)).isTrue();
        assertThat(pool.addressesBuilt()).isEqualTo(1);
        assertThat(pool.heldPorts(address)).isEqualTo(3);
        assertThat(pool.heldPorts()).isEqualTo(3);
        int subscriber = subscriberOf(pool, 17);
        BitSet automatic = new BitSet();
        for (long m; (m = pool.tryAcquire(subscriber)) != AddressPool.NONE; ) {
            automatic.set(AddressPool.externalPort(m));
        }
        assertThat(automatic.stream().toArray()).containsExactly(8002, 8003); // not 8000, 8001 (reserved), 8080
        assertThatThrownBy(() -> pool.release(address, 8081)).isInstanceOf(IllegalStateException.class)
            .hasMessage("port 8081 of " + Ipv4List.format(address) + " is not held");
        pool.release(address, 8080);
        assertThat(pool.isHeld(address, 8080)).isFalse();
        pool.release(address, 8000);
        assertThat(AddressPool.externalPort(pool.tryAcquire(subscriber))).isEqualTo(8000);
        assertThatThrownBy(() -> pool.tryAcquire(address, 0)).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("port 0 is out of range 1..65535");
        assertThatThrownBy(() -> pool.tryAcquire(0xC0000201, 80)).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("address 192.0.2.1 is not in the pool 198.51.100.0..198.51.100.255");
    }

    private static int subscriberOf(AddressPool pool, int index) {
        for (int s = SUBSCRIBERS; ; s++) {
            if (pool.primaryIndex(s) == index) {
                return s;
            }
        }
    }

    @Test
    void releaseChecksItsArguments() {
        AddressPool pool = AddressPool.builder().external("198.51.100.0/30").seed(13).build();
        long m = pool.tryAcquire(SUBSCRIBERS);
        pool.release(m);
        assertThatThrownBy(() -> pool.release(m)).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("is not held");
        assertThatThrownBy(() -> pool.release(-5L)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("mapping -5");
        assertThatThrownBy(() -> pool.release(0xC0000201, 1024)).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("address 192.0.2.1 is not in the pool 198.51.100.0..198.51.100.3");
        int unused = pool.addressAt((pool.primaryIndex(SUBSCRIBERS) + 1) % 4);
        assertThatThrownBy(() -> pool.release(unused, 1024)).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("is not held");
        assertThatThrownBy(() -> pool.release(unused, 0)).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("port 0 is out of range 1..65535");
    }

    @Test
    void rejectsBadConfiguration() {
        assertThatThrownBy(() -> AddressPool.builder().build()).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("external addresses are not set; call external(...)");
        assertThatThrownBy(() -> AddressPool.builder().external("10.0.0.0/8"))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("external pool of 16777216 addresses (10.0.0.0..10.255.255.255) is too large: allowed "
                + "1..4194304 addresses (a /10)");
        assertThatThrownBy(() -> AddressPool.builder().external("198.51.100.0/24").ports(PortSet.range(10, 20))
                .reserved(PortSet.range(1, 100)).build())
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("every port of 10-20 is reserved");
        assertThatThrownBy(() -> AddressPool.builder().ports(PortSet.empty()))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ports must not be empty");
        assertThatThrownBy(() -> AddressPool.builder().key(new byte[15]))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("length is 15");
        assertThatThrownBy(() -> AddressPool.builder().external(List.of(ip("192.0.2.1"), ip("192.0.2.1"))))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("appears twice");
    }

    /**
     * 4,096 addresses over the whole port space: building is cheap because nothing is allocated per address
     * (checked structurally here; build time and heap are measured by allocator-jmh's PoolFootprint, not by a
     * timed unit test).
     */
    @Test
    void aPoolOf4096AddressesBuildsNoAddressUpFront() {
        AddressPool pool = AddressPool.builder().external("198.18.0.0/20").ports(PortSet.range(1, 65535)).build();
        assertThat(pool.size()).isEqualTo(4096);
        assertThat(pool.addressesBuilt()).isZero();
    }

    private static int otherSubscriber(AddressPool pool, int subscriber) {
        for (int s = subscriber + 1; ; s++) {
            if (pool.primaryIndex(s) != pool.primaryIndex(subscriber)) {
                return s;
            }
        }
    }
}
