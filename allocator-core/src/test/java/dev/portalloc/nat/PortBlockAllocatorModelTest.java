package dev.portalloc.nat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.booleans;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import dev.portalloc.PortSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/**
 * Model-based test of {@link PortBlockAllocator}: random sequences of acquisitions (plain and with a suggested
 * port), and releases for five subscribers on a small pool (two addresses, four blocks of 16 ports each, one
 * port reserved), with FAIL or NEXT_ADDRESS: ten blocks' worth of demand for eight blocks. After every step the result must be justified by a plain model:
 * <ul>
 * <li>a granted port is free, not reserved, and inside a block whose last event says it belongs to the
 *     subscriber; a suggestion that could be preserved is;</li>
 * <li>QUOTA_EXCEEDED only at the port quota, or at the block quota with every block of the subscriber full;
 *     EXHAUSTED only when the subscriber's blocks are full and every address it may use has no free block;
 *     NOT_PRESERVED only when the suggestion was not a free port of one of its blocks;</li>
 * <li>a block is owned exactly while the subscriber holds a port in it (allocated and released events, once
 *     each), and the counts the allocator reports agree with the model.</li>
 * </ul>
 */
class PortBlockAllocatorModelTest {
    private static final int SUBSCRIBER = 0x6440_0000;
    private static final int SUBSCRIBERS = 5;
    private static final int FIRST = 1024;
    private static final int BLOCK = 16;
    private static final int BLOCKS = 4;
    private static final int RESERVED = 1030;
    private static final int MAX_PORTS = 20;
    private static final int MAX_BLOCKS = 3;

    @Test
    void allocatorAgreesWithTheModel() {
        qt().withExamples(300).withShrinkCycles(100)
            .forAll(lists().of(steps()).ofSizeBetween(1, 150), booleans().all(), integers().all())
            .checkAssert((steps, nextAddress, seed) -> run(steps, nextAddress, seed));
        // every kind of outcome was exercised and judged
        assertThat(java.util.Arrays.stream(OUTCOMES).min().getAsLong())
            .as("granted, exhausted, quota exceeded, not preserved, preserved: %s", java.util.Arrays.toString(OUTCOMES))
            .isPositive();
    }

    /** Counts of outcomes over all examples: granted, EXHAUSTED, QUOTA_EXCEEDED, NOT_PRESERVED, preserved. */
    private static final long[] OUTCOMES = new long[5];

    /** A step: {kind, subscriber, pick}. */
    private static Gen<int[]> steps() {
        return integers().between(0, 9).zip(integers().between(0, SUBSCRIBERS - 1), integers().between(0, 2 * BLOCK * BLOCKS),
            (kind, subscriber, pick) -> new int[] {kind, subscriber, pick});
    }

    private static void run(List<int[]> steps, boolean nextAddress, int seed) {
        PortBlockAllocatorTest.Recorder log = new PortBlockAllocatorTest.Recorder();
        PortBlockAllocator cgn = PortBlockAllocator.builder(AddressPool.builder().external("198.51.100.0/31")
                .ports(PortSet.range(FIRST, FIRST + BLOCK * BLOCKS - 1)).reserved(PortSet.of(RESERVED)).seed(seed)
                .whenFull(nextAddress ? AddressPool.WhenFull.NEXT_ADDRESS : AddressPool.WhenFull.FAIL))
            .blockSize(BLOCK).maxBlocksPerSubscriber(MAX_BLOCKS).maxPortsPerSubscriber(MAX_PORTS).listener(log)
            .build();
        Model model = new Model(cgn);
        for (int[] step : steps) {
            int s = SUBSCRIBER + step[1];
            int events = log.events.size();
            if (step[0] <= 5) {
                model.checkAcquire(s, cgn.tryAcquire(s), 0, null);
            } else if (step[0] <= 7) {
                List<Long> mine = model.held.getOrDefault(s, List.of());
                if (!mine.isEmpty()) {
                    long m = mine.get(step[2] % mine.size());
                    cgn.release(s, m);
                    model.release(s, m);
                }
            } else {
                int suggested = FIRST + step[2];
                PortPreservation policy = step[0] == 8 ? PortPreservation.FAIL : PortPreservation.FALLBACK;
                model.checkAcquire(s, cgn.tryAcquire(s, suggested, policy), suggested, policy);
            }
            model.apply(log.events.subList(events, log.events.size()));
            model.checkInvariants(cgn);
        }
    }

    /** What the allocator should know: held mappings per subscriber, and block owners from the events. */
    private static final class Model {
        final PortBlockAllocator cgn;
        final Map<Integer, List<Long>> held = new HashMap<>();
        final Set<Long> allHeld = new HashSet<>();
        /** (address, first port) of a block → owner, from the events. */
        final Map<Long, Integer> owner = new HashMap<>();

        Model(PortBlockAllocator cgn) {
            this.cgn = cgn;
        }

        static long block(int address, int port) {
            int first = FIRST + (port - FIRST) / BLOCK * BLOCK;
            return Integer.toUnsignedLong(address) << 16 | first;
        }

        static int capacity(int first) {
            return RESERVED >= first && RESERVED < first + BLOCK ? BLOCK - 1 : BLOCK;
        }

        int heldIn(long block) {
            int n = 0;
            for (long m : allHeld) {
                if (block(AddressPool.externalAddress(m), AddressPool.externalPort(m)) == block) {
                    n++;
                }
            }
            return n;
        }

        List<Long> blocksOf(int s) {
            List<Long> blocks = new ArrayList<>();
            owner.forEach((b, o) -> {
                if (o == s) {
                    blocks.add(b);
                }
            });
            return blocks;
        }

        boolean blocksFull(int s) {
            for (long b : blocksOf(s)) {
                if (heldIn(b) < capacity((int) (b & 0xFFFF))) {
                    return false;
                }
            }
            return true;
        }

        boolean addressFull(int index) {
            int address = cgn.addressAt(index);
            for (int k = 0; k < BLOCKS; k++) {
                if (!owner.containsKey(Integer.toUnsignedLong(address) << 16 | (FIRST + k * BLOCK))) {
                    return false;
                }
            }
            return true;
        }

        /** Whether a suggestion could have been preserved: a free, unreserved port of one of s's blocks. */
        boolean preservable(int s, int port) {
            if (port == RESERVED) {
                return false;
            }
            for (long b : blocksOf(s)) {
                int first = (int) (b & 0xFFFF);
                long m = (b >>> 16) << 16 | port;
                if (port >= first && port < first + BLOCK && !allHeld.contains(m)) {
                    return true;
                }
            }
            return false;
        }

        void checkAcquire(int s, long result, int suggested, PortPreservation policy) {
            List<Long> mine = held.computeIfAbsent(s, k -> new ArrayList<>());
            boolean couldPreserve = policy != null && preservable(s, suggested);
            OUTCOMES[result >= 0 ? (couldPreserve ? 4 : 0) : (int) -result]++;
            if (result >= 0) {
                int port = AddressPool.externalPort(result);
                assertThat(allHeld).doesNotContain(result);
                assertThat(port).isNotEqualTo(RESERVED).isBetween(FIRST, FIRST + BLOCK * BLOCKS - 1);
                assertThat(mine.size()).isLessThan(MAX_PORTS);
                if (couldPreserve) {
                    assertThat(port).isEqualTo(suggested);
                }
                mine.add(result);
                allHeld.add(result);
                return;
            }
            if (result == PortBlockAllocator.NOT_PRESERVED) {
                assertThat(policy).isEqualTo(PortPreservation.FAIL);
                assertThat(couldPreserve).isFalse();
            } else if (result == PortBlockAllocator.QUOTA_EXCEEDED) {
                assertThat(mine.size() == MAX_PORTS || (blocksOf(s).size() == MAX_BLOCKS && blocksFull(s)))
                    .as("quota exceeded for %d ports, %d blocks", mine.size(), blocksOf(s).size()).isTrue();
            } else {
                assertThat(result).isEqualTo(PortBlockAllocator.EXHAUSTED);
                assertThat(blocksFull(s)).isTrue();
                assertThat(blocksOf(s).size()).isLessThan(MAX_BLOCKS);
                assertThat(mine.size()).isLessThan(MAX_PORTS);
                AddressPool pool = cgn.pool();
                if (pool.whenFull() == AddressPool.WhenFull.FAIL) {
                    assertThat(addressFull(pool.primaryIndex(s))).isTrue();
                } else {
                    assertThat(addressFull(0) && addressFull(1)).isTrue();
                }
            }
        }

        void release(int s, long m) {
            held.get(s).remove(m);
            allHeld.remove(m);
        }

        void apply(List<PortBlockAllocatorTest.Event> events) {
            for (PortBlockAllocatorTest.Event e : events) {
                long b = Integer.toUnsignedLong(e.address()) << 16 | e.first();
                assertThat(e.last()).isEqualTo(e.first() + BLOCK - 1);
                assertThat((e.first() - FIRST) % BLOCK).isZero();
                if (e.allocated()) {
                    assertThat(owner.put(b, e.subscriber())).as("block allocated twice").isNull();
                } else {
                    assertThat(owner.remove(b)).as("release by its owner").isEqualTo(e.subscriber());
                }
            }
        }

        void checkInvariants(PortBlockAllocator cgn) {
            // a block is owned exactly while its owner holds a port in it
            Set<Long> inUse = new HashSet<>();
            for (Map.Entry<Integer, List<Long>> e : held.entrySet()) {
                for (long m : e.getValue()) {
                    long b = block(AddressPool.externalAddress(m), AddressPool.externalPort(m));
                    assertThat(owner.get(b)).as("owner of the block of a held port").isEqualTo(e.getKey());
                    inUse.add(b);
                }
            }
            assertThat(owner.keySet()).isEqualTo(inUse);
            int active = 0;
            for (int i = 0; i < SUBSCRIBERS; i++) {
                int s = SUBSCRIBER + i;
                int ports = held.getOrDefault(s, List.of()).size();
                assertThat(cgn.heldPorts(s)).isEqualTo(ports);
                assertThat(cgn.heldBlocks(s)).isEqualTo(blocksOf(s).size()).isLessThanOrEqualTo(MAX_BLOCKS);
                active += ports > 0 ? 1 : 0;
            }
            assertThat(cgn.activeSubscribers()).isEqualTo(active);
            assertThat(cgn.blocksInUse()).isEqualTo(owner.size());
        }
    }
}
