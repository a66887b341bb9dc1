package dev.portalloc.bench;

import dev.portalloc.Destination;
import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;

import java.lang.ref.Reference;
import java.lang.ref.WeakReference;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Bytes per live IPv4 connect-style tuple, and per quarantined tuple, at {@value #TUPLES} tuples, without
 * JOL: the growth of the used heap (median of {@value #SAMPLES} samples, each after {@link System#gc()})
 * while one allocator over {@link PortSet#LINUX_DEFAULT} (28,232 ports) is filled. Everything the caller
 * keeps (destinations, the list of acquired ports) is allocated before the baseline, so the difference is
 * the allocator's own growth. Next to each figure it prints the size of the IPv4 tuple table
 * ({@code Ipv4TupleTable}: main and overflow buckets) and the number of hot destinations, read by reflection
 * (the benchmark jar is a classpath, so the internals are reachable).
 *
 * <p>Spreads:
 * <ul>
 * <li>{@code 36 destinations}: 35 destinations with a tuple on every port of the range and one with the
 *     remaining 11,880 (10^6 / 28,232 = 35.4), claimed with {@code tryAcquire(port, d)};</li>
 * <li>{@code 10,000 destinations x 100}: 100 tuples to each of 10,000 destinations, acquired with
 *     {@code acquire(d)} (uniform algorithm), destinations in round-robin order;</li>
 * <li>quarantine: the 10,000 x 100 spread with a one-hour quarantine, then every tuple released: bytes per
 *     quarantined entry (the tuple stays in the table as QUARANTINED, plus its entry in the expiry FIFO);</li>
 * <li>churn: the 10,000 x 100 spread without quarantine, then {@value #CHURN_SECONDS} s of acquire + release
 *     to random destinations (the live count stays 10^6): whether the table grows under key churn.</li>
 * </ul>
 *
 * <p>Run: {@code java -XX:+UseSerialGC -Xmx4g -cp allocator-jmh/target/benchmarks.jar dev.portalloc.bench.TupleFootprint
 * [few|many|quarantine|churn]...} (a stop-the-world collector makes the used-heap figure exact after each
 * collection); without arguments it runs every spread. Prefer one spread per JVM: run one after another in one
 * JVM, a later spread's baseline was seen a few MB off. Each spread runs on a thread of its own, started and
 * joined by the main thread; it ends with a check of whether a thread keeps an allocator it used reachable.
 */
public final class TupleFootprint {
    private static final int TUPLES = 1_000_000;
    private static final int SAMPLES = 5;
    private static final int CHURN_SECONDS = 5;
    private static final PortSet RANGE = PortSet.LINUX_DEFAULT;
    private static final int MANY_DESTINATIONS = 10_000;

    private TupleFootprint() {
    }

    public static void main(String[] args) throws Exception {
        warmUp();
        // Each spread on a thread of its own that ends before the next: a thread that used an allocator
        // connect-style keeps it reachable (see retainedByThread), which would add each spread's allocator
        // to the next one's baseline.
        final java.util.List<String> only = java.util.List.of(args);
        if (only.isEmpty() || only.contains("few")) {
            onOwnThread(TupleFootprint::fewDestinations);
        }
        if (only.isEmpty() || only.contains("many")) {
            onOwnThread(TupleFootprint::manyDestinations);
        }
        if (only.isEmpty() || only.contains("quarantine")) {
            onOwnThread(TupleFootprint::quarantined);
        }
        if (only.isEmpty() || only.contains("churn")) {
            onOwnThread(TupleFootprint::churn);
        }
        System.out.printf("an allocator used connect-style, then dropped, is collected: %b while the thread that used "
            + "it lives, %b after that thread ended%n", !retainedByThread(false), !retainedByThread(true));
    }

    /** A measurement that may throw. */
    @FunctionalInterface
    private interface Spread {
        void run() throws Exception;
    }

    private static void onOwnThread(Spread spread) throws Exception {
        final Exception[] failure = new Exception[1];
        final Thread t = new Thread(() -> {
            try {
                spread.run();
            } catch (Exception e) {
                failure[0] = e;
            }
        });
        t.start();
        t.join();
        if (failure[0] != null) {
            throw failure[0];
        }
    }

    /**
     * Whether an allocator that a thread used connect-style (one acquire and release), and that nothing else
     * references any more, survives a full collection.
     *
     * @param threadEnded whether the using thread has ended before the collection
     */
    private static boolean retainedByThread(boolean threadEnded) throws InterruptedException {
        final WeakReference<?>[] ref = new WeakReference<?>[1];
        final CountDownLatch measured = new CountDownLatch(1);
        final CountDownLatch used = new CountDownLatch(1);
        final Thread user = new Thread(() -> {
            PortAllocator a = PortAllocator.builder().ports(RANGE).build();
            final Destination d = Destination.ipv4(0x0A000001, 80);
            a.release(a.acquire(d), d);
            ref[0] = new WeakReference<>(a);
            a = null; // the thread keeps running, with no reference of its own to the allocator
            used.countDown();
            try {
                measured.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        user.start();
        used.await();
        if (threadEnded) {
            measured.countDown();
            user.join();
        }
        usedAfterGc();
        final boolean retained = ref[0].get() != null;
        measured.countDown();
        user.join();
        return retained;
    }

    /** Loads the classes and registers the thread's state, so that the first measurement is not charged. */
    private static void warmUp() {
        final PortAllocator a = PortAllocator.builder().ports(RANGE).seed(Occupancy.SEED).build();
        final Destination d = Destination.ipv4(0x0A000001, 80);
        a.release(a.acquire(d), d);
        if (a.tryAcquire(RANGE.first(), d)) {
            a.release(RANGE.first(), d);
        }
    }

    private static PortAllocator allocator(Duration quarantine) {
        final PortAllocator.Builder b = PortAllocator.builder().ports(RANGE).seed(Occupancy.SEED);
        if (!quarantine.isZero()) {
            b.quarantine(quarantine);
        }
        final PortAllocator a = b.build();
        if (quarantine.isZero()) { // create the flow layer and this thread's context (quarantine creates it at build)
            final Destination probe = Destination.ipv4(0x0A0000FF, 80);
            a.release(a.acquire(probe), probe);
        }
        return a;
    }

    private static void fewDestinations() throws Exception {
        final int[] ports = RANGE.toArray();
        final int count = (TUPLES + ports.length - 1) / ports.length;
        final Destination[] destinations = ConnectAllocationBenchmark.destinations(count, Occupancy.SEED);
        final PortAllocator a = allocator(Duration.ZERO);
        final long base = usedAfterGc();
        for (int t = 0; t < TUPLES; t++) {
            if (!a.tryAcquire(ports[t % ports.length], destinations[t / ports.length])) {
                throw new IllegalStateException("tuple " + t + " was taken");
            }
        }
        final long live = usedAfterGc();
        report(count + " destinations (" + (count - 1) + " full + 1 partial)", a, base, live);
        Reference.reachabilityFence(destinations);
    }

    private static void manyDestinations() throws Exception {
        final Destination[] destinations = ConnectAllocationBenchmark.destinations(MANY_DESTINATIONS, Occupancy.SEED);
        final int[] held = new int[TUPLES];
        final PortAllocator a = allocator(Duration.ZERO);
        final long base = usedAfterGc();
        fill(a, destinations, held);
        final long live = usedAfterGc();
        report("10,000 destinations x 100", a, base, live);
        Reference.reachabilityFence(destinations);
        Reference.reachabilityFence(held);
    }

    private static void quarantined() throws Exception {
        final Destination[] destinations = ConnectAllocationBenchmark.destinations(MANY_DESTINATIONS, Occupancy.SEED);
        final int[] held = new int[TUPLES];
        final PortAllocator a = allocator(Duration.ofHours(1));
        final long base = usedAfterGc();
        fill(a, destinations, held);
        final long live = usedAfterGc();
        report("10,000 destinations x 100, quarantine 1 h, live", a, base, live);
        for (int t = 0; t < TUPLES; t++) {
            a.release(held[t], destinations[t % destinations.length]);
        }
        final long quarantined = usedAfterGc();
        report("the same, every tuple released (quarantined)", a, base, quarantined);
        System.out.printf("  release into quarantine added %,.1f bytes per tuple to its live cost%n",
            (quarantined - live) / (double) TUPLES);
        Reference.reachabilityFence(destinations);
    }

    private static void churn() throws Exception {
        final Destination[] destinations = ConnectAllocationBenchmark.destinations(MANY_DESTINATIONS, Occupancy.SEED);
        final int[] held = new int[TUPLES];
        final PortAllocator a = allocator(Duration.ZERO);
        final long base = usedAfterGc();
        fill(a, destinations, held);
        final long live = usedAfterGc();
        report("churn: before", a, base, live);
        final ThreadLocalRandom random = ThreadLocalRandom.current();
        final long end = System.nanoTime() + CHURN_SECONDS * 1_000_000_000L;
        long operations = 0;
        int checksum = 0;
        while (System.nanoTime() - end < 0) {
            for (int i = 0; i < 1024; i++) {
                checksum += Operations.acquireRelease(a, destinations[random.nextInt(destinations.length)]);
            }
            operations += 1024;
        }
        final long after = usedAfterGc();
        report("churn: after " + CHURN_SECONDS + " s, " + String.format("%,d", operations) + " acquire+release (checksum "
            + (checksum & 0xFF) + ")", a, base, after);
        Reference.reachabilityFence(destinations);
        Reference.reachabilityFence(held);
    }

    /** Acquires {@value #TUPLES} tuples, destinations in round-robin order; {@code held[t]} is tuple t's port. */
    private static void fill(PortAllocator a, Destination[] destinations, int[] held) {
        for (int t = 0; t < TUPLES; t++) {
            held[t] = a.acquire(destinations[t % destinations.length]);
        }
    }

    private static void report(String spread, PortAllocator a, long base, long used) throws ReflectiveOperationException {
        final long grown = used - base;
        System.out.printf("%-62s heap %,12d -> %,12d: %,12d bytes = %6.1f bytes per tuple; live %,d, quarantined %,d; "
                + "%s%n", spread, base, used, grown, grown / (double) TUPLES, a.stats().liveTuples(),
            a.stats().quarantined(), table(a));
    }

    /**
     * @return the IPv4 tuple table's size in 64-byte buckets of 7 slots, read by reflection
     *     (PortAllocator.flows.tuples.ipv4: its {@code main} array, 8 longs per bucket, and the number of
     *     overflow buckets handed out from its chunks), and the number of hot destinations
     *     (PortAllocator.flows.hot.size())
     */
    private static String table(PortAllocator a) throws ReflectiveOperationException {
        final Object flows = field(a.getClass(), "flows").get(a);
        final Object tuples = field(flows.getClass(), "tuples").get(flows);
        final Object ipv4 = field(tuples.getClass(), "ipv4").get(tuples);
        final int main = ((long[]) field(ipv4.getClass(), "main").get(ipv4)).length / 8;
        final int overflow = ((java.util.concurrent.atomic.AtomicInteger) field(ipv4.getClass(), "overflowBuckets")
            .get(ipv4)).get();
        final Object hot = field(flows.getClass(), "hot").get(flows);
        final int hotCount = ((java.util.concurrent.atomic.AtomicInteger) field(hot.getClass(), "hot").get(hot)).get();
        return String.format("table buckets %,d main + %,d overflow (%,d slots); hot destinations %,d", main, overflow,
            (main + overflow) * 7L, hotCount);
    }

    private static Field field(Class<?> type, String name) throws NoSuchFieldException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            try {
                final Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f;
            } catch (NoSuchFieldException e) {
                // look in the superclass
            }
        }
        throw new NoSuchFieldException(type.getName() + "." + name);
    }

    /** @return the median of {@value #SAMPLES} used-heap samples, each right after a full collection */
    private static long usedAfterGc() throws InterruptedException {
        final Runtime runtime = Runtime.getRuntime();
        final long[] samples = new long[SAMPLES];
        for (int i = 0; i < SAMPLES; i++) {
            System.gc();
            Thread.sleep(50);
            samples[i] = runtime.totalMemory() - runtime.freeMemory();
        }
        Arrays.sort(samples);
        return samples[SAMPLES / 2];
    }
}
