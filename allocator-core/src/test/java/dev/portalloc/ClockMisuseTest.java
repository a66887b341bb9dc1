package dev.portalloc;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.agrona.concurrent.NanoClock;
import org.junit.jupiter.api.Test;

/**
 * Quarantine under a misbehaving {@link NanoClock}: one that goes backwards or starts near
 * {@link Long#MAX_VALUE} and overflows. As for {@link System#nanoTime()}, the time elapsed from a release at
 * reading {@code r} to a later reading {@code t} is {@code t - r} with wrap-around, read as signed; a negative
 * difference means the clock went backwards, which never ends a quarantine.
 */
class ClockMisuseTest {
    private static final List<Destination> DESTINATIONS = List.of(Destination.parse("192.0.2.1:443"),
        Destination.parse("192.0.2.2:443"), Destination.parse("[2001:db8::1]:443"));

    // ---------------------------------------------------------------------------------------------------------
    // Regressions

    /** A clock the test sets. */
    private static final class SetClock implements NanoClock {
        long now;

        SetClock(long now) {
            this.now = now;
        }

        @Override
        public long nanoTime() {
            return now;
        }
    }

    @Test
    void aClockJumpingBackToLongMinValueDoesNotEndTheQuarantine() {
        // Released at 0 with a 60 s quarantine, then the clock reads Long.MIN_VALUE (+ a little): 2^63 - 1 ns
        // or so backwards. The quarantine used to compare "release + Q - now <= 0", which wraps to due here.
        final long q = Duration.ofSeconds(60).toNanos();
        for (long back : new long[] {Long.MIN_VALUE, Long.MIN_VALUE + 1, Long.MIN_VALUE + q - 1}) {
            final SetClock clock = new SetClock(0);
            final PortAllocator a = PortAllocator.builder().ports(PortSet.parse("40000-40001")).seed(1)
                .quarantine(Duration.ofNanos(q)).clock(clock).build();
            final Destination d = DESTINATIONS.get(0);
            assertThat(a.tryAcquire(40000, d)).isTrue();
            assertThat(a.tryAcquire(40001)).isTrue();
            a.release(40000, d);
            a.release(40001);
            clock.now = back;
            assertThat(a.tryAcquire(40000, d)).as("tuple at clock %d", back).isFalse();
            assertThat(a.tryAcquire(40001)).as("exclusive port at clock %d", back).isFalse();
            assertThat(a.tryAcquire(d)).as("any port for d at clock %d", back).isEqualTo(PortAllocator.NONE);
            assertThat(a.tryAcquire()).as("any port at clock %d", back).isEqualTo(PortAllocator.NONE);
            assertThat(a.stats().quarantined()).isEqualTo(2);
            clock.now = q - 1;
            assertThat(a.tryAcquire(40000, d)).isFalse();
            clock.now = q;
            assertThat(a.tryAcquire(40000, d)).isTrue();
            assertThat(a.tryAcquire(40001)).isTrue();
        }
    }

    @Test
    void aClockThatOverflowsEndsTheQuarantineAfterExactlyTheDuration() {
        // A monotonic clock may start anywhere (System.nanoTime's origin is arbitrary) and overflow.
        final long q = Duration.ofSeconds(120).toNanos();
        for (long start : new long[] {Long.MAX_VALUE, Long.MAX_VALUE - 1, Long.MAX_VALUE - q + 1, -1, Long.MIN_VALUE}) {
            final SetClock clock = new SetClock(start);
            final PortAllocator a = PortAllocator.builder().ports(PortSet.parse("40000-40001")).seed(2)
                .quarantine(Duration.ofNanos(q)).clock(clock).build();
            final Destination d = DESTINATIONS.get(2);
            assertThat(a.tryAcquire(40000, d)).isTrue();
            assertThat(a.tryAcquire(40001)).isTrue();
            a.release(40000, d);
            a.release(40001);
            clock.now = start + q - 1;                       // wraps for the starts near Long.MAX_VALUE
            assertThat(a.tryAcquire(40000, d)).as("tuple 1 ns early, start %d", start).isFalse();
            assertThat(a.tryAcquire(40001)).as("port 1 ns early, start %d", start).isFalse();
            clock.now = start + q;
            assertThat(a.tryAcquire(40000, d)).as("tuple on time, start %d", start).isTrue();
            assertThat(a.tryAcquire(40001)).as("port on time, start %d", start).isTrue();
        }
    }
}
