package dev.portalloc.bench;

import dev.portalloc.PortSet;

import java.util.SplittableRandom;
import java.util.function.IntPredicate;

/**
 * The {@code occupancy} parameter of the benchmarks: how many ports of the range are held before measuring,
 * and which ones.
 *
 * <p>Values: a fraction such as {@code "0.5"} (that fraction of the range, rounded), {@code "one-free"} (all
 * ports but one) and {@code "full"} (every port). The held ports are a uniformly random subset drawn with a
 * fixed seed, so every run and every implementation starts from exactly the same ports.
 */
final class Occupancy {
    /** Seed of the held subset, and of the seeded generators, so that runs are comparable. */
    static final long SEED = 0x5EED_0CC0L;

    private Occupancy() {
    }

    /**
     * @param occupancy a fraction in [0, 1], {@code "one-free"} or {@code "full"}
     * @param size ports in the range
     * @return how many ports to hold
     */
    static int heldCount(String occupancy, int size) {
        switch (occupancy) {
            case "one-free":
                return size - 1;
            case "full":
                return size;
            default:
                final double fraction = Double.parseDouble(occupancy);
                if (!(fraction >= 0 && fraction <= 1)) {
                    throw new IllegalArgumentException("occupancy must be in [0, 1]: " + occupancy);
                }
                return (int) Math.round(fraction * size);
        }
    }

    /**
     * Holds {@link #heldCount} ports of {@code range}, a random subset fixed by {@link #SEED}, by claiming
     * each one explicitly.
     *
     * @param claim explicit acquisition of one port, like {@code PortAllocator.tryAcquire(int)}
     * @return how many ports are now held
     * @throws IllegalStateException if a claim fails (the implementation was not empty)
     */
    static int fill(String occupancy, PortSet range, IntPredicate claim) {
        final int[] ports = range.toArray();
        final int held = heldCount(occupancy, ports.length);
        final SplittableRandom random = new SplittableRandom(SEED);
        for (int i = 0; i < held; i++) { // partial Fisher-Yates: ports[0..held) is a uniform random subset
            final int j = i + random.nextInt(ports.length - i);
            final int port = ports[j];
            ports[j] = ports[i];
            ports[i] = port;
            if (!claim.test(port)) {
                throw new IllegalStateException("port " + port + " was already held");
            }
        }
        return held;
    }

    /**
     * Checks that a benchmark left the occupancy as it found it (every operation released what it acquired).
     *
     * @throws IllegalStateException if not
     */
    static void checkSteady(int expected, int actual) {
        checkSteady("ports held", expected, actual);
    }

    /**
     * Checks that a benchmark left a count as it found it.
     *
     * @param what what is counted, for the message
     * @throws IllegalStateException if not
     */
    static void checkSteady(String what, long expected, long actual) {
        if (expected != actual) {
            throw new IllegalStateException("occupancy drifted: " + expected + " " + what + " before, " + actual + " after");
        }
    }
}
