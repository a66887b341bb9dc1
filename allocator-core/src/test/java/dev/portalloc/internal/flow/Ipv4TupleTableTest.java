package dev.portalloc.internal.flow;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The IPv4 tuple table: states, chains with overflow buckets, slot reuse, and uniqueness under contention. */
class Ipv4TupleTableTest {
    @Test
    void keysMoveThroughTheirStates() {
        final Ipv4TupleTable t = new Ipv4TupleTable(1);
        final long k = 0xC0000201_01BB_8000L;
        assertThat(t.state(k)).isZero();
        final int slot = t.insert(k);
        assertThat(slot).isNotNegative();
        assertThat(t.state(k)).isEqualTo(Ipv4TupleTable.PENDING);
        assertThat(t.insert(k)).isEqualTo(Ipv4TupleTable.BUSY);
        assertThat(t.size()).isZero();
        t.commit(slot);
        // The slot is no longer pending: a second commit or a cancel is a bug of the caller, and changes nothing.
        assertThatThrownBy(() -> t.commit(slot)).isInstanceOf(AssertionError.class).hasMessageContaining("not pending");
        assertThatThrownBy(() -> t.cancel(slot)).isInstanceOf(AssertionError.class);
        assertThat(t.size()).isEqualTo(1);
        assertThat(t.insert(k)).isEqualTo(Ipv4TupleTable.PRESENT);
        assertThat(t.state(k)).isEqualTo(Ipv4TupleTable.LIVE);
        assertThat(t.transition(k, Ipv4TupleTable.QUARANTINED, 0)).isFalse();
        assertThat(t.transition(k, Ipv4TupleTable.LIVE, Ipv4TupleTable.QUARANTINED)).isTrue();
        assertThat(t.insert(k)).isEqualTo(Ipv4TupleTable.PRESENT);
        assertThat(t.state(k)).isEqualTo(Ipv4TupleTable.QUARANTINED);
        assertThat(t.size()).isEqualTo(1);
        assertThat(t.transition(k, Ipv4TupleTable.QUARANTINED, 0)).isTrue();
        assertThat(t.state(k)).isZero();
        assertThat(t.size()).isZero();
        assertThat(t.transition(k, Ipv4TupleTable.LIVE, 0)).isFalse();
        assertThatThrownBy(() -> new Ipv4TupleTable(0, 2)).hasMessageContaining("bucketBits 2 is out of range 3..24");
        final int again = t.insert(k);
        assertThat(again).isNotNegative();
        // A pending key leaves by its slot only (surefire runs with assertions enabled).
        assertThatThrownBy(() -> t.transition(k, Ipv4TupleTable.PENDING, 0)).isInstanceOf(AssertionError.class)
            .hasMessageContaining("transition from state 5");
        assertThat(t.state(k)).isEqualTo(Ipv4TupleTable.PENDING);
        t.cancel(again);
        assertThat(t.state(k)).isZero();
        assertThat(t.size()).isZero();
    }

    @Test
    void theTableSizeFollowsTheExpectedTuples() {
        // The fewest buckets (at least 8) with at least two slots (of 7 per bucket) per expected tuple.
        assertThat(Ipv4TupleTable.bucketBitsFor(1)).isEqualTo(3);
        assertThat(Ipv4TupleTable.bucketBitsFor(28)).isEqualTo(3); // 56 slots for 28 tuples
        assertThat(Ipv4TupleTable.bucketBitsFor(29)).isEqualTo(4);
        assertThat(Ipv4TupleTable.bucketBitsFor(28_232)).isEqualTo(13); // a whole Linux range, one tuple each
        assertThat(Ipv4TupleTable.bucketBitsFor(Ipv4TupleTable.DEFAULT_EXPECTED_TUPLES))
            .isEqualTo(Ipv4TupleTable.DEFAULT_BUCKET_BITS);
        assertThat(Ipv4TupleTable.bucketBitsFor(Ipv4TupleTable.DEFAULT_EXPECTED_TUPLES + 1))
            .isEqualTo(Ipv4TupleTable.DEFAULT_BUCKET_BITS + 1);
        assertThat(Ipv4TupleTable.bucketBitsFor(Ipv4TupleTable.MAX_EXPECTED_TUPLES)).isEqualTo(24);
        for (int bad : new int[] {0, -1, Integer.MIN_VALUE, Ipv4TupleTable.MAX_EXPECTED_TUPLES + 1}) {
            assertThatThrownBy(() -> Ipv4TupleTable.bucketBitsFor(bad)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("expected tuples " + bad + " is out of range 1.." + Ipv4TupleTable.MAX_EXPECTED_TUPLES);
        }
        // The figures PortAllocator.Builder#expectedTuples documents.
        assertThat(Ipv4TupleTable.DEFAULT_EXPECTED_TUPLES).isEqualTo(229_376);
        assertThat(Ipv4TupleTable.MAX_EXPECTED_TUPLES).isEqualTo(58_720_256);
        final int bits = Ipv4TupleTable.bucketBitsFor(28_232);
        assertThat(new Ipv4TupleTable(1, bits).bytes()).isEqualTo(16L + (64L << bits));
    }

    @Test
    void longChainsOverflowAndEmptySlotsAreReusedWithoutGrowth() {
        // 8 buckets of 7 slots for 2,000 keys: chains of ~36 buckets, all through overflow buckets.
        final Ipv4TupleTable t = new Ipv4TupleTable(7, 3);
        for (long k = 0; k < 2000; k++) {
            final int slot = t.insert(k * 0x1_0001L);
            assertThat(slot).isNotNegative();
            t.commit(slot); // most slots are in overflow buckets: the commit finds them by slot alone
        }
        for (long k = 0; k < 2000; k++) {
            assertThat(t.state(k * 0x1_0001L)).isEqualTo(Ipv4TupleTable.LIVE);
            assertThat(t.state(k * 0x1_0001L + 1)).isZero();
        }
        final long bytes = t.bytes();
        // Churn: remove every key and insert a fresh one, many times over; memory stays put.
        final SplittableRandom random = new SplittableRandom(3);
        final long[] live = new long[2000];
        for (int i = 0; i < live.length; i++) {
            live[i] = i * 0x1_0001L;
        }
        for (int round = 0; round < 200_000; round++) {
            final int i = random.nextInt(live.length);
            assertThat(t.transition(live[i], Ipv4TupleTable.LIVE, 0)).isTrue();
            live[i] = random.nextLong();
            final int slot = t.insert(live[i]);
            assertThat(slot).isNotNegative();
            t.commit(slot);
        }
        assertThat(t.size()).isEqualTo(2000);
        assertThat(t.bytes()).isEqualTo(bytes);
        for (long k : live) {
            assertThat(t.state(k)).isEqualTo(Ipv4TupleTable.LIVE);
        }
    }

    @Test
    void concurrentInsertsOfTheSameKeysNeverMakeTwoLiveCopies() throws Exception {
        // 4 threads fight over 24 keys in a table of 8 buckets (chains reach overflow buckets): a thread that
        // inserts a key owns it until it removes it; two owners at once would be a duplicate tuple.
        final Ipv4TupleTable t = new Ipv4TupleTable(11, 3);
        final int keys = 24;
        final AtomicIntegerArray owners = new AtomicIntegerArray(keys);
        final AtomicLong inserted = new AtomicLong();
        final AtomicLong busy = new AtomicLong();
        final int threads = 4;
        final int rounds = 150_000;
        final CyclicBarrier start = new CyclicBarrier(threads);
        final Thread[] workers = new Thread[threads];
        final Throwable[] failure = new Throwable[1];
        for (int w = 0; w < threads; w++) {
            final int seed = w;
            workers[w] = new Thread(() -> {
                try {
                    final SplittableRandom random = new SplittableRandom(seed);
                    final boolean[] mine = new boolean[keys];
                    start.await();
                    for (int r = 0; r < rounds; r++) {
                        final int k = random.nextInt(keys);
                        final long key = 0xABCD_0000_0000L + k * 0x1_0000L + 443;
                        if (mine[k]) {
                            assertThat(owners.decrementAndGet(k)).isZero();
                            assertThat(t.transition(key, Ipv4TupleTable.LIVE, 0)).isTrue();
                            mine[k] = false;
                        } else {
                            final int result = t.insert(key);
                            if (result >= 0) {
                                assertThat(owners.incrementAndGet(k)).as("key %d has two owners", k).isEqualTo(1);
                                t.commit(result);
                                mine[k] = true;
                                inserted.incrementAndGet();
                            } else if (result == Ipv4TupleTable.BUSY) {
                                busy.incrementAndGet();
                            }
                        }
                    }
                    for (int k = 0; k < keys; k++) {
                        if (mine[k]) {
                            owners.decrementAndGet(k);
                            assertThat(t.transition(0xABCD_0000_0000L + k * 0x1_0000L + 443, Ipv4TupleTable.LIVE, 0)).isTrue();
                        }
                    }
                } catch (Throwable e) {
                    synchronized (failure) {
                        failure[0] = e;
                    }
                }
            });
            workers[w].start();
        }
        for (Thread w : workers) {
            w.join();
        }
        assertThat(failure[0]).isNull();
        assertThat(inserted.get()).isGreaterThan(rounds / 4);
        assertThat(t.size()).isZero();
        for (int k = 0; k < keys; k++) {
            assertThat(t.state(0xABCD_0000_0000L + k * 0x1_0000L + 443)).isZero();
        }
    }
}
