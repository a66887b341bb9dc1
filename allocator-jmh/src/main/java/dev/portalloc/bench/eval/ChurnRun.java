package dev.portalloc.bench.eval;

import dev.portalloc.Destination;
import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;

import org.HdrHistogram.Histogram;
import org.hipparchus.util.ResizableDoubleArray;

import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.random.RandomGenerator;

/**
 * Drives a {@link Subject} with a {@link ChurnWorkload} in simulated time and records everything the quality
 * metrics need.
 *
 * <p>How the occupancy is held: the target is {@code N = round(occupancy × selectable)} live connections. The
 * fill opens {@code N} connections at time 0 through the subject itself. Then arrivals are Poisson; lifetimes
 * are drawn with mean {@code (N + 3√N) / rate}, a little more than Little's law needs for {@code N}, so that the
 * live count stays at its cap; when an arrival finds {@code N} live connections, the one due to end first ends
 * now (early). Without the cap a Poisson system fluctuates by ±√N and would exhaust the range at 99.9 %. At
 * occupancy 0 every connection ends before the next arrives.
 *
 * <p>Every grant and failure is checked against a {@link ShadowLedger}. Reuse intervals: for each grant of a
 * port that was released before, the allocations (by anyone) since its release and the simulated time; for a
 * 5-tuple (port, destination), the allocations to that destination since its release and the time. Cost of
 * each measured workload allocation: the difference of {@link Subject#probes()} around the call (candidates
 * examined, metric 5) and, secondary, its wall-clock time.
 *
 * <p>Thread-safety: not thread-safe; one instance runs one simulation in the calling thread.
 */
final class ChurnRun {
    private static final Destination PROBE = Destinations.attacker(1, 80);
    /** Allocations to the destination index of the probe, for tuple counting. */
    private static final int PROBE_INDEX = -1;

    private final Subject subject;
    private final ChurnWorkload workload;
    private final RandomGenerator random;
    private final SimulatedClock clock;
    private final ShadowLedger ledger;
    private final int selectable;

    private final AllocationLog log = new AllocationLog();
    private final Histogram latencyNanos = new Histogram(3_600_000_000_000L, 3);
    private final ResizableDoubleArray probes = new ResizableDoubleArray();
    private final ResizableDoubleArray portReuseAllocations = new ResizableDoubleArray();
    private final ResizableDoubleArray portReuseSeconds = new ResizableDoubleArray();
    private final ResizableDoubleArray tupleReuseAllocations = new ResizableDoubleArray();
    private final ResizableDoubleArray tupleReuseSeconds = new ResizableDoubleArray();
    private final PriorityQueue<Connection> live = new PriorityQueue<>((a, b) -> Double.compare(a.end, b.end));
    private final long[] portReleasedAt = new long[65536];
    private final double[] portReleasedTime = new double[65536];
    private final Map<Long, double[]> tupleReleased = new HashMap<>();
    private final Map<Integer, long[]> allocationsPerDestination = new HashMap<>();
    private long allocations;
    private long failures;
    private double occupancySum;
    private long occupancySamples;
    private boolean measuring;
    private Popularity popularity;
    private Lifetimes lifetimes;
    private double now;
    private long victimCount;

    private record Connection(int port, int destination, double end) {
    }

    /**
     * @param subject the allocator under test
     * @param workload the workload
     * @param random the workload generator (seeded; not the allocator's)
     * @param clock the subject's clock
     * @param selectablePorts the selectable set (for the ledger and the target count)
     * @param quarantineNanos the subject's quarantine, for the ledger
     */
    ChurnRun(Subject subject, ChurnWorkload workload, RandomGenerator random, SimulatedClock clock,
             PortSet selectablePorts, long quarantineNanos) {
        this.subject = subject;
        this.workload = workload;
        this.random = random;
        this.clock = clock;
        this.selectable = selectablePorts.size();
        this.ledger = new ShadowLedger(selectablePorts, subject.perDestination(), quarantineNanos);
        java.util.Arrays.fill(portReleasedAt, -1);
    }

    /** @return the target number of live connections */
    int target() {
        final int n = (int) Math.round(workload.occupancy() * selectable);
        return Math.min(n, selectable - 1);
    }

    /**
     * Runs the fill and the workload's measured allocations.
     *
     * @return this, for the accessors
     */
    ChurnRun run() {
        fill();
        measure(workload.allocations());
        return this;
    }

    /** Opens the target number of connections at time 0 (not measured). */
    void fill() {
        final int n = target();
        final double meanLifetime = n == 0 ? 0 : (n + 3 * Math.sqrt(n)) / workload.arrivalRate();
        popularity = new Popularity(workload.popularity(), workload.destinations(), workload.zipfExponent(),
            workload.hotShare());
        lifetimes = new Lifetimes(workload.lifetime(), meanLifetime);
        for (int i = 0; i < n; i++) {
            final int d = popularity.next(random);
            final int port = grant(d, Destinations.workload(d));
            if (port != PortAllocator.NONE) {
                live.add(new Connection(port, d, lifetimes.next(random)));
            }
        }
        measuring = true;
    }

    /**
     * Runs {@code victims} more measured workload allocations (after {@link #fill()}).
     *
     * @param victims workload allocations to run
     */
    void measure(int victims) {
        final int n = target();
        for (int v = 0; v < victims; v++) {
            now += random.nextExponential() / workload.arrivalRate();
            endConnectionsUntil(now);
            clock.advanceTo(now);
            if (n > 0 && live.size() >= n) {
                final Connection early = live.poll();
                release(early.port, early.destination);
            }
            occupancySum += live.size() / (double) selectable;
            occupancySamples++;
            final int d = popularity.next(random);
            final boolean probe = workload.probeEvery() > 0 && victimCount % workload.probeEvery() == 0;
            final int before = probe ? grant(AllocationLog.PROBE_BEFORE, PROBE) : PortAllocator.NONE;
            final int port = grant(d, Destinations.workload(d));
            if (probe) {
                final int after = grant(AllocationLog.PROBE_AFTER, PROBE);
                // the probes are short connections: both end at once
                if (before != PortAllocator.NONE) {
                    release(before, AllocationLog.PROBE_BEFORE);
                }
                if (after != PortAllocator.NONE) {
                    release(after, AllocationLog.PROBE_AFTER);
                }
            }
            victimCount++;
            if (port != PortAllocator.NONE) {
                live.add(new Connection(port, d, now + lifetimes.next(random)));
            }
        }
    }

    private void endConnectionsUntil(double now) {
        while (!live.isEmpty() && live.peek().end <= now) {
            final Connection c = live.poll();
            clock.advanceTo(c.end);
            release(c.port, c.destination);
        }
    }

    private static Destination destinationOf(int index) {
        return index < 0 ? PROBE : Destinations.workload(index);
    }

    /** The ledger and reuse key of a log destination: both probes are one attacker destination. */
    private static int tupleIndex(int index) {
        return index < 0 ? PROBE_INDEX : index;
    }

    private int grant(int index, Destination d) {
        final long nowNanos = clock.nanoTime();
        final int choices = ledger.freeFor(d, nowNanos);
        // metric 5 on the measured workload allocations (not the fill, not the attacker's), granted or failed
        final boolean counted = measuring && index >= 0;
        final long probesBefore = counted ? subject.probes() : -1;
        final long start = System.nanoTime();
        final int port = subject.allocate(d);
        final long elapsed = System.nanoTime() - start;
        if (probesBefore >= 0) {
            probes.addElement(subject.probes() - probesBefore);
        }
        if (port == PortAllocator.NONE) {
            ledger.failed(d, nowNanos);
            failures++;
            return port;
        }
        ledger.acquired(port, d, nowNanos);
        allocations++;
        final long[] perDestination = allocationsPerDestination.computeIfAbsent(tupleIndex(index), k -> new long[1]);
        perDestination[0]++;
        if (measuring) {
            if (index >= 0) {
                latencyNanos.recordValue(Math.max(0, elapsed));
            }
            log.add(index, port, choices);
            if (portReleasedAt[port] >= 0) {
                portReuseAllocations.addElement(allocations - 1 - portReleasedAt[port]);
                portReuseSeconds.addElement(clock.seconds() - portReleasedTime[port]);
            }
            final double[] tuple = tupleReleased.get(tupleKey(tupleIndex(index), port));
            if (tuple != null) {
                tupleReuseAllocations.addElement(perDestination[0] - 1 - tuple[0]);
                tupleReuseSeconds.addElement(clock.seconds() - tuple[1]);
            }
        }
        return port;
    }

    private void release(int port, int index) {
        subject.free(port, destinationOf(index));
        ledger.released(port, destinationOf(index), clock.nanoTime());
        portReleasedAt[port] = allocations;
        portReleasedTime[port] = clock.seconds();
        final long count = allocationsPerDestination.get(tupleIndex(index))[0];
        tupleReleased.put(tupleKey(tupleIndex(index), port), new double[] {count, clock.seconds()});
    }

    private static long tupleKey(int index, int port) {
        return ((long) index << 16) | port;
    }

    AllocationLog log() {
        return log;
    }

    Histogram latencyNanos() {
        return latencyNanos;
    }

    /**
     * @return candidates examined ({@link Subject#probes()} difference) per measured workload allocation, granted
     *     or failed, in order; empty when the subject does not count probes
     */
    ResizableDoubleArray probes() {
        return probes;
    }

    ShadowLedger ledger() {
        return ledger;
    }

    long failures() {
        return failures;
    }

    double meanOccupancy() {
        return occupancySamples == 0 ? 0 : occupancySum / occupancySamples;
    }

    ResizableDoubleArray portReuseAllocations() {
        return portReuseAllocations;
    }

    ResizableDoubleArray portReuseSeconds() {
        return portReuseSeconds;
    }

    ResizableDoubleArray tupleReuseAllocations() {
        return tupleReuseAllocations;
    }

    ResizableDoubleArray tupleReuseSeconds() {
        return tupleReuseSeconds;
    }
}
