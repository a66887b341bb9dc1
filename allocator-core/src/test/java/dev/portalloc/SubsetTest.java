package dev.portalloc;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SubsetTest {
    private static PortSet evens(int first, int last) {
        return PortSet.of(java.util.stream.IntStream.rangeClosed(first, last).filter(p -> p % 2 == 0).toArray());
    }

    @Test
    void choosesOnlyWithinTheSubsetAndExhaustsIndependently() {
        PortAllocator a = PortAllocator.builder().ports(PortSet.range(5000, 5099)).seed(5).build();
        PortAllocator.Subset even = a.subset(evens(1, 65535));
        Set<Integer> got = new HashSet<>();
        int p;
        while ((p = even.tryAcquire()) != PortAllocator.NONE) {
            assertThat(p % 2).isZero();
            assertThat(p).isBetween(5000, 5099);
            assertThat(got.add(p)).isTrue();
        }
        assertThat(got).hasSize(50);
        assertThatThrownBy(even::acquire).isInstanceOf(PortExhaustedException.class)
            .hasMessageContaining("50 ports").hasMessageContaining("50 held");
        assertThat(a.tryAcquire() % 2).isEqualTo(1); // the odd ports are still free
        a.release(5010);
        assertThat(even.acquire()).isEqualTo(5010);
        AllocatorStats stats = a.stats();
        assertThat(stats.acquisitions()).isEqualTo(52);
        assertThat(stats.failedAcquisitions()).isEqualTo(2);
    }

    @Test
    void followsReservationChanges() {
        PortAllocator a = PortAllocator.builder().ports(PortSet.range(6000, 6009)).seed(6).build();
        PortAllocator.Subset even = a.subset(evens(6000, 6009));
        a.reserve(PortSet.of(6000, 6002, 6004, 6006));
        assertThat(even.acquire()).isEqualTo(6008);
        assertThat(even.tryAcquire()).isEqualTo(PortAllocator.NONE);
        a.unreserve(PortSet.of(6004));
        assertThat(even.acquire()).isEqualTo(6004);
        assertThat(even.within()).isEqualTo(evens(6000, 6009));
    }

    @Test
    void uniformWithinTheSubset() {
        PortAllocator a = PortAllocator.builder().ports(PortSet.range(7000, 7199)).seed(7).build();
        PortSet within = evens(7000, 7199);
        PortAllocator.Subset even = a.subset(within);
        long[] counts = new long[within.size()];
        int perPort = 300;
        for (int i = 0; i < perPort * counts.length; i++) {
            int p = even.acquire();
            counts[within.rank(p)]++;
            a.release(p);
        }
        assertThat(ChiSquare.statistic(counts, perPort))
            .isLessThan(ChiSquare.criticalValue(counts.length - 1));
    }
}
