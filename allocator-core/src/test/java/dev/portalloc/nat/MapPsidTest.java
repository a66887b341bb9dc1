package dev.portalloc.nat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;

import dev.portalloc.PortSet;
import java.util.Arrays;
import java.util.BitSet;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * The MAP port sets of RFC 7597 section 5.1 / Appendix B (and RFC 7599): the RFC example, the
 * partition and size laws for every (a, k, m), the formula as a model, and bad parameters.
 */
class MapPsidTest {

    private static final int MAX = 65535;

    // ------------------------------------------------------------------------------------------
    // RFC examples

    /** RFC 7599 Appendix A, Example 1 (and Example 5): offset 6, PSID length 8, PSID 0x34. */
    @Test
    void rfc7599Example1() {
        PortSet ports = MapPsid.portSet(6, 8, 2, 0x34);

        // "Available ports (63 ranges): 1232-1235, 2256-2259, ...... , 63696-63699, 64720-64723"
        assertThat(ports.rangeCount()).isEqualTo(63);
        assertThat(ports.size()).isEqualTo(252);
        assertThat(ports.rangeFirst(0)).isEqualTo(1232);
        assertThat(ports.rangeLast(0)).isEqualTo(1235);
        assertThat(ports.rangeFirst(1)).isEqualTo(2256);
        assertThat(ports.rangeLast(1)).isEqualTo(2259);
        assertThat(ports.rangeFirst(61)).isEqualTo(63696);
        assertThat(ports.rangeLast(61)).isEqualTo(63699);
        assertThat(ports.rangeFirst(62)).isEqualTo(64720);
        assertThat(ports.rangeLast(62)).isEqualTo(64723);
        assertThat(ports.toString()).startsWith("1232-1235,2256-2259,").endsWith(",63696-63699,64720-64723");
        // Consecutive ranges are R·M = 2^(k+m) = 1024 ports apart.
        for (int i = 0; i < 63; i++) {
            assertThat(ports.rangeFirst(i)).isEqualTo(1232 + 1024 * i);
            assertThat(ports.rangeLast(i)).isEqualTo(1235 + 1024 * i);
        }
    }

    /** RFC 7599 Appendix A, Example 2: the BR derives PSID 0x34 from destination port 1232. */
    @Test
    void rfc7599Example2PsidOfPort1232() {
        assertThat(MapPsid.psidOf(1232, 6, 8, 2)).isEqualTo(0x34);
        assertThat(MapPsid.psidOf(64723, 6, 8, 2)).isEqualTo(0x34);
        assertThat(MapPsid.psidOf(1236, 6, 8, 2)).isEqualTo(0x35);
    }

    /** With the default offset a = 6 the System Ports 0-1023 (A = 0) are in no set. */
    @Test
    void defaultOffsetExcludesSystemPorts() {
        for (int port = 1; port <= 1023; port++) {
            assertThat(MapPsid.psidOf(port, 6, 8, 2)).isEqualTo(MapPsid.NONE);
        }
        assertThat(MapPsid.psidOf(1024, 6, 8, 2)).isZero();
        assertThat(MapPsid.portSet(6, 8, 2, 0).first()).isEqualTo(1024);
        // No sharing (k = 0): the only set is everything from 1024 up, as one merged range.
        assertThat(MapPsid.portSet(6, 0, 10, 0)).isEqualTo(PortSet.range(1024, MAX));
    }

    // ------------------------------------------------------------------------------------------
    // Corner cases of the A > 0 rule

    @Test
    void offsetZeroGivesContiguousBlocksWithoutPortZero() {
        assertThat(MapPsid.portSet(0, 4, 12, 0)).isEqualTo(PortSet.range(1, 4095));
        assertThat(MapPsid.portSet(0, 4, 12, 1)).isEqualTo(PortSet.range(4096, 8191));
        assertThat(MapPsid.portSet(0, 4, 12, 15)).isEqualTo(PortSet.range(61440, MAX));
        assertThat(MapPsid.psidOf(1, 0, 4, 12)).isZero();
        assertThat(MapPsid.psidOf(MAX, 0, 4, 12)).isEqualTo(15);
        // One port per PSID: PSID 0 would be port 0 alone, so its set is empty.
        assertThat(MapPsid.portSet(0, 16, 0, 0).isEmpty()).isTrue();
        assertThat(MapPsid.portSet(0, 16, 0, 5)).isEqualTo(PortSet.of(5));
        assertThat(MapPsid.portSet(0, 0, 16, 0)).isEqualTo(PortSet.range(1, MAX));
    }

    @Test
    void offsetSixteenIsEveryNonZeroPort() {
        assertThat(MapPsid.portSet(16, 0, 0, 0)).isEqualTo(PortSet.range(1, MAX));
        assertThat(MapPsid.psidOf(1, 16, 0, 0)).isZero();
    }

    // ------------------------------------------------------------------------------------------
    // Laws, exhaustively over every (a, k, m)

    /**
     * For every (a, k, m) with a + k + m = 16 (153 triples): the 2^k sets are pairwise disjoint,
     * each has (2^a - 1)·2^m ports (2^m for a = 0, one fewer for PSID 0), their union is every port
     * whose A field is non-zero, and psidOf names exactly the set holding each port.
     */
    @Test
    void setsPartitionThePortsTheyCoverForEveryTriple() {
        for (int a = 0; a <= 16; a++) {
            for (int k = 0; a + k <= 16; k++) {
                checkPartition(a, k, 16 - a - k);
            }
        }
    }

    private static void checkPartition(int a, int k, int m) {
        String triple = "a=" + a + " k=" + k + " m=" + m;
        int[] owner = new int[MAX + 1];
        Arrays.fill(owner, MapPsid.NONE);
        long covered = 0;
        for (int psid = 0; psid < 1 << k; psid++) {
            PortSet set = MapPsid.portSet(a, k, m, psid);
            long expected = a > 0 ? ((1L << a) - 1) << m : (1L << m) - (psid == 0 ? 1 : 0);
            assertThat((long) set.size()).as("size of PSID %d, %s", psid, triple).isEqualTo(expected);
            for (int r = 0; r < set.rangeCount(); r++) {
                for (int p = set.rangeFirst(r); p <= set.rangeLast(r); p++) {
                    if (owner[p] != MapPsid.NONE) {
                        assertThat(owner[p]).as("port %d in PSIDs %d and %d, %s", p, owner[p], psid, triple)
                                .isEqualTo(psid);
                    }
                    owner[p] = psid;
                }
            }
            covered += set.size();
        }
        int firstCovered = a > 0 ? 1 << (16 - a) : 1;
        assertThat(covered).as("ports covered, %s", triple).isEqualTo(MAX + 1L - firstCovered);
        for (int p = 1; p <= MAX; p++) {
            int psid = MapPsid.psidOf(p, a, k, m);
            if (psid != owner[p]) {
                assertThat(psid).as("psidOf(%d), %s", p, triple).isEqualTo(owner[p]);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // The formula as a model, on random parameters

    /** A random valid (a, k, m, psid). */
    private static Gen<int[]> params() {
        return Generate.range(0, 16).flatMap(a -> Generate.range(0, 16 - a).flatMap(k ->
                Generate.range(0, (1 << k) - 1).map(psid -> new int[] {a, k, 16 - a - k, psid})));
    }

    /**
     * Membership matches the RFC 7597 Figure 2 formula, computed independently: a port belongs to
     * PSID s exactly when its middle k bits are s and (if a > 0) its top a bits are not all zero;
     * and psidOf inverts portSet.
     */
    @Test
    void membershipMatchesFormula() {
        qt().withExamples(300).forAll(params()).checkAssert(x -> {
            int a = x[0];
            int k = x[1];
            int m = x[2];
            int psid = x[3];
            PortSet set = MapPsid.portSet(a, k, m, psid);
            BitSet model = new BitSet(MAX + 1);
            for (int bigA = a > 0 ? 1 : 0; bigA < 1 << a; bigA++) {
                for (int j = 0; j < 1 << m; j++) {
                    int port = bigA * (1 << (k + m)) + psid * (1 << m) + j;   // R·M·A + M·PSID + j
                    if (port != 0) {
                        model.set(port);
                    }
                }
            }
            assertThat(set.toArray()).isEqualTo(model.stream().toArray());
            set.stream().forEach(p -> {
                if (MapPsid.psidOf(p, a, k, m) != psid) {
                    assertThat(MapPsid.psidOf(p, a, k, m)).as("psidOf(%d)", p).isEqualTo(psid);
                }
            });
        });
    }

    // ------------------------------------------------------------------------------------------
    // Bad parameters

    @Test
    void rejectsBadBitCounts() {
        assertThatThrownBy(() -> MapPsid.portSet(-1, 9, 8, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a = -1").hasMessageContaining("0..16");
        assertThatThrownBy(() -> MapPsid.portSet(17, 0, -1, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a = 17");
        assertThatThrownBy(() -> MapPsid.portSet(6, 8, 3, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("= 17").hasMessageContaining("= 16");
        assertThatThrownBy(() -> MapPsid.portSet(6, 8, 1, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("= 15");
        assertThatThrownBy(() -> MapPsid.psidOf(1232, 6, 8, 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a + k + m");
    }

    @Test
    void rejectsPsidThatDoesNotFit() {
        assertThatThrownBy(() -> MapPsid.portSet(6, 8, 2, 256))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PSID 256").hasMessageContaining("k = 8").hasMessageContaining("0..255");
        assertThatThrownBy(() -> MapPsid.portSet(6, 8, 2, -1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PSID -1");
        assertThatThrownBy(() -> MapPsid.portSet(6, 0, 10, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0..0");
    }

    @Test
    void psidOfRejectsNonPorts() {
        assertThatThrownBy(() -> MapPsid.psidOf(0, 6, 8, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port 0").hasMessageContaining("1..65535");
        assertThatThrownBy(() -> MapPsid.psidOf(65536, 6, 8, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port 65536");
    }
}
