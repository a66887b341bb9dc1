package dev.portalloc.nat;

import dev.portalloc.ChiSquare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalloc.PortSet;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import org.agrona.concurrent.CachedEpochClock;
import org.junit.jupiter.api.Test;

/**
 * Port blocks and per-subscriber quotas (RFC 6888 REQ-4, REQ-11, REQ-13/14): block alignment and events,
 * quotas, fail-closed exhaustion, NEXT_ADDRESS, uniform choices, fail-closed logging, preservation, release
 * checks and bad configuration. The model-based and concurrent tests are in their own classes.
 */
class PortBlockAllocatorTest {

    static final int S = 0x6440_0000; // 100.64.0.0

    /** One block event. */
    record Event(boolean allocated, int subscriber, int address, int first, int last, long time) {
    }

    /** Records events; optionally throws on the next allocation or release. */
    static final class Recorder implements BlockListener {
        final List<Event> events = Collections.synchronizedList(new ArrayList<>());
        volatile boolean failAllocations;
        volatile boolean failReleases;

        @Override
        public void blockAllocated(int subscriber, int address, int first, int last, long time) {
            if (failAllocations) {
                throw new IllegalStateException("log unavailable");
            }
            events.add(new Event(true, subscriber, address, first, last, time));
        }

        @Override
        public void blockReleased(int subscriber, int address, int first, int last, long time) {
            if (failReleases) {
                throw new IllegalStateException("log unavailable");
            }
            events.add(new Event(false, subscriber, address, first, last, time));
        }
    }

    static PortBlockAllocator.Builder blocks(String external, PortSet ports, long seed) {
        return PortBlockAllocator.builder(AddressPool.builder().external(external).ports(ports).seed(seed));
    }

    @Test
    void blocksAreAlignedLoggedOnceAndReleasedWithTheirLastPort() {
        Recorder log = new Recorder();
        CachedEpochClock clock = new CachedEpochClock();
        clock.update(1_000);
        PortBlockAllocator cgn = blocks("198.51.100.0/30", PortSet.range(1024, 2047), 1).blockSize(64)
            .maxBlocksPerSubscriber(3).listener(log).clock(clock).build();
        assertThat(cgn.blocksPerAddress()).isEqualTo(16);
        int address = cgn.externalFor(S);

        long first = cgn.tryAcquire(S);
        assertThat(log.events).hasSize(1);
        Event allocated = log.events.get(0);
        assertThat(allocated.allocated()).isTrue();
        assertThat(allocated.subscriber()).isEqualTo(S);
        assertThat(allocated.address()).isEqualTo(address).isEqualTo(AddressPool.externalAddress(first));
        assertThat((allocated.first() - 1024) % 64).isZero();
        assertThat(allocated.last()).isEqualTo(allocated.first() + 63);
        assertThat(allocated.time()).isEqualTo(1_000);

        // the block's 64 ports, all distinct, before any second block
        BitSet ports = new BitSet();
        ports.set(AddressPool.externalPort(first));
        List<Long> held = new ArrayList<>(List.of(first));
        for (int i = 1; i < 64; i++) {
            long m = cgn.tryAcquire(S);
            held.add(m);
            int p = AddressPool.externalPort(m);
            assertThat(p).isBetween(allocated.first(), allocated.last());
            assertThat(ports.get(p)).isFalse();
            ports.set(p);
        }
        assertThat(log.events).hasSize(1);
        long next = cgn.tryAcquire(S);
        assertThat(log.events).hasSize(2);
        Event second = log.events.get(1);
        assertThat(second.first()).isNotEqualTo(allocated.first());
        assertThat(AddressPool.externalPort(next)).isBetween(second.first(), second.last());
        assertThat(cgn.heldPorts(S)).isEqualTo(65);
        assertThat(cgn.heldBlocks(S)).isEqualTo(2);
        assertThat(cgn.blocksInUse()).isEqualTo(2);

        clock.update(2_000);
        for (int i = 0; i < 63; i++) {
            cgn.release(S, held.get(i));
        }
        assertThat(log.events).hasSize(2); // one port of the first block left
        cgn.release(S, held.get(63));
        assertThat(log.events).hasSize(3);
        assertThat(log.events.get(2)).isEqualTo(new Event(false, S, address, allocated.first(), allocated.last(), 2_000));
        assertThat(cgn.heldBlocks(S)).isEqualTo(1);

        cgn.release(S, next);
        assertThat(log.events).hasSize(4);
        assertThat(log.events.get(3)).isEqualTo(new Event(false, S, address, second.first(), second.last(), 2_000));
        assertThat(cgn.heldPorts(S)).isZero();
        assertThat(cgn.activeSubscribers()).isZero();
        assertThat(cgn.blocksInUse()).isZero();
    }

    @Test
    void portQuota() {
        PortBlockAllocator cgn = blocks("198.51.100.1", PortSet.range(1024, 2047), 2).blockSize(64)
            .maxBlocksPerSubscriber(2).maxPortsPerSubscriber(100).build();
        List<Long> held = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            long m = cgn.tryAcquire(S);
            assertThat(m).isNotNegative();
            held.add(m);
        }
        assertThat(cgn.tryAcquire(S)).isEqualTo(PortBlockAllocator.QUOTA_EXCEEDED);
        assertThat(cgn.quotaRejections()).isEqualTo(1);
        assertThat(cgn.heldPorts(S)).isEqualTo(100);
        // other subscribers are not limited by S's quota
        assertThat(cgn.tryAcquire(S + 1)).isNotNegative();
        cgn.release(S, held.get(17));
        assertThat(cgn.tryAcquire(S)).isNotNegative();
    }

    /** Every eighth port reserved: blocks hold 56 usable ports, so two blocks give 112 ports, never reserved ones. */
    @Test
    void blockQuotaAndReservedPortsInsideBlocks() {
        int[] reserved = new int[128];
        for (int i = 0; i < 128; i++) {
            reserved[i] = 1024 + 8 * i;
        }
        PortBlockAllocator cgn = PortBlockAllocator.builder(AddressPool.builder().external("198.51.100.1")
                .ports(PortSet.range(1024, 2047)).reserved(PortSet.of(reserved)).seed(3))
            .blockSize(64).maxBlocksPerSubscriber(2).maxPortsPerSubscriber(128).build();
        for (int i = 0; i < 112; i++) {
            long m = cgn.tryAcquire(S);
            assertThat(m).isNotNegative();
            assertThat(AddressPool.externalPort(m) % 8).isNotZero();
        }
        assertThat(cgn.heldBlocks(S)).isEqualTo(2);
        assertThat(cgn.tryAcquire(S)).isEqualTo(PortBlockAllocator.QUOTA_EXCEEDED);
        assertThat(cgn.heldPorts(S)).isEqualTo(112);
    }

    /** One address, four blocks: the fifth subscriber fails, nobody is evicted, and a freed block serves it. */
    @Test
    void exhaustionFailsClosed() {
        Recorder log = new Recorder();
        PortBlockAllocator cgn = blocks("198.51.100.1", PortSet.range(1024, 1279), 4).blockSize(64).listener(log)
            .build();
        long[] held = new long[4];
        for (int s = 0; s < 4; s++) {
            held[s] = cgn.tryAcquire(S + s);
            assertThat(held[s]).isNotNegative();
        }
        assertThat(cgn.tryAcquire(S + 4)).isEqualTo(PortBlockAllocator.EXHAUSTED);
        assertThat(cgn.exhaustions()).isEqualTo(1);
        assertThat(cgn.heldPorts(S + 4)).isZero();
        assertThat(cgn.activeSubscribers()).isEqualTo(4);
        for (int s = 0; s < 4; s++) {
            assertThat(cgn.heldPorts(S + s)).isEqualTo(1);
            assertThat(cgn.pool().isHeld(cgn.pool().addressAt(0), AddressPool.externalPort(held[s]))).isTrue();
        }
        // the holders may still use their own blocks
        assertThat(cgn.tryAcquire(S)).isNotNegative();
        cgn.release(S + 2, held[2]);
        long late = cgn.tryAcquire(S + 4);
        assertThat(late).isNotNegative();
        assertThat(log.events.get(log.events.size() - 1).first())
            .isEqualTo(log.events.get(log.events.size() - 2).first()); // the block just released
    }

    @Test
    void nextAddressTakesABlockElsewhereFailDoesNot() {
        for (AddressPool.WhenFull policy : AddressPool.WhenFull.values()) {
            PortBlockAllocator cgn = PortBlockAllocator.builder(AddressPool.builder().external("198.51.100.0/31")
                    .ports(PortSet.range(1024, 1087)).seed(5).whenFull(policy))
                .blockSize(64).maxBlocksPerSubscriber(2).build();
            for (int i = 0; i < 64; i++) {
                assertThat(AddressPool.externalAddress(cgn.tryAcquire(S))).isEqualTo(cgn.externalFor(S));
            }
            long m = cgn.tryAcquire(S);
            if (policy == AddressPool.WhenFull.FAIL) {
                assertThat(m).isEqualTo(PortBlockAllocator.EXHAUSTED);
            } else {
                assertThat(m).isNotNegative();
                assertThat(AddressPool.externalAddress(m)).isNotEqualTo(cgn.externalFor(S));
                assertThat(cgn.heldBlocks(S)).isEqualTo(2);
                assertThat(cgn.tryAcquire(S + 1)).isEqualTo(PortBlockAllocator.EXHAUSTED); // both blocks are S's
                cgn.release(S, m);
                assertThat(cgn.heldBlocks(S)).isEqualTo(1);
            }
        }
    }

    /** With one port of a 64-port block held for good, the other 63 are equally likely (chi-square, 0.1 %). */
    @Test
    void uniformPortWithinABlock() {
        PortBlockAllocator cgn = blocks("198.51.100.1", PortSet.range(1024, 2047), 6).blockSize(64).build();
        long anchor = cgn.tryAcquire(S);
        int first = AddressPool.externalPort(anchor) - (AddressPool.externalPort(anchor) - 1024) % 64;
        int perPort = 200;
        long[] counts = new long[64];
        for (int i = 0; i < 63 * perPort; i++) {
            long m = cgn.tryAcquire(S);
            int p = AddressPool.externalPort(m);
            assertThat(p).isBetween(first, first + 63).isNotEqualTo(AddressPool.externalPort(anchor));
            counts[p - first]++;
            cgn.release(S, m);
        }
        long[] others = new long[63];
        for (int i = 0, j = 0; i < 64; i++) {
            if (first + i != AddressPool.externalPort(anchor)) {
                others[j++] = counts[i];
            }
        }
        assertThat(ChiSquare.statistic(others, perPort)).isLessThan(ChiSquare.criticalValue(62));
    }

    /**
     * Two blocks with 48 and 32 free ports: the 80 free ports are equally likely (chi-square, 0.1 %), so the
     * block is drawn in proportion to its free ports (a fair coin between blocks would fail this).
     */
    @Test
    void uniformPortOverAllTheSubscribersBlocks() {
        PortBlockAllocator cgn = blocks("198.51.100.1", PortSet.range(1024, 2047), 7).blockSize(64)
            .maxBlocksPerSubscriber(2).build();
        List<Long> held = new ArrayList<>();
        for (int i = 0; i < 96; i++) {
            held.add(cgn.tryAcquire(S));
        }
        // the first 64 filled one block: keep 16 of them (48 free there); the second block has 32 free
        BitSet heldPorts = new BitSet();
        for (int i = 0; i < 96; i++) {
            if (i < 64 && i % 4 != 0) {
                cgn.release(S, held.get(i));
            } else {
                heldPorts.set(AddressPool.externalPort(held.get(i)));
            }
        }
        int perPort = 150;
        int[] index = new int[65536];
        java.util.Arrays.fill(index, -1);
        int free = 0;
        for (long m : held) {
            int blockFirst = AddressPool.externalPort(m) - (AddressPool.externalPort(m) - 1024) % 64;
            for (int p = blockFirst; p < blockFirst + 64; p++) {
                if (!heldPorts.get(p) && index[p] < 0) {
                    index[p] = free++;
                }
            }
        }
        assertThat(free).isEqualTo(80);
        long[] counts = new long[80];
        for (int i = 0; i < 80 * perPort; i++) {
            long m = cgn.tryAcquire(S);
            int p = AddressPool.externalPort(m);
            assertThat(index[p]).as("port %d", p).isNotNegative();
            counts[index[p]]++;
            cgn.release(S, m);
        }
        assertThat(ChiSquare.statistic(counts, perPort)).isLessThan(ChiSquare.criticalValue(79));
        assertThat(cgn.heldBlocks(S)).isEqualTo(2);
    }

    /** 24 of 32 blocks held by others: a new block is uniform among the 8 free ones. */
    @Test
    void uniformChoiceOfAFreeBlock() {
        Recorder log = new Recorder();
        PortBlockAllocator cgn = blocks("198.51.100.1", PortSet.range(1024, 3071), 8).blockSize(64).listener(log)
            .build();
        BitSet taken = new BitSet();
        for (int s = 1; s <= 24; s++) {
            long m = cgn.tryAcquire(S + s);
            taken.set((AddressPool.externalPort(m) - 1024) / 64);
        }
        assertThat(taken.cardinality()).isEqualTo(24);
        int[] index = new int[32];
        for (int k = 0, j = 0; k < 32; k++) {
            index[k] = taken.get(k) ? -1 : j++;
        }
        int perBlock = 300;
        long[] counts = new long[8];
        for (int i = 0; i < 8 * perBlock; i++) {
            long m = cgn.tryAcquire(S);
            int k = (AddressPool.externalPort(m) - 1024) / 64;
            assertThat(index[k]).isNotNegative();
            counts[index[k]]++;
            cgn.release(S, m); // its last port: the block goes back
        }
        assertThat(ChiSquare.statistic(counts, perBlock)).isLessThan(ChiSquare.criticalValue(7));
        assertThat(log.events).hasSize(24 + 2 * 8 * perBlock);
    }

    @Test
    void anAllocationThatCannotBeLoggedDoesNotHappen() {
        Recorder log = new Recorder();
        PortBlockAllocator cgn = blocks("198.51.100.1", PortSet.range(1024, 1151), 9).blockSize(64).listener(log)
            .build();
        log.failAllocations = true;
        assertThatThrownBy(() -> cgn.tryAcquire(S)).isInstanceOf(IllegalStateException.class)
            .hasMessage("log unavailable");
        assertThat(cgn.heldPorts(S)).isZero();
        assertThat(cgn.activeSubscribers()).isZero();
        assertThat(cgn.blocksInUse()).isZero();
        assertThat(cgn.pool().heldPorts()).isZero();
        log.failAllocations = false;
        assertThat(cgn.tryAcquire(S)).isNotNegative();
        assertThat(log.events).hasSize(1);
    }

    @Test
    void aBlockWhoseReleaseCannotBeLoggedIsNeverReused() {
        Recorder log = new Recorder();
        PortBlockAllocator cgn = blocks("198.51.100.1", PortSet.range(1024, 1151), 10).blockSize(64).listener(log)
            .build();
        long m = cgn.tryAcquire(S);
        log.failReleases = true;
        assertThatThrownBy(() -> cgn.release(S, m)).isInstanceOf(IllegalStateException.class)
            .hasMessage("log unavailable");
        log.failReleases = false;
        assertThat(cgn.pool().isHeld(cgn.pool().addressAt(0), AddressPool.externalPort(m))).isFalse();
        assertThat(cgn.heldPorts(S)).isZero();
        assertThat(cgn.activeSubscribers()).isZero();
        assertThat(cgn.unloggedReleases()).isEqualTo(1);
        assertThat(cgn.blocksInUse()).isEqualTo(1);
        // only the other block is left
        assertThat(cgn.tryAcquire(S + 1)).isNotNegative();
        assertThat(cgn.tryAcquire(S + 2)).isEqualTo(PortBlockAllocator.EXHAUSTED);
    }

    @Test
    void preservationOnlyInsideTheSubscribersBlocks() {
        PortBlockAllocator cgn = blocks("198.51.100.1", PortSet.range(1024, 2047), 11).blockSize(64).build();
        assertThat(cgn.tryAcquire(S, 1500, PortPreservation.FAIL)).isEqualTo(PortBlockAllocator.NOT_PRESERVED);
        assertThat(cgn.activeSubscribers()).isZero(); // the failed attempt left nothing behind
        long m = cgn.tryAcquire(S);
        int port = AddressPool.externalPort(m);
        int first = port - (port - 1024) % 64;
        int inside = port == first ? first + 1 : first;
        int outside = first == 1024 ? 1100 : 1024;
        assertThat(AddressPool.externalPort(cgn.tryAcquire(S, inside, PortPreservation.FAIL))).isEqualTo(inside);
        assertThat(cgn.tryAcquire(S, inside, PortPreservation.FAIL)).isEqualTo(PortBlockAllocator.NOT_PRESERVED);
        assertThat(cgn.tryAcquire(S, outside, PortPreservation.FAIL)).isEqualTo(PortBlockAllocator.NOT_PRESERVED);
        long fallback = cgn.tryAcquire(S, outside, PortPreservation.FALLBACK);
        assertThat(AddressPool.externalPort(fallback)).isBetween(first, first + 63);
        assertThat(cgn.heldPorts(S)).isEqualTo(3);
        assertThatThrownBy(() -> cgn.tryAcquire(S, 65536, PortPreservation.FALLBACK))
            .isInstanceOf(IllegalArgumentException.class).hasMessage("suggested port 65536 is out of range 1..65535");
    }

    @Test
    void releaseChecksOwnership() {
        PortBlockAllocator cgn = blocks("198.51.100.0/31", PortSet.range(1024, 2047), 12).blockSize(64).build();
        long m = cgn.tryAcquire(S);
        int address = AddressPool.externalAddress(m);
        int port = AddressPool.externalPort(m);
        assertThatThrownBy(() -> cgn.release(S + 1, m)).isInstanceOf(IllegalStateException.class)
            .hasMessage("port " + port + " of " + Ipv4List.format(address) + " is not in a block of subscriber 100.64.0.1");
        int neighbour = port == 2047 ? port - 1 : port + 1;
        if ((neighbour - 1024) / 64 == (port - 1024) / 64) {
            assertThatThrownBy(() -> cgn.release(S, address, neighbour)).isInstanceOf(IllegalStateException.class)
                .hasMessage("port " + neighbour + " of " + Ipv4List.format(address) + " is not held");
        }
        assertThatThrownBy(() -> cgn.release(S, 0xC0000201, port)).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("address 192.0.2.1 is not in the pool 198.51.100.0..198.51.100.1");
        assertThatThrownBy(() -> cgn.release(S, address, 0)).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("port 0 is out of range 1..65535");
        assertThatThrownBy(() -> cgn.release(S, -1L)).isInstanceOf(IllegalArgumentException.class);
        assertThat(cgn.heldPorts(S)).isEqualTo(1);
        cgn.release(S, m);
        assertThatThrownBy(() -> cgn.release(S, m)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void extremeSubscriberAddresses() {
        PortBlockAllocator cgn = blocks("198.51.100.0/30", PortSet.range(1024, 2047), 13).blockSize(64).build();
        long zero = cgn.tryAcquire(0);
        long all = cgn.tryAcquire(-1); // 255.255.255.255
        assertThat(cgn.heldPorts(0)).isEqualTo(1);
        assertThat(cgn.heldPorts(-1)).isEqualTo(1);
        cgn.release(0, zero);
        cgn.release(-1, all);
        assertThat(cgn.activeSubscribers()).isZero();
    }

    @Test
    void rejectsBadConfiguration() {
        assertThatThrownBy(() -> blocks("198.51.100.1", PortSet.range(1024, 2047), 1).blockSize(0).build())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("blockSize 0 is out of range 1..1024 (the automatic ports 1024..2047)");
        assertThatThrownBy(() -> blocks("198.51.100.1", PortSet.range(1024, 2047), 1).blockSize(1025).build())
            .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("blockSize 1025 is out of range");
        assertThatThrownBy(() -> blocks("198.51.100.1", PortSet.range(1024, 2047), 1).maxBlocksPerSubscriber(0).build())
            .isInstanceOf(IllegalArgumentException.class).hasMessage("maxBlocksPerSubscriber 0 is out of range 1..1024");
        assertThatThrownBy(() -> blocks("198.51.100.1", PortSet.range(1024, 2047), 1).blockSize(64)
                .maxBlocksPerSubscriber(2).maxPortsPerSubscriber(129).build())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("maxPortsPerSubscriber 129 is out of range 1..128 (maxBlocksPerSubscriber 2 x blockSize 64)");
        assertThatThrownBy(() -> PortBlockAllocator.builder(AddressPool.builder().external("198.51.100.1")
                .preserveParity(true)).build())
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("parity preservation is not supported");
        assertThatThrownBy(() -> PortBlockAllocator.builder(AddressPool.builder().external("198.51.100.1")
                .ports(PortSet.range(1024, 1100)).reserved(PortSet.range(1024, 1087))).blockSize(64).build())
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no block of 64 ports from 1024");
        assertThatThrownBy(() -> PortBlockAllocator.builder(AddressPool.builder()).build())
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("external addresses are not set");
    }
}
