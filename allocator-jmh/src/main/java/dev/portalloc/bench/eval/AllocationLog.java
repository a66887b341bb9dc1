package dev.portalloc.bench.eval;

import java.util.Arrays;

/**
 * The measured allocations of one run, in order: who asked (a workload destination or the attacker's probe before
 * or after a victim allocation), the port granted and how many ports an ideal allocator could have chosen from.
 * Quality metrics are computed from it after the run.
 *
 * <p>Thread-safety: not thread-safe; written by the simulation thread, then read.
 */
final class AllocationLog {
    /** Destination value of the attacker's probe just before a victim allocation (view c). */
    static final int PROBE_BEFORE = -1;
    /** Destination value of the attacker's probe just after a victim allocation (view c). */
    static final int PROBE_AFTER = -2;

    private int size;
    private int[] destination = new int[1024];
    private int[] port = new int[1024];
    private int[] choices = new int[1024];

    /**
     * @param destinationIndex workload destination, or {@link #PROBE_BEFORE} / {@link #PROBE_AFTER}
     * @param grantedPort the port
     * @param idealChoices ports free for that destination at that moment (at least 1 since one was granted)
     */
    void add(int destinationIndex, int grantedPort, int idealChoices) {
        if (size == port.length) {
            destination = Arrays.copyOf(destination, size * 2);
            port = Arrays.copyOf(port, size * 2);
            choices = Arrays.copyOf(choices, size * 2);
        }
        destination[size] = destinationIndex;
        port[size] = grantedPort;
        choices[size] = Math.max(1, idealChoices);
        size++;
    }

    int size() {
        return size;
    }

    int destination(int i) {
        return destination[i];
    }

    int port(int i) {
        return port[i];
    }

    int choices(int i) {
        return choices[i];
    }

    /** @return whether entry {@code i} is a workload (victim) allocation rather than an attacker's probe */
    boolean isWorkload(int i) {
        return destination[i] >= 0;
    }
}
