package dev.portalloc.bench;

import dev.portalloc.PortAllocator;
import dev.portalloc.nat.AddressPool;

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
