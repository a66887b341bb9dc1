package dev.portalloc;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Concurrent stress: 4 threads, 1.2 million random operations in total (automatic acquire, explicit acquire,
 * release) at 90-100 % occupancy of a 512-port range (the threads together want 600 ports, so the range runs
 * full again and again), checked against a shadow ledger of owners.
 *
 * <p>Each successful acquisition claims the port in the ledger with a CAS from 0 (free) to the thread's id;
 * a failed CAS means the allocator granted a port that someone else holds (a double grant). A thread clears
 * its ledger entry <em>before</em> releasing the port, since the next holder may acquire it immediately. At
 * the end, the ledger and the allocator must agree port by port (no lost port, no phantom holder), the
 * stats must balance, and after releasing everything the whole range must be acquirable again.
 */
class PortAllocatorStressTest {
    private static final int THREADS = 4;
    private static final int OPS_PER_THREAD = 300_000;
    private static final int FIRST = 20_000;
    private static final int LAST = 20_511;
    /**
     * Holdings per thread: 300, so that even two threads alone (on 2 cores the others may not have started
     * yet, or may have finished) want more than the 512 ports and the range runs full again and again.
     */
    private static final int QUOTA = 300;

    @Test
    void noDoubleGrantNoLostPortUnderContention() throws Exception {
        PortAllocator a = PortAllocator.builder().ports(PortSet.range(FIRST, LAST)).build();
        AtomicIntegerArray owner = new AtomicIntegerArray(65536);
        AtomicLong doubleGrants = new AtomicLong();
        AtomicLong exhausted = new AtomicLong();
        CyclicBarrier start = new CyclicBarrier(THREADS);
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 1; t <= THREADS; t++) {
            final int id = t;
            Thread thread = new Thread(() -> {
                SplittableRandom rnd = new SplittableRandom(id);
                int[] mine = new int[4096];
                int count = 0;
                try {
                    start.await();
                    for (int i = 0; i < OPS_PER_THREAD; i++) {
                        int op = rnd.nextInt(10);
                        if (op < 5 && count < QUOTA) { // automatic
                            int p = a.tryAcquire();
                            if (p == PortAllocator.NONE) {
                                exhausted.incrementAndGet();
                            } else {
                                if (!owner.compareAndSet(p, 0, id)) {
                                    doubleGrants.incrementAndGet();
                                }
                                mine[count++] = p;
                            }
                        } else if (op == 5 && count < QUOTA) {
                            // explicit: inside the range (contended) or just outside it
                            int p = FIRST - 8 + rnd.nextInt(LAST - FIRST + 17);
                            if (a.tryAcquire(p)) {
                                if (!owner.compareAndSet(p, 0, id)) {
                                    doubleGrants.incrementAndGet();
                                }
                                mine[count++] = p;
                            }
                        } else if (count > 0) {
                            int k = rnd.nextInt(count);
                            int p = mine[k];
                            mine[k] = mine[--count];
                            if (!owner.compareAndSet(p, id, 0)) {
                                doubleGrants.incrementAndGet();
                            }
                            a.release(p);
                        }
                    }
                    // leave the remaining holdings in place for the final ledger comparison
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "stress-" + id);
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(failures).isEmpty();
        assertThat(doubleGrants.get()).as("double grants").isZero();
        assertThat(exhausted.get()).as("the test must reach exhaustion").isPositive();

        int held = 0;
        for (int p = 1; p <= 65535; p++) {
            boolean inLedger = owner.get(p) != 0;
            assertThat(a.isHeld(p)).as("port %d held vs ledger", p).isEqualTo(inLedger);
            if (inLedger) {
                held++;
            }
        }
        AllocatorStats stats = a.stats();
        assertThat(stats.heldPorts()).isEqualTo(held);
        assertThat(stats.acquisitions() - stats.releases()).isEqualTo(held);
        assertThat(stats.acquisitions() + stats.releases() + stats.failedAcquisitions())
            .isGreaterThan(1_000_000);

        // release everything: every port of the range must be acquirable again, exactly once
        for (int p = 1; p <= 65535; p++) {
            if (owner.get(p) != 0) {
                a.release(p);
            }
        }
        java.util.BitSet again = new java.util.BitSet();
        for (int i = 0; i <= LAST - FIRST; i++) {
            int p = a.acquire();
            assertThat(again.get(p)).isFalse();
            again.set(p);
        }
        assertThat(again.cardinality()).isEqualTo(LAST - FIRST + 1);
        assertThat(a.tryAcquire()).isEqualTo(PortAllocator.NONE);
    }
}
