package dev.portalloc.bench.eval;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Writes an evaluation's report into a directory: {@code results.csv} (every figure, long format),
 * {@code summary.md} (tables) and {@code report.html} (the same tables and the charts, embedded as base64 PNG,
 * so the file opens anywhere on its own).
 *
 * <p>Thread-safety: not thread-safe; one writer per report.
 */
final class ReportWriter {
    private final EvaluationSettings settings;
    private final Results results;
    private final List<String> notes;
    private final List<Evaluation.FingerprintSummary> fingerprints;
    private final List<String> header;
    private final List<Table> tables = new ArrayList<>();
    /** Chart title → base64 PNG, in order; each chart follows the table it illustrates. */
    private final Map<Integer, List<String[]>> chartsAfterTable = new LinkedHashMap<>();

    /**
     * @param settings the settings
     * @param results every figure
     * @param notes remarks for the reader (skipped sections, violations)
     * @param fingerprints fingerprint experiments
     * @param header lines describing the run (date, JVM, command, seed)
     */
    ReportWriter(EvaluationSettings settings, Results results, List<String> notes,
                 List<Evaluation.FingerprintSummary> fingerprints, List<String> header) {
        this.settings = settings;
        this.results = results;
        this.notes = notes;
        this.fingerprints = fingerprints;
        this.header = header;
    }

    /**
     * @param dir the directory, created if missing
     * @throws IOException if writing fails
     */
    void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        buildTables();
        Files.writeString(dir.resolve("results.csv"), csv(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("summary.md"), markdown(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("report.html"), html(), StandardCharsets.UTF_8);
    }

    /** {@code results.csv}: RFC 4180 (a field is quoted only if it holds a comma, quote or line break), lines end in LF. */
    private String csv() throws IOException {
        final CSVFormat format = CSVFormat.RFC4180.builder().setRecordSeparator('\n')
            .setHeader("section", "algorithm", "workload", "occupancy", "metric", "value").get();
        final StringBuilder sb = new StringBuilder();
        try (CSVPrinter printer = new CSVPrinter(sb, format)) {
            for (Results.Row r : results.rows()) {
                printer.printRecord(r.section(), r.algorithm(), r.workload(),
                    Double.isNaN(r.occupancy()) ? "" : Double.toString(r.occupancy()), r.metric(), Double.toString(r.value()));
            }
        }
        return sb.toString();
    }

    private Set<String> values(String section, java.util.function.Function<Results.Row, String> f) {
        final Set<String> out = new LinkedHashSet<>();
        for (Results.Row r : results.rows()) {
            if (r.section().equals(section)) {
                out.add(f.apply(r));
            }
        }
        return out;
    }

    private String cell(String section, String algorithm, String workload, double occupancy, String metric) {
        return results.find(section, algorithm, workload, occupancy, metric).map(Table::format).orElse("–");
    }

    private double value(String section, String algorithm, String workload, double occupancy, String metric) {
        return results.find(section, algorithm, workload, occupancy, metric).orElse(Double.NaN);
    }

    /** Draws a chart; the report must not be lost to a chart that XChart refuses to draw. */
    @FunctionalInterface
    private interface ChartMaker {
        String draw() throws IOException;
    }

    private void chart(String title, ChartMaker maker) {
        try {
            chartsAfterTable.computeIfAbsent(tables.size() - 1, k -> new ArrayList<>())
                .add(new String[] {title, maker.draw()});
        } catch (IOException | RuntimeException e) {
            notes.add("Chart '" + title + "' could not be drawn: " + e.getMessage());
        }
    }

    private Map<String, Map<Double, Double>> seriesByAlgorithm(String section, String workload, String metric) {
        final Map<String, Map<Double, Double>> series = new LinkedHashMap<>();
        for (Results.Row r : results.rows()) {
            if (r.section().equals(section) && r.workload().equals(workload) && r.metric().equals(metric)) {
                series.computeIfAbsent(r.algorithm(), k -> new TreeMap<>()).put(r.occupancy(), r.value());
            }
        }
        return series;
    }

    private void buildTables() {
        for (String workload : values("quality", Results.Row::workload)) {
            final Table security = new Table("Guess success (metric 1), workload " + workload
                + ": best predictor's P_q per attacker view, ideal = q / free ports",
                List.of("algorithm", "occupancy", "measured", "a: P100", "b: P1", "b: P10", "b: P100", "c: P1",
                    "c: P100", "ideal P1", "ideal P100", "b: H_min bits", "c: H_min bits"));
            final Table operation = new Table("Exhaustion, probes per allocation and time, reuse, uniformity (metrics 4-7), workload " + workload,
                List.of("algorithm", "occupancy", "false exh.", "true exh.", "probes mean", "probes p99",
                    "probes max", "ns p50", "ns p99", "ns max",
                    "port reuse p1", "tuple reuse min", "tuple reuse p1", "tuple reuse p50", "with quarantine: tuple min",
                    "tuple p1 (s)", "chi² p", "max/min", "lag-1", "post-gap"));
            for (String a : values("quality", Results.Row::algorithm)) {
                for (double occ : settings.occupancies()) {
                    if (results.find("quality", a, workload, occ, "occupancy.measured").isEmpty()) {
                        continue;
                    }
                    security.row(List.of(a, Table.format(occ), cell("quality", a, workload, occ, "occupancy.measured"),
                        cell("quality", a, workload, occ, "guess.a.best.P100"),
                        cell("quality", a, workload, occ, "guess.b.best.P1"),
                        cell("quality", a, workload, occ, "guess.b.best.P10"),
                        cell("quality", a, workload, occ, "guess.b.best.P100"),
                        cell("quality", a, workload, occ, "guess.c.best.P1"),
                        cell("quality", a, workload, occ, "guess.c.best.P100"),
                        cell("quality", a, workload, occ, "guess.b.ideal.P1"),
                        cell("quality", a, workload, occ, "guess.b.ideal.P100"),
                        cell("quality", a, workload, occ, "guess.b.minEntropyBits"),
                        cell("quality", a, workload, occ, "guess.c.minEntropyBits")));
                    operation.row(List.of(a, Table.format(occ),
                        cell("quality", a, workload, occ, "exhaustion.false"),
                        cell("quality", a, workload, occ, "exhaustion.true"),
                        cell("quality", a, workload, occ, "probes.mean"),
                        cell("quality", a, workload, occ, "probes.p99"),
                        cell("quality", a, workload, occ, "probes.max"),
                        cell("quality", a, workload, occ, "cost.p50Ns"),
                        cell("quality", a, workload, occ, "cost.p99Ns"),
                        cell("quality", a, workload, occ, "cost.maxNs"),
                        cell("quality", a, workload, occ, "reuse.port.allocations.p1"),
                        cell("quality", a, workload, occ, "reuse.tuple.allocations.min"),
                        cell("quality", a, workload, occ, "reuse.tuple.allocations.p1"),
                        cell("quality", a, workload, occ, "reuse.tuple.allocations.p50"),
                        cell("quality", a, workload, occ, "quarantine.reuse.tuple.allocations.min"),
                        cell("quality", a, workload, occ, "quarantine.reuse.tuple.seconds.p1"),
                        cell("quality", a, workload, occ, "uniformity.chiSquareP"),
                        cell("quality", a, workload, occ, "uniformity.maxMinRatio"),
                        cell("quality", a, workload, occ, "uniformity.lag1Autocorrelation"),
                        cell("quality", a, workload, occ, "uniformity.postGapBias")));
                }
            }
            tables.add(security);
            chart("P1, view (b), " + workload, () -> Charts.versusOccupancy("P1, view (b), " + workload, "P1 (log)",
                seriesByAlgorithm("quality", workload, "guess.b.best.P1"), true));
            chart("P1, view (c), " + workload, () -> Charts.versusOccupancy("P1, view (c), " + workload, "P1 (log)",
                seriesByAlgorithm("quality", workload, "guess.c.best.P1"), true));
            tables.add(operation);
            chart("probes mean, " + workload, () -> Charts.versusOccupancy("Probes per allocation (metric 5), mean, "
                + workload, "candidates examined (log)", seriesByAlgorithm("quality", workload, "probes.mean"), true));
            chart("probes p99, " + workload, () -> Charts.versusOccupancy("Probes per allocation (metric 5), p99, "
                + workload, "candidates examined (log)", seriesByAlgorithm("quality", workload, "probes.p99"), true));
            chart("cost p99, " + workload, () -> Charts.versusOccupancy("Time per allocation (secondary), p99, " + workload,
                "ns (log)", seriesByAlgorithm("quality", workload, "cost.p99Ns"), true));
            chart("tuple reuse p1, " + workload, () -> Charts.versusOccupancy("5-tuple reuse interval p1, " + workload,
                "allocations to the destination (log)", seriesByAlgorithm("quality", workload,
                "reuse.tuple.allocations.p1"), true));
        }
        leakageTable();
        fingerprintTable();
        simpleTable("rekey", "Rekey disruption (metric 8): fraction of 5-tuple reuses below the pre-rekey 1st percentile",
            List.of("threshold.allocations", "early.control", "early.afterRekey", "min.afterRekey"));
        simpleTable("memory", "Memory (metric 9): heap bytes (estimates from heap growth; per tuple: 100,000 IPv4 "
            + "tuples to 1,000 destinations)", List.of("bytesPerAllocator", "bytesPerLiveTuple",
            "bytesPerQuarantinedEntryOverLive"));
        simpleTable("trace", "Trace replay: " + settings.trace(), List.of("opens", "granted", "exhaustion.true",
            "exhaustion.false", "explicitConflicts", "ledger.violations", "guess.b.trials", "guess.b.best.P1", "guess.b.ideal.P1"));
        speedTable();
        localityTable();
    }

    private void leakageTable() {
        final Set<String> algorithms = values("leakage", Results.Row::algorithm);
        if (algorithms.isEmpty()) {
            return;
        }
        final List<String> headers = new ArrayList<>(List.of("algorithm"));
        for (double occ : settings.occupancies()) {
            headers.add("R² at " + Table.format(occ));
        }
        final Table t = new Table("Cross-destination leakage (metric 2): R² of hidden connections on the attacker's step (ideal 0)", headers);
        for (String a : algorithms) {
            final List<String> row = new ArrayList<>(List.of(a));
            for (double occ : settings.occupancies()) {
                row.add(cell("leakage", a, "-", occ, "rSquared"));
            }
            t.row(row);
        }
        tables.add(t);
        chart("leakage", () -> Charts.versusOccupancy("Cross-destination leakage R²", "R²",
            seriesByAlgorithm("leakage", "-", "rSquared"), false));
    }

    private void fingerprintTable() {
        if (fingerprints.isEmpty()) {
            return;
        }
        final Table t = new Table("Device fingerprint, Kol–Klein–Gilad simulation (metric 3): connections per attack session",
            List.of("algorithm", "table T", "devices", "stable identifier", "phase 1 mean", "phase 2 (exact)",
                "session median", "session p95", "kernel commit cites", "loopback ports", "first failure"));
        for (Evaluation.FingerprintSummary f : fingerprints) {
            final String wl = "T=" + f.tableLength();
            final String failure = f.sessions().stream().filter(s -> !s.succeeded()).map(DeviceFingerprintAttack.Session::failure)
                .findFirst().orElse("none");
            t.row(List.of(f.algorithm(), Table.format(f.tableLength()), Table.format(f.devices()),
                f.stable() + " / " + f.devices(), cell("fingerprint", f.algorithm(), wl, Double.NaN, "phase1.mean"),
                cell("fingerprint", f.algorithm(), wl, Double.NaN, "phase2.exact"),
                cell("fingerprint", f.algorithm(), wl, Double.NaN, "session.median"),
                cell("fingerprint", f.algorithm(), wl, Double.NaN, "session.p95"),
                Table.format(f.published()), cell("fingerprint", f.algorithm(), wl, Double.NaN, "loopbackPorts"), failure));
        }
        tables.add(t);
    }

    private void simpleTable(String section, String title, List<String> metrics) {
        final Set<String> algorithms = values(section, Results.Row::algorithm);
        if (algorithms.isEmpty()) {
            return;
        }
        final List<String> headers = new ArrayList<>(List.of("algorithm"));
        headers.addAll(metrics);
        final Table t = new Table(title, headers);
        for (String a : algorithms) {
            final List<String> row = new ArrayList<>(List.of(a));
            for (String m : metrics) {
                String found = "–";
                for (Results.Row r : results.rows()) {
                    if (r.section().equals(section) && r.algorithm().equals(a) && r.metric().equals(m)) {
                        found = Table.format(r.value());
                        break;
                    }
                }
                row.add(found);
            }
            t.row(row);
        }
        tables.add(t);
    }

    private void speedTable() {
        final List<Results.Row> speed = results.rows().stream().filter(r -> r.section().equals("speed")).toList();
        if (speed.isEmpty()) {
            return;
        }
        final Table t = new Table("Speed (JMH, this run): score in ns/op and ratio to the 1-thread allocator at 50 %",
            List.of("benchmark", "params", "ns/op", "ratio"));
        final LinkedHashMap<String, LinkedHashMap<String, Double>> bars = new LinkedHashMap<>();
        final LinkedHashMap<String, Double> ratios = new LinkedHashMap<>();
        for (Results.Row r : speed) {
            if (r.metric().equals("score")) {
                final double ratio = value("speed", r.algorithm(), r.workload(), r.occupancy(), "ratio");
                t.row(List.of(r.algorithm(), r.workload(), Table.format(r.value()), Table.format(ratio)));
                // the OS baseline is hundreds of times slower: it stays in the table, off the linear chart
                if (!r.algorithm().endsWith("operatingSystem")) {
                    ratios.put(r.algorithm().replaceAll(".*\\.", "") + " " + r.workload(), ratio);
                }
            }
        }
        bars.put("ratio to allocator at 50 %, 1 thread", ratios);
        tables.add(t);
        chart("speed", () -> Charts.bars("JMH score / allocator at 50 %", "ratio", bars));
        final List<Results.Row> goals = results.rows().stream().filter(r -> r.section().equals("goals")).toList();
        if (!goals.isEmpty()) {
            final Table g = new Table("Performance targets of allocator-jmh/README.md, from this run's short JMH iterations",
                List.of("target", "measured ratio", "limit", "verdict"));
            for (Results.Row r : goals) {
                if (r.metric().equals("ratio")) {
                    final double limit = value("goals", r.algorithm(), r.workload(), r.occupancy(), "limit");
                    final double pass = value("goals", r.algorithm(), r.workload(), r.occupancy(), "pass");
                    g.row(List.of(r.algorithm(), Table.format(r.value()), r.workload() + " " + Table.format(limit),
                        Double.isNaN(pass) ? "MISSING" : pass > 0 ? "PASS" : "FAIL"));
                }
            }
            tables.add(g);
        }
    }

    /** The locality section: per mode and threadLocality setting, speed gained and guess success lost, against off. */
    private void localityTable() {
        final Set<String> labels = values("locality", Results.Row::algorithm);
        if (labels.isEmpty()) {
            return;
        }
        final double occ = LocalitySection.OCCUPANCY;
        final Table t = new Table("Thread locality (uniform, 50 %): 2-thread speed gained (JMH, exclusive acquire + "
            + "release) against guess success lost (metric 1, churn run per mode; best predictor, nearest-ports "
            + "predictors included); setting = segment ports x allocations per segment",
            List.of("mode", "setting", "ns/op 1t", "ns/op 2t", "scaling 2t/1t", "2t throughput vs off", "b: P100",
                "b: P100 vs off", "c: P1", "c: P10", "c: P100", "c: P100 vs off", "c: nearBefore P100", "ideal P100",
                "false exh."));
        final LinkedHashMap<String, Double> gain = new LinkedHashMap<>();
        final LinkedHashMap<String, Double> scaling = new LinkedHashMap<>();
        for (String a : labels) {
            for (String setting : values("locality", Results.Row::workload)) {
                t.row(List.of(a.replace("uniform/", ""), setting,
                    cell("locality", a, setting, occ, "speed.ns.1t"),
                    cell("locality", a, setting, occ, "speed.ns.2t"),
                    cell("locality", a, setting, occ, "speed.scaling2t"),
                    cell("locality", a, setting, occ, "speed.throughput.2t.vsOff"),
                    cell("locality", a, setting, occ, "guess.b.best.P100"),
                    cell("locality", a, setting, occ, "guess.b.best.P100.vsOff"),
                    cell("locality", a, setting, occ, "guess.c.best.P1"),
                    cell("locality", a, setting, occ, "guess.c.best.P10"),
                    cell("locality", a, setting, occ, "guess.c.best.P100"),
                    cell("locality", a, setting, occ, "guess.c.best.P100.vsOff"),
                    cell("locality", a, setting, occ, "guess.c.nearBefore.P100"),
                    cell("locality", a, setting, occ, "guess.c.ideal.P100"),
                    cell("locality", a, setting, occ, "exhaustion.false")));
                final double g = value("locality", a, setting, occ, "speed.throughput.2t.vsOff");
                if (!Double.isNaN(g)) {
                    gain.put(setting, g);
                    scaling.put(setting, value("locality", a, setting, occ, "speed.scaling2t"));
                }
            }
        }
        tables.add(t);
        if (!gain.isEmpty()) {
            final LinkedHashMap<String, LinkedHashMap<String, Double>> bars = new LinkedHashMap<>();
            bars.put("2-thread throughput vs off", gain);
            bars.put("scaling 2 threads / 1 thread", scaling);
            chart("locality", () -> Charts.bars("Thread locality: 2-thread speed (exclusive)", "ratio", bars));
        }
    }

    private String markdown() {
        final StringBuilder sb = new StringBuilder("# portalloc evaluation\n\n");
        for (String h : header) {
            sb.append("- ").append(h).append('\n');
        }
        sb.append('\n');
        if (!notes.isEmpty()) {
            sb.append("## Notes\n\n");
            for (String n : notes) {
                sb.append("- ").append(n).append('\n');
            }
            sb.append('\n');
        }
        sb.append("Definitions of every metric: `allocator-jmh/README.md`, section \"Evaluation harness\". ")
            .append("Every figure is also in `results.csv`; the charts are in `report.html`.\n\n");
        for (Table t : tables) {
            sb.append(t.markdown());
        }
        return sb.toString();
    }

    private String html() {
        final StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>portalloc evaluation</title>\n")
            .append("<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;")
            .append("margin:1em 0;font-size:13px}caption{font-weight:bold;text-align:left;padding:4px 0}")
            .append("td,th{border:1px solid #bbb;padding:3px 6px}td.n{text-align:right;font-variant-numeric:tabular-nums}")
            .append("th{background:#eee}img{display:block;margin:1em 0;border:1px solid #ddd}</style></head><body>\n")
            .append("<h1>portalloc evaluation</h1>\n<ul>\n");
        for (String h : header) {
            sb.append("<li>").append(Table.escape(h)).append("</li>\n");
        }
        sb.append("</ul>\n");
        if (!notes.isEmpty()) {
            sb.append("<h2>Notes</h2><ul>\n");
            for (String n : notes) {
                sb.append("<li>").append(Table.escape(n)).append("</li>\n");
            }
            sb.append("</ul>\n");
        }
        sb.append("<p>Definitions of every metric: <code>allocator-jmh/README.md</code>, section “Evaluation harness”. ")
            .append("Every figure is also in <code>results.csv</code>.</p>\n");
        for (int i = 0; i < tables.size(); i++) {
            sb.append(tables.get(i).html());
            for (String[] c : chartsAfterTable.getOrDefault(i, List.of())) {
                sb.append("<img alt=\"").append(Table.escape(c[0])).append("\" src=\"data:image/png;base64,")
                    .append(c[1]).append("\">\n");
            }
        }
        return sb.append("</body></html>\n").toString().replace("\u00a0", " ");
    }
}
