package dev.portalloc.nat;

import dev.portalloc.ChiSquare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import dev.portalloc.PortAllocator;
import dev.portalloc.PortExhaustedException;
import dev.portalloc.PortSet;
import java.util.BitSet;
import org.junit.jupiter.api.Test;

/**
 * RFC 4787 REQ-4 parity preservation: the parity always matches, the choice is uniform within the parity,
 * and exhausting one parity leaves the other untouched.
 */
class ParityPreservingTest {

    @Test
    void paritySetsPartitionThePortSpace() {
        assertThat(ParityPreserving.EVEN_PORTS.size()).isEqualTo(32767);
        assertThat(ParityPreserving.ODD_PORTS.size()).isEqualTo(32768);
        assertThat(ParityPreserving.EVEN_PORTS.intersect(ParityPreserving.ODD_PORTS).isEmpty()).isTrue();
        assertThat(ParityPreserving.EVEN_PORTS.union(ParityPreserving.ODD_PORTS)).isEqualTo(PortSet.range(1, 65535));
        assertThat(ParityPreserving.EVEN_PORTS.first()).isEqualTo(2);
        assertThat(ParityPreserving.ODD_PORTS.last()).isEqualTo(65535);
    }

    /** Random automatic sets, reservations and internal ports: every port acquired has the internal parity. */
    @Test
    void parityAlwaysMatchesAndPortsAreSelectable() {
        qt().withExamples(200)
            .forAll(integers().between(1, 65000), integers().between(1, 300), lists().of(integers().between(0, 65535))
                .ofSizeBetween(1, 80), integers().all())
            .checkAssert((first, width, internals, seed) -> {
                PortSet ports = PortSet.range(first, Math.min(65535, first + width));
                PortSet reserved = PortSet.range(first, Math.min(65535, first + width / 4));
                PortAllocator a = PortAllocator.builder().ports(ports).reserved(reserved).seed(seed).build();
                ParityPreserving parity = ParityPreserving.over(a);
                PortSet selectable = ports.minus(reserved);
                PortSet even = selectable.intersect(ParityPreserving.EVEN_PORTS);
                PortSet odd = selectable.intersect(ParityPreserving.ODD_PORTS);
                BitSet held = new BitSet();
                for (int internal : internals) {
                    int p = parity.tryAcquire(internal);
                    PortSet sameParity = (internal & 1) == 0 ? even : odd;
                    if (p == PortAllocator.NONE) {
                        // only when every selectable port of that parity is held
                        assertThat(sameParity.stream().allMatch(held::get)).isTrue();
                    } else {
                        assertThat(p & 1).isEqualTo(internal & 1);
                        assertThat(selectable.contains(p)).isTrue();
                        assertThat(held.get(p)).isFalse();
                        held.set(p);
                    }
                }
                assertThat(a.stats().heldPorts()).isEqualTo(held.cardinality());
            });
    }

    /** 100 even ports of 10000-10199, a few held: the free even ones are equally likely (chi-square, 0.1 %). */
    @Test
    void uniformWithinTheParity() {
        PortAllocator a = PortAllocator.builder().ports(PortSet.range(10_000, 10_199)).seed(42L).build();
        ParityPreserving parity = ParityPreserving.over(a);
        // hold a pattern of even ports, and every odd port, so a biased view would show
        for (int p = 10_000; p <= 10_199; p++) {
            if ((p & 1) == 1 || p % 10 == 0) {
                assertThat(a.tryAcquire(p)).isTrue();
            }
        }
        PortSet free = PortSet.range(10_000, 10_199).intersect(ParityPreserving.EVEN_PORTS).minus(multiplesOf10());
        assertThat(free.size()).isEqualTo(80);
        int perPort = 250;
        long[] counts = new long[free.size()];
        for (int i = 0; i < perPort * free.size(); i++) {
            int p = parity.acquire(4);
            assertThat(free.contains(p)).as("port %d", p).isTrue();
            counts[free.rank(p)]++;
            a.release(p);
        }
        assertThat(ChiSquare.statistic(counts, perPort)).isLessThan(ChiSquare.criticalValue(free.size() - 1));
    }

    @Test
    void exhaustingOneParityLeavesTheOther() {
        PortAllocator a = PortAllocator.builder().ports(PortSet.range(2000, 2099)).seed(1L).build();
        ParityPreserving parity = ParityPreserving.over(a);
        BitSet even = new BitSet();
        for (int i = 0; i < 50; i++) {
            int p = parity.acquire(5000);
            assertThat(p % 2).isZero();
            even.set(p);
        }
        assertThat(even.cardinality()).isEqualTo(50);
        assertThat(parity.tryAcquire(8)).isEqualTo(PortAllocator.NONE);
        assertThatThrownBy(() -> parity.acquire(0)).isInstanceOf(PortExhaustedException.class);
        // every odd port is still available, through the odd view and to the allocator
        BitSet odd = new BitSet();
        for (int i = 0; i < 50; i++) {
            int p = parity.acquire(5001);
            assertThat(p % 2).isOne();
            odd.set(p);
        }
        assertThat(odd.cardinality()).isEqualTo(50);
        assertThat(parity.tryAcquire(1)).isEqualTo(PortAllocator.NONE);
        assertThat(a.tryAcquire()).isEqualTo(PortAllocator.NONE);
        // releasing one even port makes exactly that port available again to the even view
        a.release(2010);
        assertThat(parity.tryAcquire(65534)).isEqualTo(2010);
    }

    @Test
    void rejectsInternalPortsOutside0To65535() {
        ParityPreserving parity = ParityPreserving.over(PortAllocator.builder().seed(3L).build());
        assertThatThrownBy(() -> parity.tryAcquire(-1)).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("internal port -1 is out of range 0..65535");
        assertThatThrownBy(() -> parity.tryAcquire(65536)).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("internal port 65536 is out of range 0..65535");
        assertThat(parity.tryAcquire(0) % 2).isZero(); // ICMP identifier 0 is even
    }

    private static PortSet multiplesOf10() {
        int[] ports = new int[20];
        for (int i = 0; i < 20; i++) {
            ports[i] = 10_000 + 10 * i;
        }
        return PortSet.of(ports);
    }


}
