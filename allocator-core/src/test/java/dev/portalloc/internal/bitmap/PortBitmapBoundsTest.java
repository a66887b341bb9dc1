package dev.portalloc.internal.bitmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

import dev.portalloc.ChiSquare;
import dev.portalloc.PortSet;
import dev.portalloc.internal.random.IndexSource;
import dev.portalloc.internal.random.RandomSource;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.quicktheories.core.Gen;

/**
 * {@link PortBitmap}'s free-port bounds per block (docs/design/summary-counts.md): their definition after any
 * sequence of operations, the uniformity of the exact pass where they overstate (every draw past a block's free
 * ports is rejected), and the verdict where a bound is 0.
 */
class PortBitmapBoundsTest {
    /**
     * The automatic set of the property: blocks 1 and 2 (ports 1024-3071) but the first 6 and the last 11 ports,
     * so that words 32 (ports 1024-1055) and 95 (3040-3071) are edge words, partly automatic.
     */
    private static final PortSet AUTOMATIC = PortSet.range(1030, 3060);
    /** The words the steps act on: an edge word and an inner word of block 1, an edge word, a word outside. */
    private static final int[] STEP_WORDS = {32, 33, 95, 96};

    /** One step: 0-3 claim (tryClaim, tryClaimShared, select, select), 4-6 release (exclusive, shared, any). */
    record Step(int kind, int port) {
    }

    private static Gen<Step> steps() {
        // Ports of four words, so that words fill up and empty out within a few hundred steps; explicit claims
        // and releases also take the edge words' and word 96's ports outside the automatic set.
        return integers().between(0, 6).zip(integers().between(0, 127),
            (kind, i) -> new Step(kind, STEP_WORDS[i >>> 5] * 32 + (i & 31)));
    }

    /**
     * The exact pass keeps one weight per block in its source's scratch: both kinds of source must hold them all,
     * and a generator must hand out the same array each time (an exact pass allocates nothing).
     */
    @Test
    void scratchHoldsAWeightPerBlockAndIsKeptByTheGenerator() {
        final RandomSource random = RandomSource.fromSeed(1, 0);
        final IndexSource scripted = bound -> 0;
        assertThat(random.scratch()).hasSizeGreaterThanOrEqualTo(PortBitmap.BLOCKS).isSameAs(random.scratch());
        assertThat(scripted.scratch()).hasSizeGreaterThanOrEqualTo(PortBitmap.BLOCKS).isSameAs(scripted.scratch());
    }

    /**
     * After every step of a random sequence (single-threaded, so nothing is in flight), each block's bound equals
     * the sum of its words' weights, and the weights follow their definition. A bound that a claim forgot to lower,
     * or that a release raised by the wrong amount, fails here, shrunk to a short sequence.
     */
    @Test
    void boundsEqualTheSumOfTheWordsWeightsAfterEveryStep() {
        qt().withExamples(300).withShrinkCycles(100)
            .forAll(lists().of(steps()).ofSizeBetween(1, 400), longs().all())
            .checkAssert(this::runSteps);
    }

    private void runSteps(List<Step> steps, long seed) {
        final PortBitmap bitmap = new PortBitmap(new Selection(AUTOMATIC, PortSet.empty()));
        final RandomSource random = RandomSource.fromSeed(seed, 0);
        final BitSet held = new BitSet();
        final BitSet shared = new BitSet();
        // Start half full, so that words cross the exact-weight threshold in both directions.
        final SplittableRandom fill = new SplittableRandom(seed);
        for (int p = 1024; p <= 3103; p++) {
            if (fill.nextBoolean() && bitmap.tryClaim(p)) {
                held.set(p);
            }
        }
        checkBounds(bitmap, "after the fill");
        for (Step step : steps) {
            final int p = step.port();
            switch (step.kind()) {
                case 0 -> {
                    if (bitmap.tryClaim(p)) {
                        held.set(p);
                    }
                }
                case 1 -> {
                    if (bitmap.tryClaimShared(p)) {
                        held.set(p);
                        shared.set(p);
                    }
                }
                case 2, 3 -> {
                    final int q = bitmap.select(random);
                    if (q != PortBitmap.NONE) {
                        assertThat(held.get(q)).as("select returned held port %d", q).isFalse();
                        assertThat(AUTOMATIC.contains(q)).as("select returned port %d", q).isTrue();
                        held.set(q);
                    }
                }
                case 4 -> {
                    assertThat(bitmap.release(p)).isEqualTo(held.get(p) && !shared.get(p));
                    if (!shared.get(p)) {
                        held.clear(p);
                    }
                }
                case 5 -> {
                    assertThat(bitmap.releaseShared(p)).isEqualTo(shared.get(p));
                    if (shared.get(p)) {
                        held.clear(p);
                        shared.clear(p);
                    }
                }
                default -> {
                    final int q = held.nextSetBit(1024);
                    if (q >= 0 && !shared.get(q)) {
                        assertThat(bitmap.release(q)).isTrue();
                        held.clear(q);
                    }
                }
            }
            checkBounds(bitmap, "after " + step);
        }
    }

    /** Each bound is the sum of its words' weights, a weight counting the word's free automatic ports only. */
    private static void checkBounds(PortBitmap bitmap, String when) {
        for (int b = 0; b < PortBitmap.BLOCKS; b++) {
            int sum = 0;
            for (int w = b << PortBitmap.BLOCK_SHIFT; w < (b + 1) << PortBitmap.BLOCK_SHIFT; w++) {
                final int free = Long.bitCount(~bitmap.word(w) & bitmap.automaticMask(w));
                final int weight = PortBitmap.weight(free);
                assertThat(weight).as("weight of %d free ports", free).isGreaterThanOrEqualTo(free);
                assertThat(weight == 0).isEqualTo(free == 0);
                sum += weight;
            }
            assertThat(bitmap.freeBound(b)).as("bound of block %d %s", b, when).isEqualTo(sum);
        }
    }

    /**
     * The exact pass over a block whose bound overstates: block 1 (1024-2047) is the selection; word 0 of the block
     * keeps 2 free ports (weight 2, exact), the 31 others 9-31 free ports each (weight 32: the bound overstates by
     * about a third, so many draws are rejected). Probes are made to miss (an index source that answers 0, port
     * 1024, held, for the probes' bound), so every selection goes through the exact pass. Each free port must be
     * chosen equally often.
     */
    @Test
    void theExactPassIsUniformWhereBoundsOverstate() {
        final PortSet block = PortSet.range(1024, 2047);
        final PortBitmap bitmap = new PortBitmap(new Selection(block, PortSet.empty()));
        final SplittableRandom fill = new SplittableRandom(11);
        for (int w = 32; w < 64; w++) {
            final int keepFree = w == 32 ? 2 : 9 + fill.nextInt(23);
            for (int i = 0; i < 32 - keepFree; i++) {
                assertThat(bitmap.tryClaim(w * 32 + i)).isTrue(); // port 1024 (w = 32, i = 0) is held
            }
        }
        final int bound = bitmap.freeBound(1);
        final int[] free = block.toArray();
        final int freeCount = (int) java.util.Arrays.stream(free).filter(p -> !bitmap.isHeld(p)).count();
        assertThat(bound).as("the bound overstates").isGreaterThan(freeCount + 100);
        final RandomSource real = RandomSource.fromSeed(5, 0);
        final int[] drawsSeen = new int[2];
        final IndexSource missingProbes = new IndexSource() {
            @Override
            public long nextBits() {
                drawsSeen[0]++;
                return 0L; // a round of four probes, all at offset 0: port 1024, held
            }

            @Override
            public int nextIndex(int n) {
                drawsSeen[1]++;
                return real.nextIndex(n);
            }
        };
        final long[] counts = new long[65536];
        final int selections = 200 * freeCount;
        for (int i = 0; i < selections; i++) {
            final int p = bitmap.select(missingProbes);
            assertThat(p).isBetween(1025, 2047);
            counts[p]++;
            assertThat(bitmap.release(p)).isTrue();
        }
        assertThat(drawsSeen[1]).as("exact-pass draws, with rejections").isGreaterThan(selections * 21 / 20);
        final long[] perFreePort = java.util.Arrays.stream(free).filter(p -> !bitmap.isHeld(p))
            .mapToLong(p -> counts[p]).toArray();
        assertThat(perFreePort.length).isEqualTo(freeCount);
        assertThat(ChiSquare.statistic(perFreePort, 200.0)).isLessThan(ChiSquare.criticalValue(freeCount - 1));
        assertThat(bitmap.freeBound(1)).as("selection leaves the bound as it was").isEqualTo(bound);
    }

    /**
     * Bounds count free automatic ports only: Linux's range ends in word 1906 (ports 60992-61023, 8 of them
     * automatic) of block 59, whose free ports past 60999 and explicit claims there leave the bound alone. Block 59
     * is weighed by its bound, so the verdict is NONE with 440 ports of the block free.
     */
    @Test
    void boundsCountOnlyAutomaticPorts() {
        final PortBitmap bitmap = new PortBitmap(new Selection(PortSet.range(32768, 60999), PortSet.empty()));
        assertThat(bitmap.freeBound(59)).isEqualTo(18 * 32 + 8);
        assertThat(bitmap.freeBound(60)).isZero();
        for (int p = 60416; p <= 60999; p++) {
            assertThat(bitmap.tryClaim(p)).isTrue();
        }
        assertThat(bitmap.freeBound(59)).isZero();
        assertThat(bitmap.tryClaim(61000)).isTrue();
        assertThat(bitmap.tryClaim(62000)).isTrue();
        assertThat(bitmap.freeBound(59)).isZero();
        assertThat(bitmap.freeBound(60)).isZero();
        assertThat(bitmap.release(61000)).isTrue();
        assertThat(bitmap.freeBound(59)).isZero();
        for (int p = 32768; p < 60416; p++) {
            assertThat(bitmap.tryClaim(p)).isTrue();
        }
        final RandomSource random = RandomSource.fromSeed(7, 0);
        assertThat(bitmap.select(random)).isEqualTo(PortBitmap.NONE);
        assertThat(bitmap.release(60999)).isTrue();
        assertThat(bitmap.freeBound(59)).isEqualTo(1);
        assertThat(bitmap.select(random)).isEqualTo(60999);
    }

    /** The bounds' definition rests on the automatic set: a new selection may change only the reserved ports. */
    @Test
    void publishRefusesANewAutomaticSet() {
        final PortBitmap bitmap = new PortBitmap(new Selection(PortSet.range(32768, 60999), PortSet.empty()));
        final Selection other = new Selection(PortSet.range(32768, 61000), PortSet.empty());
        assertThatThrownBy(() -> bitmap.publish(other)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("32768-61000");
        assertThat(bitmap.selection().automatic()).isEqualTo(PortSet.range(32768, 60999));
    }

    /** A block read at bound 0 is full: the verdict says NONE, and a release makes its port selectable at once. */
    @Test
    void aBoundOfZeroMeansTheBlockIsFull() {
        final PortBitmap bitmap = new PortBitmap(new Selection(PortSet.range(1024, 2047), PortSet.empty()));
        for (int p = 1024; p <= 2047; p++) {
            assertThat(bitmap.tryClaim(p)).isTrue();
        }
        assertThat(bitmap.freeBound(1)).isZero();
        final RandomSource random = RandomSource.fromSeed(1, 0);
        assertThat(bitmap.select(random)).isEqualTo(PortBitmap.NONE);
        assertThat(bitmap.release(1500)).isTrue();
        assertThat(bitmap.freeBound(1)).isEqualTo(1);
        assertThat(bitmap.select(random)).isEqualTo(1500);
        assertThat(bitmap.select(random)).isEqualTo(PortBitmap.NONE);
    }

    /**
     * With everything selectable held but one port, the exact pass must find that port wherever it is (in block
     * 0 beside port 0, in a block the range covers only in part, beside reserved ports) and report NONE once it
     * is taken: blocks with reserved ports are weighed by their free selectable ports, which must count the last
     * one; a block the range covers only in part is weighed by its bound, which counts only automatic ports; and
     * the walk must not return a free port that is not selectable.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS) // a broken pass must fail the test, not hang the build
    void theLastFreePortIsFoundInPartiallySelectableBlocks() {
        record Case(PortSet selectable, PortSet reserved, int[] lastFree) {
        }
        final List<Case> cases = List.of(
            new Case(PortSet.range(1, 65535), PortSet.empty(), new int[] {1, 2, 31, 32, 2047, 2048, 40000, 65535}),
            new Case(PortSet.range(32768, 60999), PortSet.empty(), new int[] {32768, 59392, 60000, 60999}),
            new Case(PortSet.range(1, 65535), PortSet.of(1, 2, 3, 61000), new int[] {4, 60999, 61001}));
        for (Case c : cases) {
            final Selection selection = new Selection(c.selectable(), c.reserved());
            final PortBitmap bitmap = new PortBitmap(selection);
            for (int port : c.selectable().toArray()) {
                if (!c.reserved().contains(port)) {
                    assertThat(bitmap.tryClaim(port)).isTrue();
                }
            }
            final RandomSource random = RandomSource.fromSeed(3, 0);
            assertThat(bitmap.select(random)).as("full: %s", c).isEqualTo(PortBitmap.NONE);
            for (int last : c.lastFree()) {
                assertThat(bitmap.release(last)).isTrue();
                assertThat(bitmap.select(random)).as("the last free port of %s", c.selectable()).isEqualTo(last);
                assertThat(bitmap.select(random)).as("full again").isEqualTo(PortBitmap.NONE);
            }
        }
    }
}

