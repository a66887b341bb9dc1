package dev.portalloc.bench;

import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;

import java.util.BitSet;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Baseline: the allocator a user would write with the JDK alone, a {@link BitSet} of one port range under one
 * lock; selection is "random start + sequential scan" (a {@link ThreadLocalRandom} start, then
 * {@link BitSet#nextClearBit} with wrap-around).
 *
 * <p>Thread-safe: every access to the bit set holds the monitor of this object. The random start is drawn
 * before taking the lock, which keeps the critical section as short as a careful user would make it. Not
 * uniform: a free port right after a long run of held ports is chosen far more often than others (RFC 6056
 * §5); the baseline is here for its cost only.
 */
final class SynchronizedBitSetPorts {
    private final int first;
    private final int size;
    private final BitSet held;

    /** @param range a single range of ports */
    SynchronizedBitSetPorts(PortSet range) {
        if (range.rangeCount() != 1) {
            throw new IllegalArgumentException("a single range is required: " + range);
        }
        this.first = range.first();
        this.size = range.size();
        this.held = new BitSet(size);
    }

    /** @return a free port, now held, or {@link PortAllocator#NONE} if every port is held */
    int tryAcquire() {
        final int start = ThreadLocalRandom.current().nextInt(size);
        synchronized (this) {
            int i = held.nextClearBit(start);
            if (i >= size) {
                i = held.nextClearBit(0);
                if (i >= start) {
                    return PortAllocator.NONE;
                }
            }
            held.set(i);
            return first + i;
        }
    }

    /** @return true if {@code port} was free and is now held */
    synchronized boolean tryAcquire(int port) {
        final int i = index(port);
        if (held.get(i)) {
            return false;
        }
        held.set(i);
        return true;
    }

    /** @throws IllegalStateException if {@code port} is not held */
    synchronized void release(int port) {
        final int i = index(port);
        if (!held.get(i)) {
            throw new IllegalStateException("port " + port + " is not held");
        }
        held.clear(i);
    }

    /** @return ports held */
    synchronized int heldCount() {
        return held.cardinality();
    }

    private int index(int port) {
        final int i = port - first;
        if (i < 0 || i >= size) {
            throw new IllegalArgumentException("port " + port + " is outside the range");
        }
        return i;
    }
}
