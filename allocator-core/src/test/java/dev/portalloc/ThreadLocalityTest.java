package dev.portalloc;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Opt-in thread locality: segments of the index space kept for a bounded number of allocations. */
class ThreadLocalityTest {
    private static final Destination D = Destination.parse("192.0.2.9:53");

    @Test
    void allocationsStayInASegmentThenJump() {
        final PortAllocator a = PortAllocator.builder().ports(PortSet.parse("10000-19999")).seed(1)
            .threadLocality(64, 10).build();
        final List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            final int p = i % 2 == 0 ? a.acquire() : a.acquire(D);
            ports.add(p);
            if (i % 2 == 0) {
                a.release(p);
            } else {
                a.release(p, D);
            }
        }
        int inSegment = 0;
        int jumps = 0;
        for (int call = 0; call < 1000; call += 10) {
            final int base = ports.get(call);
            for (int k = 1; k < 10; k++) {
                final int distance = Math.floorMod(ports.get(call + k) - base, 10000);
                inSegment += Math.min(distance, 10000 - distance) < 64 ? 1 : 0;
            }
            if (call > 0) {
                final int d = Math.floorMod(base - ports.get(call - 1), 10000);
                jumps += Math.min(d, 10000 - d) >= 64 ? 1 : 0;
            }
        }
        assertThat(inSegment).isEqualTo(900); // every call of a segment lies within 64 ports of its first
        assertThat(jumps).isGreaterThan(90); // segments are chosen anew (two random segments rarely touch)
    }

    @Test
    void aFullSegmentFallsBackToUniformSelection() {
        final PortAllocator a = PortAllocator.builder().ports(PortSet.parse("10000-10099")).seed(2)
            .threadLocality(32, 1000).build();
        for (int i = 0; i < 100; i++) {
            a.acquire();
        }
        assertThat(a.tryAcquire()).isEqualTo(PortAllocator.NONE);
        a.release(10050);
        assertThat(a.acquire()).isEqualTo(10050);
    }

    @Test
    void badSettingsAreRefused() {
        assertThatThrownBy(() -> PortAllocator.builder().threadLocality(31, 1))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("segmentPorts 31 is out of range 32..65535");
        assertThatThrownBy(() -> PortAllocator.builder().threadLocality(64, 0))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("allocationsPerSegment 0");
    }
}
