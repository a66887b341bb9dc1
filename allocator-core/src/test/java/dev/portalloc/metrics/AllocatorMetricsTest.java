package dev.portalloc.metrics;

import dev.portalloc.AllocatorStats;
import dev.portalloc.Destination;
import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;
import dev.portalloc.Protocol;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AllocatorMetricsTest {
    private static final Destination D = Destination.parse("203.0.113.7:443");

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal); // a literal: no DNS
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static double gauge(SimpleMeterRegistry r, String name) {
        final Gauge g = r.get(name).gauge();
        return g.value();
    }

    private static double counter(SimpleMeterRegistry r, String name, String... tags) {
        return r.get(name).tags(tags).functionCounter().count();
    }

    /** Exclusive ports held and released, some outside the selectable set, tuples, quarantine and failures. */
    private static PortAllocator busyAllocator() {
        final PortAllocator a = PortAllocator.builder().ports(PortSet.parse("40000-40099"))
            .reserved(PortSet.parse("40090-40099")).protocol(Protocol.UDP).localAddress(address("192.0.2.10"))
            .quarantine(Duration.ofSeconds(60)).seed(7).build();
        for (int i = 0; i < 70; i++) {
            a.acquire();
        }
        a.release(a.acquire());              // quarantined exclusive port
        assertThat(a.tryAcquire(8080)).isTrue(); // held, not selectable
        assertThat(a.tryAcquire(40095)).isTrue(); // held, reserved
        for (int i = 0; i < 5; i++) {
            a.acquire(D);
        }
        final int p = a.acquire(Destination.parse("203.0.113.8:443"));
        a.release(p, Destination.parse("203.0.113.8:443")); // quarantined tuple
        while (a.tryAcquire() != PortAllocator.NONE) {
            // fill the selectable set
        }
        assertThat(a.tryAcquire()).isEqualTo(PortAllocator.NONE); // one more failure
        return a;
    }

    @Test
    void valuesMatchStats() {
        final PortAllocator a = busyAllocator();
        final SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new AllocatorMetrics(a, Tags.empty(), Duration.ZERO).bindTo(registry);
        final AllocatorStats s = a.stats();
        assertThat(s.failedAcquisitions()).isEqualTo(2);
        assertThat(s.liveTuples()).isEqualTo(5);
        assertThat(s.quarantined()).isEqualTo(2);
        assertThat(s.freePorts()).isZero();
        assertThat(gauge(registry, "portalloc.ports.held")).isEqualTo(s.heldPorts());
        assertThat(gauge(registry, "portalloc.ports.free")).isEqualTo(s.freePorts());
        assertThat(gauge(registry, "portalloc.ports.selectable")).isEqualTo(90);
        assertThat(gauge(registry, "portalloc.ports.reserved")).isEqualTo(10);
        assertThat(gauge(registry, "portalloc.tuples.live")).isEqualTo(5);
        assertThat(gauge(registry, "portalloc.quarantined")).isEqualTo(2);
        assertThat(counter(registry, "portalloc.acquisitions", "result", "success")).isEqualTo(s.acquisitions());
        assertThat(counter(registry, "portalloc.acquisitions", "result", "failure")).isEqualTo(2);
        assertThat(counter(registry, "portalloc.releases")).isEqualTo(s.releases()).isEqualTo(2);
        assertThat(counter(registry, "portalloc.probes")).isEqualTo(s.probes()).isPositive();

        // Values follow the allocator (a snapshot of age zero is never reused).
        a.release(8080);
        a.release(40095);                    // both go into quarantine, still held
        a.acquire(Destination.parse("203.0.113.9:443")); // joins a port that carries tuples
        assertThat(gauge(registry, "portalloc.ports.held")).isEqualTo(s.heldPorts());
        assertThat(gauge(registry, "portalloc.quarantined")).isEqualTo(4);
        assertThat(gauge(registry, "portalloc.tuples.live")).isEqualTo(6);
        assertThat(counter(registry, "portalloc.releases")).isEqualTo(4);
        assertThat(counter(registry, "portalloc.acquisitions", "result", "success")).isEqualTo(s.acquisitions() + 1);
    }

    @Test
    void freePortsAreSelectablePortsNotHeldWhateverIsHeldElsewhere() {
        final PortAllocator a = PortAllocator.builder().ports(PortSet.parse("40000-40009")).seed(8).build();
        final SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new AllocatorMetrics(a, Tags.empty(), Duration.ZERO).bindTo(registry);
        a.acquire();
        a.acquire();
        assertThat(a.tryAcquire(80)).isTrue();
        a.reserve(PortSet.of(40009));
        assertThat(gauge(registry, "portalloc.ports.held")).isEqualTo(3);
        assertThat(gauge(registry, "portalloc.ports.selectable")).isEqualTo(9);
        assertThat(gauge(registry, "portalloc.ports.free")).isEqualTo(7); // 9 selectable - 2 held among them
        assertThat(a.stats().freePorts()).isEqualTo(7);
    }

    @Test
    void everyMeterCarriesProtocolLocalAddressAndUserTagsWithBaseUnits() {
        final PortAllocator a = PortAllocator.builder().protocol(Protocol.UDP).localAddress(address("2001:db8::10"))
            .build();
        final SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new AllocatorMetrics(a, Tags.of("pool", "egress")).bindTo(registry);
        final List<Meter> meters = registry.getMeters();
        assertThat(meters).extracting(m -> m.getId().getName()).containsExactlyInAnyOrder("portalloc.ports.held",
            "portalloc.ports.free", "portalloc.ports.selectable", "portalloc.ports.reserved", "portalloc.tuples.live",
            "portalloc.quarantined", "portalloc.acquisitions", "portalloc.acquisitions", "portalloc.releases",
            "portalloc.probes");
        for (Meter m : meters) {
            assertThat(m.getId().getTags()).contains(Tag.of("protocol", "UDP"),
                Tag.of("local.address", "2001:db8:0:0:0:0:0:10"), Tag.of("pool", "egress"));
            assertThat(m.getId().getDescription()).isNotBlank();
            if (m instanceof Gauge) {
                assertThat(m.getId().getBaseUnit()).isIn("ports", "tuples", "entries");
            } else {
                assertThat(m).isInstanceOf(FunctionCounter.class);
            }
        }
        assertThat(meters.stream().filter(m -> m.getId().getName().equals("portalloc.acquisitions"))
            .map(m -> m.getId().getTag("result")).collect(Collectors.toSet())).containsExactlyInAnyOrder("success",
            "failure");
        assertThat(gauge(registry, "portalloc.ports.selectable")).isEqualTo(PortSet.IANA_DYNAMIC.size());
    }

    @Test
    void oneScrapeReadsOneSnapshot() {
        final PortAllocator a = PortAllocator.builder().ports(PortSet.parse("40000-40009")).seed(9).build();
        final SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new AllocatorMetrics(a, Tags.empty(), Duration.ofDays(1)).bindTo(registry);
        assertThat(gauge(registry, "portalloc.ports.held")).isZero(); // takes the snapshot
        a.acquire();
        assertThat(gauge(registry, "portalloc.ports.free")).isEqualTo(10); // the same snapshot: consistent with held
        assertThat(a.stats().freePorts()).isEqualTo(9);
    }

    @Test
    void theMetersDoNotKeepTheAllocatorAlive() throws InterruptedException {
        final SimpleMeterRegistry registry = new SimpleMeterRegistry();
        final WeakReference<PortAllocator> ref = bindAndForget(registry);
        for (int i = 0; i < 100 && ref.get() != null; i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertThat(ref.get()).as("allocator collected while its meters are registered").isNull();
        assertThat(gauge(registry, "portalloc.ports.held")).isNaN();
        assertThat(counter(registry, "portalloc.acquisitions", "result", "success")).isEqualTo(3); // last value kept
    }

    private static WeakReference<PortAllocator> bindAndForget(SimpleMeterRegistry registry) {
        final PortAllocator a = PortAllocator.builder().ports(PortSet.parse("40000-40009")).seed(10).build();
        new AllocatorMetrics(a).bindTo(registry); // the binder itself is not kept either
        for (int i = 0; i < 3; i++) {
            a.acquire();
        }
        // While the allocator lives, the gauges read it (the binder being unreachable does not matter).
        System.gc();
        assertThat(gauge(registry, "portalloc.ports.held")).isEqualTo(3);
        assertThat(counter(registry, "portalloc.acquisitions", "result", "success")).isEqualTo(3);
        return new WeakReference<>(a);
    }

    @Test
    void badArgumentsAreRejectedByName() {
        final PortAllocator a = PortAllocator.builder().build();
        assertThatThrownBy(() -> new AllocatorMetrics(null)).isInstanceOf(NullPointerException.class)
            .hasMessageContaining("allocator");
        assertThatThrownBy(() -> new AllocatorMetrics(a, null)).isInstanceOf(NullPointerException.class)
            .hasMessageContaining("tags");
        assertThatThrownBy(() -> new AllocatorMetrics(a, Tags.of("protocol", "x")))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'protocol'");
        assertThatThrownBy(() -> new AllocatorMetrics(a).bindTo(null)).isInstanceOf(NullPointerException.class)
            .hasMessageContaining("registry");
    }
}
