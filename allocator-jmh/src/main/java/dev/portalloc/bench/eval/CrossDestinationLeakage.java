package dev.portalloc.bench.eval;

import dev.portalloc.Destination;
import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;

import org.hipparchus.stat.regression.SimpleRegression;

import java.util.random.RandomGenerator;

/**
 * Metric 2: how much the step between two of the attacker's own connections tells about the victim's hidden
 * connections to other destinations in between.
 *
 * <p>One trial: the attacker connects to its own server (port {@code a}, closed at once); the victim makes
 * {@code h} connections to random workload destinations, {@code h} uniform in 0..{@value #MAX_HIDDEN}; the
 * attacker connects again to the same server (port {@code b}); then the victim's connections close. The step is
 * {@code (rank(b) - rank(a)) mod n} in the index space of the selectable set. The figure is the R² of the
 * least-squares line of {@code h} on the step (Hipparchus {@link SimpleRegression}): 1 when the step reveals
 * {@code h} exactly (Algorithm 3's global counter: step = h + 1), 0 when it reveals nothing (also reported as 0
 * when the step never varies). Background: the selectable set is first filled to the occupancy with connections
 * to random workload destinations, held throughout.
 *
 * <p>Thread-safety: stateless.
 */
final class CrossDestinationLeakage {
    /** Most hidden connections in one trial. */
    static final int MAX_HIDDEN = 8;
    private static final Destination ATTACKER = Destinations.attacker(2, 443);

    private CrossDestinationLeakage() {
    }

    /**
     * @param subject a fresh subject
     * @param selectable its selectable set
     * @param occupancy background occupancy
     * @param trials trials to run
     * @param destinations workload destinations the victim picks from
     * @param random the workload generator
     * @return R² in [0, 1]
     */
    static double rSquared(Subject subject, PortSet selectable, double occupancy, int trials, int destinations,
                           RandomGenerator random) {
        final int n = selectable.size();
        final int background = Math.min((int) Math.round(occupancy * n), n - 1 - MAX_HIDDEN - 2);
        for (int i = 0; i < background; i++) {
            final int d = random.nextInt(destinations);
            subject.allocate(Destinations.workload(d)); // held until the subject is discarded
        }
        final SimpleRegression regression = new SimpleRegression();
        final int[] hiddenPorts = new int[MAX_HIDDEN];
        final Destination[] hiddenDestinations = new Destination[MAX_HIDDEN];
        for (int t = 0; t < trials; t++) {
            final int a = subject.allocate(ATTACKER);
            if (a == PortAllocator.NONE) {
                continue;
            }
            subject.free(a, ATTACKER);
            final int h = random.nextInt(MAX_HIDDEN + 1);
            int granted = 0;
            for (int i = 0; i < h; i++) {
                final Destination d = Destinations.workload(random.nextInt(destinations));
                final int p = subject.allocate(d);
                if (p != PortAllocator.NONE) {
                    hiddenPorts[granted] = p;
                    hiddenDestinations[granted] = d;
                    granted++;
                }
            }
            final int b = subject.allocate(ATTACKER);
            if (b != PortAllocator.NONE) {
                subject.free(b, ATTACKER);
                final int step = Math.floorMod(selectable.rank(b) - selectable.rank(a), n);
                regression.addData(step, h);
            }
            for (int i = 0; i < granted; i++) {
                subject.free(hiddenPorts[i], hiddenDestinations[i]);
            }
        }
        final double r2 = regression.getRSquare();
        return Double.isNaN(r2) ? 0 : r2;
    }
}
