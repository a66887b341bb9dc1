package dev.portalloc.internal.select;

import dev.portalloc.internal.random.IndexSource;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The exact probe sequences of the selectors (research doc §1 and §2.4), against a context in which no port is
 * suitable: every candidate is recorded, and the complete search runs once the published sequence gives up.
 */
class PortSelectorsTest {
    /**
     * Index space 0..size-1 mapped to ports 100+index. A port is refused when it is held (claimed earlier, or
     * held from the start) or "used" (refused by tryClaim only, as a tuple to a non-hot destination is). With
     * {@code words} on, {@link #refusedRun} reports held ports as the bitmap words would; off, it reports none,
     * so every candidate reaches tryClaim and is recorded: the port-by-port sequence. The complete search claims
     * the lowest suitable port. {@code hash} returns a fixed value per purpose.
     */
    private static final class Context implements SelectionContext {
        final int size;
        final boolean words;
        final BitSet held;
        final BitSet used;
        final long offsetHash;
        final long indexHash;
        final List<Integer> candidates = new ArrayList<>();
        int heldTries;
        int completeSearches;

        Context(int size, boolean words, BitSet held, BitSet used, long offsetHash, long indexHash) {
            this.size = size;
            this.words = words;
            this.held = (BitSet) held.clone();
            this.used = used;
            this.offsetHash = offsetHash;
            this.indexHash = indexHash;
        }

        /** Nothing suitable, nothing refused by the words: records the whole published sequence. */
        static Context recording(int size, long offsetHash, long indexHash) {
            final BitSet all = new BitSet();
            all.set(0, size);
            return new Context(size, false, new BitSet(), all, offsetHash, indexHash);
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
            candidates.add(index);
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
            completeSearches++;
            for (int i = 0; i < size; i++) {
                if (!held.get(i) && !used.get(i)) {
                    held.set(i);
                    return 100 + i;
                }
            }
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
        Context ctx = Context.recording(10, 0, 0);
        assertThat(s.select(ctx, constant(0))).isEqualTo(SelectionContext.NONE);
        assertThat(ctx.candidates).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(ctx.completeSearches).isEqualTo(1);
        Context next = Context.recording(7, 0, 0); // counter 10 continues, modulo the new size
        s.select(next, constant(0));
        assertThat(next.candidates).containsExactly(3, 4, 5, 6, 0, 1, 2);
    }

    @Test
    void randomStartScansOnceAroundFromItsRandomStart() {
        Context ctx = Context.recording(10, 0, 0);
        PortSelectors.randomStart().select(ctx, constant(7));
        assertThat(ctx.candidates).containsExactly(7, 8, 9, 0, 1, 2, 3, 4, 5, 6);
        assertThat(ctx.completeSearches).isEqualTo(1);
    }

    @Test
    void randomProbeDrawsCandidatesThenHandsOverToTheCompleteSearch() {
        Context ctx = Context.recording(5, 0, 0);
        PortSelectors.randomProbe().select(ctx, script(4, 4, 1, 0, 2));
        assertThat(ctx.candidates).containsExactly(4, 4, 1, 0, 2); // at most num_ephemeral
        assertThat(ctx.completeSearches).isEqualTo(1);

        Context large = Context.recording(1000, 0, 0);
        PortSelectors.randomProbe().select(large, constant(7));
        assertThat(large.candidates).hasSize(PortSelectors.RANDOM_PROBES).containsOnly(7);
        assertThat(large.completeSearches).isEqualTo(1);
    }

    @Test
    void hashAddsTheOffsetToAGlobalCounter() {
        PortSelector s = PortSelectors.hash();
        Context ctx = Context.recording(10, 13, 0); // offset 3
        s.select(ctx, constant(0));
        assertThat(ctx.candidates).containsExactly(3, 4, 5, 6, 7, 8, 9, 0, 1, 2);
        Context other = Context.recording(10, -1L, 0); // offset (2^64 - 1) mod 10 = 5; counter now 10
        s.select(other, constant(0));
        assertThat(other.candidates).containsExactly(5, 6, 7, 8, 9, 0, 1, 2, 3, 4);
    }

    @Test
    void doubleHashAdvancesOnlyTheSelectedBucket() {
        PortSelector s = PortSelectors.doubleHash(4, script(5, 20, 30, 40)); // table {5, 20, 30, 40}
        Context ctx = Context.recording(10, 3, 4); // offset 3, index 4 mod 4 = 0
        s.select(ctx, constant(0));
        assertThat(ctx.candidates).containsExactly(8, 9, 0, 1, 2, 3, 4, 5, 6, 7); // (3 + 5..14) mod 10
        Context bucket1 = Context.recording(10, 0, 1); // offset 0, index 1: table[1] = 20, untouched
        s.select(bucket1, constant(0));
        assertThat(bucket1.candidates.get(0)).isEqualTo(0);
        Context again = Context.recording(10, 3, 0); // bucket 0 now 15
        s.select(again, constant(0));
        assertThat(again.candidates.get(0)).isEqualTo((3 + 15) % 10);
    }

    @Test
    void randomIncrementsAddsOneToNPerCandidate() {
        PortSelector s = PortSelectors.randomIncrements(3, constant(65530)); // next_ephemeral = 65530
        Context ctx = Context.recording(10, 0, 0);
        s.select(ctx, script(2, 0, 1)); // +3, +1, +2, ...
        assertThat(ctx.candidates).containsExactly(3, 4, 6, 9, 0, 2, 5, 6, 8, 1);
        assertThat(ctx.completeSearches).isEqualTo(1);
    }

    @Test
    void linuxBindScansOddOffsetsThenEvenInStepsOfTwo() {
        Context ctx = Context.recording(10, 0, 0);
        PortSelectors.linuxBind().select(ctx, constant(4)); // offset 4 | 1 = 5
        assertThat(ctx.candidates).containsExactly(5, 7, 9, 1, 3, 4, 6, 8, 0, 2);
        assertThat(ctx.completeSearches).isEqualTo(1);

        Context odd = Context.recording(11, 0, 0); // remaining rounded down to 10: index 10 only via the fallback
        PortSelectors.linuxBind().select(odd, constant(9)); // offset 9
        assertThat(odd.candidates).containsExactly(9, 1, 3, 5, 7, 8, 0, 2, 4, 6);

        Context one = Context.recording(1, 0, 0);
        PortSelectors.linuxBind().select(one, constant(0));
        assertThat(one.candidates).containsExactly(0, 0);
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
            final BitSet held = new BitSet();
            final BitSet used = new BitSet();
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
                final Context fast = new Context(size, true, held, used, hash, ~hash);
                final Context slow = new Context(size, false, held, used, hash, ~hash);
                final IndexSource fastRandom = dev.portalloc.internal.random.RandomSource.fromSeed(seed, 1);
                final IndexSource slowRandom = dev.portalloc.internal.random.RandomSource.fromSeed(seed, 1);
                for (int call = 0; call < 6; call++) {
                    final int expected = plain.select(slow, slowRandom);
                    assertThat(shortcut.select(fast, fastRandom)).as("%s, size %d, call %d", name, size, call)
                        .isEqualTo(expected);
                }
                assertThat(fast.heldTries).as("%s tried ports the words refuse", name).isZero();
                assertThat(fast.candidates.size()).as(name).isLessThanOrEqualTo(slow.candidates.size());
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
