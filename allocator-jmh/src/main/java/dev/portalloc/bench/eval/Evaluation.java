package dev.portalloc.bench.eval;

import dev.portalloc.PortSet;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the sections of an evaluation and collects every figure into {@link Results}. Quality sections run
 * single-threaded with seeded allocators and seeded workload generators, so the same seed gives the same quality
 * figures (timings and memory excepted: they are measured, not simulated).
 *
 * <p>Thread-safety: not thread-safe; one instance runs once in the calling thread.
 */
final class Evaluation {
    /** One victim allocation in this many is sandwiched by attacker probes (metric 1, view c). */
    static final int PROBE_EVERY = 8;
    /** Live tuples of the memory section's per-tuple measurement. */
    static final int TUPLES = 100_000;

    private final EvaluationSettings settings;
    private final SubjectFactory factory;
    private final boolean connectMode;
    private final PrintStream console;
    private final Results results = new Results();
    private final List<String> notes = new ArrayList<>();
    private final List<FingerprintSummary> fingerprints = new ArrayList<>();
    private final java.util.Map<String, Double> sectionSeconds = new java.util.LinkedHashMap<>();
    private ProgressBar progress;

    /**
     * A fingerprint experiment's outcome for the report.
     *
     * @param algorithm the algorithm
     * @param tableLength T the attacker targeted
     * @param devices devices attacked
     * @param stable devices whose two sessions gave the same non-empty identifier
     * @param sessions every session
     * @param published the connection count the kernel commit cites for this table length, or NaN
     */
    record FingerprintSummary(String algorithm, int tableLength, int devices, int stable,
                              List<DeviceFingerprintAttack.Session> sessions, double published) {
    }

    /**
     * @param settings the settings
     * @param factory makes the subjects
     * @param connectMode whether the subjects are in connect mode (per-destination 5-tuples)
     * @param console where progress and notes go
     */
    Evaluation(EvaluationSettings settings, SubjectFactory factory, boolean connectMode, PrintStream console) {
        this.settings = settings;
        this.factory = factory;
        this.connectMode = connectMode;
        this.console = console;
    }

    Results results() {
        return results;
    }

    List<String> notes() {
        return notes;
    }

    List<FingerprintSummary> fingerprints() {
        return fingerprints;
    }

    boolean connectMode() {
        return connectMode;
    }

    /**
     * Runs every selected section except speed (see {@link SpeedSection}).
     *
     * @throws IOException if the trace cannot be read
     * @throws InterruptedException if interrupted during the memory measurement
     */
    void run() throws IOException, InterruptedException {
        final var sections = settings.sections();
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("evaluate").setInitialMax(plannedSteps())
            .setStyle(ProgressBarStyle.ASCII).setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(console))
            .setUpdateIntervalMillis(500).showSpeed().build()) {
            progress = bar;
            if (sections.contains(EvaluationSettings.Section.QUALITY)) {
                timed("quality", () -> {
                    warmUp();
                    quality();
                });
            }
            if (sections.contains(EvaluationSettings.Section.LEAKAGE)) {
                timed("leakage", this::leakage);
            }
            if (sections.contains(EvaluationSettings.Section.REKEY)) {
                timed("rekey", this::rekey);
            }
            if (sections.contains(EvaluationSettings.Section.TRACE)) {
                timed("trace", this::trace);
            }
            if (sections.contains(EvaluationSettings.Section.FINGERPRINT)) {
                timed("fingerprint", this::fingerprint);
            }
            if (sections.contains(EvaluationSettings.Section.MEMORY)) {
                timed("memory", this::memory);
            }
        }
    }

    /** A section's body. */
    @FunctionalInterface
    interface SectionBody {
        void run() throws IOException, InterruptedException;
    }

    /**
     * Runs a section and records its wall-clock time (for the report's header and the profile's time budget).
     *
     * @param name the section
     * @param body what it runs
     * @throws IOException from the body
     * @throws InterruptedException from the body
     */
    void timed(String name, SectionBody body) throws IOException, InterruptedException {
        final long start = System.nanoTime();
        try {
            body.run();
        } finally {
            sectionSeconds.merge(name, (System.nanoTime() - start) / 1e9, Double::sum);
        }
    }

    /** @return wall-clock seconds per section run so far, in order */
    java.util.Map<String, Double> sectionSeconds() {
        return sectionSeconds;
    }

    private long plannedSteps() {
        final var s = settings.sections();
        final long perAlgorithm = settings.algorithms().size();
        final long occupancies = settings.occupancies().size();
        long steps = 0;
        if (s.contains(EvaluationSettings.Section.QUALITY)) {
            steps += perAlgorithm * settings.popularities().size() * settings.lifetimes().size() * occupancies;
        }
        if (s.contains(EvaluationSettings.Section.LEAKAGE)) {
            steps += perAlgorithm * occupancies;
        }
        if (s.contains(EvaluationSettings.Section.REKEY)) {
            steps += perAlgorithm;
        }
        if (s.contains(EvaluationSettings.Section.TRACE)) {
            steps += perAlgorithm;
        }
        if (s.contains(EvaluationSettings.Section.FINGERPRINT)) {
            steps += fingerprintTargets().size() * settings.fingerprintTables().size();
        }
        if (s.contains(EvaluationSettings.Section.MEMORY)) {
            steps += perAlgorithm;
        }
        return Math.max(1, steps);
    }

    private Duration quarantineForReuse() {
        return settings.quarantine();
    }

    private void quality() {
        final PortSet selectable = settings.selectable();
        for (AlgorithmSpec spec : settings.algorithms()) {
            for (Popularity.Kind popularity : settings.popularities()) {
                for (Lifetimes.Kind lifetime : settings.lifetimes()) {
                    for (double occupancy : settings.occupancies()) {
                        final ChurnWorkload w = new ChurnWorkload(occupancy, popularity, lifetime,
                            settings.destinations(), settings.zipfExponent(), settings.hotShare(),
                            settings.arrivalRate(), settings.allocations(), PROBE_EVERY);
                        progress.setExtraMessage(spec.label() + " " + w.label() + " " + occupancy);
                        final ChurnRun run = churn(spec, w, Duration.ZERO, "quality");
                        record(spec, w, run);
                        final Duration q = quarantineForReuse();
                        if (!q.isZero()) {
                            final ChurnWorkload spanning = new ChurnWorkload(occupancy, popularity, lifetime,
                                settings.destinations(), settings.zipfExponent(), settings.hotShare(),
                                settings.arrivalRate(), quarantineRunAllocations(q), 0);
                            final ChurnRun quarantined = churn(spec, spanning, q, "quality-quarantine");
                            recordQuarantined(spec, spanning, quarantined);
                        }
                        progress.step();
                    }
                }
            }
        }
    }

    /**
     * Runs each algorithm briefly before the timed runs, so that the cost figures of the first runs do not
     * include class loading and JIT compilation. Its figures are discarded.
     */
    private void warmUp() {
        for (AlgorithmSpec spec : settings.algorithms()) {
            progress.setExtraMessage("warm-up " + spec.label());
            final ChurnWorkload w = new ChurnWorkload(0.5, Popularity.Kind.UNIFORM, Lifetimes.Kind.EXPONENTIAL,
                settings.destinations(), settings.zipfExponent(), settings.hotShare(), settings.arrivalRate(), 3000, 0);
            churn(spec, w, Duration.ZERO, "warm-up");
        }
    }

    /**
     * Allocations of a quarantine run: enough simulated time for three quarantine periods, so that tuples are
     * reused at all (a run shorter than the quarantine shows none), bounded by 4 × the normal run.
     */
    private int quarantineRunAllocations(Duration q) {
        final double threePeriods = 3 * q.toNanos() / 1e9 * settings.arrivalRate();
        return (int) Math.min(4L * settings.allocations(), Math.max(settings.allocations() / 2, (long) threePeriods));
    }

    private ChurnRun churn(AlgorithmSpec spec, ChurnWorkload w, Duration quarantine, String section) {
        final String[] name = {section, spec.label(), w.label(), Double.toString(w.occupancy())};
        final SimulatedClock clock = new SimulatedClock();
        final Subject subject = factory.create(spec, Seeds.derive(settings.seed(), name), quarantine, clock);
        final ChurnRun run = new ChurnRun(subject, w, Seeds.workload(Seeds.derive(settings.seed() + 1, name)), clock,
            settings.selectable(), quarantine.toNanos());
        return run.run();
    }

    private void record(AlgorithmSpec spec, ChurnWorkload w, ChurnRun run) {
        final String a = spec.label();
        final String wl = w.label();
        final double occ = w.occupancy();
        results.add("quality", a, wl, occ, "occupancy.measured", run.meanOccupancy());
        results.add("quality", a, wl, occ, "exhaustion.true", run.ledger().trueExhaustions());
        results.add("quality", a, wl, occ, "exhaustion.false", run.ledger().falseExhaustions());
        results.add("quality", a, wl, occ, "ledger.violations", run.ledger().violationCount());
        if (run.ledger().violationCount() > 0) {
            notes.add("VIOLATION " + a + " " + wl + " " + occ + ": " + run.ledger().violationMessages());
        }
        for (GuessSuccess.View v : GuessSuccess.compute(run.log())) {
            final String m = "guess." + v.name() + ".";
            results.add("quality", a, wl, occ, m + "trials", v.trials());
            for (var e : v.byPredictor().entrySet()) {
                for (int i = 0; i < GuessSuccess.QS.length; i++) {
                    results.add("quality", a, wl, occ, m + e.getKey() + ".P" + GuessSuccess.QS[i], e.getValue()[i]);
                }
            }
            for (int i = 0; i < GuessSuccess.QS.length; i++) {
                results.add("quality", a, wl, occ, m + "best.P" + GuessSuccess.QS[i], v.best()[i]);
                results.add("quality", a, wl, occ, m + "ideal.P" + GuessSuccess.QS[i], v.ideal()[i]);
            }
            results.add("quality", a, wl, occ, m + "minEntropyBits", v.minEntropyBits());
            results.add("quality", a, wl, occ, m + "minEntropyIsLowerBound", v.minEntropyIsLowerBound() ? 1 : 0);
        }
        final double[] probes = run.probes().getElements();
        if (probes.length > 0) {
            final double[] p = Statistics.meanP50P99Max(probes);
            results.add("quality", a, wl, occ, "probes.mean", p[0]);
            results.add("quality", a, wl, occ, "probes.p50", p[1]);
            results.add("quality", a, wl, occ, "probes.p99", p[2]);
            results.add("quality", a, wl, occ, "probes.max", p[3]);
        }
        final Histogram h = run.latencyNanos();
        results.add("quality", a, wl, occ, "cost.meanNs", h.getMean());
        results.add("quality", a, wl, occ, "cost.p50Ns", h.getValueAtPercentile(50));
        results.add("quality", a, wl, occ, "cost.p99Ns", h.getValueAtPercentile(99));
        results.add("quality", a, wl, occ, "cost.maxNs", h.getMaxValue());
        reuse(a, wl, occ, "reuse.", run);
        final Uniformity.Figures u = Uniformity.compute(run.log(), settings.ports(), settings.reserved());
        results.add("quality", a, wl, occ, "uniformity.chiSquareP", u.chiSquareP());
        results.add("quality", a, wl, occ, "uniformity.bins", u.bins());
        results.add("quality", a, wl, occ, "uniformity.maxMinRatio", u.maxMinRatio());
        results.add("quality", a, wl, occ, "uniformity.lag1Autocorrelation", u.lag1Autocorrelation());
        results.add("quality", a, wl, occ, "uniformity.postGapBias", u.postGapBias());
    }

    private void recordQuarantined(AlgorithmSpec spec, ChurnWorkload w, ChurnRun run) {
        final String a = spec.label();
        results.add("quality", a, w.label(), w.occupancy(), "quarantine.exhaustion.false", run.ledger().falseExhaustions());
        results.add("quality", a, w.label(), w.occupancy(), "quarantine.exhaustion.true", run.ledger().trueExhaustions());
        results.add("quality", a, w.label(), w.occupancy(), "quarantine.ledger.violations", run.ledger().violationCount());
        if (run.ledger().violationCount() > 0) {
            notes.add("VIOLATION (quarantine) " + a + " " + w.label() + " " + w.occupancy() + ": "
                + run.ledger().violationMessages());
        }
        reuse(a, w.label(), w.occupancy(), "quarantine.reuse.", run);
    }

    private void reuse(String a, String wl, double occ, String prefix, ChurnRun run) {
        summary(a, wl, occ, prefix + "port.allocations.", run.portReuseAllocations().getElements());
        summary(a, wl, occ, prefix + "port.seconds.", run.portReuseSeconds().getElements());
        summary(a, wl, occ, prefix + "tuple.allocations.", run.tupleReuseAllocations().getElements());
        summary(a, wl, occ, prefix + "tuple.seconds.", run.tupleReuseSeconds().getElements());
    }

    private void summary(String a, String wl, double occ, String prefix, double[] values) {
        final double[] s = Statistics.summary(values);
        results.add("quality", a, wl, occ, prefix + "min", s[0]);
        results.add("quality", a, wl, occ, prefix + "p1", s[1]);
        results.add("quality", a, wl, occ, prefix + "p50", s[2]);
        results.add("quality", a, wl, occ, prefix + "count", values.length);
    }

    private void leakage() {
        for (AlgorithmSpec spec : settings.algorithms()) {
            for (double occupancy : settings.occupancies()) {
                progress.setExtraMessage("leakage " + spec.label() + " " + occupancy);
                final String[] name = {"leakage", spec.label(), Double.toString(occupancy)};
                final SimulatedClock clock = new SimulatedClock();
                final Subject subject = factory.create(spec, Seeds.derive(settings.seed(), name), Duration.ZERO, clock);
                final double r2 = CrossDestinationLeakage.rSquared(subject, settings.selectable(), occupancy,
                    settings.leakageTrials(), settings.destinations(),
                    Seeds.workload(Seeds.derive(settings.seed() + 1, name)));
                results.add("leakage", spec.label(), "-", occupancy, "rSquared", r2);
                progress.step();
            }
        }
    }

    private void rekey() {
        final double occupancy = 0.5;
        for (AlgorithmSpec spec : settings.algorithms()) {
            progress.setExtraMessage("rekey " + spec.label());
            final ChurnWorkload w = new ChurnWorkload(occupancy, Popularity.Kind.HOT, Lifetimes.Kind.EXPONENTIAL,
                settings.destinations(), settings.zipfExponent(), settings.hotShare(), settings.arrivalRate(),
                settings.allocations(), 0);
            final String[] name = {"rekey", spec.label()};
            final SimulatedClock clock = new SimulatedClock();
            final Subject subject = factory.create(spec, Seeds.derive(settings.seed(), name), Duration.ZERO, clock);
            final ChurnRun run = new ChurnRun(subject, w, Seeds.workload(Seeds.derive(settings.seed() + 1, name)),
                clock, settings.selectable(), 0);
            final RekeyDisruption.Figures f = RekeyDisruption.measure(run, subject, Math.max(300, settings.allocations() / 3));
            results.add("rekey", spec.label(), w.label(), occupancy, "threshold.allocations", f.threshold());
            results.add("rekey", spec.label(), w.label(), occupancy, "early.control", f.earlyControl());
            results.add("rekey", spec.label(), w.label(), occupancy, "early.afterRekey", f.earlyAfterRekey());
            results.add("rekey", spec.label(), w.label(), occupancy, "min.afterRekey", f.minAfterRekey());
            progress.step();
        }
    }

    private void trace() throws IOException {
        final List<TraceReplay.Event> events = TraceReplay.read(settings.trace());
        for (AlgorithmSpec spec : settings.algorithms()) {
            progress.setExtraMessage("trace " + spec.label());
            final SimulatedClock clock = new SimulatedClock();
            final Subject subject = factory.create(spec, Seeds.derive(settings.seed(), "trace", spec.label()),
                Duration.ZERO, clock);
            final TraceReplay.Outcome o = TraceReplay.replay(events, subject, settings.selectable(), 0, clock);
            final String a = spec.label();
            results.add("trace", a, "trace", Double.NaN, "opens", o.opens());
            results.add("trace", a, "trace", Double.NaN, "granted", o.granted());
            results.add("trace", a, "trace", Double.NaN, "exhaustion.true", o.failures() - o.falseExhaustions());
            results.add("trace", a, "trace", Double.NaN, "exhaustion.false", o.falseExhaustions());
            results.add("trace", a, "trace", Double.NaN, "explicitConflicts", o.explicitConflicts());
            results.add("trace", a, "trace", Double.NaN, "ledger.violations", o.violations());
            final GuessSuccess.View b = GuessSuccess.viewB(o.log());
            results.add("trace", a, "trace", Double.NaN, "guess.b.trials", b.trials());
            results.add("trace", a, "trace", Double.NaN, "guess.b.best.P1", b.best()[0]);
            results.add("trace", a, "trace", Double.NaN, "guess.b.ideal.P1", b.ideal()[0]);
            progress.step();
        }
    }

    private List<AlgorithmSpec> fingerprintTargets() {
        final List<AlgorithmSpec> targets = new ArrayList<>();
        for (AlgorithmSpec spec : settings.algorithms()) {
            if (spec.hasPerturbationTable()) {
                targets.add(spec);
            }
        }
        return targets;
    }

    private void fingerprint() {
        if (!connectMode) {
            notes.add("Fingerprint (metric 3) skipped: the attack needs connect mode (per-destination tables); "
                + "this run used exclusive mode.");
            for (int i = 0; i < fingerprintTargets().size() * settings.fingerprintTables().size(); i++) {
                progress.step();
            }
            return;
        }
        for (AlgorithmSpec spec : fingerprintTargets()) {
            if (!spec.label().equals("linux") && !settings.fingerprintTables().contains(spec.tableLength())) {
                notes.add("Fingerprint: " + spec.label() + " not simulated: its table length " + spec.tableLength()
                    + " is not in fingerprintTables " + settings.fingerprintTables() + " (the 2^16 simulation takes "
                    + "about a minute per device for doubleHash and two for linux, measured on 2 cores; it runs with --full or --fingerprintTables 256,65536).");
            }
            for (int table : settings.fingerprintTables()) {
                progress.setExtraMessage("fingerprint " + spec.label() + " T=" + table);
                fingerprint(spec, table);
                progress.step();
            }
        }
    }

    private void fingerprint(AlgorithmSpec spec, int table) {
        final boolean linux = spec.label().equals("linux");
        // The attacker targets a table length; against doubleHash it only makes sense at the real length.
        if (!linux && spec.tableLength() != table) {
            return;
        }
        final int step = linux ? 2 : 1;
        // phase 1 needs about 35-75 × T connections on an idle device (34 × T measured at 2^8, 74 × T at 2^16:
        // the last buckets are found like the last coupons); 120 × T bounds a failing attack (linux) without
        // cutting a working one short
        final long budget = 120L * table;
        final DeviceFingerprintAttack.Parameters p = DeviceFingerprintAttack.Parameters.chromeDefaults(table, step, budget);
        final List<DeviceFingerprintAttack.Session> sessions = new ArrayList<>();
        int stable = 0;
        // fewer devices at 2^16 and above: each session costs about 20 million connections (a minute here)
        final int devices = table >= 1 << 16 ? settings.fingerprintLargeDevices() : settings.fingerprintDevices();
        if (devices == 1) {
            notes.add("Fingerprint " + spec.label() + " T=" + table + ": 1 device (2 sessions); its stable fraction"
                + " is 0 or 1, not a rate.");
        }
        for (int device = 0; device < devices; device++) {
            final String[] name = {"fingerprint", spec.label(), Integer.toString(table), Integer.toString(device)};
            final SimulatedClock clock = new SimulatedClock();
            final Subject subject = factory.create(spec, Seeds.derive(settings.seed(), name), Duration.ZERO, clock);
            final var random = Seeds.workload(Seeds.derive(settings.seed() + 1, name));
            final DeviceFingerprintAttack.Session first = DeviceFingerprintAttack.run(subject, settings.selectable(), p,
                random, clock);
            final DeviceFingerprintAttack.Session second = DeviceFingerprintAttack.run(subject, settings.selectable(), p,
                random, clock);
            sessions.add(first);
            sessions.add(second);
            if (first.succeeded() && second.succeeded() && !first.identifier().isEmpty()
                && first.identifier().equals(second.identifier())) {
                stable++;
            }
        }
        final double published = table == 256 ? 10_240 : table == 65536 ? 2_621_440 : Double.NaN;
        fingerprints.add(new FingerprintSummary(spec.label(), table, devices, stable, sessions, published));
        final String wl = "T=" + table;
        final double[] costs = sessions.stream().filter(DeviceFingerprintAttack.Session::succeeded)
            .mapToDouble(DeviceFingerprintAttack.Session::connections).toArray();
        final double[] phase1 = sessions.stream().mapToDouble(DeviceFingerprintAttack.Session::phase1Connections).toArray();
        results.add("fingerprint", spec.label(), wl, Double.NaN, "devices", devices);
        results.add("fingerprint", spec.label(), wl, Double.NaN, "stableFraction", stable / (double) devices);
        results.add("fingerprint", spec.label(), wl, Double.NaN, "sessionsSucceeded", costs.length);
        results.add("fingerprint", spec.label(), wl, Double.NaN, "phase1.mean", Statistics.summary(phase1)[3]);
        results.add("fingerprint", spec.label(), wl, Double.NaN, "phase2.exact", p.phase2Connections());
        results.add("fingerprint", spec.label(), wl, Double.NaN, "loopbackPorts", p.loopbackPorts());
        results.add("fingerprint", spec.label(), wl, Double.NaN, "session.median", Statistics.percentile(costs, 50));
        results.add("fingerprint", spec.label(), wl, Double.NaN, "session.p95", Statistics.percentile(costs, 95));
        results.add("fingerprint", spec.label(), wl, Double.NaN, "published.kernelCommit", published);
    }

    private void memory() throws InterruptedException {
        for (AlgorithmSpec spec : settings.algorithms()) {
            progress.setExtraMessage("memory " + spec.label());
            final int count = spec.tableLength() >= 1 << 14 ? 40 : 200;
            results.add("memory", spec.label(), "-", Double.NaN, "bytesPerAllocator",
                MemoryCost.bytesPerAllocator(spec, settings.ports(), settings.reserved(), count));
            final double[] perTuple = MemoryCost.bytesPerTuple(spec, settings.ports(), settings.reserved(), TUPLES);
            results.add("memory", spec.label(), "-", Double.NaN, "bytesPerLiveTuple", perTuple[0]);
            results.add("memory", spec.label(), "-", Double.NaN, "bytesPerQuarantinedEntryOverLive", perTuple[1]);
            progress.step();
        }
    }
}
