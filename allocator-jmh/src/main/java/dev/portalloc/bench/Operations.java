package dev.portalloc.bench;

import dev.portalloc.Destination;
import dev.portalloc.PortAllocator;
import dev.portalloc.nat.AddressPool;
import org.jctools.maps.NonBlockingHashMapLong;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLongArray;

/** The measured operations shared by the benchmarks, so that every variant measures the same work. */
final class Operations {
    private Operations() {
    }

    /** Acquire, then release what was acquired, so occupancy stays put. */
    static int acquireRelease(PortAllocator a) {
        final int p = a.tryAcquire();
        if (p != PortAllocator.NONE) {
            a.release(p);
        }
        return p;
    }

    /** The same through a thread's handle. */
    static int acquireRelease(PortAllocator.Local a) {
        final int p = a.tryAcquire();
        if (p != PortAllocator.NONE) {
            a.release(p);
        }
        return p;
    }

    /** Acquire a local port for a connection to {@code d}, then release that tuple, so occupancy stays put. */
    static int acquireRelease(PortAllocator a, Destination d) {
        final int p = a.tryAcquire(d);
        if (p != PortAllocator.NONE) {
            a.release(p, d);
        }
        return p;
    }

    /**
     * Insert {@code key} as {@code value} if absent, then remove it: the two map operations of a
     * connect-style tuple's life in the allocator's table ({@code putIfAbsent} on acquisition,
     * {@code remove(key, value)} on release).
     *
     * @return whether both succeeded (false if the key was present, which leaves the map unchanged)
     */
    static boolean putRemove(NonBlockingHashMapLong<Object> map, long key, Object value) {
        return map.putIfAbsent(key, value) == null && map.remove(key, value);
    }

    /** Acquire a mapping for {@code subscriber} through the pool, then release it. */
    static long acquireRelease(AddressPool pool, int subscriber) {
        final long m = pool.tryAcquire(subscriber);
        if (m != AddressPool.NONE) {
            pool.release(m);
        }
        return m;
    }

    /** A CAS at a random index: the cost of touching a random cache line of {@code words}, draw included. */
    static boolean casRandomWord(AtomicLongArray words) {
        final int i = ThreadLocalRandom.current().nextInt(words.length());
        final long v = words.get(i);
        return words.compareAndSet(i, v, v + 1);
    }
}
