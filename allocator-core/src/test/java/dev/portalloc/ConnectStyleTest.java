package dev.portalloc;

import org.agrona.concurrent.NanoClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Connect-style allocation: sharing, the exclusive/shared rules, completeness, quarantine, bad input. */
class ConnectStyleTest {
    private static final Destination A = Destination.parse("192.0.2.1:443");
    private static final Destination B = Destination.parse("192.0.2.2:443");
    private static final Destination C = Destination.parse("[2001:db8::1]:443");

    private static PortAllocator small(int ports) {
        return PortAllocator.builder().ports(PortSet.parse("40000-" + (40000 + ports - 1))).seed(1).build();
    }

    /** A clock the test moves by hand. */
    static final class ManualClock implements NanoClock {
        final AtomicLong now = new AtomicLong(1_000_000_000L);

        @Override
        public long nanoTime() {
            return now.get();
        }

        void advance(Duration d) {
            now.addAndGet(d.toNanos());
        }
    }

    @Test
    void portsAreSharedAcrossDestinationsButNeverDuplicated() {
        final PortAllocator a = small(3);
        final Set<Integer> forA = new HashSet<>();
        final Set<Integer> forB = new HashSet<>();
        final Set<Integer> forC = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            assertThat(forA.add(a.acquire(A))).isTrue();
            assertThat(forB.add(a.acquire(B))).isTrue();
            assertThat(forC.add(a.acquire(C))).isTrue();
        }
        assertThat(forA).isEqualTo(Set.of(40000, 40001, 40002)).isEqualTo(forB).isEqualTo(forC);
        assertThat(a.tryAcquire(A)).isEqualTo(PortAllocator.NONE);
        assertThatThrownBy(() -> a.acquire(B)).isInstanceOf(PortExhaustedException.class)
            .hasMessageContaining("192.0.2.2:443");
        assertThat(a.stats().liveTuples()).isEqualTo(9);
        assertThat(a.stats().heldPorts()).isEqualTo(3);
        assertThat(a.isLive(40001, C)).isTrue();
        a.release(40001, C);
        assertThat(a.isLive(40001, C)).isFalse();
        assertThat(a.acquire(C)).isEqualTo(40001);
    }

    @Test
    void explicitTuplesConflictOnlyWithTheSameTuple() {
        final PortAllocator a = small(4);
        assertThat(a.tryAcquire(80, A)).isTrue();
        assertThat(a.tryAcquire(80, A)).isFalse();
        assertThat(a.tryAcquire(80, B)).isTrue();
        assertThat(a.tryAcquire(80, C)).isTrue();
        assertThat(a.stats().liveTuples()).isEqualTo(3);
    }

    @Test
    void exclusiveAndSharedHoldersExcludeEachOther() {
        final PortAllocator a = small(2);
        assertThat(a.tryAcquire(40000)).isTrue();
        assertThat(a.tryAcquire(40000, A)).isFalse();
        assertThat(a.acquire(A)).isEqualTo(40001);
        assertThat(a.acquire(B)).isEqualTo(40001);
        assertThat(a.tryAcquire(40001)).isFalse();
        assertThat(a.tryAcquire()).isEqualTo(PortAllocator.NONE);
        assertThatThrownBy(() -> a.release(40001)).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("connect-style");
        a.release(40001, A);
        assertThat(a.tryAcquire(40001)).isFalse(); // B still uses it
        a.release(40001, B);
        assertThat(a.tryAcquire(40001)).isTrue();
        a.release(40000);
        assertThat(a.acquire(A)).isEqualTo(40000);
    }

    @Test
    void releaseOfATupleThatIsNotLiveFailsAndChangesNothing() {
        final PortAllocator a = small(2);
        assertThatThrownBy(() -> a.release(40000, A)).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("TCP 0.0.0.0:40000 -> 192.0.2.1:443");
        final int p = a.acquire(A);
        assertThatThrownBy(() -> a.release(p, B)).isInstanceOf(IllegalStateException.class);
        a.release(p, A);
        assertThatThrownBy(() -> a.release(p, A)).isInstanceOf(IllegalStateException.class);
        assertThat(a.stats().heldPorts()).isZero();
        assertThatThrownBy(() -> a.tryAcquire(0, A)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("port 0 is out of range 1..65535");
        assertThatThrownBy(() -> a.release(65536, A)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> a.tryAcquire((Destination) null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void quarantineDelaysTheSameTupleButNotOtherDestinations() {
        final ManualClock clock = new ManualClock();
        final PortAllocator a = PortAllocator.builder().ports(PortSet.parse("40000-40001")).seed(2)
            .quarantine(Duration.ofSeconds(60)).clock(clock).build();
        final int p = a.acquire(A);
        final int q = a.acquire(A);
        a.release(p, A);
        assertThat(a.stats().quarantined()).isEqualTo(1);
        assertThat(a.stats().liveTuples()).isEqualTo(1);
        assertThat(a.tryAcquire(A)).isEqualTo(PortAllocator.NONE);
        assertThat(a.tryAcquire(p, A)).isFalse();
        assertThat(a.tryAcquire(p)).isFalse(); // a port with a quarantined tuple is not granted exclusively
        assertThat(a.tryAcquire(p, B)).isTrue();
        a.release(p, B);
        clock.advance(Duration.ofSeconds(59));
        assertThat(a.tryAcquire(A)).isEqualTo(PortAllocator.NONE);
        clock.advance(Duration.ofSeconds(1));
        assertThat(a.acquire(A)).isEqualTo(p);
        assertThat(a.stats().quarantined()).isZero(); // B's tuple was due at the same moment
        a.release(q, A);
        a.release(p, A);
        clock.advance(Duration.ofSeconds(60));
        assertThat(a.tryAcquire(p)).isTrue();
        assertThat(a.stats().quarantined()).isZero();
        assertThat(a.stats().liveTuples()).isZero();
    }

    @Test
    void quarantineAppliesToExclusivePorts() {
        final ManualClock clock = new ManualClock();
        final PortAllocator a = PortAllocator.builder().ports(PortSet.parse("40000-40000")).seed(3)
            .quarantine(Duration.ofSeconds(120)).clock(clock).build();
        assertThat(a.acquire()).isEqualTo(40000);
        a.release(40000);
        assertThat(a.isHeld(40000)).isTrue();
        assertThatThrownBy(() -> a.release(40000)).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("quarantine");
        assertThat(a.tryAcquire()).isEqualTo(PortAllocator.NONE);
        assertThat(a.tryAcquire(40000)).isFalse();
        assertThat(a.tryAcquire(A)).isEqualTo(PortAllocator.NONE);
        clock.advance(Duration.ofSeconds(120));
        assertThat(a.tryAcquire(A)).isEqualTo(40000);
        assertThat(a.stats().quarantined()).isZero();
    }

    @Test
    void expectedTuplesSizesTheTupleTableAndMoreTuplesStillFit() {
        // The flow layer is created by the first connect-style call: its IPv4 table is 4 MiB by default,
        // 512 KiB for 28,232 expected tuples (2^13 buckets).
        final PortAllocator byDefault = PortAllocator.builder().seed(1).build();
        final PortAllocator sized = PortAllocator.builder().seed(1).expectedTuples(28_232).build();
        assertThat(sized.tupleTableBytes()).isZero(); // no connect-style call yet
        byDefault.release(byDefault.acquire(A), A);
        sized.release(sized.acquire(A), A);
        assertThat(byDefault.tupleTableBytes()).isEqualTo(16L + (4L << 20));
        assertThat(sized.tupleTableBytes()).isEqualTo(16L + (512L << 10));
        // With a quarantine the layer exists from the start, sized the same way.
        assertThat(PortAllocator.builder().quarantine(Duration.ofSeconds(1)).expectedTuples(1).build()
            .tupleTableBytes()).isEqualTo(16L + 8 * 64L);

        // A table of 8 buckets (56 slots) holds 3,000 live tuples through overflow buckets, all distinct.
        final PortAllocator tiny = PortAllocator.builder().ports(PortSet.parse("40000-40099")).seed(2)
            .expectedTuples(1).build();
        final Destination[] ds = new Destination[30];
        for (int i = 0; i < ds.length; i++) {
            ds[i] = Destination.ipv4(0xC0000200 + i, 443);
        }
        final Set<String> tuples = new HashSet<>();
        for (Destination d : ds) {
            for (int k = 0; k < 100; k++) {
                assertThat(tuples.add(tiny.acquire(d) + " " + d)).isTrue();
            }
            assertThat(tiny.tryAcquire(d)).isEqualTo(PortAllocator.NONE); // all 100 ports used towards d
        }
        assertThat(tiny.stats().liveTuples()).isEqualTo(3000);
        for (Destination d : ds) {
            for (int port = 40000; port <= 40099; port++) {
                tiny.release(port, d);
            }
        }
        assertThat(tiny.stats().liveTuples()).isZero();
        assertThat(tiny.stats().heldPorts()).isZero();

        for (int bad : new int[] {0, -5, 58_720_257}) {
            assertThatThrownBy(() -> PortAllocator.builder().expectedTuples(bad))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("expected tuples " + bad + " is out of range 1..58720256");
        }
    }

    @Test
    void badQuarantineIsRefused() {
        assertThatThrownBy(() -> PortAllocator.builder().quarantine(Duration.ofSeconds(-1)))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT-1S");
    }

    @Test
    void aHotDestinationFillsEveryPortUniformlyAndGivesThemBack() {
        // One destination takes all 2,000 ports (it becomes hot on the way), then churns at 99 %: every port it
        // does not use is equally likely, and other destinations are unaffected.
        final PortAllocator a = PortAllocator.builder().ports(PortSet.parse("30000-31999")).seed(4).build();
        final int n = 2000;
        final Set<Integer> got = new HashSet<>();
        for (int i = 0; i < n; i++) {
            assertThat(got.add(a.acquire(A))).isTrue();
        }
        assertThat(a.tryAcquire(A)).isEqualTo(PortAllocator.NONE);
        assertThat(a.acquire(B)).isBetween(30000, 31999);
        for (int p = 30000; p < 30020; p++) {
            a.release(p, A);
        }
        final long[] counts = new long[20];
        final int draws = 20_000;
        for (int i = 0; i < draws; i++) {
            final int p = a.acquire(A);
            assertThat(p).isBetween(30000, 30019);
            counts[p - 30000]++;
            a.release(p, A);
        }
        assertThat(ChiSquare.statistic(counts, draws / 20.0)).isLessThan(ChiSquare.criticalValue(19));
        for (int p = 30020; p < 32000; p++) {
            a.release(p, A);
        }
        assertThat(a.stats().liveTuples()).isEqualTo(1);
        assertThat(a.stats().heldPorts()).isEqualTo(1);
    }
}
