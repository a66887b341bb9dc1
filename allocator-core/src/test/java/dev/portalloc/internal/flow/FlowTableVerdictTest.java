package dev.portalloc.internal.flow;

import dev.portalloc.Destination;
import dev.portalloc.PortSet;
import dev.portalloc.internal.bitmap.PortBitmap;
import dev.portalloc.internal.bitmap.Selection;
import dev.portalloc.internal.random.IndexSource;
import org.agrona.concurrent.SystemNanoClock;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The destination verdict's epoch protocol, deterministically: the generator of {@link FlowTable#search} runs
 * other operations at the moment the exhaustive pass draws among its candidates, after it has read every port
 * (the interleaving {@code FlowTableLincheckTest}'s model checker did not reach in 20,000 invocations with the
 * epoch increment removed). Ports 63, 64 and 96 are selectable. 63 is held exclusively: the generator draws 0,
 * so the search's uniform probes all try 63 and fail without hitting d's own tuples, and d is not made hot (a
 * hot destination is searched through its hint first, which would find the freed port before any verdict).
 * 64 carries a tuple to d, so the pass lists only 96. While it draws, a port becomes suitable for d again, then
 * 96 is claimed exclusively, so the pass's only candidate fails. At no moment was nothing suitable for d, so
 * the search must not report exhaustion: it must notice the release (the epoch) and find the freed port.
 * Each test fails when the exhaustive pass ignores the epoch (checked), the last two also when joins or refused
 * releases do not pay.
 */
class FlowTableVerdictTest {
    private static final Destination D = Destination.parse("192.0.2.1:443");
    private static final Destination OTHER = Destination.parse("[2001:db8::1]:443");

    private final PortBitmap bitmap = new PortBitmap(new Selection(PortSet.of(63, 64, 96), PortSet.empty()));
    private final FlowTable flows = new FlowTable(bitmap, 0, new SystemNanoClock(), 0L, 3);

    /** Draws 0 always; the first draw among exactly one candidate first runs {@code meanwhile}. */
    private static IndexSource interleaving(Runnable meanwhile) {
        return new IndexSource() {
            private boolean done;

            @Override
            public int nextIndex(int bound) {
                if (bound == 1 && !done) {
                    done = true;
                    meanwhile.run();
                }
                return 0;
            }
        };
    }

    /** 63 exclusive, 64 with a tuple to d, 96 free. */
    private void hold() {
        assertThat(bitmap.tryClaim(63)).isTrue();
        assertThat(flows.join(64, D)).isTrue();
    }

    @Test
    void aTupleReleasedBehindTheVerdictIsFound() {
        hold();
        final int port = flows.search(D, interleaving(() -> {
            assertThat(flows.release(64, D)).isTrue();
            assertThat(bitmap.tryClaim(96)).isTrue();
        }));
        assertThat(port).as("search for d after 64's tuple to d was released").isEqualTo(64);
        assertThat(flows.isLive(64, D)).isTrue();
        assertThat(flows.hint(D)).as("d was not made hot").isNull();
    }

    @Test
    void anExclusivePortReleasedBehindTheVerdictIsFound() {
        hold();
        assertThat(flows.join(96, OTHER)).isTrue(); // 96 is SHARED with another destination: still a candidate
        final int port = flows.search(D, interleaving(() -> {
            assertThat(flows.releaseExclusive(63)).isTrue();
            assertThat(flows.release(96, OTHER)).isTrue();
            assertThat(bitmap.tryClaim(96)).isTrue();
        }));
        assertThat(port).as("search for d after 63 was released").isEqualTo(63);
    }

    /**
     * A join behind the verdict: 63 is freed by an exclusive release that has not paid the flow epoch yet (its
     * bitmap step, then nothing: the release is still running); another thread joins 63 for another destination,
     * which shows 63 no longer exclusive, and returns; then 96 is claimed. 63 is suitable for d from its release
     * on, so the join must pay the increment before returning, and the search must find 63.
     */
    @Test
    void aJoinThatSawAFreedPortPaysForIt() {
        hold();
        final int port = flows.search(D, interleaving(() -> {
            assertThat(bitmap.release(63)).isTrue(); // releaseExclusive's first step; its payment is still to come
            assertThat(flows.join(63, OTHER)).isTrue();
            assertThat(bitmap.tryClaim(96)).isTrue();
        }));
        assertThat(port).as("search for d after 63 was released and joined for another destination").isEqualTo(63);
        flows.afterRelease(); // the pending release's payment
    }

    /** The same with a release of 63 refused (63 is free) in place of the join. */
    @Test
    void aRefusedReleaseThatSawAFreedPortPaysForIt() {
        hold();
        final int port = flows.search(D, interleaving(() -> {
            assertThat(bitmap.release(63)).isTrue(); // as above
            assertThat(flows.releaseExclusive(63)).as("a second release of 63").isFalse();
            assertThat(bitmap.tryClaim(96)).isTrue();
        }));
        assertThat(port).as("search for d after 63 was released").isEqualTo(63);
        flows.afterRelease();
    }
}
