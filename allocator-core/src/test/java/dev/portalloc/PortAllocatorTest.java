package dev.portalloc;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PortAllocatorTest {

    @Test
    void defaultsAreIanaDynamicNothingReserved() {
        PortAllocator a = PortAllocator.builder().build();
        assertThat(a.ports()).isEqualTo(PortSet.IANA_DYNAMIC);
        assertThat(a.reserved()).isEqualTo(PortSet.empty());
        int p = a.acquire();
        assertThat(p).isBetween(49152, 65535);
        assertThat(a.isHeld(p)).isTrue();
    }

    @Test
    void acquiresEveryAllowedPortExactlyOnceThenReportsExhaustion() {
        PortSet ports = PortSet.parse("1000-1099,2000-2049,65500-65535");
        PortSet reserved = PortSet.parse("1010-1019,65535");
        PortAllocator a = PortAllocator.builder().ports(ports).reserved(reserved).seed(1).build();
        PortSet allowed = ports.minus(reserved);
        Set<Integer> got = new HashSet<>();
        for (int i = 0; i < allowed.size(); i++) {
            int p = a.acquire();
            assertThat(allowed.contains(p)).as("port %d allowed", p).isTrue();
            assertThat(got.add(p)).as("port %d granted twice", p).isTrue();
        }
        assertThat(a.tryAcquire()).isEqualTo(PortAllocator.NONE);
        assertThatThrownBy(a::acquire)
            .isInstanceOf(PortExhaustedException.class)
            .hasMessageContaining("186 ports")
            .hasMessageContaining("11 of them reserved")
            .hasMessageContaining("175 held");
        a.release(2000);
        assertThat(a.acquire()).isEqualTo(2000);
        AllocatorStats s = a.stats();
        assertThat(s.automaticPorts()).isEqualTo(186);
        assertThat(s.reservedPorts()).isEqualTo(11);
        assertThat(s.selectablePorts()).isEqualTo(175);
        assertThat(s.heldPorts()).isEqualTo(175);
        assertThat(s.acquisitions()).isEqualTo(176);
        assertThat(s.releases()).isEqualTo(1);
        assertThat(s.failedAcquisitions()).isEqualTo(2);
    }

    @Test
    void explicitAcquisitionWorksForAnyPortAndConflictsWithEveryHolder() {
        PortAllocator a = PortAllocator.builder().ports(PortSet.range(5000, 5001)).reserved(PortSet.of(5001)).build();
        assertThat(a.tryAcquire(80)).isTrue();      // outside the automatic set
        assertThat(a.tryAcquire(80)).isFalse();
        assertThat(a.tryAcquire(5001)).isTrue();    // reserved: still explicit-acquirable
        assertThat(a.tryAcquire(1)).isTrue();
        assertThat(a.tryAcquire(65535)).isTrue();
        assertThat(a.acquire()).isEqualTo(5000);
        assertThat(a.tryAcquire(5000)).isFalse();   // automatic holder blocks explicit
        assertThat(a.tryAcquire()).isEqualTo(PortAllocator.NONE);
        a.release(5000);
        assertThat(a.tryAcquire(5000)).isTrue();    // explicit holder blocks automatic
        assertThat(a.tryAcquire()).isEqualTo(PortAllocator.NONE);
    }

    @Test
    void reservationsApplyAtSelectionAndNeverAffectHolders() {
        PortAllocator a = PortAllocator.builder().ports(PortSet.range(7000, 7003)).seed(3).build();
        assertThat(a.tryAcquire(7000)).isTrue();
        a.reserve(PortSet.of(7000, 7001, 7002));
        assertThat(a.isHeld(7000)).isTrue();
        assertThat(a.reserved()).isEqualTo(PortSet.of(7000, 7001, 7002));
        assertThat(a.acquire()).isEqualTo(7003);
        assertThat(a.tryAcquire()).isEqualTo(PortAllocator.NONE);
        a.release(7000);
        assertThat(a.tryAcquire()).isEqualTo(PortAllocator.NONE);
        a.unreserve(PortSet.of(7001));
        assertThat(a.acquire()).isEqualTo(7001);
        a.unreserve(PortSet.of(9999)); // not reserved: ignored
        assertThat(a.reserved()).isEqualTo(PortSet.of(7000, 7002));
    }

    @Test
    void allReservedBuildsButEveryAutomaticAcquisitionIsExhausted() {
        PortAllocator a = PortAllocator.builder().ports(PortSet.range(100, 110)).reserved(PortSet.range(1, 65535)).build();
        assertThat(a.tryAcquire()).isEqualTo(PortAllocator.NONE);
        assertThatThrownBy(a::acquire).isInstanceOf(PortExhaustedException.class)
            .hasMessageContaining("11 ports").hasMessageContaining("11 of them reserved");
        assertThat(a.tryAcquire(105)).isTrue();
    }

    @Test
    void sameSeedSameCallsSamePorts() {
        for (long seed : new long[] {0, 42, -7}) {
            assertThat(trace(seed)).isEqualTo(trace(seed));
        }
        assertThat(trace(1)).isNotEqualTo(trace(2));
    }

    /** Fills a 7,233-port range to exhaustion with some releases: fast path, exact path and verdict. */
    private static java.util.List<Integer> trace(long seed) {
        PortAllocator a = PortAllocator.builder().ports(PortSet.range(32768, 40000)).seed(seed).build();
        java.util.List<Integer> out = new java.util.ArrayList<>();
        java.util.List<Integer> held = new java.util.ArrayList<>();
        for (int i = 0; i < 30_000; i++) {
            int p = a.tryAcquire();
            out.add(p);
            if (p != PortAllocator.NONE) {
                held.add(p);
            }
            if (i % 3 == 0 && !held.isEmpty()) {
                a.release(held.remove(held.size() / 2));
            }
        }
        assertThat(out).contains(PortAllocator.NONE);
        return out;
    }

    @Test
    void badInputIsRejectedWithTheValueAndTheRangeAndChangesNothing() {
        PortAllocator a = PortAllocator.builder().ports(PortSet.range(2000, 2009)).build();
        int held = a.acquire();
        for (int bad : new int[] {0, -1, 65536, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
            assertThatThrownBy(() -> a.tryAcquire(bad)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(String.valueOf(bad)).hasMessageContaining("1..65535");
            assertThatThrownBy(() -> a.release(bad)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(String.valueOf(bad)).hasMessageContaining("1..65535");
            assertThatThrownBy(() -> a.isHeld(bad)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(String.valueOf(bad));
        }
        int other = held == 2000 ? 2001 : 2000;
        assertThatThrownBy(() -> a.release(other)).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("port " + other + " is not held");
        a.release(held);
        assertThatThrownBy(() -> a.release(held)).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining(String.valueOf(held));
        assertThatThrownBy(() -> a.reserve(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> a.unreserve(null)).isInstanceOf(NullPointerException.class);
        AllocatorStats s = a.stats();
        assertThat(s.heldPorts()).isZero();
        assertThat(s.acquisitions()).isEqualTo(1);
        assertThat(s.releases()).isEqualTo(1);
        assertThat(a.reserved()).isEqualTo(PortSet.empty());
    }

    @Test
    void builderRejectsEmptyAutomaticSetAndNulls() {
        assertThatThrownBy(() -> PortAllocator.builder().ports(PortSet.empty()))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ports must not be empty");
        assertThatThrownBy(() -> PortAllocator.builder().ports(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> PortAllocator.builder().reserved(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void portReleasedInAnotherThreadIsSafeAndVisible() throws Exception {
        PortAllocator a = PortAllocator.builder().ports(PortSet.range(3000, 3000)).build();
        int p = a.acquire();
        Thread t = new Thread(() -> a.release(p));
        t.start();
        t.join();
        assertThat(a.acquire()).isEqualTo(3000);
        assertThat(a.stats().releases()).isEqualTo(1);
    }
}
