package dev.portalloc;

import org.agrona.concurrent.NanoClock;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Concurrent stress of the connect-style layer mixed with exclusive allocation: {@value #THREADS} threads,
 * {@value #OPS_PER_THREAD} random operations each, per configuration (uniform and RFC/Linux algorithms, with
 * and without quarantine; over 10^6 operations in all), over a 64-port range and five destinations (four IPv4,
 * one IPv6), checked against a shadow ledger.
 *
 * <p>The ledger is updated only after a successful acquisition and before the release (the next holder may
 * get the port or tuple as soon as it is released):
 * <ul>
 * <li>live tuples: {@code putIfAbsent} in a concurrent map; a tuple already present is a duplicate live
 *     5-tuple;</li>
 * <li>exclusive holders: a CAS from 0 to the thread's id per port; a failure is a double grant;</li>
 * <li>the number of ledger tuples per port: an exclusive grant must find it 0, and a tuple grant must find
 *     no exclusive holder (a port is never both);</li>
 * <li>with quarantine (on a fake clock that the threads advance by one tick per operation): the clock value
 *     read just before each release, per port and per tuple; a grant must read the clock at least the
 *     quarantine later than the last exclusive release of its port and (exclusive grants) than the last
 *     release of every tuple of its port, or (tuple grants) than the last release of the same tuple.</li>
 * </ul>
 * At the end, after every thread released its holdings and the quarantine passed: every port of the range
 * (zero lost ports) can be claimed exclusively, and the stats show the expected figures (nothing live,
 * nothing quarantined after a failing call has expired the due entries).
 */
class ConnectStyleStressTest {
    static final int THREADS = 4;
    /** Operations per thread and configuration; tune for the time budget (7 configurations). */
    static final int OPS_PER_THREAD = 80_000;
    static final int FIRST = 30_000;
    static final int PORTS = 64;
    /** Holdings per thread at most: the four threads want up to 160 of the 64 ports x 5 destinations. */
    static final int QUOTA = 40;
    /** Quarantine in clock ticks (one tick per operation of any thread). */
    static final long QUARANTINE = 300;
    /** An explicit-only port outside the range. */
    static final int OUTSIDE = 1;
    static final Destination[] DESTINATIONS = {
        Destination.parse("192.0.2.1:443"), Destination.parse("192.0.2.1:80"), Destination.parse("192.0.2.2:443"),
        Destination.parse("198.51.100.7:5432"), Destination.parse("[2001:db8::1]:443"),
    };

    static Stream<Arguments> configurations() {
        return Stream.of(
            Arguments.of(Algorithm.uniform(), 0L),
            Arguments.of(Algorithm.uniform(), QUARANTINE),
            Arguments.of(Algorithm.hash(), 0L),
            Arguments.of(Algorithm.linux(), QUARANTINE),
            // The sequential walks advance shared counters by CAS over skipped stretches; Algorithm 5 publishes
            // its counter after a local walk: all of them under contention, with destinations that turn hot.
            Arguments.of(Algorithm.bsdSequential(), 0L),
            Arguments.of(Algorithm.doubleHash(16), QUARANTINE),
            Arguments.of(Algorithm.randomIncrements(7), 0L));
    }

    /** A clock shared by the threads, advanced by them. */
    static final class TickClock implements NanoClock {
        final AtomicLong now = new AtomicLong(1_000_000L);

        @Override
        public long nanoTime() {
            return now.get();
        }
    }

    private static long key(int port, int d) {
        return (long) port * DESTINATIONS.length + d;
    }

    @ParameterizedTest(name = "{0}, quarantine {1}")
    @MethodSource("configurations")
    void noDuplicateTupleNoMixedHoldersNoLostPort(Algorithm algorithm, long quarantine) throws Exception {
        final TickClock clock = new TickClock();
        final PortAllocator a = PortAllocator.builder().ports(PortSet.range(FIRST, FIRST + PORTS - 1))
            .algorithm(algorithm).quarantine(Duration.ofNanos(quarantine)).clock(clock).build();
        final ConcurrentHashMap<Long, Integer> liveTuples = new ConcurrentHashMap<>();
        final AtomicIntegerArray exclusiveOwner = new AtomicIntegerArray(65536);
        final AtomicIntegerArray tuplesOnPort = new AtomicIntegerArray(65536);
        final AtomicLongArray exclusiveReleasedAt = new AtomicLongArray(65536);
        final ConcurrentHashMap<Long, Long> tupleReleasedAt = new ConcurrentHashMap<>();
        for (int p = 0; p < 65536; p++) {
            exclusiveReleasedAt.set(p, Long.MIN_VALUE / 2);
        }
        final List<String> violations = Collections.synchronizedList(new ArrayList<>());
        final List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        final AtomicLong exhausted = new AtomicLong();
        final AtomicLong shared = new AtomicLong(); // tuple grants on a port that already had ledger tuples
        final CyclicBarrier start = new CyclicBarrier(THREADS);

        final class Worker implements Runnable {
            final int id;
            final long[] held = new long[QUOTA]; // port << 8 | (destination + 1), 0 for exclusive
            int count;

            Worker(int id) {
                this.id = id;
            }

            void violation(String what) {
                if (violations.size() < 20) {
                    violations.add(what + " (thread " + id + ", clock " + clock.nanoTime() + ")");
                }
            }

            void grantedExclusive(int p) {
                final long now = clock.nanoTime();
                if (!exclusiveOwner.compareAndSet(p, 0, id)) {
                    violation("port " + p + " granted exclusively while held by thread " + exclusiveOwner.get(p));
                }
                if (tuplesOnPort.get(p) != 0) {
                    violation("port " + p + " granted exclusively while it carries " + tuplesOnPort.get(p) + " tuples");
                }
                if (quarantine > 0) {
                    if (now - exclusiveReleasedAt.get(p) < quarantine) {
                        violation("port " + p + " granted exclusively at " + now + ", released at "
                            + exclusiveReleasedAt.get(p));
                    }
                    for (int d = 0; d < DESTINATIONS.length; d++) {
                        final Long at = tupleReleasedAt.get(key(p, d));
                        if (at != null && now - at < quarantine) {
                            violation("port " + p + " granted exclusively at " + now + ", its tuple to d" + d
                                + " released at " + at);
                        }
                    }
                }
                held[count++] = (long) p << 8;
            }

            void grantedTuple(int p, int d) {
                final long now = clock.nanoTime();
                final Integer other = liveTuples.putIfAbsent(key(p, d), id);
                if (other != null) {
                    violation("duplicate live tuple (" + p + ", " + DESTINATIONS[d] + "), also held by thread " + other);
                }
                if (tuplesOnPort.getAndIncrement(p) > 0) {
                    shared.incrementAndGet();
                }
                if (exclusiveOwner.get(p) != 0) {
                    violation("tuple (" + p + ", d" + d + ") granted on a port held exclusively by thread "
                        + exclusiveOwner.get(p));
                }
                if (quarantine > 0) {
                    final Long at = tupleReleasedAt.get(key(p, d));
                    if (at != null && now - at < quarantine) {
                        violation("tuple (" + p + ", d" + d + ") granted again at " + now + ", released at " + at);
                    }
                    if (now - exclusiveReleasedAt.get(p) < quarantine) {
                        violation("tuple (" + p + ", d" + d + ") granted at " + now + ", port released exclusively at "
                            + exclusiveReleasedAt.get(p));
                    }
                }
                if (!a.isLive(p, DESTINATIONS[d])) {
                    violation("granted tuple (" + p + ", d" + d + ") is not live");
                }
                held[count++] = (long) p << 8 | (d + 1);
            }

            void releaseAt(int i) {
                final long h = held[i];
                held[i] = held[--count];
                final int p = (int) (h >>> 8);
                final int d = (int) (h & 0xff) - 1;
                if (d < 0) {
                    if (!exclusiveOwner.compareAndSet(p, id, 0)) {
                        violation("ledger lost exclusive port " + p);
                    }
                    exclusiveReleasedAt.set(p, clock.nanoTime());
                    a.release(p);
                } else {
                    if (!liveTuples.remove(key(p, d), id)) {
                        violation("ledger lost tuple (" + p + ", d" + d + ")");
                    }
                    tuplesOnPort.decrementAndGet(p);
                    tupleReleasedAt.put(key(p, d), clock.nanoTime());
                    a.release(p, DESTINATIONS[d]);
                }
            }

            @Override
            public void run() {
                final SplittableRandom rnd = new SplittableRandom(id * 7919L + quarantine);
                try {
                    start.await();
                    for (int i = 0; i < OPS_PER_THREAD; i++) {
                        if (quarantine > 0) {
                            clock.now.incrementAndGet();
                        }
                        final int op = rnd.nextInt(20);
                        if (count == QUOTA || (op >= 12 && count > 0)) {
                            releaseAt(rnd.nextInt(count));
                            continue;
                        }
                        final int d = rnd.nextInt(DESTINATIONS.length);
                        final int port = rnd.nextInt(50) == 0 ? OUTSIDE : FIRST + rnd.nextInt(PORTS);
                        if (op < 6) {
                            final int p = a.tryAcquire(DESTINATIONS[d]);
                            if (p == PortAllocator.NONE) {
                                exhausted.incrementAndGet();
                            } else if (p < FIRST || p >= FIRST + PORTS) {
                                violation("automatic port " + p + " outside the range");
                            } else {
                                grantedTuple(p, d);
                            }
                        } else if (op < 8) {
                            if (a.tryAcquire(port, DESTINATIONS[d])) {
                                grantedTuple(port, d);
                            }
                        } else if (op < 10) {
                            final int p = a.tryAcquire();
                            if (p == PortAllocator.NONE) {
                                exhausted.incrementAndGet();
                            } else if (p < FIRST || p >= FIRST + PORTS) {
                                violation("automatic port " + p + " outside the range");
                            } else {
                                grantedExclusive(p);
                            }
                        } else if (op < 11) {
                            if (a.tryAcquire(port)) {
                                grantedExclusive(port);
                            }
                        } else if (count > 0) {
                            final long h = held[rnd.nextInt(count)];
                            final int p = (int) (h >>> 8);
                            final int hd = (int) (h & 0xff) - 1;
                            if (hd >= 0 ? !a.isLive(p, DESTINATIONS[hd]) : !a.isHeld(p)) {
                                violation("holding " + p + "/d" + hd + " not seen by the allocator");
                            }
                        }
                    }
                    while (count > 0) {
                        releaseAt(count - 1);
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }
        }

        final List<Thread> threads = new ArrayList<>();
        for (int t = 1; t <= THREADS; t++) {
            final Thread thread = new Thread(new Worker(t), "stress-" + t);
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(failures).as("exceptions in the threads").isEmpty();
        assertThat(violations).as("ledger violations").isEmpty();
        assertThat(shared.get()).as("ports were shared").isPositive();

        // Zero lost ports: with the quarantine passed, every port comes back.
        clock.now.addAndGet(quarantine + 1);
        final AllocatorStats before = a.stats();
        assertThat(before.liveTuples()).as("live tuples after every release: %s", before).isZero();
        for (int p = FIRST; p < FIRST + PORTS; p++) {
            assertThat(a.tryAcquire(p)).as("port %d lost", p).isTrue();
        }
        assertThat(a.tryAcquire()).isEqualTo(PortAllocator.NONE); // a failing call expires every due entry
        AllocatorStats s = a.stats();
        assertThat(s.heldPorts()).as("%s", s).isEqualTo(PORTS);
        assertThat(s.liveTuples()).as("%s", s).isZero();
        assertThat(s.quarantined()).as("%s", s).isZero();
        assertThat(a.tryAcquire(OUTSIDE, DESTINATIONS[0])).isTrue();
        for (int p = FIRST; p < FIRST + PORTS; p++) {
            a.release(p);
        }
        clock.now.addAndGet(quarantine + 1);
        assertThat(a.tryAcquire(OUTSIDE, DESTINATIONS[0])).isFalse(); // live: fails, and expires every due entry
        a.release(OUTSIDE, DESTINATIONS[0]);
        s = a.stats();
        final int probe = quarantine > 0 ? 1 : 0; // the probe tuple just released, in quarantine
        assertThat(s.heldPorts()).as("%s", s).isEqualTo(probe);
        assertThat(s.liveTuples()).as("%s", s).isZero();
        assertThat(s.quarantined()).as("%s", s).isEqualTo(probe);
        assertThat(s.acquisitions()).as("%s", s).isEqualTo(s.releases());
    }
}
