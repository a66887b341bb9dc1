package dev.portalloc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.lists;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.quicktheories.api.Pair;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * Property tests: random port sets are checked against {@link BitSet} as the reference model
 * (bit {@code p} set = port {@code p} in the set), and against the algebraic laws of sets.
 */
class PortSetPropertiesTest {

    private static final int MAX = 65535;
    private static final PortSet FULL = PortSet.range(1, MAX);

    /** A set built by parsing {@code spec}, and the model built from the same ranges by BitSet. */
    static final class Sample {
        final String spec;
        final PortSet set;
        final BitSet bits;

        Sample(List<int[]> ranges) {
            StringBuilder sb = new StringBuilder();
            BitSet model = new BitSet(MAX + 1);
            for (int i = 0; i < ranges.size(); i++) {
                int first = ranges.get(i)[0];
                int last = ranges.get(i)[1];
                // Vary the separator to exercise the whitespace tolerance of parse.
                sb.append(i == 0 ? "" : i % 3 == 1 ? "," : " , ");
                sb.append(first);
                if (first != last || i % 2 == 1) {
                    sb.append('-').append(last);   // "7-7" is a valid range too
                }
                model.set(first, last + 1);
            }
            this.spec = sb.toString();
            this.set = PortSet.parse(spec);
            this.bits = model;
        }

        @Override
        public String toString() {
            return "parse(\"" + spec + "\")";
        }
    }

    /** A range whose first port is in {@code lo..hi} and whose length is up to {@code maxLength + 1}. */
    private static Gen<int[]> range(int lo, int hi, int maxLength) {
        return Generate.range(lo, hi).zip(Generate.range(0, maxLength),
                (first, extra) -> new int[] {first, Math.min(MAX, first + extra)});
    }

    /**
     * Random sets: mostly lists of ranges clustered near 1, near 65535 or in a small window (so
     * two random sets overlap often), some spread over the whole port space, plus the empty and
     * the full set as fixed corner cases.
     */
    @SuppressWarnings("unchecked")
    private static Gen<Sample> samples() {
        Gen<int[]> ranges = Generate.frequency(
                Pair.of(4, range(1, 300, 20)),
                Pair.of(2, range(65400, MAX, 200)),
                Pair.of(1, range(1, 5, 3)),
                Pair.of(2, range(1, MAX, 2000)),
                Pair.of(1, range(1, MAX, MAX)));
        Gen<Sample> lists = lists().of(ranges).ofSizeBetween(0, 12).map(Sample::new);
        // Samples are never mutated (the model BitSets are cloned before use), so sharing is safe.
        Gen<Sample> empty = Generate.constant(new Sample(List.of()));
        Gen<Sample> full = Generate.constant(new Sample(List.<int[]>of(new int[] {1, MAX})));
        return Generate.frequency(Pair.of(18, lists), Pair.of(1, empty), Pair.of(1, full));
    }

    private static BitSet or(BitSet a, BitSet b) {
        BitSet r = (BitSet) a.clone();
        r.or(b);
        return r;
    }

    private static BitSet and(BitSet a, BitSet b) {
        BitSet r = (BitSet) a.clone();
        r.and(b);
        return r;
    }

    private static BitSet andNot(BitSet a, BitSet b) {
        BitSet r = (BitSet) a.clone();
        r.andNot(b);
        return r;
    }

    /** Checks every query of {@code set} against the model: the complete observable behaviour. */
    private static void assertMatchesModel(PortSet set, BitSet model) {
        int[] ports = model.stream().toArray();
        assertThat(set.size()).isEqualTo(ports.length);
        assertThat(set.isEmpty()).isEqualTo(ports.length == 0);
        assertThat(set.toArray()).isEqualTo(ports);
        assertThat(set.stream().toArray()).isEqualTo(ports);
        List<Integer> iterated = new ArrayList<>(ports.length);
        set.iterator().forEachRemaining(iterated::add);
        assertThat(iterated).hasSize(ports.length);
        for (int i = 0; i < ports.length; i++) {
            if (iterated.get(i) != ports[i]) {
                assertThat(iterated.get(i)).as("iteration element %d", i).isEqualTo(ports[i]);
            }
            if (set.nth(i) != ports[i]) {
                assertThat(set.nth(i)).as("nth(%d)", i).isEqualTo(ports[i]);
            }
        }
        if (ports.length > 0) {
            assertThat(set.first()).isEqualTo(ports[0]);
            assertThat(set.last()).isEqualTo(ports[ports.length - 1]);
        }
        // Canonical ranges = maximal runs of set bits.
        List<String> runs = new ArrayList<>();
        for (int p = model.nextSetBit(0); p >= 0; p = model.nextSetBit(model.nextClearBit(p))) {
            runs.add(p + ".." + (model.nextClearBit(p) - 1));
        }
        List<String> ranges = new ArrayList<>();
        for (int i = 0; i < set.rangeCount(); i++) {
            ranges.add(set.rangeFirst(i) + ".." + set.rangeLast(i));
        }
        assertThat(ranges).isEqualTo(runs);
        // contains and rank over every port and just beyond both ends.
        int smaller = 0;
        for (int p = -1; p <= MAX + 2; p++) {
            boolean member = p >= 0 && model.get(p);
            if (set.contains(p) != member || set.rank(p) != smaller) {
                assertThat(set.contains(p)).as("contains(%d)", p).isEqualTo(member);
                assertThat(set.rank(p)).as("rank(%d)", p).isEqualTo(smaller);
            }
            if (member) {
                smaller++;
            }
        }
        assertThat(set.contains(Integer.MIN_VALUE)).isFalse();
        assertThat(set.contains(Integer.MAX_VALUE)).isFalse();
        assertThat(set.rank(Integer.MIN_VALUE)).isZero();
        assertThat(set.rank(Integer.MAX_VALUE)).isEqualTo(ports.length);
    }

    @Test
    void toStringRoundTrips() {
        qt().withExamples(1000).forAll(samples()).checkAssert(s -> {
            String text = s.set.toString();
            assertThat(PortSet.parse(text)).isEqualTo(s.set).hasSameHashCodeAs(s.set);
            assertThat(PortSet.parse(text).toString()).isEqualTo(text);
            assertThat(text).doesNotContain(" ");
        });
    }

    @Test
    void queriesMatchBitSetModel() {
        qt().withExamples(150).forAll(samples()).checkAssert(s -> assertMatchesModel(s.set, s.bits));
    }

    @Test
    void algebraMatchesBitSetModel() {
        qt().withExamples(150).forAll(samples(), samples()).checkAssert((a, b) -> {
            assertMatchesModel(a.set.union(b.set), or(a.bits, b.bits));
            assertMatchesModel(a.set.intersect(b.set), and(a.bits, b.bits));
            assertMatchesModel(a.set.minus(b.set), andNot(a.bits, b.bits));
        });
    }

    @Test
    void algebraicLaws() {
        qt().withExamples(1000).forAll(samples(), samples(), samples()).checkAssert((x, y, z) -> {
            PortSet a = x.set;
            PortSet b = y.set;
            PortSet c = z.set;
            // Commutativity and associativity.
            assertThat(a.union(b)).isEqualTo(b.union(a));
            assertThat(a.intersect(b)).isEqualTo(b.intersect(a));
            assertThat(a.union(b).union(c)).isEqualTo(a.union(b.union(c)));
            assertThat(a.intersect(b).intersect(c)).isEqualTo(a.intersect(b.intersect(c)));
            // Distributivity and absorption.
            assertThat(a.intersect(b.union(c))).isEqualTo(a.intersect(b).union(a.intersect(c)));
            assertThat(a.union(b.intersect(c))).isEqualTo(a.union(b).intersect(a.union(c)));
            assertThat(a.union(a.intersect(b))).isEqualTo(a);
            assertThat(a.intersect(a.union(b))).isEqualTo(a);
            // Difference: partition of a, disjointness, De Morgan (absolute and relative).
            assertThat(a.minus(b).union(a.intersect(b))).isEqualTo(a);
            assertThat(a.minus(b).intersect(b).isEmpty()).isTrue();
            assertThat(a.minus(b).size() + a.intersect(b).size()).isEqualTo(a.size());
            assertThat(a.union(b).size()).isEqualTo(a.size() + b.size() - a.intersect(b).size());
            assertThat(FULL.minus(a.union(b))).isEqualTo(FULL.minus(a).intersect(FULL.minus(b)));
            assertThat(FULL.minus(a.intersect(b))).isEqualTo(FULL.minus(a).union(FULL.minus(b)));
            assertThat(a.minus(b.union(c))).isEqualTo(a.minus(b).intersect(a.minus(c)));
            assertThat(a.minus(b.intersect(c))).isEqualTo(a.minus(b).union(a.minus(c)));
            assertThat(FULL.minus(FULL.minus(a))).isEqualTo(a);
            // Identities and idempotence.
            assertThat(a.union(a)).isEqualTo(a);
            assertThat(a.intersect(a)).isEqualTo(a);
            assertThat(a.minus(a)).isEqualTo(PortSet.empty());
            assertThat(a.union(PortSet.empty())).isEqualTo(a);
            assertThat(a.intersect(FULL)).isEqualTo(a);
            assertThat(a.union(FULL)).isEqualTo(FULL);
        });
    }

    @Test
    void equalsAndHashCodeFollowContent() {
        qt().withExamples(500).forAll(samples(), samples()).checkAssert((x, y) -> {
            assertThat(x.set.equals(y.set)).isEqualTo(x.bits.equals(y.bits));
            if (x.set.equals(y.set)) {
                assertThat(x.set.hashCode()).isEqualTo(y.set.hashCode());
            }
            // The same content built other ways is equal, with an equal hash code.
            PortSet viaPorts = PortSet.of(x.set.toArray());
            assertThat(viaPorts).isEqualTo(x.set).hasSameHashCodeAs(x.set);
            List<String> entries = new ArrayList<>(List.of(x.spec.split(",")));
            Collections.shuffle(entries, new Random(x.spec.hashCode()));
            PortSet shuffled = PortSet.parse(entries.stream().collect(Collectors.joining(",")));
            assertThat(shuffled).isEqualTo(x.set).hasSameHashCodeAs(x.set);
            PortSet viaUnions = PortSet.empty();
            for (int i = 0; i < x.set.rangeCount(); i++) {
                viaUnions = viaUnions.union(PortSet.range(x.set.rangeFirst(i), x.set.rangeLast(i)));
            }
            assertThat(viaUnions).isEqualTo(x.set).hasSameHashCodeAs(x.set);
        });
    }
}
