package dev.portalloc.nat;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalloc.PortSet;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Concurrent stress of the pool and of port blocks: 4 threads, 248,000 random operations per configuration,
 * checked against shadow ledgers.
 *
 * <p>{@link PortBlockAllocator}: 2 addresses × 32 blocks of 32 ports, 48 subscribers shared by all threads
 * (so one subscriber is acquired and released by several threads at once), at most 3 blocks and 80 ports
 * each, a quarter of the acquisitions on 4 hot subscribers: more demand than 64 blocks, so addresses run out
 * of blocks and subscribers hit their quotas again and again; the threads alternate fill and drain phases,
 * so blocks are claimed and given back again and again too. Ledgers, all updated with CAS:
 * <ul>
 * <li>port owner per (address, port): a grant CASes 0 → subscriber (failure: granted twice); the holder
 *     clears it before releasing;</li>
 * <li>ports per subscriber: incremented after a grant, must never exceed the quota;</li>
 * <li>block owner per (address, block), from the listener: allocated CASes 0 → subscriber (failure: block
 *     given twice), released CASes it back (failure: released by a non-owner), blocks per subscriber never
 *     above the block quota; every granted port must lie in a block its subscriber owns.</li>
 * </ul>
 * At the end the allocators' holdings must equal the ledger port by port (no lost or phantom port); after
 * everything is released, every block must have been released exactly once per allocation and no state may
 * remain. {@link AddressPool} alone gets the same treatment with NEXT_ADDRESS, and with parity and port
 * preservation mixed with explicit holdings.
 */
class PortBlockAllocatorStressTest {
    private static final int THREADS = 4;
    private static final int OPS_PER_THREAD = 62_000;
    private static final int SUBSCRIBERS = 48;
    private static final int S = 0x6440_0000;
    private static final int ADDRESSES = 2;
    private static final int BLOCK = 32;
    private static final int BLOCKS = 32;
    private static final int MAX_PORTS = 80;
    private static final int MAX_BLOCKS = 3;

    @Test
    void blocksWithPairedPooling() throws Exception {
        stressBlocks(AddressPool.WhenFull.FAIL);
    }

    @Test
    void blocksWithNextAddress() throws Exception {
        stressBlocks(AddressPool.WhenFull.NEXT_ADDRESS);
    }

    /** Ledgers fed by the block listener. */
    static final class BlockLedger implements BlockListener {
        final AddressPool[] pool = new AddressPool[1];
        final AtomicIntegerArray owner = new AtomicIntegerArray(ADDRESSES * BLOCKS);
        final AtomicIntegerArray blocks = new AtomicIntegerArray(SUBSCRIBERS);
        final AtomicLong allocated = new AtomicLong();
        final AtomicLong released = new AtomicLong();
        final List<String> errors = Collections.synchronizedList(new ArrayList<>());

        int slot(int address, int first) {
            return pool[0].indexOf(address) * BLOCKS + (first - 1024) / BLOCK;
        }

        @Override
        public void blockAllocated(int subscriber, int address, int first, int last, long time) {
            int id = subscriber - S;
            if (last != first + BLOCK - 1 || !owner.compareAndSet(slot(address, first), 0, id + 1)) {
                errors.add("block " + first + " of " + address + " allocated twice or misaligned");
            }
            if (blocks.incrementAndGet(id) > MAX_BLOCKS) {
                errors.add("subscriber " + id + " above its block quota");
            }
            allocated.incrementAndGet();
        }

        @Override
        public void blockReleased(int subscriber, int address, int first, int last, long time) {
            int id = subscriber - S;
            blocks.decrementAndGet(id);
            if (!owner.compareAndSet(slot(address, first), id + 1, 0)) {
                errors.add("block " + first + " of " + address + " released by a non-owner");
            }
            released.incrementAndGet();
        }
    }

    private void stressBlocks(AddressPool.WhenFull whenFull) throws Exception {
        BlockLedger ledger = new BlockLedger();
        PortBlockAllocator cgn = PortBlockAllocator.builder(AddressPool.builder().external("198.51.100.0/31")
                .ports(PortSet.range(1024, 1024 + BLOCK * BLOCKS - 1)).whenFull(whenFull))
            .blockSize(BLOCK).maxBlocksPerSubscriber(MAX_BLOCKS).maxPortsPerSubscriber(MAX_PORTS).listener(ledger)
            .build();
        AddressPool pool = cgn.pool();
        ledger.pool[0] = pool;
        AtomicIntegerArray portOwner = new AtomicIntegerArray(ADDRESSES * 65536);
        AtomicIntegerArray ports = new AtomicIntegerArray(SUBSCRIBERS);
        List<String> errors = Collections.synchronizedList(new ArrayList<>());
        List<List<long[]>> holdings = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            holdings.add(new ArrayList<>()); // each thread uses its own; start and join order the accesses
        }
        run(id -> {
            SplittableRandom rnd = new SplittableRandom(id);
            List<long[]> mine = holdings.get(id);
            for (int i = 0; i < OPS_PER_THREAD; i++) {
                // phases of 2,000 operations: fill (70 % acquisitions) and drain (5 %), so blocks churn
                int acquire = (i / 2000) % 2 == 0 ? 70 : 5;
                if (rnd.nextInt(100) < acquire || mine.isEmpty()) {
                    // a quarter of the acquisitions go to 4 hot subscribers, which run into their port quota
                    int sub = rnd.nextInt(4) == 0 ? rnd.nextInt(4) : rnd.nextInt(SUBSCRIBERS);
                    long m = rnd.nextInt(8) == 0
                        ? cgn.tryAcquire(S + sub, 1024 + rnd.nextInt(BLOCK * BLOCKS), PortPreservation.FALLBACK)
                        : cgn.tryAcquire(S + sub);
                    if (m < 0) {
                        continue;
                    }
                    int slot = pool.indexOf(AddressPool.externalAddress(m)) * 65536 + AddressPool.externalPort(m);
                    if (!portOwner.compareAndSet(slot, 0, sub + 1)) {
                        errors.add("port granted twice: " + slot);
                    }
                    if (ports.incrementAndGet(sub) > MAX_PORTS) {
                        errors.add("subscriber " + sub + " above its port quota");
                    }
                    int block = slot / 65536 * BLOCKS + (AddressPool.externalPort(m) - 1024) / BLOCK;
                    if (ledger.owner.get(block) != sub + 1) {
                        errors.add("port " + slot + " granted outside the subscriber's blocks");
                    }
                    mine.add(new long[] {sub, m});
                } else {
                    long[] h = mine.remove(rnd.nextInt(mine.size()));
                    int sub = (int) h[0];
                    int slot = pool.indexOf(AddressPool.externalAddress(h[1])) * 65536 + AddressPool.externalPort(h[1]);
                    ports.decrementAndGet(sub);
                    if (!portOwner.compareAndSet(slot, sub + 1, 0)) {
                        errors.add("ledger lost port " + slot);
                    }
                    cgn.release(S + sub, h[1]);
                }
            }
        });
        assertThat(errors).isEmpty();
        assertThat(ledger.errors).isEmpty();
        assertThat(cgn.quotaRejections()).as("quota rejections").isPositive();
        assertThat(cgn.exhaustions()).as("exhaustions").isPositive();
        assertThat(ledger.allocated.get()).as("block churn").isGreaterThan(100);

        // quiescent: allocators, counts and ledgers agree exactly
        int held = 0;
        for (int a = 0; a < ADDRESSES; a++) {
            int address = pool.addressAt(a);
            for (int p = 1; p <= 65535; p++) {
                boolean inLedger = portOwner.get(a * 65536 + p) != 0;
                assertThat(pool.isHeld(address, p)).as("address %d port %d", a, p).isEqualTo(inLedger);
                held += inLedger ? 1 : 0;
            }
        }
        long blocksOwned = 0;
        for (int b = 0; b < ADDRESSES * BLOCKS; b++) {
            blocksOwned += ledger.owner.get(b) != 0 ? 1 : 0;
        }
        assertThat(cgn.blocksInUse()).isEqualTo(blocksOwned);
        for (int sub = 0; sub < SUBSCRIBERS; sub++) {
            assertThat(cgn.heldPorts(S + sub)).isEqualTo(ports.get(sub));
            assertThat(cgn.heldBlocks(S + sub)).isEqualTo(ledger.blocks.get(sub));
        }
        assertThat(held).isPositive();

        for (List<long[]> mine : holdings) {
            for (long[] h : mine) {
                cgn.release(S + (int) h[0], h[1]);
            }
        }
        assertThat(ledger.errors).isEmpty();
        assertThat(ledger.released.get()).isEqualTo(ledger.allocated.get());
        assertThat(cgn.blocksInUse()).isZero();
        assertThat(cgn.activeSubscribers()).isZero();
        for (int a = 0; a < ADDRESSES; a++) {
            assertThat(pool.heldPorts(pool.addressAt(a))).isZero();
        }
    }

    /** The pool alone, NEXT_ADDRESS, 8 addresses × 256 ports, threads wanting up to 2,800 ports. */
    @Test
    void poolWithNextAddress() throws Exception {
        AddressPool pool = AddressPool.builder().external("198.51.100.0/29").ports(PortSet.range(1024, 1279))
            .whenFull(AddressPool.WhenFull.NEXT_ADDRESS).build();
        AtomicIntegerArray owner = new AtomicIntegerArray(8 * 65536);
        AtomicLong doubleGrants = new AtomicLong();
        AtomicLong exhausted = new AtomicLong();
        List<List<Long>> holdings = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            holdings.add(new ArrayList<>());
        }
        run(id -> {
            SplittableRandom rnd = new SplittableRandom(100 + id);
            List<Long> mine = holdings.get(id);
            for (int i = 0; i < OPS_PER_THREAD; i++) {
                if ((rnd.nextInt(100) < 55 && mine.size() < 700) || mine.isEmpty()) {
                    long m = pool.tryAcquire(S + rnd.nextInt(1000));
                    if (m == AddressPool.NONE) {
                        exhausted.incrementAndGet();
                        continue;
                    }
                    if (!owner.compareAndSet(slot(pool, m), 0, id + 1)) {
                        doubleGrants.incrementAndGet();
                    }
                    mine.add(m);
                } else {
                    long m = mine.remove(rnd.nextInt(mine.size()));
                    if (!owner.compareAndSet(slot(pool, m), id + 1, 0)) {
                        doubleGrants.incrementAndGet();
                    }
                    pool.release(m);
                }
            }
        });
        assertThat(doubleGrants.get()).isZero();
        assertThat(exhausted.get()).isPositive();
        for (int a = 0; a < 8; a++) {
            for (int p = 1; p <= 65535; p++) {
                assertThat(pool.isHeld(pool.addressAt(a), p)).isEqualTo(owner.get(a * 65536 + p) != 0);
            }
        }
        for (List<Long> mine : holdings) {
            for (long m : mine) {
                pool.release(m);
            }
        }
        for (int a = 0; a < 8; a++) {
            assertThat(pool.heldPorts(pool.addressAt(a))).isZero();
        }
    }

    /**
     * The pool alone with parity preservation, port preservation and explicit holdings, 2 addresses × 128
     * ports (two words each, one port reserved): every grant is checked against the ledger, automatic ports
     * must be selectable and keep the suggestion's parity, FAIL yields the suggestion or nothing.
     */
    @Test
    void poolWithParityAndExplicitPorts() throws Exception {
        AddressPool pool = AddressPool.builder().external("198.51.100.0/31").ports(PortSet.range(1024, 1151))
            .reserved(PortSet.of(1030)).preserveParity(true).build();
        AtomicIntegerArray owner = new AtomicIntegerArray(2 * 65536);
        AtomicLong errors = new AtomicLong();
        AtomicLong nones = new AtomicLong();
        List<List<Long>> holdings = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            holdings.add(new ArrayList<>());
        }
        PortPreservation[] policies = PortPreservation.values();
        run(id -> {
            SplittableRandom rnd = new SplittableRandom(200 + id);
            List<Long> mine = holdings.get(id);
            for (int i = 0; i < OPS_PER_THREAD; i++) {
                int dice = rnd.nextInt(100);
                if (dice < 10) {
                    // an explicit holding: any port, reserved or outside the automatic set
                    int index = rnd.nextInt(2);
                    int port = 1000 + rnd.nextInt(200);
                    if (pool.tryAcquire(pool.addressAt(index), port)) {
                        if (!owner.compareAndSet(index * 65536 + port, 0, id + 1)) {
                            errors.incrementAndGet();
                        }
                        mine.add(pool.mapping(index, port));
                    }
                } else if (dice < 58 || mine.isEmpty()) {
                    int suggested = 1000 + rnd.nextInt(200);
                    PortPreservation policy = policies[rnd.nextInt(policies.length)];
                    long m = pool.tryAcquire(S + rnd.nextInt(64), suggested, policy);
                    if (m == AddressPool.NONE) {
                        if (policy != PortPreservation.FAIL) {
                            nones.incrementAndGet(); // the subscriber's address had no free port of that parity
                        }
                        continue;
                    }
                    int port = AddressPool.externalPort(m);
                    boolean suggestion = port == suggested && policy != PortPreservation.OFF;
                    boolean automatic = port >= 1024 && port <= 1151 && port != 1030;
                    if (!automatic || (!suggestion && (port & 1) != (suggested & 1))
                        || (policy == PortPreservation.FAIL && port != suggested)) {
                        errors.incrementAndGet();
                    }
                    if (!owner.compareAndSet(slot(pool, m), 0, id + 1)) {
                        errors.incrementAndGet();
                    }
                    mine.add(m);
                } else {
                    long m = mine.remove(rnd.nextInt(mine.size()));
                    if (!owner.compareAndSet(slot(pool, m), id + 1, 0)) {
                        errors.incrementAndGet();
                    }
                    pool.release(m);
                }
            }
        });
        assertThat(errors.get()).isZero();
        assertThat(nones.get()).as("a parity of an address ran out").isPositive();
        for (int a = 0; a < 2; a++) {
            for (int p = 1; p <= 65535; p++) {
                assertThat(pool.isHeld(pool.addressAt(a), p)).isEqualTo(owner.get(a * 65536 + p) != 0);
            }
        }
        // Quiescent: a parity with a free selectable port is never refused.
        for (int a = 0; a < 2; a++) {
            int subscriber = S;
            while (pool.primaryIndex(subscriber) != a) {
                subscriber++;
            }
            for (int parity = 0; parity < 2; parity++) {
                boolean free = false;
                for (int p = 1024 + parity; p <= 1151; p += 2) {
                    free |= p != 1030 && owner.get(a * 65536 + p) == 0;
                }
                long m = pool.tryAcquire(subscriber, 2000 + parity, PortPreservation.OFF);
                assertThat(m != AddressPool.NONE).as("address %d parity %d", a, parity).isEqualTo(free);
                if (free) {
                    assertThat(AddressPool.externalPort(m) & 1).isEqualTo(parity);
                    assertThat(pool.indexOf(AddressPool.externalAddress(m))).isEqualTo(a);
                    pool.release(m);
                }
            }
        }
        for (List<Long> mine : holdings) {
            for (long m : mine) {
                pool.release(m);
            }
        }
        assertThat(pool.heldPorts()).isZero();
    }

    private static int slot(AddressPool pool, long m) {
        return pool.indexOf(AddressPool.externalAddress(m)) * 65536 + AddressPool.externalPort(m);
    }

    interface Body {
        void run(int id) throws Exception;
    }

    private static void run(Body body) throws Exception {
        CyclicBarrier start = new CyclicBarrier(THREADS);
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            final int id = t;
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                    body.run(id);
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "nat-stress-" + id);
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(failures).isEmpty();
    }
}
