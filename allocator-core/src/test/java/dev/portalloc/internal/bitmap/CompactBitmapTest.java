package dev.portalloc.internal.bitmap;

import static dev.portalloc.internal.bitmap.CompactBitmap.ALL;
import static dev.portalloc.internal.bitmap.CompactBitmap.EVEN;
import static dev.portalloc.internal.bitmap.CompactBitmap.NONE;
import static dev.portalloc.internal.bitmap.CompactBitmap.ODD;
import static dev.portalloc.internal.bitmap.CompactBitmap.WORDS;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/**
 * Single-threaded behaviour of {@link CompactBitmap}: what selection may return, the exact rank/select pass
 * (driven by a scripted {@link IndexSource} that makes every fast probe miss), explicit claims and releases,
 * a model-based property test against a {@link BitSet}, uniformity with a seeded generator, and the epoch
 * rules the concurrent verdict relies on ({@code CompactBitmapLincheckTest} checks the verdict itself).
 */
class CompactBitmapTest {
    private static final PortSet AUTOMATIC = PortSet.parse("1024-1100,5000-5003");
    /** Reserved ports: inside word 16 (1050), the first port of word 17 (1088), inside word 78 (5001). */
    private static final PortSet RESERVED = PortSet.of(1050, 1088, 5001);
    private static final PortSet SELECTABLE = AUTOMATIC.minus(RESERVED);

    private final CompactBitmap bitmap = new CompactBitmap(SELECTABLE);
    private final long[] words = bitmap.newWords();

    // ---------------------------------------------------------------------------------------------------------
    // Shape

    @Test
    void newWordsAreAllFreeWithEpochZero() {
        assertThat(CompactBitmap.LENGTH).isEqualTo(1025);
        assertThat(WORDS).isEqualTo(1024);
        assertThat(words).hasSize(CompactBitmap.LENGTH).containsOnly(0L);
        assertThat(CompactBitmap.heldCount(words)).isZero();
        assertThat(bitmap.newWords()).isNotSameAs(words);
        assertThat(bitmap.selectable()).isEqualTo(SELECTABLE);
        assertThat(EVEN | ODD).isEqualTo(ALL);
        assertThat(EVEN & ODD).isZero();
    }

    @Test
    void anEmptySelectionIsRejected() {
        assertThatThrownBy(() -> new CompactBitmap(PortSet.empty())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void isSelectableFollowsTheSelection() {
        for (int p = -70; p <= 65600; p++) {
            boolean expected = p >= 1 && p <= 65535 && SELECTABLE.contains(p);
            assertThat(bitmap.isSelectable(p)).as("port %d", p).isEqualTo(expected);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Whole selection

    @Test
    void selectionClaimsEverySelectablePortOnceThenReportsNone() {
        RandomSource random = RandomSource.fromSeed(11L, 0L);
        // explicitly held, not selectable: reserved, just outside the automatic ranges, and far away
        int[] explicit = {1050, 1088, 5001, 1023, 1101, 4999, 5004, 1, 65535};
        for (int p : explicit) {
            assertThat(bitmap.tryClaim(words, p)).as("explicit claim of %d", p).isTrue();
        }
        BitSet returned = new BitSet();
        for (int i = 0; i < SELECTABLE.size(); i++) {
            int p = bitmap.select(words, random);
            assertThat(p).as("selection %d", i).isNotEqualTo(NONE).isPositive();
            assertThat(SELECTABLE.contains(p)).as("port %d selectable", p).isTrue();
            assertThat(returned.get(p)).as("port %d returned twice", p).isFalse();
            assertThat(bitmap.isHeld(words, p)).isTrue();
            returned.set(p);
        }
        assertThat(bitmap.select(words, random)).isEqualTo(NONE);
        assertThat(bitmap.select(words, random)).isEqualTo(NONE);
        assertThat(bitmap.select(words, random, 1, 65535, ALL)).isEqualTo(NONE);
        assertThat(bitmap.select(words, random, 1, 65535, EVEN)).isEqualTo(NONE);
        assertThat(bitmap.select(words, random, 1, 65535, ODD)).isEqualTo(NONE);
        assertThat(CompactBitmap.heldCount(words)).isEqualTo(SELECTABLE.size() + explicit.length);

        // each release makes exactly that port the next selection, and then there is none again
        List<Integer> order = new ArrayList<>(SELECTABLE.stream().boxed().toList());
        Collections.shuffle(order, new Random(5));
        for (int p : order) {
            assertThat(bitmap.release(words, p)).isTrue();
            assertThat(bitmap.select(words, random)).as("after releasing %d", p).isEqualTo(p);
            assertThat(bitmap.select(words, random)).as("after reclaiming %d", p).isEqualTo(NONE);
        }
        // the same through the whole-range subset selection, with each parity
        for (int p : order) {
            assertThat(bitmap.release(words, p)).isTrue();
            long wrong = (p & 1) == 0 ? ODD : EVEN;
            assertThat(bitmap.select(words, random, SELECTABLE.first(), SELECTABLE.last(), wrong)).isEqualTo(NONE);
            long right = (p & 1) == 0 ? EVEN : ODD;
            assertThat(bitmap.select(words, random, SELECTABLE.first(), SELECTABLE.last(), right)).isEqualTo(p);
        }
        // the explicitly held ports are still held, and were never returned
        for (int p : explicit) {
            assertThat(returned.get(p)).isFalse();
            assertThat(bitmap.isHeld(words, p)).isTrue();
        }
    }

    @Test
    void selectionNeverReturnsPortZeroOrANonSelectablePort() {
        IndexSource lowest = bound -> 0;
        IndexSource highest = bound -> bound - 1;
        // the lowest draw probes port 0 / the first selectable port, the highest 65535 / the last one
        assertThat(bitmap.select(words, lowest, 0, 65535, ALL)).isEqualTo(1024);
        assertThat(bitmap.select(words, highest, 0, 65535, ALL)).isEqualTo(5003);
        assertThat(bitmap.select(words, lowest, 0, 65535, ODD)).isEqualTo(1025);
        assertThat(bitmap.select(words, highest, 0, 65535, EVEN)).isEqualTo(5002);
        assertThat(bitmap.select(words, lowest, 1040, 1060, ALL)).isEqualTo(1040);
        assertThat(bitmap.select(words, lowest, 1050, 1050, ALL)).as("reserved 1050 alone").isEqualTo(NONE);
        assertThat(bitmap.isHeld(words, 1050)).isFalse();
        assertThat(bitmap.select(words, lowest, 1101, 4999, ALL)).as("nothing selectable there").isEqualTo(NONE);
        assertThat(bitmap.select(words, lowest, 0, 1023, ALL)).as("port 0 and the ports below").isEqualTo(NONE);
        assertThat(bitmap.isHeld(words, 0)).isFalse();

        RandomSource random = RandomSource.fromSeed(3L, 1L);
        long[] parities = {ALL, EVEN, ODD};
        for (int i = 0; i < 3000; i++) {
            int first = random.nextIndex(5200);
            int last = first + random.nextIndex(5300 - first);
            long parity = parities[random.nextIndex(3)];
            int p = bitmap.select(words, random, first, last, parity);
            if (p != NONE) {
                assertThat(p).isBetween(Math.max(first, 1), last);
                assertThat(SELECTABLE.contains(p)).as("port %d", p).isTrue();
                assertThat(bitmap.release(words, p)).isTrue();
            }
        }
        assertThat(CompactBitmap.heldCount(words)).isEqualTo(5); // the 5 claimed above
    }

    // ---------------------------------------------------------------------------------------------------------
    // The fast path: rejection sampling

    /** Draws {@code script} in order, then 0 (the exact pass then takes the lowest free port); counts draws. */
    private static final class Script implements IndexSource {
        final int[] script;
        int draws;

        Script(int... script) {
            this.script = script;
        }

        @Override
        public int nextIndex(int bound) {
            int i = draws++ < script.length ? script[draws - 1] : 0;
            assertThat(i).isLessThan(bound);
            return i;
        }
    }

    /**
     * Whatever the batching of candidates, the fast path is rejection sampling: the selection is the first
     * drawn candidate that is selectable and free, in draw order; with none among the
     * {@value CompactBitmap#FAST_PROBES} draws, the exact pass decides.
     */
    @Test
    void theFastPathClaimsTheFirstFreeCandidateInDrawOrder() {
        RandomSource gen = RandomSource.fromSeed(13L, 0L);
        int n = SELECTABLE.size();
        int viaFastPath = 0;
        for (int trial = 0; trial < 3000; trial++) {
            long[] w = bitmap.newWords();
            BitSet held = new BitSet();
            int occupancy = 50 + gen.nextIndex(50);
            for (int p : SELECTABLE) {
                if (gen.nextIndex(100) < occupancy) {
                    bitmap.tryClaim(w, p);
                    held.set(p);
                }
            }
            // the whole selection: candidates are SELECTABLE.nth(index)
            int[] script = new int[CompactBitmap.FAST_PROBES];
            for (int i = 0; i < script.length; i++) {
                script[i] = gen.nextIndex(n);
            }
            int expected = NONE;
            for (int index : script) {
                if (!held.get(SELECTABLE.nth(index))) {
                    expected = SELECTABLE.nth(index);
                    break;
                }
            }
            if (expected == NONE) {
                List<Integer> free = freeIn(held, SELECTABLE, 0, 65535, ALL);
                expected = free.isEmpty() ? NONE : free.get(0);
            } else {
                viaFastPath++;
            }
            assertThat(bitmap.select(w, new Script(script))).as("trial %d, draws %s", trial, Arrays.toString(script))
                .isEqualTo(expected);

            // a subset: candidates are start + step * index, selectable or not
            int first = 1000 + gen.nextIndex(80);
            int last = first + gen.nextIndex(4100);
            long parity = PARITIES[gen.nextIndex(3)];
            int step = parity == ALL ? 1 : 2;
            int start = inParity(first, parity) ? first : first + 1;
            int m = (last - start) / step + 1;
            int[] subScript = new int[CompactBitmap.FAST_PROBES];
            for (int i = 0; i < subScript.length; i++) {
                subScript[i] = gen.nextIndex(m);
            }
            int subExpected = NONE;
            for (int index : subScript) {
                int p = start + step * index;
                if (bitmap.isSelectable(p) && !held.get(p) && p != expected) {
                    subExpected = p;
                    break;
                }
            }
            if (subExpected == NONE) {
                BitSet now = (BitSet) held.clone();
                if (expected != NONE) {
                    now.set(expected);
                }
                List<Integer> free = freeIn(now, SELECTABLE, first, last, parity);
                subExpected = free.isEmpty() ? NONE : free.get(0);
            }
            String what = String.format("trial %d, select(%d, %d, %s), draws %s", trial, first, last, name(parity),
                Arrays.toString(subScript));
            assertThat(bitmap.select(w, new Script(subScript), first, last, parity)).as(what).isEqualTo(subExpected);
        }
        assertThat(viaFastPath).isBetween(1000, 2900);
    }

    /** A pair whose first candidate is held and whose second is free, in another word: the second is taken. */
    @Test
    void theSecondCandidateOfAPairIsTestedInItsOwnWord() {
        for (int p : SELECTABLE) {
            assertThat(bitmap.tryClaim(words, p)).isTrue();
        }
        assertThat(bitmap.release(words, 5002)).isTrue();
        // 1032 is bit 8 of word 16, whose bit 10 (1034) is held; 5002 is bit 10 of word 78, whose bit 8 (5000)
        // is held: testing either candidate against the other's word, or the other's bit, would reject 5002
        int[] pairs = new int[CompactBitmap.FAST_PROBES];
        for (int i = 0; i < pairs.length; i++) {
            pairs[i] = SELECTABLE.rank(i % 2 == 0 ? 1032 : 5002);
        }
        Script script = new Script(pairs);
        assertThat(bitmap.select(words, script)).isEqualTo(5002);
        assertThat(script.draws).as("draws: no exact pass").isLessThanOrEqualTo(CompactBitmap.FAST_PROBES);
    }

    // ---------------------------------------------------------------------------------------------------------
    // The exact pass: rank/select

    /**
     * A source whose {@value CompactBitmap#FAST_PROBES} fast-path draws return {@code miss} (an index whose
     * candidate cannot be claimed) and whose next draw, the exact pass's, must have bound {@code expectedTotal}
     * (the number of free ports the pass counted) and returns {@code r}.
     */
    private static IndexSource scripted(int miss, int expectedTotal, int r) {
        int[] calls = {0};
        return bound -> {
            calls[0]++;
            if (calls[0] <= CompactBitmap.FAST_PROBES) {
                assertThat(miss).isLessThan(bound);
                return miss;
            }
            assertThat(calls[0]).as("one exact draw").isEqualTo(CompactBitmap.FAST_PROBES + 1);
            assertThat(bound).as("free ports counted by the exact pass").isEqualTo(expectedTotal);
            return r;
        };
    }

    /** The free selectable ports of {@code first..last} with the parity, ascending, per the model. */
    private static List<Integer> freeIn(BitSet held, PortSet selectable, int first, int last, long parity) {
        List<Integer> free = new ArrayList<>();
        for (int p : selectable) {
            if (p >= first && p <= last && !held.get(p) && inParity(p, parity)) {
                free.add(p);
            }
        }
        return free;
    }

    private static boolean inParity(int p, long parity) {
        return parity == ALL || (parity == EVEN) == ((p & 1) == 0);
    }

    @Test
    void theExactPassReturnsTheRthFreePortOfTheWholeSelection() {
        for (int pattern = 0; pattern < 4; pattern++) {
            long[] w = bitmap.newWords();
            BitSet held = new BitSet();
            for (int p : SELECTABLE) {
                int rank = SELECTABLE.rank(p);
                boolean hold = rank == 0 || switch (pattern) {
                    case 0 -> false;
                    case 1 -> rank % 3 == 0;
                    case 2 -> rank % 2 == 1;
                    default -> p != 1087 && p != 1089 && p != 5003; // only the word edges free
                };
                if (hold) {
                    assertThat(bitmap.tryClaim(w, p)).isTrue();
                    held.set(p);
                }
            }
            List<Integer> free = freeIn(held, SELECTABLE, 0, 65535, ALL);
            for (int r = 0; r < free.size(); r++) {
                // index 0 is 1024, held: every fast probe misses
                int p = bitmap.select(w, scripted(0, free.size(), r));
                assertThat(p).as("pattern %d, r = %d", pattern, r).isEqualTo(free.get(r));
                assertThat(bitmap.release(w, p)).isTrue();
            }
        }
    }

    @Test
    void theExactPassReturnsTheRthFreePortOfASubset() {
        int[] firsts = {1, 1024, 1025, 1030, 1063, 1064, 1086, 1087, 1088, 1089, 1099, 1100, 4990, 5000, 5002, 5003};
        int[] lasts = {1024, 1025, 1050, 1062, 1063, 1064, 1087, 1088, 1089, 1100, 1101, 4000, 5001, 5002, 5003, 65535};
        long[] parities = {ALL, EVEN, ODD};
        int checked = 0;
        for (int pattern = 0; pattern < 3; pattern++) {
            for (int first : firsts) {
                for (int last : lasts) {
                    if (last < first) {
                        continue;
                    }
                    for (long parity : parities) {
                        checked += checkSubset(pattern, first, last, parity);
                    }
                }
            }
        }
        assertThat(checked).as("exact selections checked").isGreaterThan(10_000);
    }

    /** @return the number of exact selections made */
    private int checkSubset(int pattern, int first, int last, long parity) {
        long[] w = bitmap.newWords();
        BitSet held = new BitSet();
        for (int p : SELECTABLE) {
            int rank = SELECTABLE.rank(p);
            boolean hold = pattern == 1 ? rank % 3 == 0 : pattern == 2 && rank % 2 == 1;
            if (hold) {
                bitmap.tryClaim(w, p);
                held.set(p);
            }
        }
        int start = inParity(first, parity) ? first : first + 1;
        if (start <= last && bitmap.isSelectable(start) && !held.get(start)) {
            bitmap.tryClaim(w, start); // index 0 is start: make it a miss
            held.set(start);
        }
        String what = String.format("pattern %d, select(%d, %d, %s)", pattern, first, last, name(parity));
        List<Integer> free = freeIn(held, SELECTABLE, first, last, parity);
        if (free.isEmpty()) {
            assertThat(bitmap.select(w, scripted(0, 0, 0), first, last, parity)).as(what).isEqualTo(NONE);
            assertThat(Arrays.copyOf(w, WORDS)).as(what + " changed nothing").isEqualTo(toWords(held));
            return 0;
        }
        for (int r = 0; r < free.size(); r++) {
            int p = bitmap.select(w, scripted(0, free.size(), r), first, last, parity);
            assertThat(p).as("%s, r = %d", what, r).isEqualTo(free.get(r));
            assertThat(bitmap.release(w, p)).isTrue();
        }
        return free.size();
    }

    private static String name(long parity) {
        return parity == ALL ? "ALL" : parity == EVEN ? "EVEN" : "ODD";
    }

    private static long[] toWords(BitSet held) {
        return Arrays.copyOf(held.toLongArray(), WORDS);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Subsets

    @Test
    void subsetSelectionReturnsOnlyPortsOfTheRangeAndParity() {
        RandomSource random = RandomSource.fromSeed(21L, 0L);
        int[][] ranges = {{1030, 1090}, {1025, 1025}, {1063, 1064}, {1087, 1089}, {1000, 5002}, {1099, 5000}};
        for (int[] range : ranges) {
            for (long parity : new long[] {ALL, EVEN, ODD}) {
                long[] w = bitmap.newWords();
                List<Integer> expected = freeIn(new BitSet(), SELECTABLE, range[0], range[1], parity);
                List<Integer> got = new ArrayList<>();
                for (int i = 0; i < expected.size(); i++) {
                    int p = bitmap.select(w, random, range[0], range[1], parity);
                    assertThat(p).as("select(%d, %d, %s) #%d", range[0], range[1], name(parity), i).isNotEqualTo(NONE);
                    got.add(p);
                }
                assertThat(bitmap.select(w, random, range[0], range[1], parity)).isEqualTo(NONE);
                Collections.sort(got);
                assertThat(got).as("select(%d, %d, %s)", range[0], range[1], name(parity)).isEqualTo(expected);
                // every other port is still free
                assertThat(CompactBitmap.heldCount(w)).isEqualTo(expected.size());
            }
        }
    }

    @Test
    void aSubsetIsExhaustedWhileOtherPortsAreFree() {
        IndexSource lowest = bound -> 0;
        RandomSource random = RandomSource.fromSeed(4L, 0L);
        // hold the even selectable ports of 1030..1090
        for (int p = 1030; p <= 1090; p += 2) {
            if (bitmap.isSelectable(p)) {
                assertThat(bitmap.tryClaim(words, p)).isTrue();
            }
        }
        long epoch = CompactBitmap.epoch(words);
        assertThat(bitmap.select(words, lowest, 1030, 1090, EVEN)).isEqualTo(NONE);
        assertThat(bitmap.select(words, random, 1030, 1090, EVEN)).isEqualTo(NONE);
        assertThat(bitmap.select(words, random, 1031, 1089, EVEN)).isEqualTo(NONE);
        assertThat(bitmap.select(words, lowest, 1029, 1091, EVEN)).as("1092 is outside").isEqualTo(NONE);
        assertThat(bitmap.select(words, lowest, 1029, 1092, EVEN)).isEqualTo(1092);
        assertThat(bitmap.select(words, lowest, 1030, 1090, ODD)).isEqualTo(1031);
        assertThat(bitmap.select(words, lowest, 1030, 1090, ALL)).isEqualTo(1033);
        assertThat(bitmap.select(words, lowest, 1030, 1090, EVEN)).isEqualTo(NONE);
        assertThat(CompactBitmap.epoch(words)).as("selections never change the epoch").isEqualTo(epoch);
        // the word edges: 1086 is the last even port of word 16, 1090 the first selectable even of word 17
        assertThat(bitmap.release(words, 1086)).isTrue();
        assertThat(bitmap.select(words, random, 1030, 1090, EVEN)).isEqualTo(1086);
        assertThat(bitmap.release(words, 1090)).isTrue();
        assertThat(bitmap.select(words, random, 1030, 1089, EVEN)).as("1090 is outside").isEqualTo(NONE);
        assertThat(bitmap.select(words, random, 1030, 1090, EVEN)).isEqualTo(1090);
        assertThat(bitmap.release(words, 1030)).isTrue();
        assertThat(bitmap.select(words, random, 1031, 1090, EVEN)).as("1030 is outside").isEqualTo(NONE);
        assertThat(bitmap.select(words, random, 1030, 1090, EVEN)).isEqualTo(1030);
    }

    @Test
    void subsetEdgeCases() {
        IndexSource lowest = bound -> 0;
        // first == last
        assertThat(bitmap.select(words, lowest, 1030, 1030, ODD)).isEqualTo(NONE);
        assertThat(bitmap.select(words, lowest, 1031, 1031, EVEN)).isEqualTo(NONE);
        assertThat(bitmap.select(words, lowest, 1030, 1030, EVEN)).isEqualTo(1030);
        assertThat(bitmap.select(words, lowest, 1030, 1030, ALL)).isEqualTo(NONE);
        assertThat(bitmap.select(words, lowest, 1031, 1031, ALL)).isEqualTo(1031);
        assertThat(bitmap.select(words, lowest, 1031, 1031, ODD)).isEqualTo(NONE);
        assertThat(bitmap.select(words, lowest, 1088, 1088, ALL)).as("reserved").isEqualTo(NONE);
        // first odd with EVEN, first even with ODD: the candidates start one port later
        assertThat(bitmap.select(words, lowest, 1025, 1100, EVEN)).isEqualTo(1026);
        assertThat(bitmap.select(words, lowest, 1024, 1100, ODD)).isEqualTo(1025);
        assertThat(bitmap.select(words, lowest, 1025, 1026, ODD)).isEqualTo(NONE);
        assertThat(bitmap.select(words, lowest, 1025, 1027, ODD)).isEqualTo(1027);
        // a range with no port of the parity, or nothing selectable
        assertThat(bitmap.select(words, lowest, 1063, 1063, EVEN)).isEqualTo(NONE);
        assertThat(bitmap.select(words, lowest, 65535, 65535, ALL)).isEqualTo(NONE);
        assertThat(bitmap.select(words, lowest, 1101, 4999, EVEN)).isEqualTo(NONE);
        // first and last on word boundaries: 1024 = 16 * 64, 1087 = 17 * 64 - 1
        assertThat(bitmap.select(words, lowest, 1024, 1087, ALL)).isEqualTo(1024);
        assertThat(bitmap.select(words, bound -> bound - 1, 1024, 1087, ALL)).isEqualTo(1087);
        assertThat(bitmap.select(words, bound -> bound - 1, 1024, 1087, ALL)).isEqualTo(1086);
        // 1063 | 1064 straddles nothing, 1087 | 1088 straddles words 16 and 17 (1088 reserved)
        assertThat(bitmap.select(words, bound -> bound - 1, 1087, 1089, ALL)).isEqualTo(1089);
        assertThat(bitmap.select(words, lowest, 1087, 1089, ALL)).isEqualTo(NONE);
        assertThat(bitmap.isHeld(words, 1088)).isFalse();
        assertThat(CompactBitmap.heldCount(words)).isEqualTo(9);
    }

    /**
     * Targets the range masks of the exact pass: everything held except the range's edge ports and their
     * outside neighbours, so a mask one port too wide returns a neighbour and one too narrow misses an edge.
     */
    @Test
    void theRangeMasksIncludeTheEdgesAndNothingMore() {
        RandomSource random = RandomSource.fromSeed(8L, 0L);
        PortSet wide = PortSet.range(1, 700);
        CompactBitmap b = new CompactBitmap(wide);
        int[] edges = {1, 2, 62, 63, 64, 65, 126, 127, 128, 129, 191, 192, 300, 447, 448, 449, 699, 700};
        for (int first : edges) {
            for (int last : edges) {
                if (last < first) {
                    continue;
                }
                for (long parity : new long[] {ALL, EVEN, ODD}) {
                    long[] w = b.newWords();
                    BitSet free = new BitSet();
                    for (int p : new int[] {first - 1, first, last, last + 1}) {
                        if (p >= 1 && p <= 700) {
                            free.set(p);
                        }
                    }
                    for (int p = 1; p <= 700; p++) {
                        if (!free.get(p)) {
                            b.tryClaim(w, p);
                        }
                    }
                    List<Integer> expected = new ArrayList<>();
                    for (int p : new int[] {first, last}) {
                        if (inParity(p, parity) && !expected.contains(p)) {
                            expected.add(p);
                        }
                    }
                    String what = String.format("select(%d, %d, %s)", first, last, name(parity));
                    List<Integer> got = new ArrayList<>();
                    for (int i = 0; i < 3; i++) {
                        int p = b.select(w, random, first, last, parity);
                        if (p == NONE) {
                            break;
                        }
                        got.add(p);
                    }
                    assertThat(got).as(what).containsExactlyInAnyOrderElementsOf(expected);
                    assertThat(b.select(w, bound -> 0, first, last, parity)).as(what + " then").isEqualTo(NONE);
                }
            }
        }
    }

    /**
     * The epoch re-check of the exact pass, deterministically: the source's {@code countProbes} runs after the
     * pass has read every word and before it re-reads the epoch; a release there, into a word the pass read
     * full, must make the pass count again and find the port rather than report NONE.
     */
    private IndexSource releasingDuringTheExactPass(int port) {
        int[] calls = {0};
        return new IndexSource() {
            @Override
            public int nextIndex(int bound) {
                return 0;
            }

            @Override
            public void countProbes(int n) {
                if (++calls[0] == 2) { // 1: the fast probes, 2: the words of the exact pass
                    assertThat(bitmap.release(words, port)).isTrue();
                }
            }
        };
    }

    @Test
    void aReleaseDuringTheExactPassIsFound() {
        for (int p : SELECTABLE) {
            assertThat(bitmap.tryClaim(words, p)).isTrue();
        }
        assertThat(bitmap.select(words, releasingDuringTheExactPass(1030))).isEqualTo(1030);
        assertThat(bitmap.select(words, releasingDuringTheExactPass(5003))).isEqualTo(5003);
        assertThat(bitmap.select(words, releasingDuringTheExactPass(1031), 1024, 5003, ODD)).isEqualTo(1031);
        assertThat(bitmap.select(words, releasingDuringTheExactPass(1024), 1024, 5003, EVEN)).isEqualTo(1024);
        assertThat(bitmap.select(words, bound -> 0)).isEqualTo(NONE);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Explicit claims, releases, isHeld

    @Test
    void claimReleaseAndIsHeld() {
        assertThat(bitmap.isHeld(words, 1030)).isFalse();
        assertThat(bitmap.tryClaim(words, 1030)).isTrue();
        assertThat(bitmap.tryClaim(words, 1030)).as("double claim").isFalse();
        assertThat(bitmap.isHeld(words, 1030)).isTrue();
        assertThat(bitmap.isHeld(words, 1031)).as("its neighbour").isFalse();
        assertThat(CompactBitmap.heldCount(words)).isEqualTo(1);

        long[] before = words.clone();
        assertThat(bitmap.release(words, 1031)).as("release of a free port").isFalse();
        assertThat(bitmap.release(words, 65535)).isFalse();
        assertThat(Arrays.copyOf(words, WORDS)).as("a failing release changes no port")
            .isEqualTo(Arrays.copyOf(before, WORDS));
        assertThat(CompactBitmap.heldCount(words)).isEqualTo(1);

        assertThat(bitmap.release(words, 1030)).isTrue();
        assertThat(bitmap.release(words, 1030)).as("double release").isFalse();
        assertThat(bitmap.isHeld(words, 1030)).isFalse();
        assertThat(CompactBitmap.heldCount(words)).isZero();

        // every port of a word, and the extremes of the port space
        for (int p = 1024; p < 1088; p++) {
            assertThat(bitmap.tryClaim(words, p)).isTrue();
        }
        assertThat(words[16]).isEqualTo(-1L);
        assertThat(bitmap.tryClaim(words, 65535)).isTrue();
        assertThat(words[WORDS - 1]).isEqualTo(Long.MIN_VALUE);
        assertThat(CompactBitmap.heldCount(words)).isEqualTo(65);
        assertThat(bitmap.release(words, 1087)).isTrue();
        assertThat(words[16]).isEqualTo(Long.MAX_VALUE);
        assertThat(bitmap.release(words, 65535)).isTrue();
        assertThat(CompactBitmap.heldCount(words)).isEqualTo(63);
    }

    @Test
    void anExplicitlyClaimedNonSelectablePortIsNeverSelected() {
        RandomSource random = RandomSource.fromSeed(9L, 0L);
        assertThat(bitmap.tryClaim(words, 1050)).isTrue(); // reserved
        assertThat(bitmap.tryClaim(words, 2000)).isTrue(); // outside the automatic set
        assertThat(bitmap.isHeld(words, 1050)).isTrue();
        assertThat(bitmap.isHeld(words, 2000)).isTrue();
        assertThat(CompactBitmap.heldCount(words)).isEqualTo(2);
        BitSet got = new BitSet();
        int p;
        while ((p = bitmap.select(words, random)) != NONE) {
            got.set(p);
        }
        assertThat(got.cardinality()).isEqualTo(SELECTABLE.size());
        assertThat(got.get(1050)).isFalse();
        assertThat(got.get(2000)).isFalse();
        assertThat(bitmap.release(words, 1050)).isTrue();
        assertThat(bitmap.release(words, 2000)).isTrue();
        assertThat(bitmap.select(words, random)).as("1050 and 2000 free, neither selectable").isEqualTo(NONE);
        assertThat(bitmap.select(words, random, 1040, 2100, ALL)).isEqualTo(NONE);
        assertThat(CompactBitmap.heldCount(words)).isEqualTo(SELECTABLE.size());
    }

    // ---------------------------------------------------------------------------------------------------------
    // Model-based property test

    /** Selectable: 26 ports over words 0, 1, 2 and 3; 65 and 127 reserved. */
    private static final PortSet SMALL = PortSet.parse("60-70,120-131,190,200-203").minus(PortSet.of(65, 127));
    /** Ports for explicit operations: the selectable ones and non-selectable neighbours. */
    private static final int[] POOL;

    static {
        BitSet pool = new BitSet();
        SMALL.forEach(pool::set);
        for (int p : new int[] {1, 59, 63, 64, 65, 71, 119, 127, 128, 132, 189, 191, 199, 204, 65535}) {
            pool.set(p);
        }
        POOL = pool.stream().toArray();
    }

    /** Outcomes over all examples: select granted, select NONE, subset granted, subset NONE, rule-1 epoch bumps. */
    private static final long[] OUTCOMES = new long[5];

    /** A model-test operation: {@code kind} 0-2 select, 3-4 subset select, 5-6 claim, 7-8 release, 9 isHeld. */
    private record Step(int kind, int pick, int a, int b, int parity) {
        int port() {
            return POOL[pick % POOL.length];
        }

        @Override
        public String toString() {
            if (kind <= 2) {
                return "select";
            }
            if (kind <= 4) {
                return "select(" + Math.min(a, b) + "-" + Math.max(a, b) + "," + name(PARITIES[parity]) + ")";
            }
            return (kind <= 6 ? "claim " : kind <= 8 ? "release " : "isHeld ") + port();
        }
    }

    private static final long[] PARITIES = {ALL, EVEN, ODD};

    private static Gen<Step> steps() {
        Gen<int[]> picks = integers().between(0, 9).zip(integers().between(0, 1000), (k, p) -> new int[] {k, p});
        Gen<int[]> subsets = integers().between(55, 210).zip(integers().between(55, 210), integers().between(0, 2),
            (a, b, c) -> new int[] {a, b, c});
        return picks.zip(subsets, (p, q) -> new Step(p[0], p[1], q[0], q[1], q[2]));
    }

    @Test
    void bitmapAgreesWithABitSetModel() {
        Arrays.fill(OUTCOMES, 0);
        qt().withExamples(400).withShrinkCycles(100)
            .forAll(lists().of(steps()).ofSizeBetween(1, 200), longs().all())
            .checkAssert(this::runModel);
        assertThat(Arrays.stream(OUTCOMES).min().getAsLong())
            .as("select granted/NONE, subset granted/NONE, rule-1 bumps: %s", Arrays.toString(OUTCOMES))
            .isPositive();
    }

    private void runModel(List<Step> steps, long seed) {
        CompactBitmap b = new CompactBitmap(SMALL);
        long[] w = b.newWords();
        RandomSource random = RandomSource.fromSeed(seed, 0L);
        BitSet held = new BitSet();
        long epoch = 0;
        for (Step step : steps) {
            int port = step.port();
            int kind = step.kind();
            String what;
            if (kind <= 2) {
                what = "select()";
                int p = b.select(w, random);
                List<Integer> free = freeIn(held, SMALL, 0, 65535, ALL);
                checkSelection(what, p, free, held);
                OUTCOMES[p == NONE ? 1 : 0]++;
            } else if (kind <= 4) {
                int first = Math.min(step.a(), step.b());
                int last = Math.max(step.a(), step.b());
                long parity = PARITIES[step.parity()];
                what = String.format("select(%d, %d, %s)", first, last, name(parity));
                int p = b.select(w, random, first, last, parity);
                checkSelection(what, p, freeIn(held, SMALL, first, last, parity), held);
                OUTCOMES[p == NONE ? 3 : 2]++;
            } else if (kind <= 6) {
                what = "tryClaim(" + port + ")";
                assertThat(b.tryClaim(w, port)).as(what).isEqualTo(!held.get(port));
                held.set(port);
            } else if (kind <= 8) {
                what = "release(" + port + ")";
                boolean wasHeld = held.get(port);
                if (!wasHeld) {
                    epoch++; // rule 3: it observed a free port
                } else if (SMALL.contains(port) && noFreeOfParity(held, SMALL, port)) {
                    epoch++; // rule 1: its word had no free selectable port of its parity
                    OUTCOMES[4]++;
                }
                assertThat(b.release(w, port)).as(what).isEqualTo(wasHeld);
                held.clear(port);
            } else {
                what = "isHeld(" + port + ")";
                boolean h = held.get(port);
                if (!h) {
                    epoch++; // rule 3
                }
                assertThat(b.isHeld(w, port)).as(what).isEqualTo(h);
            }
            assertThat(Arrays.copyOf(w, WORDS)).as("ports after %s", what).isEqualTo(toWords(held));
            assertThat(CompactBitmap.heldCount(w)).as("heldCount after %s", what).isEqualTo(held.cardinality());
            assertThat(CompactBitmap.epoch(w)).as("epoch after %s", what).isEqualTo(epoch);
            assertThat(CompactBitmap.pending(w)).as("pending releases after %s", what).isZero();
        }
    }

    private static void checkSelection(String what, int p, List<Integer> free, BitSet held) {
        if (free.isEmpty()) {
            assertThat(p).as(what + " with nothing free").isEqualTo(NONE);
        } else {
            assertThat(p).as(what + " with %s free", free).isIn(free);
            held.set(p);
        }
    }

    /** Whether every selectable port of {@code port}'s word with {@code port}'s parity is held. */
    private static boolean noFreeOfParity(BitSet held, PortSet selectable, int port) {
        int base = port & ~63;
        for (int q = base + (port & 1); q < base + 64; q += 2) {
            if (selectable.contains(q) && !held.get(q)) {
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Uniformity

    /** Upper 10^-6 point of chi-square with {@code k} degrees of freedom (Wilson-Hilferty). */
    private static double critical(int k) {
        double z = 4.753424; // standard normal upper 10^-6 quantile
        double h = 2.0 / (9.0 * k);
        return k * Math.pow(1 - h + z * Math.sqrt(h), 3);
    }

    /** Counts the draws of each selection, to tell which selections reached the exact pass. */
    private static final class CountingSource implements IndexSource {
        final RandomSource random;
        int draws;

        CountingSource(RandomSource random) {
            this.random = random;
        }

        @Override
        public int nextIndex(int bound) {
            draws++;
            return random.nextIndex(bound);
        }
    }

    /**
     * Holds every port of {@code selection} except a seeded random {@code freeFraction} of it, then selects
     * and releases {@code perPort} times per free port. Checks chi-square over all selections and over those
     * that took the exact pass; returns how many took it.
     */
    private static int checkUniform(PortSet selection, double freeFraction, int perPort, long seed,
                                    ToIntFunction<IndexSource> selectOn, CompactBitmap b, long[] w) {
        Random pattern = new Random(seed);
        List<Integer> free = new ArrayList<>();
        for (int p : selection) {
            if (pattern.nextDouble() < freeFraction) {
                free.add(p);
            } else {
                assertThat(b.tryClaim(w, p)).isTrue();
            }
        }
        PortSet freeSet = PortSet.of(free.stream().mapToInt(Integer::intValue).toArray());
        long held = CompactBitmap.heldCount(w);
        CountingSource source = new CountingSource(RandomSource.fromSeed(seed, 7L));
        long[] counts = new long[free.size()];
        long[] exactCounts = new long[free.size()];
        int exact = 0;
        int draws = perPort * free.size();
        for (int i = 0; i < draws; i++) {
            source.draws = 0;
            int p = selectOn.applyAsInt(source);
            assertThat(freeSet.contains(p)).as("port %d", p).isTrue();
            counts[freeSet.rank(p)]++;
            if (source.draws > CompactBitmap.FAST_PROBES) {
                exactCounts[freeSet.rank(p)]++;
                exact++;
            }
            assertThat(b.release(w, p)).isTrue();
        }
        assertThat(CompactBitmap.heldCount(w)).isEqualTo(held);
        int k = free.size() - 1;
        assertThat(ChiSquare.statistic(counts, perPort)).as("chi-square, %d free ports", free.size())
            .isLessThan(critical(k));
        if (exact >= 10 * free.size()) {
            assertThat(ChiSquare.statistic(exactCounts, (double) exact / free.size()))
                .as("chi-square of the %d exact-pass selections", exact).isLessThan(critical(k));
        }
        return exact;
    }

    /** 10000-10999 minus 10300-10349: words 156 to 171, partial at both ends and around the gap. */
    private static final PortSet UNIFORM = PortSet.range(10_000, 10_999).minus(PortSet.range(10_300, 10_349));

    @Test
    void uniformAtNinetyPercentOccupancyThroughTheExactPass() {
        CompactBitmap b = new CompactBitmap(UNIFORM);
        long[] w = b.newWords();
        int exact = checkUniform(UNIFORM, 0.10, 200, 20260101L, r -> b.select(w, r), b, w);
        // 0.9^16 = 18.5 % of the selections reach the exact pass
        assertThat(exact).as("exact-pass selections").isGreaterThan(2_000);
    }

    @Test
    void uniformAtThirtyPercentOccupancy() {
        CompactBitmap b = new CompactBitmap(UNIFORM);
        long[] w = b.newWords();
        checkUniform(UNIFORM, 0.70, 100, 20260102L, r -> b.select(w, r), b, w);
    }

    @Test
    void uniformOverAParitySubsetAtNinetyPercentOccupancy() {
        CompactBitmap b = new CompactBitmap(UNIFORM);
        long[] w = b.newWords();
        // the odd ports of 10010..10991, at 90 % occupancy; the other ports are all free
        PortSet odd = PortSet.empty();
        for (int p = 10_011; p <= 10_991; p += 2) {
            if (UNIFORM.contains(p)) {
                odd = odd.union(PortSet.of(p));
            }
        }
        int exact = checkUniform(odd, 0.10, 300, 20260103L, r -> b.select(w, r, 10_010, 10_991, ODD), b, w);
        assertThat(exact).as("exact-pass selections").isGreaterThan(1_000);
    }

    // ---------------------------------------------------------------------------------------------------------
    // The epoch

    /** Word 1 (64..127): 64-70 and 72 selectable, the rest of the word not; 130 in word 2. */
    private final CompactBitmap small = new CompactBitmap(PortSet.parse("64-70,72,130"));
    private final long[] sw = small.newWords();

    private long epoch() {
        assertThat(CompactBitmap.pending(sw)).as("pending releases between calls").isZero();
        return CompactBitmap.epoch(sw);
    }

    @Test
    void aReleaseIntoAWordWithEveryPortOfItsParityHeldChangesTheEpoch() {
        for (int p : new int[] {64, 66, 68, 70, 72}) { // every even selectable port of word 1; 74.. stay free
            assertThat(small.tryClaim(sw, p)).isTrue();
        }
        long e = epoch();
        assertThat(small.release(sw, 68)).isTrue();
        assertThat(epoch()).as("release of 68, all even selectable held, odd ones free").isEqualTo(e + 1);
        assertThat(small.release(sw, 70)).isTrue();
        assertThat(epoch()).as("release of 70 with 68 free").isEqualTo(e + 1);
        assertThat(small.tryClaim(sw, 68)).isTrue();
        assertThat(epoch()).isEqualTo(e + 1);
        assertThat(small.release(sw, 72)).isTrue();
        assertThat(epoch()).as("release of 72 with 70 free").isEqualTo(e + 1);
        assertThat(small.tryClaim(sw, 70)).isTrue();
        assertThat(small.tryClaim(sw, 72)).isTrue();
        assertThat(small.release(sw, 64)).isTrue();
        assertThat(epoch()).as("release of 64, all even selectable held again").isEqualTo(e + 2);
    }

    /**
     * Rule 2: while a release into a full word is pending (announced, not yet paid), any other release pays an
     * increment, since its word may be free only thanks to the pending release's port. The pending release is
     * simulated by its announcement in the last word, which is all that other threads can see of it.
     */
    @Test
    void aReleaseWhileAnotherIsPendingChangesTheEpoch() {
        for (int p : new int[] {64, 66, 68, 70}) { // 72 stays free: no release below is into a full word
            assertThat(small.tryClaim(sw, p)).isTrue();
        }
        long e = epoch();
        assertThat(small.release(sw, 64)).isTrue();
        assertThat(epoch()).as("release of 64 with 72 free, nothing pending").isEqualTo(e);
        sw[WORDS] += 1; // a release into a full word (of another thread) has announced itself
        assertThat(small.release(sw, 66)).isTrue();
        assertThat(CompactBitmap.epoch(sw)).as("release of 66 while one is pending").isEqualTo(e + 1);
        assertThat(CompactBitmap.pending(sw)).as("the pending release is still pending").isEqualTo(1);
        sw[WORDS] -= 1;
        assertThat(small.release(sw, 68)).isTrue();
        assertThat(epoch()).as("release of 68, nothing pending").isEqualTo(e + 1);
    }

    @Test
    void theParitiesAreIndependent() {
        for (int p : new int[] {65, 67, 69}) { // the odd selectable ports of word 1; the even ones stay free
            assertThat(small.tryClaim(sw, p)).isTrue();
        }
        long e = epoch();
        assertThat(small.release(sw, 67)).isTrue();
        assertThat(epoch()).as("release of 67, all odd selectable held").isEqualTo(e + 1);
        assertThat(small.release(sw, 65)).isTrue();
        assertThat(epoch()).as("release of 65 with 67 free").isEqualTo(e + 1);
        // even ports all held, odd 65 and 67 free: an even release bumps, an odd one does not
        for (int p : new int[] {64, 66, 68, 70, 72, 65}) {
            assertThat(small.tryClaim(sw, p)).isTrue();
        }
        assertThat(epoch()).as("claims never change the epoch").isEqualTo(e + 1);
        assertThat(small.release(sw, 65)).isTrue();
        assertThat(epoch()).as("release of 65 with 67 free").isEqualTo(e + 1);
        assertThat(small.release(sw, 66)).isTrue();
        assertThat(epoch()).as("release of 66, every even selectable held").isEqualTo(e + 2);
    }

    @Test
    void aFullWordReleaseChangesTheEpochAndAWordWithAFreePortDoesNot() {
        for (int p : new int[] {64, 65, 66, 67, 68, 69, 70, 72, 130}) {
            assertThat(small.tryClaim(sw, p)).isTrue();
        }
        assertThat(small.select(sw, bound -> 0)).isEqualTo(NONE);
        long e = epoch();
        assertThat(small.release(sw, 130)).isTrue();
        assertThat(epoch()).as("release of 130, alone in word 2").isEqualTo(e + 1);
        assertThat(small.release(sw, 69)).isTrue();
        assertThat(epoch()).as("release of 69 into the full word 1").isEqualTo(e + 2);
        assertThat(small.release(sw, 67)).isTrue();
        assertThat(epoch()).as("release of 67 with 69 free").isEqualTo(e + 2);
        assertThat(small.release(sw, 66)).isTrue();
        assertThat(epoch()).as("release of 66, the even ones all held").isEqualTo(e + 3);
        assertThat(small.release(sw, 64)).isTrue();
        assertThat(epoch()).as("release of 64 with 66 free").isEqualTo(e + 3);
    }

    @Test
    void observingAFreePortChangesTheEpoch() {
        assertThat(small.tryClaim(sw, 66)).isTrue();
        long e = epoch();
        assertThat(small.isHeld(sw, 66)).isTrue();
        assertThat(epoch()).as("isHeld true").isEqualTo(e);
        assertThat(small.isHeld(sw, 64)).isFalse();
        assertThat(epoch()).as("isHeld false").isEqualTo(e + 1);
        assertThat(small.isHeld(sw, 100)).isFalse(); // not selectable: an observation all the same
        assertThat(epoch()).isEqualTo(e + 2);
        assertThat(small.release(sw, 64)).isFalse();
        assertThat(epoch()).as("failing release").isEqualTo(e + 3);
        assertThat(small.tryClaim(sw, 66)).isFalse();
        assertThat(epoch()).as("failing claim").isEqualTo(e + 3);
        assertThat(small.select(sw, bound -> 0)).isEqualTo(64);
        assertThat(small.select(sw, bound -> 0, 64, 64, ALL)).isEqualTo(NONE);
        assertThat(epoch()).as("selections").isEqualTo(e + 3);
        // the epoch is the last word, not a port word: heldCount ignores it
        assertThat(CompactBitmap.heldCount(sw)).isEqualTo(2);
    }
}
