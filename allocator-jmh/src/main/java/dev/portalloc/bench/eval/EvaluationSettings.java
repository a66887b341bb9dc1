package dev.portalloc.bench.eval;

import dev.portalloc.PortSet;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Every setting of one evaluation, parsed and checked. Settings come from three layers, later ones winning: the
 * profile's defaults ({@link #defaults(boolean)}), a settings file ({@link SettingsFile}) and the command line.
 * All three are string maps keyed by the same names (the long option names without dashes), so one parser
 * checks them all and every error names the key, the bad value and what is allowed.
 *
 * <p>Thread-safety: immutable value.
 *
 * @param seed seed of the allocators and of the workload generator
 * @param mode connect (5-tuples) or exclusive ({@code bind(0)}-style) allocation
 * @param algorithms algorithms compared, in report order
 * @param ports the automatic port set
 * @param reserved ports never chosen automatically
 * @param quarantine reuse delay of the "with quarantine" runs; zero for none
 * @param occupancies steady occupancies as fractions of the selectable ports, each in [0, 1)
 * @param sections sections to run
 * @param full whether the long profile is used
 * @param out report directory
 * @param trace CSV trace to replay ({@code classpath:} prefix for the bundled sample)
 * @param popularities destination popularity models of the churn workload
 * @param lifetimes lifetime distributions of the churn workload
 * @param destinations number of distinct destinations of the churn workload
 * @param zipfExponent exponent of the Zipf popularity
 * @param hotShare fraction of connections to the hot backend in the {@code hot} popularity
 * @param arrivalRate mean connection arrivals per simulated second
 * @param allocations measured allocations per churn run (after the fill)
 * @param leakageTrials attacker step observations per algorithm and occupancy (metric 2)
 * @param fingerprintDevices simulated devices (each attacked twice) per table length below 2^16 (metric 3)
 * @param fingerprintLargeDevices the same for table lengths of 2^16 and more, where one session costs tens of
 *     millions of simulated connections (about a minute here)
 * @param fingerprintTables table lengths whose attack is simulated to the end
 */
public record EvaluationSettings(
    long seed,
    AllocatorSubject.Mode mode,
    List<AlgorithmSpec> algorithms,
    PortSet ports,
    PortSet reserved,
    Duration quarantine,
    List<Double> occupancies,
    Set<Section> sections,
    boolean full,
    Path out,
    String trace,
    List<Popularity.Kind> popularities,
    List<Lifetimes.Kind> lifetimes,
    int destinations,
    double zipfExponent,
    double hotShare,
    double arrivalRate,
    int allocations,
    int leakageTrials,
    int fingerprintDevices,
    int fingerprintLargeDevices,
    List<Integer> fingerprintTables) {

    /** The sections of a report. */
    public enum Section {
        /** Churn runs: guess success, false exhaustion, cost per allocation, reuse, uniformity (metrics 1, 4-7). */
        QUALITY,
        /** Cross-destination leakage (metric 2). */
        LEAKAGE,
        /** Kol–Klein–Gilad device-fingerprint simulation (metric 3). */
        FINGERPRINT,
        /** Rekey disruption (metric 8). */
        REKEY,
        /** Memory per allocator, per live tuple and per quarantined entry (metric 9). */
        MEMORY,
        /** Replay of a CSV trace. */
        TRACE,
        /** JMH benchmarks run through the JMH Runner API, shown as ratios. */
        SPEED,
        /** Thread locality: 2-thread speed gained (JMH) versus guess success lost (metric 1), per setting. */
        LOCALITY
    }

    /** Keys accepted in settings files and maps (the long option names without dashes). */
    public static final List<String> KEYS = List.of("seed", "mode", "algorithms", "ports", "reserved", "quarantine",
        "occupancies", "sections", "full", "out", "trace", "popularity", "lifetime", "destinations",
        "zipfExponent", "hotShare", "arrivalRate", "allocations", "leakageTrials", "fingerprintDevices",
        "fingerprintLargeDevices", "fingerprintTables");

    /** The bundled sample trace. */
    public static final String SAMPLE_TRACE = "classpath:dev/portalloc/bench/eval/sample-trace.csv";

    /**
     * The defaults of a profile, as strings (the same form as a settings file).
     *
     * @param full the long profile instead of the quick one
     * @return a new mutable map
     */
    public static Map<String, String> defaults(boolean full) {
        final Map<String, String> d = new LinkedHashMap<>();
        d.put("seed", "20260101");
        d.put("mode", "connect");
        d.put("algorithms", "uniform,bsdSequential,randomStart,randomProbe,hash,doubleHash:256,doubleHash:65536,"
            + "randomIncrements:500,linux");
        d.put("ports", "32768-60999");
        d.put("reserved", "");
        d.put("quarantine", "60s");
        d.put("occupancies", "0,0.5,0.9,0.99,0.999");
        // locality: not in the quick profile (it adds 19-24 s, and 300 ms iterations cannot
        // resolve 2-thread differences); run it with --full or on its own with --sections locality
        d.put("sections", "quality,leakage,fingerprint,rekey,memory,trace,speed" + (full ? ",locality" : ""));
        d.put("full", Boolean.toString(full));
        d.put("out", "target/portalloc-evaluation");
        d.put("trace", SAMPLE_TRACE);
        d.put("popularity", full ? "uniform,zipf,hot" : "uniform,hot");
        d.put("lifetime", full ? "exponential,lognormal" : "exponential");
        d.put("destinations", "1000");
        d.put("zipfExponent", "1.0");
        d.put("hotShare", "0.9");
        d.put("arrivalRate", "100");
        d.put("allocations", full ? "100000" : "3000");
        d.put("leakageTrials", full ? "20000" : "1000");
        d.put("fingerprintDevices", full ? "20" : "4");
        d.put("fingerprintLargeDevices", full ? "6" : "1");
        d.put("fingerprintTables", full ? "256,65536" : "256");
        return d;
    }

    /**
     * Parses and checks a complete map of settings.
     *
     * @param raw every key of {@link #KEYS}
     * @return the settings
     * @throws IllegalArgumentException naming the key, the bad value and the allowed values
     */
    public static EvaluationSettings parse(Map<String, String> raw) {
        for (String key : raw.keySet()) {
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown setting '" + key + "': allowed keys are " + KEYS);
            }
        }
        final Values v = new Values(raw);
        final PortSet ports = v.portSet("ports");
        final PortSet reserved = v.portSet("reserved");
        if (ports.isEmpty()) {
            throw new IllegalArgumentException("setting 'ports' is empty: give at least one port, e.g. 32768-60999");
        }
        if (ports.minus(reserved).isEmpty()) {
            throw new IllegalArgumentException("settings 'ports' (" + ports + ") minus 'reserved' (" + reserved
                + ") leave no selectable port");
        }
        final List<Double> occupancies = new ArrayList<>();
        for (String s : v.list("occupancies")) {
            occupancies.add(v.fraction("occupancies", s, 0.0, 1.0, false));
        }
        final Set<Section> sections = EnumSet.noneOf(Section.class);
        for (String s : v.list("sections")) {
            sections.add(v.enumValue("sections", s, Section.class));
        }
        final List<Popularity.Kind> popularities = new ArrayList<>();
        for (String s : v.list("popularity")) {
            popularities.add(v.enumValue("popularity", s, Popularity.Kind.class));
        }
        final List<Lifetimes.Kind> lifetimes = new ArrayList<>();
        for (String s : v.list("lifetime")) {
            lifetimes.add(v.enumValue("lifetime", s, Lifetimes.Kind.class));
        }
        final List<Integer> tables = new ArrayList<>();
        for (String s : v.list("fingerprintTables")) {
            final int t = v.integer("fingerprintTables", s, 2, 1 << 20);
            if (Integer.bitCount(t) != 1) {
                throw new IllegalArgumentException("setting 'fingerprintTables': " + t + " is not a power of two (2..2^20)");
            }
            tables.add(t);
        }
        return new EvaluationSettings(
            v.longValue("seed"),
            v.enumValue("mode", v.get("mode"), AllocatorSubject.Mode.class),
            List.copyOf(AlgorithmSpec.parseList(v.get("algorithms"))),
            ports,
            reserved,
            v.duration("quarantine"),
            List.copyOf(occupancies),
            Set.copyOf(sections),
            v.bool("full"),
            Path.of(v.get("out")),
            v.get("trace"),
            List.copyOf(popularities),
            List.copyOf(lifetimes),
            v.integer("destinations", v.get("destinations"), 1, 1 << 24),
            v.fraction("zipfExponent", v.get("zipfExponent"), 0.0, 10.0, true),
            v.fraction("hotShare", v.get("hotShare"), 0.0, 1.0, true),
            v.fraction("arrivalRate", v.get("arrivalRate"), 1e-6, 1e9, true),
            v.integer("allocations", v.get("allocations"), 100, 100_000_000),
            v.integer("leakageTrials", v.get("leakageTrials"), 10, 100_000_000),
            v.integer("fingerprintDevices", v.get("fingerprintDevices"), 1, 10_000),
            v.integer("fingerprintLargeDevices", v.get("fingerprintLargeDevices"), 1, 10_000),
            List.copyOf(tables));
    }

    /** The selectable ports: automatic set minus reserved. */
    public PortSet selectable() {
        return ports.minus(reserved);
    }

    /** Typed reading of the raw strings, with messages that name key, value and allowed range. */
    private record Values(Map<String, String> raw) {
        String get(String key) {
            final String value = raw.get(key);
            if (value == null) {
                throw new IllegalArgumentException("setting '" + key + "' is missing");
            }
            return value.trim();
        }

        List<String> list(String key) {
            final String value = get(key);
            final List<String> items = new ArrayList<>();
            if (value.isEmpty()) {
                return items;
            }
            for (String part : value.split(",", -1)) {
                if (part.isBlank()) {
                    throw new IllegalArgumentException("setting '" + key + "' has an empty entry: '" + value + "'");
                }
                items.add(part.trim());
            }
            return items;
        }

        long longValue(String key) {
            try {
                return Long.parseLong(get(key));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("setting '" + key + "' is '" + get(key)
                    + "', not a whole number (allowed " + Long.MIN_VALUE + ".." + Long.MAX_VALUE + ")", e);
            }
        }

        int integer(String key, String text, int min, int max) {
            final long value;
            try {
                value = Long.parseLong(text.trim().replace("_", ""));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("setting '" + key + "' has '" + text
                    + "', not a whole number (allowed " + min + ".." + max + ")", e);
            }
            if (value < min || value > max) {
                throw new IllegalArgumentException("setting '" + key + "' is " + value + ", allowed " + min + ".." + max);
            }
            return (int) value;
        }

        double fraction(String key, String text, double min, double max, boolean maxInclusive) {
            final double value;
            try {
                value = Double.parseDouble(text.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("setting '" + key + "' has '" + text + "', not a number (allowed "
                    + min + ".." + max + ")", e);
            }
            if (!(value >= min) || (maxInclusive ? value > max : value >= max)) {
                throw new IllegalArgumentException("setting '" + key + "' has " + text + ", allowed " + min
                    + (maxInclusive ? " ≤ x ≤ " : " ≤ x < ") + max);
            }
            return value;
        }

        boolean bool(String key) {
            final String value = get(key).toLowerCase(Locale.ROOT);
            if (!value.equals("true") && !value.equals("false")) {
                throw new IllegalArgumentException("setting '" + key + "' is '" + get(key) + "': allowed true or false");
            }
            return value.equals("true");
        }

        PortSet portSet(String key) {
            try {
                return PortSet.parse(get(key));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("setting '" + key + "' is '" + get(key)
                    + "': expected ports or ranges 1..65535 as in Linux, e.g. 32768-60999 or 5060-5061,8080 ("
                    + e.getMessage() + ")", e);
            }
        }

        Duration duration(String key) {
            return Durations.parse(key, get(key));
        }

        <E extends Enum<E>> E enumValue(String key, String text, Class<E> type) {
            for (E e : type.getEnumConstants()) {
                if (e.name().equalsIgnoreCase(text)) {
                    return e;
                }
            }
            final List<String> allowed = new ArrayList<>();
            for (E e : type.getEnumConstants()) {
                allowed.add(e.name().toLowerCase(Locale.ROOT));
            }
            throw new IllegalArgumentException("setting '" + key + "' has '" + text + "': allowed " + allowed);
        }
    }
}
