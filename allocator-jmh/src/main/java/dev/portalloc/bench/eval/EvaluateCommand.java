package dev.portalloc.bench.eval;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code portalloc-bench evaluate}: runs the selected sections and writes the report. Options override the
 * settings file ({@code --config}), which overrides the profile's defaults ({@code --full} or quick).
 *
 * <p>Thread-safety: one invocation per instance.
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
    description = "Run the evaluation and write report.html, summary.md and results.csv into --out.")
final class EvaluateCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE",
        description = "Settings file (Java properties; keys are these option names without dashes).")
    Path config;

    @Option(names = "--seed", description = "Seed of allocators and workloads (default 20260101).")
    String seed;

    @Option(names = "--mode", paramLabel = "MODE",
        description = "connect (5-tuples per destination, default) or exclusive (bind(0)-style).")
    String mode;

    @Option(names = "--algorithms", paramLabel = "LIST",
        description = "Comma-separated: uniform, bsdSequential, randomStart, randomProbe, hash, doubleHash[:T], "
            + "randomIncrements[:N], linux.")
    String algorithms;

    @Option(names = "--ports", paramLabel = "PORTS", description = "Automatic set, Linux syntax (default 32768-60999).")
    String ports;

    @Option(names = "--reserved", paramLabel = "PORTS", description = "Reserved ports (default none).")
    String reserved;

    @Option(names = "--quarantine", paramLabel = "DURATION", description = "Reuse delay of the quarantine runs, e.g. 60s, 0 for none.")
    String quarantine;

    @Option(names = "--occupancies", paramLabel = "LIST", description = "Steady occupancies, e.g. 0,0.5,0.9,0.99,0.999.")
    String occupancies;

    @Option(names = "--sections", paramLabel = "LIST",
        description = "Sections: quality, leakage, fingerprint, rekey, memory, trace, speed, locality (default all).")
    String sections;

    @Option(names = "--full", description = "Long profile: more allocations, all workloads, 2^16 fingerprint, JMH as documented.")
    Boolean full;

    @Option(names = "--out", paramLabel = "DIR", description = "Report directory (default target/portalloc-evaluation).")
    String out;

    @Option(names = "--trace", paramLabel = "FILE", description = "CSV trace to replay (default: the bundled sample).")
    String trace;

    @Option(names = "--popularity", paramLabel = "LIST", description = "Destination popularity: uniform, zipf, hot.")
    String popularity;

    @Option(names = "--lifetime", paramLabel = "LIST", description = "Lifetimes: exponential, lognormal.")
    String lifetime;

    @Option(names = "--destinations", description = "Workload destinations (default 1000).")
    String destinations;

    @Option(names = "--zipfExponent", description = "Zipf exponent (default 1.0).")
    String zipfExponent;

    @Option(names = "--hotShare", description = "Share of the hot backend (default 0.9).")
    String hotShare;

    @Option(names = "--arrivalRate", description = "Connections per simulated second (default 100).")
    String arrivalRate;

    @Option(names = "--allocations", description = "Measured allocations per churn run.")
    String allocations;

    @Option(names = "--leakageTrials", description = "Trials per algorithm and occupancy for metric 2.")
    String leakageTrials;

    @Option(names = "--fingerprintDevices", description = "Devices per table length below 2^16 for metric 3.")
    String fingerprintDevices;

    @Option(names = "--fingerprintLargeDevices", description = "Devices per table length of 2^16 and more for metric 3.")
    String fingerprintLargeDevices;

    @Option(names = "--fingerprintTables", paramLabel = "LIST", description = "Table lengths simulated for metric 3, e.g. 256,65536.")
    String fingerprintTables;

    private final PrintStream console = System.out;

    /** @return the settings from defaults, file and options */
    EvaluationSettings settings() throws java.io.IOException {
        final Map<String, String> file = config == null ? Map.of() : SettingsFile.read(config);
        final boolean isFull = full != null ? full : Boolean.parseBoolean(file.getOrDefault("full", "false").trim());
        final Map<String, String> merged = new LinkedHashMap<>(EvaluationSettings.defaults(isFull));
        merged.putAll(file);
        merged.putAll(options());
        merged.put("full", Boolean.toString(isFull));
        return EvaluationSettings.parse(merged);
    }

    private Map<String, String> options() {
        final Map<String, String> o = new LinkedHashMap<>();
        put(o, "seed", seed);
        put(o, "mode", mode);
        put(o, "algorithms", algorithms);
        put(o, "ports", ports);
        put(o, "reserved", reserved);
        put(o, "quarantine", quarantine);
        put(o, "occupancies", occupancies);
        put(o, "sections", sections);
        put(o, "out", out);
        put(o, "trace", trace);
        put(o, "popularity", popularity);
        put(o, "lifetime", lifetime);
        put(o, "destinations", destinations);
        put(o, "zipfExponent", zipfExponent);
        put(o, "hotShare", hotShare);
        put(o, "arrivalRate", arrivalRate);
        put(o, "allocations", allocations);
        put(o, "leakageTrials", leakageTrials);
        put(o, "fingerprintDevices", fingerprintDevices);
        put(o, "fingerprintLargeDevices", fingerprintLargeDevices);
        put(o, "fingerprintTables", fingerprintTables);
        return o;
    }

    private static void put(Map<String, String> map, String key, String value) {
        if (value != null) {
            map.put(key, value);
        }
    }

    @Override
    public Integer call() throws Exception {
        final EvaluationSettings s = settings();
        final Instant start = Instant.now();
        console.printf("portalloc-bench evaluate: %s profile, seed %d, %d algorithms, occupancies %s, sections %s%n",
            s.full() ? "full" : "quick", s.seed(), s.algorithms().size(), s.occupancies(), s.sections());
        final boolean connect = s.mode() == AllocatorSubject.Mode.CONNECT;
        final Evaluation evaluation = new Evaluation(s, (spec, seed, q, clock) ->
            AllocatorSubject.create(s.mode(), spec, s.ports(), s.reserved(), seed, q, clock), connect, console);
        evaluation.run();
        if (s.sections().contains(EvaluationSettings.Section.SPEED)) {
            console.println("speed: running JMH (ExclusiveAllocationBenchmark), " + (s.full() ? "full" : "short")
                + " iterations ...");
            java.nio.file.Files.createDirectories(s.out());
            evaluation.timed("speed", () -> {
                try {
                    final double waited = SpeedSection.run(s.full(), s.out().resolve("jmh.json"), evaluation.results());
                    if (waited >= 1) {
                        evaluation.notes().add(String.format(java.util.Locale.ROOT, "Speed: waited %.0f s for another "
                            + "JMH run on this machine (its lock, /tmp/jmh.lock) before starting; included in the "
                            + "speed section's time.", waited));
                    }
                } catch (org.openjdk.jmh.runner.RunnerException | java.io.IOException e) {
                    // e.g. another JMH run holds /tmp/jmh.lock: the other sections' report is still worth writing
                    evaluation.notes().add("Speed section not run: " + e.getMessage());
                }
            });
        }
        if (s.sections().contains(EvaluationSettings.Section.LOCALITY)) {
            console.println("locality: guess success per threadLocality setting, then JMH (ThreadLocalityBenchmark), "
                + (s.full() ? "full" : "short") + " iterations ...");
            evaluation.timed("locality", () -> {
                LocalitySection.guess(s, evaluation.results());
                java.nio.file.Files.createDirectories(s.out());
                try {
                    LocalitySection.speed(s.full(), s.out().resolve("jmh-locality.json"), evaluation.results());
                } catch (org.openjdk.jmh.runner.RunnerException | java.io.IOException e) {
                    evaluation.notes().add("Locality section: JMH not run: " + e.getMessage());
                }
            });
        }
        final Duration elapsed = Duration.between(start, Instant.now());
        final List<String> header = new ArrayList<>();
        header.add("Date: " + start.truncatedTo(ChronoUnit.SECONDS) + " (UTC); elapsed " + elapsed.toSeconds() + " s");
        header.add("Section times (wall clock): " + sectionTimes(evaluation.sectionSeconds())
            + "; load average at the end " + loadAverage());
        header.add("JVM: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version")
            + "; " + Runtime.getRuntime().availableProcessors() + " CPUs; " + System.getProperty("os.name") + " "
            + System.getProperty("os.arch"));
        header.add("Command: portalloc-bench " + String.join(" ", commandSpec.commandLine().getParseResult().originalArgs()));
        header.add("Seed: " + s.seed() + " (same seed → same quality figures; timings and memory are measured)");
        header.add("Mode: " + (connect ? "connect (5-tuples, per destination)" : "exclusive (bind(0)-style; the "
            + "destination is ignored by the allocator)"));
        header.add("Profile: " + (s.full() ? "full" : "quick") + "; algorithms " + s.algorithms().stream()
            .map(AlgorithmSpec::label).toList() + "; ports " + s.ports() + "; reserved " + (s.reserved().isEmpty() ? "none"
            : s.reserved()) + "; quarantine " + s.quarantine() + "; workloads " + s.popularities() + " × " + s.lifetimes()
            + ", " + s.destinations() + " destinations, " + s.arrivalRate() + " arrivals/s, " + s.allocations()
            + " allocations per run");
        new ReportWriter(s, evaluation.results(), evaluation.notes(), evaluation.fingerprints(), header).write(s.out());
        for (String note : evaluation.notes()) {
            console.println("note: " + note);
        }
        console.println("section times: " + sectionTimes(evaluation.sectionSeconds()) + "; load average " + loadAverage());
        console.println("Report written to " + s.out().toAbsolutePath() + " (report.html, summary.md, results.csv) in "
            + elapsed.toSeconds() + " s");
        return 0;
    }

    private static String sectionTimes(Map<String, Double> seconds) {
        final List<String> parts = new ArrayList<>();
        seconds.forEach((name, t) -> parts.add(name + " " + Math.round(t) + " s"));
        return parts.isEmpty() ? "none" : String.join(", ", parts);
    }

    /** @return the 1-minute system load average (the machine may be shared), or "n/a" */
    private static String loadAverage() {
        final double load = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        return load < 0 ? "n/a" : String.format(java.util.Locale.ROOT, "%.2f", load);
    }

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec commandSpec;
}
