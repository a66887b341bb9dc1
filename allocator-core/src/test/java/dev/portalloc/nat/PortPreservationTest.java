package dev.portalloc.nat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;
import org.junit.jupiter.api.Test;

/** Port preservation (RFC 4787 section 4.2.1, RFC 6887 PCP suggested port and PREFER_FAILURE). */
class PortPreservationTest {

    private static PortAllocator allocator() {
        return PortAllocator.builder().ports(PortSet.range(1024, 2047)).reserved(PortSet.range(1500, 1509)).seed(9L)
            .build();
    }

    @Test
    void aFreeSuggestedPortIsTakenByBothPolicies() {
        PortAllocator a = allocator();
        assertThat(PortPreservation.FALLBACK.tryAcquire(a, 1234)).isEqualTo(1234);
        assertThat(PortPreservation.FAIL.tryAcquire(a, 1235)).isEqualTo(1235);
        assertThat(a.isHeld(1234)).isTrue();
        assertThat(a.isHeld(1235)).isTrue();
    }

    @Test
    void fallbackChoosesAnotherPortWhenTheSuggestionIsTaken() {
        PortAllocator a = allocator();
        assertThat(a.tryAcquire(1234)).isTrue();
        int p = PortPreservation.FALLBACK.tryAcquire(a, 1234);
        assertThat(p).isNotEqualTo(1234).isBetween(1024, 2047);
        assertThat(a.isHeld(p)).isTrue();
        assertThat(a.stats().heldPorts()).isEqualTo(2);
    }

    @Test
    void failReturnsNoneAndTakesNothingWhenTheSuggestionIsTaken() {
        PortAllocator a = allocator();
        assertThat(a.tryAcquire(1234)).isTrue();
        assertThat(PortPreservation.FAIL.tryAcquire(a, 1234)).isEqualTo(PortAllocator.NONE);
        assertThat(a.stats().heldPorts()).isEqualTo(1);
    }

    /** Reserved ports and ports outside the automatic set are never preserved, though tryAcquire(port) could. */
    @Test
    void onlyAutomaticUnreservedPortsArePreserved() {
        PortAllocator a = allocator();
        assertThat(PortPreservation.isPreservable(a, 1500)).isFalse();  // reserved
        assertThat(PortPreservation.isPreservable(a, 80)).isFalse();    // below the automatic set
        assertThat(PortPreservation.isPreservable(a, 5000)).isFalse();  // above it
        assertThat(PortPreservation.isPreservable(a, 1510)).isTrue();
        assertThat(PortPreservation.FAIL.tryAcquire(a, 1500)).isEqualTo(PortAllocator.NONE);
        assertThat(PortPreservation.FAIL.tryAcquire(a, 80)).isEqualTo(PortAllocator.NONE);
        assertThat(a.isHeld(80)).isFalse();
        int p = PortPreservation.FALLBACK.tryAcquire(a, 80);
        assertThat(p).isBetween(1024, 2047);
        assertThat(p < 1500 || p > 1509).isTrue();
        // a reservation made at run time applies too
        a.reserve(PortSet.of(1600));
        assertThat(PortPreservation.FAIL.tryAcquire(a, 1600)).isEqualTo(PortAllocator.NONE);
    }

    @Test
    void offNeverTriesTheSuggestion() {
        // one selectable port left: OFF must return it whatever is suggested
        PortAllocator a = PortAllocator.builder().ports(PortSet.range(3000, 3001)).seed(2L).build();
        assertThat(a.tryAcquire(3000)).isTrue();
        assertThat(PortPreservation.OFF.tryAcquire(a, 3000)).isEqualTo(3001);
        assertThat(PortPreservation.OFF.tryAcquire(a, 3001)).isEqualTo(PortAllocator.NONE);
    }

    @Test
    void fallbackWithParityKeepsTheSuggestedParity() {
        PortAllocator a = PortAllocator.builder().ports(PortSet.range(4000, 4099)).seed(5L).build();
        ParityPreserving parity = ParityPreserving.over(a);
        assertThat(PortPreservation.FALLBACK.tryAcquire(parity, 4006)).isEqualTo(4006);
        for (int i = 0; i < 40; i++) {
            int p = PortPreservation.FALLBACK.tryAcquire(parity, 4006);
            assertThat(p % 2).isZero();
        }
        for (int i = 0; i < 40; i++) {
            int p = PortPreservation.FALLBACK.tryAcquire(parity, 4007 + 2 * i);
            assertThat(p % 2).isOne();
        }
        assertThat(PortPreservation.FAIL.tryAcquire(parity, 4006)).isEqualTo(PortAllocator.NONE);
        assertThat(PortPreservation.OFF.tryAcquire(parity, 1) % 2).isOne();
    }

    @Test
    void rejectsSuggestionsOutside1To65535() {
        PortAllocator a = allocator();
        assertThatThrownBy(() -> PortPreservation.FALLBACK.tryAcquire(a, 0))
            .isInstanceOf(IllegalArgumentException.class).hasMessage("suggested port 0 is out of range 1..65535");
        assertThatThrownBy(() -> PortPreservation.OFF.tryAcquire(a, 65536))
            .isInstanceOf(IllegalArgumentException.class).hasMessage("suggested port 65536 is out of range 1..65535");
    }
}
