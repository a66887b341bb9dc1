package dev.portalloc.internal.flow;

import dev.portalloc.Destination;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The registry of hot destinations, its one-entry cache included. */
class HotDestinationsTest {
    private static final Destination A = Destination.parse("192.0.2.1:443");
    private static final Destination A_AGAIN = Destination.parse("192.0.2.1:443"); // equal, another object
    private static final Destination B = Destination.parse("[2001:db8::1]:443");

    @Test
    void promotedDestinationsAreFoundUntilDemoted() {
        final HotDestinations hot = new HotDestinations();
        assertThat(hot.get(A)).isNull();
        final DestinationPorts a = hot.promote(A);
        assertThat(hot.promote(A_AGAIN)).isSameAs(a);
        final DestinationPorts b = hot.promote(B);
        assertThat(hot.size()).isEqualTo(2);
        assertThat(hot.get(A_AGAIN)).isSameAs(a); // from the map: B's promotion replaced the cached entry
        assertThat(hot.get(B)).isSameAs(b);
        assertThat(hot.get(A)).isSameAs(a);

        hot.demote(A, a); // A is the cached entry now
        assertThat(hot.get(A)).as("a demoted destination is not served from the cache").isNull();
        assertThat(hot.get(B)).isSameAs(b);
        hot.demote(B, new DestinationPorts(B)); // not B's current hint: no change
        assertThat(hot.get(B)).isSameAs(b);
        hot.demote(B, b);
        assertThat(hot.size()).isZero();
        assertThat(hot.get(B)).isNull();

        final DestinationPorts again = hot.promote(A);
        assertThat(again).isNotSameAs(a);
        assertThat(hot.get(A_AGAIN)).isSameAs(again);
    }
}
