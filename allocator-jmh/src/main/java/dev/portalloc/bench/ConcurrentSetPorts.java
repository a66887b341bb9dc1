package dev.portalloc.bench;

import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Baseline: the lock-free-looking allocator a user would write with the JDK alone, a
 * {@link ConcurrentHashMap#newKeySet} of held ports and random probing: draw a port of the range, and if
 * {@code add} succeeds it is acquired; otherwise draw again, up to a probe limit, then report exhaustion.
 *
 * <p>Thread-safe (the set is concurrent; a port is held by whoever's {@code add} succeeded). Uniform over the
 * free ports, but the probe limit trades cost for false exhaustion: with {@code n} ports of which {@code f}
 * are free, a call fails although a port is free with probability {@code (1 - f/n)^limit}. A limit of
 * {@code n} costs O(n) probes on a full range; a smaller limit fails often when few ports are free.
 * Each probe boxes an {@link Integer} (ports are above the {@code Integer} cache) and each acquisition
 * allocates a map node.
 */
final class ConcurrentSetPorts {
    private final int first;
    private final int size;
    private final int probeLimit;
    private final Set<Integer> held;

    /**
     * @param range a single range of ports
     * @param probeLimit random probes before {@link #tryAcquire()} gives up
     */
    ConcurrentSetPorts(PortSet range, int probeLimit) {
        if (range.rangeCount() != 1) {
            throw new IllegalArgumentException("a single range is required: " + range);
        }
        this.first = range.first();
        this.size = range.size();
        this.probeLimit = probeLimit;
        this.held = ConcurrentHashMap.newKeySet(size);
    }

    /** @return a free port, now held, or {@link PortAllocator#NONE} if {@code probeLimit} probes hit held ports */
    int tryAcquire() {
        final ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int probe = 0; probe < probeLimit; probe++) {
            final int port = first + random.nextInt(size);
            if (held.add(port)) {
                return port;
            }
        }
        return PortAllocator.NONE;
    }

    /** @return true if {@code port} was free and is now held */
    boolean tryAcquire(int port) {
        checkRange(port);
        return held.add(port);
    }

    /** @throws IllegalStateException if {@code port} is not held */
    void release(int port) {
        checkRange(port);
        if (!held.remove(port)) {
            throw new IllegalStateException("port " + port + " is not held");
        }
    }

    /** @return ports held */
    int heldCount() {
        return held.size();
    }

    private void checkRange(int port) {
        if (port < first || port - first >= size) {
            throw new IllegalArgumentException("port " + port + " is outside the range");
        }
    }
}
