package dev.portalloc.bench.eval;

import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The locality section and the nearest-ports predictors, on cases with known answers. */
class LocalitySectionTest {
    private static final PortSet RANGE = PortSet.parse("10000-19999");

    /** Probe before, victim, probe after, each released at once: the attacker's view (c) of an idle allocator. */
    private static AllocationLog sandwiches(PortAllocator a, int victims) {
        final AllocationLog log = new AllocationLog();
        for (int i = 0; i < victims; i++) {
            final int before = a.acquire();
            final int victim = a.acquire();
            final int after = a.acquire();
            log.add(AllocationLog.PROBE_BEFORE, before, RANGE.size());
            log.add(0, victim, RANGE.size() - 1);
            log.add(AllocationLog.PROBE_AFTER, after, RANGE.size() - 2);
            a.release(before);
            a.release(victim);
            a.release(after);
        }
        return log;
    }

    @Test
    void nearestPortsPredictorFindsAThreadKeptInA64PortSegment() {
        final PortAllocator a = PortAllocator.builder().ports(RANGE).seed(7).threadLocality(64, 1 << 20).build();
        final GuessSuccess.View c = GuessSuccess.viewC(sandwiches(a, 3000), true);
        // the victim is uniform in the 64-port segment of the probe before it: 100 guesses around that probe cover
        // all of it but offsets beyond ±50, which two uniform positions in 64 reach with probability 182/4096
        assertThat(c.byPredictor().get("nearBefore")[2]).isGreaterThan(0.93);
        // its first guess is the probe's own port, still held: P1 is 0; the next 9 guesses hit about 9/63 of the time
        assertThat(c.byPredictor().get("nearBefore")[0]).isZero();
        assertThat(c.byPredictor().get("nearBefore")[1]).isBetween(0.1, 0.2);
        assertThat(c.ideal()[2]).isCloseTo(0.01, org.assertj.core.data.Offset.offset(0.001));
        // view b (one destination, its previous ports): the same structure
        assertThat(GuessSuccess.viewB(sandwiches(a, 500), true).byPredictor().get("nearLast")[2]).isGreaterThan(0.9);
    }

    @Test
    void nearestPortsPredictorIsNoBetterThanIdealWithLocalityOff() {
        final PortAllocator a = PortAllocator.builder().ports(RANGE).seed(7).build();
        final GuessSuccess.View c = GuessSuccess.viewC(sandwiches(a, 3000), true);
        // ideal P100 = 100 / 9,999 ≈ 0.01: 3,000 trials give 30 ± 5.5 hits
        assertThat(c.byPredictor().get("nearBefore")[2]).isBetween(0.003, 0.02);
        assertThat(c.best()[2]).isLessThan(0.025);
    }

    @Test
    void nearestPredictorsAreOptIn() {
        final PortAllocator a = PortAllocator.builder().ports(RANGE).seed(7).build();
        final AllocationLog log = sandwiches(a, 10);
        assertThat(GuessSuccess.viewC(log).byPredictor()).doesNotContainKey("nearBefore");
        assertThat(GuessSuccess.viewB(log).byPredictor()).doesNotContainKey("nearLast");
    }

    @Test
    void guessPartShowsTheLossPerSettingAndMode() {
        final Map<String, String> m = new LinkedHashMap<>(EvaluationSettings.defaults(false));
        m.put("ports", "10000-19999");
        m.put("allocations", "2000");
        final EvaluationSettings s = EvaluationSettings.parse(m);
        final Results results = new Results();
        LocalitySection.guess(s, results);
        final double occ = LocalitySection.OCCUPANCY;
        for (String a : new String[] {"uniform/exclusive", "uniform/connect"}) {
            final double ideal = results.find("locality", a, "off", occ, "guess.c.ideal.P100").orElseThrow();
            assertThat(results.find("locality", a, "off", occ, "guess.c.best.P100").orElseThrow()).as(a)
                .isLessThan(4 * ideal);
            for (String setting : new String[] {"off", "64x16", "64x256", "1024x16", "1024x256"}) {
                assertThat(results.find("locality", a, setting, occ, "exhaustion.false")).as(a).contains(0.0);
                assertThat(results.find("locality", a, setting, occ, "ledger.violations")).as(a).contains(0.0);
            }
        }
        // exclusive: 100 guesses of 5,000 free ports
        assertThat(results.find("locality", "uniform/exclusive", "off", occ, "guess.c.ideal.P100").orElseThrow())
            .isCloseTo(0.02, org.assertj.core.data.Offset.offset(0.002));
        // connect: a port is free for a destination unless that destination holds it, so the segment never fills
        // and the victim lies within the probe's 64-port segment whenever one of 4 probes finds a free port
        assertThat(results.find("locality", "uniform/connect", "64x256", occ, "guess.c.nearBefore.P100").orElseThrow())
            .isGreaterThan(0.8);
        assertThat(results.find("locality", "uniform/connect", "64x256", occ, "guess.c.best.P100.vsOff").orElseThrow())
            .isGreaterThan(10);
    }

    @Test
    void speedPartComparesEachSettingWithOff() {
        final String json = "[" + run("twoThreads", "off", 2, 200) + "," + run("twoThreads", "64x16", 2, 100) + ","
            + run("oneThread", "off", 1, 100) + "," + run("oneThread", "64x16", 1, 80) + "]";
        final Results results = new Results();
        LocalitySection.addSpeed(JmhScores.parse(json, "test"), results);
        final double occ = LocalitySection.OCCUPANCY;
        assertThat(results.find("locality", "uniform/exclusive", "64x16", occ, "speed.throughput.2t.vsOff")).contains(2.0);
        assertThat(results.find("locality", "uniform/exclusive", "off", occ, "speed.throughput.2t.vsOff")).contains(1.0);
        assertThat(results.find("locality", "uniform/exclusive", "off", occ, "speed.scaling2t")).contains(1.0);
        assertThat(results.find("locality", "uniform/exclusive", "64x16", occ, "speed.scaling2t")).contains(1.6);
        assertThat(results.find("locality", "uniform/exclusive", "1024x16", occ, "speed.ns.2t")).isEmpty();
    }

    private static String run(String method, String locality, int threads, double score) {
        return "{ \"benchmark\" : \"dev.portalloc.bench.ThreadLocalityBenchmark." + method + "\", \"threads\" : " + threads
            + ", \"params\" : { \"locality\" : \"" + locality + "\", \"occupancy\" : \"0.5\" }, \"primaryMetric\" : "
            + "{ \"score\" : " + score + ", \"scoreError\" : \"NaN\", \"scoreUnit\" : \"ns/op\" } }";
    }
}
