package dev.portalloc.bench.eval;

import dev.portalloc.PortSet;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class DeviceFingerprintAttackTest {
    private static final PortSet RANGE = PortSet.parse("32768-60999");

    @Test
    void recoversTheTrueCollisionsOfAnAlgorithm4Model() {
        final ModelSubjects.Algorithm4 device = new ModelSubjects.Algorithm4(RANGE, 256, 99);
        final DeviceFingerprintAttack.Parameters p = DeviceFingerprintAttack.Parameters.chromeDefaults(256, 1, 100_000);
        final DeviceFingerprintAttack.Session s = DeviceFingerprintAttack.run(device, RANGE, p, Seeds.workload(1),
            new SimulatedClock());
        assertThat(s.failure()).isNull();
        // ground truth: the model's buckets of the 64 loopback destinations
        final int[] truth = new int[p.loopbackPorts()];
        for (int i = 0; i < truth.length; i++) {
            truth[i] = device.bucket(Destinations.loopback(DeviceFingerprintAttack.LOOPBACK_PORT_START + i));
        }
        assertThat(s.identifier()).isEqualTo(DeviceFingerprintAttack.canonical(truth)).isNotEmpty();
        assertThat(s.phase2Connections()).isEqualTo(16_352); // 256 + 16 × (750 + 256), as the PoC's Chrome defaults
        assertThat(s.phase1Connections()).isBetween(5_000L, 20_000L);
    }

    @Test
    void doubleHash256GivesAStableIdentifierAndLinuxDefeatsThePocsAssumption() {
        final DeviceFingerprintAttack.Parameters rfc = DeviceFingerprintAttack.Parameters.chromeDefaults(256, 1, 51_200);
        final SimulatedClock clock = new SimulatedClock();
        final Subject device = Fixtures.connect("doubleHash:256", RANGE, PortSet.empty(), 5, clock);
        final DeviceFingerprintAttack.Session first = DeviceFingerprintAttack.run(device, RANGE, rfc, Seeds.workload(6), clock);
        final DeviceFingerprintAttack.Session second = DeviceFingerprintAttack.run(device, RANGE, rfc, Seeds.workload(7), clock);
        assertThat(first.identifier()).isNotEmpty().isEqualTo(second.identifier());

        final DeviceFingerprintAttack.Parameters poc = DeviceFingerprintAttack.Parameters.chromeDefaults(256, 2, 51_200);
        final SimulatedClock linuxClock = new SimulatedClock();
        final Subject linux = Fixtures.connect("linux", RANGE, PortSet.empty(), 5, linuxClock);
        assertThat(DeviceFingerprintAttack.run(linux, RANGE, poc, Seeds.workload(6), linuxClock).succeeded()).isFalse();
    }

    @Test
    void canonicalFingerprintKeepsOnlyCollisions() {
        // loopback ports 1024..1029 in buckets 7, 3, 7, 9, 3, 3
        assertThat(DeviceFingerprintAttack.canonical(new int[] {7, 3, 7, 9, 3, 3}))
            .isEqualTo("(1024,1026):(1025,1028,1029)");
        assertThat(DeviceFingerprintAttack.canonical(new int[] {1, 2, 3})).isEmpty();
    }
}
