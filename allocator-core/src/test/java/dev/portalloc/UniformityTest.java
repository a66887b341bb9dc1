package dev.portalloc;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Uniformity of automatic selection: every free selectable port equally likely, including right after a
 * reserved block (RFC 6056 §5: "random start + sequential scan" makes such ports far more likely) and at
 * high occupancy, where selection takes the exact rank/select path. Seeded, so the test is reproducible;
 * a biased selector fails it for almost every seed.
 */
class UniformityTest {

    @Test
    void uniformAroundALargeReservedBlock() {
        PortSet ports = PortSet.range(10_000, 10_999);
        PortSet reserved = PortSet.range(10_300, 10_699);
        PortAllocator a = PortAllocator.builder().ports(ports).reserved(reserved).seed(20261128L).build();
        PortSet allowed = ports.minus(reserved);
        int perPort = 200;
        long[] counts = sample(a, allowed, perPort * allowed.size());
        assertThat(ChiSquare.statistic(counts, perPort)).isLessThan(ChiSquare.criticalValue(allowed.size() - 1));
        // the 10 ports right after the block get their fair share: mean 2000, sd ~45
        long afterGap = 0;
        for (int p = 10_700; p < 10_710; p++) {
            afterGap += counts[allowed.rank(p)];
        }
        assertThat(afterGap).isBetween(10L * perPort - 250, 10L * perPort + 250);
    }

    @Test
    void uniformAmongTheFreePortsAtHighOccupancy() {
        PortSet ports = PortSet.range(40_000, 44_999);
        PortAllocator a = PortAllocator.builder().ports(ports).seed(7L).build();
        // hold 97 % of the ports, in a pattern with long held runs and isolated free ports
        PortSet free = PortSet.empty();
        for (int p = 40_000; p <= 44_999; p++) {
            boolean keepFree = (p % 37 == 0) || (p >= 42_000 && p < 42_020);
            if (keepFree) {
                free = free.union(PortSet.of(p));
            } else {
                assertThat(a.tryAcquire(p)).isTrue();
            }
        }
        int perPort = 300;
        long[] counts = sample(a, free, perPort * free.size());
        assertThat(ChiSquare.statistic(counts, perPort)).isLessThan(ChiSquare.criticalValue(free.size() - 1));
    }

    /**
     * The uniform probes draw offsets over a power-of-two cover of the selectable span and reject those outside
     * it: spans whose cover reaches past port 65535, sets of several ranges (selectable mask), a set that fills
     * a tiny part of its cover (probes nearly always miss: the exact pass decides) and a single port, each about
     * half held in an irregular pattern.
     */
    @ParameterizedTest
    @ValueSource(strings = {"60000-65535", "1-65535", "20000-20999,21500-21999", "1000-1099,60000-60099", "4242"})
    void uniformOverTheProbeCoverOfEverySpan(String spec) {
        PortSet ports = PortSet.parse(spec);
        PortAllocator a = PortAllocator.builder().ports(ports).seed(spec.hashCode()).build();
        java.util.List<Integer> freeList = new java.util.ArrayList<>();
        for (int p : ports.toArray()) {
            if (ports.size() > 1 && (Integer.bitCount(p * 0x9E3779B1) & 1) == 0) {
                assertThat(a.tryAcquire(p)).isTrue();
            } else {
                freeList.add(p);
            }
        }
        PortSet free = PortSet.of(freeList.stream().mapToInt(Integer::intValue).toArray());
        int perPort = ports.size() > 10_000 ? 20 : 100;
        long[] counts = sample(a, free, perPort * free.size());
        if (free.size() > 1) {
            assertThat(ChiSquare.statistic(counts, perPort)).isLessThan(ChiSquare.criticalValue(free.size() - 1));
        } else {
            assertThat(counts).containsExactly(perPort);
        }
    }

    /** Acquire, record, release, many times; counts indexed by rank within {@code expected}. */
    private static long[] sample(PortAllocator a, PortSet expected, int draws) {
        long[] counts = new long[expected.size()];
        for (int i = 0; i < draws; i++) {
            int p = a.acquire();
            assertThat(expected.contains(p)).as("port %d", p).isTrue();
            counts[expected.rank(p)]++;
            a.release(p);
        }
        return counts;
    }


}
