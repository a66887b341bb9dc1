package dev.portalloc.metrics;

import dev.portalloc.AllocatorStats;
import dev.portalloc.PortAllocator;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.time.Duration;
import java.util.Objects;
import java.util.function.ToDoubleFunction;

/**
 * Publishes a {@link PortAllocator}'s {@link AllocatorStats} to a Micrometer {@link MeterRegistry}.
 *
 * <pre>{@code
 * new AllocatorMetrics(ports, Tags.of("pool", "egress")).bindTo(registry);
 * }</pre>
 *
 * <p>Meters, each tagged {@code protocol} (for example {@code TCP}), {@code local.address} (for example
 * {@code 192.0.2.10}) and the tags given here:
 * <table>
 * <caption>Meters</caption>
 * <tr><th>name</th><th>type</th><th>base unit</th><th>{@link AllocatorStats} figure</th></tr>
 * <tr><td>{@code portalloc.ports.held}</td><td>gauge</td><td>ports</td><td>{@code heldPorts}: held anywhere in
 *     1..65535 (exclusively, in quarantine, or carrying tuples)</td></tr>
 * <tr><td>{@code portalloc.ports.free}</td><td>gauge</td><td>ports</td><td>{@code freePorts}: selectable
 *     ports not held, what an automatic exclusive acquisition can still return</td></tr>
 * <tr><td>{@code portalloc.ports.selectable}</td><td>gauge</td><td>ports</td><td>{@code selectablePorts}:
 *     the automatic set minus the reserved set</td></tr>
 * <tr><td>{@code portalloc.ports.reserved}</td><td>gauge</td><td>ports</td><td>{@code reservedPorts}</td></tr>
 * <tr><td>{@code portalloc.tuples.live}</td><td>gauge</td><td>tuples</td><td>{@code liveTuples}:
 *     connect-style tuples in use</td></tr>
 * <tr><td>{@code portalloc.quarantined}</td><td>gauge</td><td>entries</td><td>{@code quarantined}: released
 *     tuples and exclusive ports in quarantine</td></tr>
 * <tr><td>{@code portalloc.acquisitions}, tag {@code result=success}</td><td>function counter</td><td></td>
 *     <td>{@code acquisitions} (automatic and explicit)</td></tr>
 * <tr><td>{@code portalloc.acquisitions}, tag {@code result=failure}</td><td>function counter</td><td></td>
 *     <td>{@code failedAcquisitions}: automatic acquisitions that found no port</td></tr>
 * <tr><td>{@code portalloc.releases}</td><td>function counter</td><td></td><td>{@code releases}</td></tr>
 * <tr><td>{@code portalloc.probes}</td><td>function counter</td><td></td><td>{@code probes}: candidates examined
 *     by automatic selections; divided by all acquisitions it is the mean cost of one</td></tr>
 * </table>
 *
 * <p><b>One snapshot per scrape.</b> {@link PortAllocator#stats()} reads the whole bitmap and every thread's
 * counters (about 3 µs with 15,000 ports held, measured); the meters share one snapshot while it is younger
 * than 100 ms, so a scrape costs one call instead of ten, and the figures of one scrape come from the same
 * snapshot ({@code ports.free} and {@code ports.held} agree with each other).
 *
 * <p><b>References.</b> As Micrometer's own binders do, the meters hold the allocator weakly: binding does not
 * keep an allocator alive, and the binder need not be kept either. The application keeps the allocator; once
 * it is collected, the gauges read {@code NaN} and the counters keep their last value. Remove the meters
 * ({@link MeterRegistry#remove}) when an allocator is retired on purpose.
 *
 * <p>Micrometer is an optional dependency of portalloc: this package is the only one that uses it, and
 * applications that never touch it need no Micrometer at run time.
 *
 * <p>Thread-safety: thread-safe; meters may be read from any thread while the allocator is in use.
 */
@SuppressWarnings("exports") // Micrometer's types in this API come from a static requires: see module-info
public final class AllocatorMetrics implements MeterBinder {
    /** Meters read the same snapshot while it is younger than this. */
    static final Duration SNAPSHOT_MAX_AGE = Duration.ofMillis(100);
    /** Tag keys the binder sets itself. */
    static final String PROTOCOL = "protocol";
    static final String LOCAL_ADDRESS = "local.address";
    static final String RESULT = "result";

    private final PortAllocator allocator;
    private final Tags tags;
    private final long maxAgeNanos;

    /**
     * @param allocator the allocator to publish
     */
    public AllocatorMetrics(PortAllocator allocator) {
        this(allocator, Tags.empty());
    }

    /**
     * @param allocator the allocator to publish
     * @param tags tags added to every meter, for instance which pool this allocator serves
     * @throws IllegalArgumentException if a tag's key is one the binder sets itself ({@code protocol},
     *     {@code local.address}, {@code result})
     */
    public AllocatorMetrics(PortAllocator allocator, Iterable<Tag> tags) {
        this(allocator, tags, SNAPSHOT_MAX_AGE);
    }

    /** As the public constructor, with the snapshot's maximum age (tests use zero). */
    AllocatorMetrics(PortAllocator allocator, Iterable<Tag> tags, Duration maxAge) {
        this.allocator = Objects.requireNonNull(allocator, "allocator");
        final Tags user = Tags.of(Objects.requireNonNull(tags, "tags"));
        for (Tag t : user) {
            if (t.getKey().equals(PROTOCOL) || t.getKey().equals(LOCAL_ADDRESS) || t.getKey().equals(RESULT)) {
                throw new IllegalArgumentException("tag key '" + t.getKey() + "' (value '" + t.getValue()
                    + "') is set by AllocatorMetrics itself; choose another key");
            }
        }
        this.tags = user.and(PROTOCOL, allocator.protocol().name(),
            LOCAL_ADDRESS, allocator.localAddress().getHostAddress());
        this.maxAgeNanos = maxAge.toNanos();
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        // The meters reference the allocator weakly (Micrometer's default) and this cache strongly (through
        // the functions); the cache holds no reference to the allocator.
        final Snapshots snapshots = new Snapshots(maxAgeNanos);
        gauge(registry, "portalloc.ports.held", "ports", "Ports held in 1..65535: exclusively, in quarantine or "
            + "carrying connect-style tuples", snapshots, s -> s.heldPorts());
        gauge(registry, "portalloc.ports.free", "ports", "Selectable ports not held: what an automatic exclusive "
            + "acquisition can still return", snapshots, s -> s.freePorts());
        gauge(registry, "portalloc.ports.selectable", "ports", "Ports automatic selection may return: the "
            + "automatic set minus the reserved set", snapshots, s -> s.selectablePorts());
        gauge(registry, "portalloc.ports.reserved", "ports", "Ports in the reserved set", snapshots,
            s -> s.reservedPorts());
        gauge(registry, "portalloc.tuples.live", "tuples", "Live connect-style 5-tuples", snapshots,
            s -> s.liveTuples());
        gauge(registry, "portalloc.quarantined", "entries", "Released tuples and exclusive ports in quarantine",
            snapshots, s -> s.quarantined());
        counter(registry, "portalloc.acquisitions", Tags.of(RESULT, "success"), "Successful acquisitions, "
            + "automatic and explicit", snapshots, s -> s.acquisitions());
        counter(registry, "portalloc.acquisitions", Tags.of(RESULT, "failure"), "Automatic acquisitions that found "
            + "no suitable port", snapshots, s -> s.failedAcquisitions());
        counter(registry, "portalloc.releases", Tags.empty(), "Releases of ports and tuples", snapshots,
            s -> s.releases());
        counter(registry, "portalloc.probes", Tags.empty(), "Candidates examined by automatic selections",
            snapshots, s -> s.probes());
    }

    private void gauge(MeterRegistry registry, String name, String unit, String description, Snapshots snapshots,
                       ToDoubleFunction<AllocatorStats> figure) {
        Gauge.builder(name, allocator, a -> figure.applyAsDouble(snapshots.of(a)))
            .tags(tags).baseUnit(unit).description(description).register(registry);
    }

    private void counter(MeterRegistry registry, String name, Tags extra, String description, Snapshots snapshots,
                         ToDoubleFunction<AllocatorStats> figure) {
        FunctionCounter.builder(name, allocator, a -> figure.applyAsDouble(snapshots.of(a)))
            .tags(tags.and(extra)).description(description).register(registry);
    }

    /** The last snapshot of one binding and when it was taken; racing refreshes are harmless. */
    private static final class Snapshots {
        private final long maxAgeNanos;
        private volatile Taken last;

        private record Taken(AllocatorStats stats, long at) {
        }

        Snapshots(long maxAgeNanos) {
            this.maxAgeNanos = maxAgeNanos;
        }

        AllocatorStats of(PortAllocator allocator) {
            final long now = System.nanoTime();
            final Taken t = last;
            if (t != null && now - t.at() < maxAgeNanos) {
                return t.stats();
            }
            final Taken fresh = new Taken(allocator.stats(), now);
            last = fresh;
            return fresh.stats();
        }
    }

    @Override
    public String toString() {
        return "AllocatorMetrics[" + allocator + ", " + tags + "]";
    }
}
