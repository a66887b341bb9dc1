package dev.portalloc;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link PortAllocator.Local}: same semantics as the allocator's methods, confined to its thread. */
class LocalHandleTest {

    /** Runs {@code task} on a new thread and returns what it threw, or null. */
    private static Throwable onOtherThread(Runnable task) throws InterruptedException {
        final AtomicReference<Throwable> thrown = new AtomicReference<>();
        final Thread t = new Thread(() -> {
            try {
                task.run();
            } catch (Throwable e) {
                thrown.set(e);
            }
        }, "other-thread");
        t.start();
        t.join();
        return thrown.get();
    }

    @Test
    void oneHandlePerThreadAndAllocator() throws InterruptedException {
        PortAllocator a = PortAllocator.builder().ports(PortSet.range(5000, 5099)).seed(1).build();
        PortAllocator b = PortAllocator.builder().ports(PortSet.range(5000, 5099)).seed(1).build();
        PortAllocator.Local mine = a.local();
        assertThat(a.local()).isSameAs(mine);
        assertThat(b.local()).isNotSameAs(mine);
        assertThat(mine.allocator()).isSameAs(a);
        AtomicReference<PortAllocator.Local> theirs = new AtomicReference<>();
        assertThat(onOtherThread(() -> theirs.set(a.local()))).isNull();
        assertThat(theirs.get()).isNotSameAs(mine);
        assertThat(mine.toString()).contains(Thread.currentThread().getName());
    }

    @Test
    void exclusiveOperationsBehaveAsTheAllocatorsAndAreCounted() {
        PortAllocator a = PortAllocator.builder().ports(PortSet.range(5000, 5009)).seed(2).build();
        PortAllocator.Local local = a.local();
        List<Integer> got = new ArrayList<>();
        int p;
        while ((p = local.tryAcquire()) != PortAllocator.NONE) {
            assertThat(p).isBetween(5000, 5009);
            assertThat(a.isHeld(p)).isTrue();
            got.add(p);
        }
        assertThat(got).doesNotHaveDuplicates().hasSize(10);
        assertThatThrownBy(local::acquire).isInstanceOf(PortExhaustedException.class).hasMessageContaining("10 held");
        local.release(got.get(0));
        a.release(got.get(1)); // holdings are the allocator's: either may release them
        assertThat(local.acquire()).isIn(got.get(0), got.get(1));
        assertThatThrownBy(() -> local.release(4000)).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("port 4000 is not held");
        assertThatThrownBy(() -> local.release(0)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("port 0").hasMessageContaining("1..65535");
        AllocatorStats stats = a.stats();
        assertThat(stats.acquisitions()).isEqualTo(11);
        assertThat(stats.releases()).isEqualTo(2);
        assertThat(stats.failedAcquisitions()).isEqualTo(2);
        assertThat(stats.heldPorts()).isEqualTo(9);
    }

    @Test
    void sameSeededSequenceAsTheAllocatorsOwnMethods() {
        PortAllocator viaAllocator = PortAllocator.builder().ports(PortSet.LINUX_DEFAULT).seed(3).build();
        PortAllocator viaHandle = PortAllocator.builder().ports(PortSet.LINUX_DEFAULT).seed(3).build();
        PortAllocator.Local local = viaHandle.local();
        for (int i = 0; i < 1000; i++) {
            assertThat(local.acquire()).isEqualTo(viaAllocator.acquire());
        }
    }

    @Test
    void connectStyleOperations() throws Exception {
        PortAllocator a = PortAllocator.builder().ports(PortSet.range(6000, 6001)).seed(4).build();
        PortAllocator.Local local = a.local();
        Destination d = Destination.of(InetAddress.getByName("192.0.2.1"), 443);
        int first = local.acquire(d);
        int second = local.acquire(d);
        assertThat(List.of(first, second)).containsExactlyInAnyOrder(6000, 6001);
        assertThat(local.tryAcquire(d)).isEqualTo(PortAllocator.NONE);
        assertThatThrownBy(() -> local.acquire(d)).isInstanceOf(PortExhaustedException.class);
        assertThat(a.isLive(first, d)).isTrue();
        local.release(first, d);
        assertThat(a.isLive(first, d)).isFalse();
        assertThatThrownBy(() -> local.release(first, d)).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("no live tuple");
        assertThat(a.stats().releases()).isEqualTo(1);
    }

    @Test
    void anotherThreadIsRefusedAndNothingChanges() throws InterruptedException {
        PortAllocator a = PortAllocator.builder().ports(PortSet.range(7000, 7099)).seed(5).build();
        PortAllocator.Local local = a.local();
        int held = local.acquire();
        AllocatorStats before = a.stats();
        for (Runnable misuse : List.<Runnable>of(local::tryAcquire, local::acquire, () -> local.release(held),
            () -> local.tryAcquire(Destination.of(InetAddress.getLoopbackAddress(), 80)))) {
            assertThat(onOtherThread(misuse)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("\"" + Thread.currentThread().getName() + "\"")
                .hasMessageContaining("\"other-thread\"");
        }
        assertThat(a.isHeld(held)).isTrue();
        AllocatorStats after = a.stats();
        assertThat(after.acquisitions()).isEqualTo(before.acquisitions());
        assertThat(after.releases()).isEqualTo(before.releases());
        assertThat(after.heldPorts()).isEqualTo(before.heldPorts());
    }

    @Test
    void handlesOfManyThreadsNeverHandOutOnePortTwice() throws InterruptedException {
        final int threads = 4;
        final int rounds = 20_000;
        PortAllocator a = PortAllocator.builder().ports(PortSet.range(8000, 8063)).build();
        AtomicReferenceArray<Thread> holder = new AtomicReferenceArray<>(65536);
        ConcurrentHashMap<Integer, String> errors = new ConcurrentHashMap<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                PortAllocator.Local local = a.local();
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                int[] mine = new int[8];
                for (int r = 0; r < rounds; r++) {
                    int n = 0;
                    for (int i = 0; i < mine.length; i++) { // 4 threads × 8 of 64 ports: 50 % occupancy at most
                        int p = local.tryAcquire();
                        if (p == PortAllocator.NONE) {
                            errors.put(-1, "false exhaustion");
                            break;
                        }
                        if (!holder.compareAndSet(p, null, Thread.currentThread())) {
                            errors.put(p, "port " + p + " handed out while " + holder.get(p) + " held it");
                        }
                        mine[n++] = p;
                    }
                    for (int i = 0; i < n; i++) {
                        holder.set(mine[i], null);
                        local.release(mine[i]);
                    }
                }
            });
            workers.add(w);
            w.start();
        }
        start.countDown();
        for (Thread w : workers) {
            w.join();
        }
        assertThat(errors).isEmpty();
        AllocatorStats stats = a.stats();
        assertThat(stats.heldPorts()).isZero();
        assertThat(stats.acquisitions()).isEqualTo((long) threads * rounds * 8);
        assertThat(stats.releases()).isEqualTo((long) threads * rounds * 8);
    }
}
