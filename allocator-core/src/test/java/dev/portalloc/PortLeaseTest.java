package dev.portalloc;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PortLeaseTest {

    private static final Destination BACKEND = Destination.parse("203.0.113.7:443");

    /** Reports seen by the test seam: message, and the acquisition trace (or null). */
    private record Report(String message, Throwable acquiredAt) {
    }

    private final Queue<Report> reports = new ConcurrentLinkedQueue<>();

    @AfterEach
    void resetSeams() {
        LeaseLeaks.reportSink = null;
        System.clearProperty(LeaseLeaks.TRACE_PROPERTY);
    }

    private static PortAllocator allocator(String ports) throws Exception {
        return PortAllocator.builder().ports(PortSet.parse(ports)).seed(1)
            .localAddress(InetAddress.getByName("192.0.2.10")).build();
    }

    @Test
    void closeTwiceReleasesOnce() throws Exception {
        final PortAllocator a = allocator("40000-40009");
        final PortLease lease = a.lease();
        assertThat(lease.isOpen()).isTrue();
        assertThat(a.isHeld(lease.port())).isTrue();
        lease.close();
        lease.close();
        assertThat(lease.isOpen()).isFalse();
        assertThat(a.isHeld(lease.port())).isFalse();
        assertThat(a.stats().releases()).isEqualTo(1);
        assertThat(a.stats().heldPorts()).isZero();
    }

    @Test
    void concurrentClosesReleaseExactlyOnce() throws Exception {
        final PortAllocator a = allocator("40000-40009");
        final int threads = 6;
        final CyclicBarrier start = new CyclicBarrier(threads + 1);
        final CyclicBarrier done = new CyclicBarrier(threads + 1);
        final PortLease[] current = new PortLease[1];
        final List<Thread> closers = new ArrayList<>();
        final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        final int rounds = 300;
        for (int t = 0; t < threads; t++) {
            final Thread thread = new Thread(() -> {
                try {
                    for (int r = 0; r < rounds; r++) {
                        start.await();
                        try {
                            current[0].close(); // the barrier publishes current[0]
                        } catch (RuntimeException e) {
                            failures.add(e); // a second release would throw: record it, stay in step
                        }
                        done.await();
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            thread.start();
            closers.add(thread);
        }
        for (int r = 0; r < rounds; r++) {
            final long releasesBefore = a.stats().releases();
            current[0] = r % 2 == 0 ? a.lease() : a.lease(BACKEND);
            start.await();
            done.await();
            assertThat(failures).as("round %d", r).isEmpty();
            assertThat(a.stats().releases() - releasesBefore).as("round %d", r).isEqualTo(1);
            assertThat(a.stats().heldPorts()).isZero();
            assertThat(current[0].isOpen()).isFalse();
        }
        for (Thread thread : closers) {
            thread.join();
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void tryWithResourcesReleasesEvenWhenTheBlockThrows() throws Exception {
        final PortAllocator a = allocator("40000-40009");
        final int[] port = new int[1];
        assertThatThrownBy(() -> {
            try (PortLease lease = a.lease()) {
                port[0] = lease.port();
                assertThat(a.isHeld(port[0])).isTrue();
                throw new IllegalStateException("the block failed");
            }
        }).hasMessage("the block failed");
        assertThat(a.isHeld(port[0])).isFalse();
        assertThat(a.stats().releases()).isEqualTo(1);
    }

    @Test
    void connectStyleLeaseHoldsTheTupleUntilClosed() throws Exception {
        final PortAllocator a = allocator("40000-40001");
        final Destination other = Destination.parse("203.0.113.8:443");
        try (PortLease one = a.lease(BACKEND); PortLease two = a.lease(BACKEND); PortLease three = a.lease(other)) {
            assertThat(one.isExclusive()).isFalse();
            assertThat(one.destination()).isEqualTo(BACKEND);
            assertThat(a.isLive(one.port(), BACKEND)).isTrue();
            assertThat(two.port()).isNotEqualTo(one.port());
            // two ports, both carrying a tuple to BACKEND: no third one for it, but the ports serve another peer
            assertThat(a.tryLease(BACKEND)).isNull();
            assertThat(three.port()).isBetween(40000, 40001);
            assertThatThrownBy(() -> a.lease(BACKEND)).isInstanceOf(PortExhaustedException.class);
            assertThat(one.toString()).isEqualTo("PortLease[TCP 192.0.2.10:" + one.port() + " -> 203.0.113.7:443, open]");
            assertThat(one.socketAddress()).isEqualTo(new InetSocketAddress("192.0.2.10", one.port()));
        }
        assertThat(a.stats().liveTuples()).isZero();
        assertThat(a.stats().heldPorts()).isZero();
        assertThat(a.stats().releases()).isEqualTo(3);
    }

    @Test
    void exclusiveLeaseAccessorsAndExhaustion() throws Exception {
        final PortAllocator a = allocator("40000");
        final PortLease lease = a.tryLease();
        assertThat(lease).isNotNull();
        assertThat(lease.port()).isEqualTo(40000);
        assertThat(lease.isExclusive()).isTrue();
        assertThat(lease.destination()).isNull();
        assertThat(lease.allocator()).isSameAs(a);
        assertThat(lease.localAddress()).isEqualTo(InetAddress.getByName("192.0.2.10"));
        assertThat(a.tryLease()).isNull();
        assertThatThrownBy(a::lease).isInstanceOf(PortExhaustedException.class);
        assertThat(lease.toString()).isEqualTo("PortLease[TCP 192.0.2.10:40000, open]");
        lease.close();
        assertThat(lease.toString()).isEqualTo("PortLease[TCP 192.0.2.10:40000, closed]");
        assertThatThrownBy(() -> a.lease(null)).isInstanceOf(NullPointerException.class).hasMessage("d");
    }

    @Test
    void closingAPortReleasedBehindTheLeasesBackThrowsOnceThenNothing() throws Exception {
        final PortAllocator a = allocator("40000-40009");
        final PortLease lease = a.lease();
        a.release(lease.port());
        assertThatThrownBy(lease::close).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("port " + lease.port() + " is not held");
        lease.close(); // already closed: nothing
        assertThat(lease.isOpen()).isFalse();
    }

    @Test
    void aLeakIsReportedOnceAndThePortStaysHeld() throws Exception {
        LeaseLeaks.reportSink = (message, trace) -> reports.add(new Report(message, trace));
        final PortAllocator a = allocator("41000-41009");
        final int leaked = leakOne(a);
        final Report r = awaitReport(a, ":" + leaked + " was never closed");
        assertThat(r.message()).startsWith("PortLease leaked: TCP 192.0.2.10:" + leaked + " was never closed")
            .contains("-Dportalloc.leaseLeakTrace=true");
        assertThat(r.acquiredAt()).isNull();
        assertThat(a.isHeld(leaked)).as("a leaked port is reported, not released").isTrue();
        // reported once: more collections and lease operations add no second report for it
        for (int i = 0; i < 3; i++) {
            System.gc();
            a.tryLease().close();
        }
        assertThat(reports.stream().filter(x -> x.message().contains(":" + leaked + " was never closed"))).hasSize(1);
        a.release(leaked); // the port is still the caller's to release by hand
        assertThat(a.stats().heldPorts()).isZero();
    }

    @Test
    void withTheTraceFlagTheReportShowsWhereTheLeaseWasAcquired() throws Exception {
        LeaseLeaks.reportSink = (message, trace) -> reports.add(new Report(message, trace));
        System.setProperty(LeaseLeaks.TRACE_PROPERTY, "true");
        final PortAllocator a = allocator("42000-42009");
        final int leaked = leakOne(a);
        final Report r = awaitReport(a, ":" + leaked + " was never closed");
        assertThat(r.message()).contains("acquired at the stack trace below");
        assertThat(r.acquiredAt()).isNotNull();
        assertThat(r.acquiredAt().getStackTrace())
            .anyMatch(e -> e.getClassName().equals(PortLeaseTest.class.getName()) && e.getMethodName().equals("leakOne"));
    }

    @Test
    void closedLeasesAreNeverReported() throws Exception {
        LeaseLeaks.reportSink = (message, trace) -> reports.add(new Report(message, trace));
        final PortAllocator a = allocator("43000-43009");
        for (int i = 0; i < 100; i++) {
            a.lease().close();
        }
        final int leaked = leakOne(a); // a control, so the wait below ends with a collection that queued leases
        awaitReport(a, ":" + leaked + " was never closed");
        assertThat(reports).allMatch(x -> !x.message().contains("192.0.2.10:43") || x.message().contains(":" + leaked + " "));
    }

    @Test
    void aLeaseThatCannotBeCreatedReleasesItsPort() throws Exception {
        final RuntimeException sinkFailure = new IllegalStateException("report sink failed");
        LeaseLeaks.reportSink = (message, trace) -> {
            throw sinkFailure; // fails the next lease creation, after its port was acquired
        };
        final PortAllocator a = allocator("44000-44009");
        final int leaked = leakOne(a);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int failures = 0;
        while (failures < 2 && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(10);
            // one exclusive and one connect-style creation fail, the tryLease forms each time
            try {
                final PortLease l = failures == 0 ? a.tryLease() : a.tryLease(BACKEND);
                l.close();
            } catch (IllegalStateException e) {
                assertThat(e).isSameAs(sinkFailure);
                failures++;
                while (failures == 1) { // a second leak, for the connect-style attempt
                    try {
                        leakOne(a);
                        break;
                    } catch (IllegalStateException another) {
                        assertThat(another).isSameAs(sinkFailure); // an older leak found meanwhile: try again
                    }
                }
            }
        }
        assertThat(failures).as("lease creations failed by the sink").isEqualTo(2);
        LeaseLeaks.reportSink = null;
        // the failed creations' ports went back; only the leaked ones (one found, one perhaps not yet) stay held
        assertThat(a.stats().liveTuples()).isZero();
        assertThat(a.isHeld(leaked)).isTrue();
        assertThat(a.stats().heldPorts()).isEqualTo(2);
    }

    @Test
    void statsReportsLeaksWithoutAnyLeaseOperation() throws Exception {
        LeaseLeaks.reportSink = (message, trace) -> reports.add(new Report(message, trace));
        final PortAllocator a = allocator("45000-45009");
        final int leaked = leakOne(a);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (reports.stream().noneMatch(r -> r.message().contains(":" + leaked + " was never closed"))) {
            assertThat(System.nanoTime()).as("no report from stats() within 30 s").isLessThan(deadline);
            System.gc();
            Thread.sleep(20);
            a.stats(); // the only call that can report here
        }
    }

    @Test
    void aLeakedLeaseDoesNotKeepItsAllocatorReachable() throws Exception {
        final java.lang.ref.WeakReference<PortAllocator> ref = leakFromAnAllocatorDropped();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (ref.get() != null) {
            assertThat(System.nanoTime()).as("allocator of a leaked lease still reachable after 30 s")
                .isLessThan(deadline);
            System.gc();
            Thread.sleep(20);
        }
    }

    /** Leaks a lease of a fresh allocator and drops both; in its own frame so no local keeps them reachable. */
    private static java.lang.ref.WeakReference<PortAllocator> leakFromAnAllocatorDropped() throws Exception {
        final PortAllocator a = allocator("46000-46009");
        leakOne(a);
        return new java.lang.ref.WeakReference<>(a);
    }

    /** Acquires a lease and drops it; in its own frame so that no local variable keeps it reachable. */
    private static int leakOne(PortAllocator a) {
        return a.lease().port();
    }

    /** Collects garbage and makes lease operations (which report leaks) until a report contains {@code text}. */
    private Report awaitReport(PortAllocator a, String text) throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            System.gc();
            a.tryLease().close();
            for (Report r : reports) {
                if (r.message().contains(text)) {
                    return r;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no leak report containing " + text + " within 30 s; reports: " + reports);
    }
}
