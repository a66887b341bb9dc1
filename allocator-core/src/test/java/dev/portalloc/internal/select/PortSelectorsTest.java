package dev.portalloc.internal.select;

import dev.portalloc.internal.random.IndexSource;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The exact probe sequences of the selectors (research doc §1 and §2.4), against a context in which no port is
 * suitable: every candidate is recorded, and the complete search runs once the published sequence gives up.
 */
class PortSelectorsTest {
    /** Index space 0..size-1 mapped to ports 100+index; nothing suitable; a fixed hash per purpose. */
    private static final class Recording implements SelectionContext {
        final int size;
        final long offsetHash;
        final long indexHash;
        final List<Integer> candidates = new ArrayList<>();
        int completeSearches;

        Recording(int size, long offsetHash, long indexHash) {
            this.size = size;
            this.offsetHash = offsetHash;
            this.indexHash = indexHash;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public int port(int index) {
            assertThat(index).isBetween(0, size - 1);
            return 100 + index;
        }

        @Override
        public boolean tryClaim(int port) {
            candidates.add(port - 100);
            return false;
        }

        @Override
        public int refusedRun(int index, int step, int limit, IndexSource tally) {
            return 0; // the words refuse nothing: every candidate reaches tryClaim and is recorded
        }

        @Override
        public int completeSearch(IndexSource random) {
            completeSearches++;
            return NONE;
        }

        @Override
        public long hash(long purpose) {
            return purpose == PURPOSE_OFFSET ? offsetHash : indexHash;
        }
    }

    private static IndexSource constant(int value) {
        return bound -> value % bound;
    }

    private static IndexSource script(int... values) {
        int[] i = {0};
        return bound -> {
            int v = values[i[0]++ % values.length];
            assertThat(v).isLessThan(bound);
            return v;
        };
    }

    @Test
    void bsdSequentialWalksUpFromTheFirstPortAndKeepsCounting() {
        PortSelector s = PortSelectors.bsdSequential();
        Recording ctx = new Recording(10, 0, 0);
        assertThat(s.select(ctx, constant(0))).isEqualTo(SelectionContext.NONE);
        assertThat(ctx.candidates).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(ctx.completeSearches).isEqualTo(1);
        Recording next = new Recording(7, 0, 0); // counter 10 continues, modulo the new size
        s.select(next, constant(0));
        assertThat(next.candidates).containsExactly(3, 4, 5, 6, 0, 1, 2);
    }

    @Test
    void randomStartScansOnceAroundFromItsRandomStart() {
        Recording ctx = new Recording(10, 0, 0);
        PortSelectors.randomStart().select(ctx, constant(7));
        assertThat(ctx.candidates).containsExactly(7, 8, 9, 0, 1, 2, 3, 4, 5, 6);
        assertThat(ctx.completeSearches).isEqualTo(1);
    }

    @Test
    void randomProbeDrawsCandidatesThenHandsOverToTheCompleteSearch() {
        Recording ctx = new Recording(5, 0, 0);
        PortSelectors.randomProbe().select(ctx, script(4, 4, 1, 0, 2));
        assertThat(ctx.candidates).containsExactly(4, 4, 1, 0, 2); // at most num_ephemeral
        assertThat(ctx.completeSearches).isEqualTo(1);

        Recording large = new Recording(1000, 0, 0);
        PortSelectors.randomProbe().select(large, constant(7));
        assertThat(large.candidates).hasSize(PortSelectors.RANDOM_PROBES).containsOnly(7);
        assertThat(large.completeSearches).isEqualTo(1);
    }

    @Test
    void hashAddsTheOffsetToAGlobalCounter() {
        PortSelector s = PortSelectors.hash();
        Recording ctx = new Recording(10, 13, 0); // offset 3
        s.select(ctx, constant(0));
        assertThat(ctx.candidates).containsExactly(3, 4, 5, 6, 7, 8, 9, 0, 1, 2);
        Recording other = new Recording(10, -1L, 0); // offset (2^64 - 1) mod 10 = 5; counter now 10
        s.select(other, constant(0));
        assertThat(other.candidates).containsExactly(5, 6, 7, 8, 9, 0, 1, 2, 3, 4);
    }

    @Test
    void doubleHashAdvancesOnlyTheSelectedBucket() {
        PortSelector s = PortSelectors.doubleHash(4, script(5, 20, 30, 40)); // table {5, 20, 30, 40}
        Recording ctx = new Recording(10, 3, 4); // offset 3, index 4 mod 4 = 0
        s.select(ctx, constant(0));
        assertThat(ctx.candidates).containsExactly(8, 9, 0, 1, 2, 3, 4, 5, 6, 7); // (3 + 5..14) mod 10
        Recording bucket1 = new Recording(10, 0, 1); // offset 0, index 1: table[1] = 20, untouched
        s.select(bucket1, constant(0));
        assertThat(bucket1.candidates.get(0)).isEqualTo(0);
        Recording again = new Recording(10, 3, 0); // bucket 0 now 15
        s.select(again, constant(0));
        assertThat(again.candidates.get(0)).isEqualTo((3 + 15) % 10);
    }

    @Test
    void randomIncrementsAddsOneToNPerCandidate() {
        PortSelector s = PortSelectors.randomIncrements(3, constant(65530)); // next_ephemeral = 65530
        Recording ctx = new Recording(10, 0, 0);
        s.select(ctx, script(2, 0, 1)); // +3, +1, +2, ...
        assertThat(ctx.candidates).containsExactly(3, 4, 6, 9, 0, 2, 5, 6, 8, 1);
        assertThat(ctx.completeSearches).isEqualTo(1);
    }

    @Test
    void linuxBindScansOddOffsetsThenEvenInStepsOfTwo() {
        Recording ctx = new Recording(10, 0, 0);
        PortSelectors.linuxBind().select(ctx, constant(4)); // offset 4 | 1 = 5
        assertThat(ctx.candidates).containsExactly(5, 7, 9, 1, 3, 4, 6, 8, 0, 2);
        assertThat(ctx.completeSearches).isEqualTo(1);

        Recording odd = new Recording(11, 0, 0); // remaining rounded down to 10: index 10 only via the fallback
        PortSelectors.linuxBind().select(odd, constant(9)); // offset 9
        assertThat(odd.candidates).containsExactly(9, 1, 3, 5, 7, 8, 0, 2, 4, 6);

        Recording one = new Recording(1, 0, 0);
        PortSelectors.linuxBind().select(one, constant(0));
        assertThat(one.candidates).containsExactly(0, 0);
    }

    /**
     * A context over ports 100..100+size-1 where a port is refused when it is held (claimed earlier, or
     * pre-held) or "used" (refused by tryClaim only, as a tuple to a non-hot destination is). With
     * {@code words} on, {@link #refusedRun} reports held ports as the bitmap words would; off, it reports none,
     * so every candidate reaches tryClaim: the port-by-port sequence.
     */
    private static final class Occupied implements SelectionContext {
        final int size;
        final boolean words;
        final java.util.BitSet held;
        final java.util.BitSet used;
        final long hash;
        final List<Integer> tried = new ArrayList<>();
        int heldTries;

        Occupied(int size, boolean words, java.util.BitSet held, java.util.BitSet used, long hash) {
            this.size = size;
            this.words = words;
            this.held = (java.util.BitSet) held.clone();
            this.used = used;
            this.hash = hash;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public int port(int index) {
            assertThat(index).isBetween(0, size - 1);
            return 100 + index;
        }

        @Override
        public boolean tryClaim(int port) {
            final int index = port - 100;
            tried.add(index);
            heldTries += held.get(index) ? 1 : 0;
            if (held.get(index) || used.get(index)) {
                return false;
            }
            held.set(index);
            return true;
        }

        @Override
        public int refusedRun(int index, int step, int limit, IndexSource tally) {
            assertThat(limit).isPositive();
            assertThat(index + (limit - 1) * step).isLessThan(size);
            int k = 0;
            while (words && k < limit && held.get(index + k * step)) {
                k++;
            }
            return k;
        }

        @Override
        public int completeSearch(IndexSource random) {
            final int free = held.nextClearBit(0);
            return free < size ? 100 + free : NONE; // deterministic, the same in both contexts
        }

        @Override
        public long hash(long purpose) {
            return hash * purpose;
        }
    }

    /**
     * The word-level shortcut changes nothing observable: over random occupancies (runs of held ports, some used
     * ones), each algorithm with the shortcut returns the same ports, call after call (so its counters moved
     * alike), as the same algorithm probing port by port, and it tries only candidates the words left open.
     */
    @Test
    void skippingRefusedRunsYieldsTheSamePortsAndCounters() {
        final java.util.Random setup = new java.util.Random(42); // test data only; the selectors draw from seeded sources
        for (int round = 0; round < 300; round++) {
            final int size = 1 + setup.nextInt(round % 3 == 0 ? 9 : 300);
            final java.util.BitSet held = new java.util.BitSet();
            final java.util.BitSet used = new java.util.BitSet();
            final double density = setup.nextDouble();
            for (int i = 0; i < size; i++) {
                if (setup.nextDouble() < density) {
                    held.set(i);
                } else if (setup.nextInt(8) == 0) {
                    used.set(i);
                }
            }
            final long hash = setup.nextLong();
            final long seed = setup.nextLong();
            final String[] names = {"bsdSequential", "randomStart", "hash", "doubleHash", "randomIncrements", "linuxBind",
                "linuxConnect"};
            for (String name : names) {
                final PortSelector shortcut = selector(name, seed);
                final PortSelector plain = selector(name, seed);
                final Occupied fast = new Occupied(size, true, held, used, hash);
                final Occupied slow = new Occupied(size, false, held, used, hash);
                final IndexSource fastRandom = dev.portalloc.internal.random.RandomSource.fromSeed(seed, 1);
                final IndexSource slowRandom = dev.portalloc.internal.random.RandomSource.fromSeed(seed, 1);
                for (int call = 0; call < 6; call++) {
                    final int expected = plain.select(slow, slowRandom);
                    assertThat(shortcut.select(fast, fastRandom)).as("%s, size %d, call %d", name, size, call)
                        .isEqualTo(expected);
                }
                assertThat(fast.heldTries).as("%s tried ports the words refuse", name).isZero();
                assertThat(fast.tried.size()).as(name).isLessThanOrEqualTo(slow.tried.size());
            }
        }
    }

    private static PortSelector selector(String name, long seed) {
        final IndexSource init = dev.portalloc.internal.random.RandomSource.fromSeed(seed, 2);
        return switch (name) {
            case "bsdSequential" -> PortSelectors.bsdSequential();
            case "randomStart" -> PortSelectors.randomStart();
            case "hash" -> PortSelectors.hash();
            case "doubleHash" -> PortSelectors.doubleHash(8, init);
            case "randomIncrements" -> PortSelectors.randomIncrements(1 + (int) (seed & 511), init);
            case "linuxBind" -> PortSelectors.linuxBind();
            case "linuxConnect" -> PortSelectors.linuxConnect(8, init);
            default -> throw new IllegalArgumentException(name);
        };
    }
}
