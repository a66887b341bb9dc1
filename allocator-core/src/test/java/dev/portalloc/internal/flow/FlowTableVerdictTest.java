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
 * epoch increment removed). Ports 63, 64 and 96 are selectable; 63 and 64 carry tuples to d, 96 is free, so
 * the pass lists only 96. While it draws: a port becomes suitable for d again (63's tuple to d released, or
 * 64 released from exclusive use), then 96 is claimed exclusively, so the pass's only candidate fails. At no
 * moment was nothing suitable for d, so the search must not report exhaustion: it must notice the release
 * (the epoch) and find the freed port.
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

    @Test
    void aTupleReleasedBehindTheVerdictIsFound() {
        assertThat(flows.join(63, D)).isTrue();
        assertThat(flows.join(64, D)).isTrue();
        final int port = flows.search(D, interleaving(() -> {
            assertThat(flows.release(63, D)).isTrue();
            assertThat(bitmap.tryClaim(96)).isTrue();
        }));
        assertThat(port).as("search for d after 63's tuple to d was released").isEqualTo(63);
        assertThat(flows.isLive(63, D)).isTrue();
    }

    @Test
    void anExclusivePortReleasedBehindTheVerdictIsFound() {
        assertThat(flows.join(63, D)).isTrue();
        assertThat(bitmap.tryClaim(64)).isTrue();
        assertThat(flows.join(96, OTHER)).isTrue(); // 96 is SHARED with another destination: still a candidate
        final int port = flows.search(D, interleaving(() -> {
            assertThat(flows.releaseExclusive(64)).isTrue();
            assertThat(flows.release(96, OTHER)).isTrue();
            assertThat(bitmap.tryClaim(96)).isTrue();
        }));
        assertThat(port).as("search for d after 64 was released").isEqualTo(64);
    }
}
