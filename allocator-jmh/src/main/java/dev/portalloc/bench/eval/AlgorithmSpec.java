package dev.portalloc.bench.eval;

import dev.portalloc.Algorithm;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One algorithm named on the command line or in a settings file: {@code name} or {@code name:parameter}, e.g.
 * {@code uniform}, {@code linux}, {@code doubleHash:1024}, {@code randomIncrements:500}. Names are the factory
 * methods of {@link Algorithm}, matched without regard to case.
 *
 * <p>Thread-safety: immutable value.
 *
 * @param label the text as given (normalised to the factory's spelling), used in reports
 * @param algorithm the algorithm it names
 * @param tableLength the table length for {@code doubleHash}, 0 for algorithms without a table
 */
public record AlgorithmSpec(String label, Algorithm algorithm, int tableLength) {
    /** Names accepted, in the order the help text lists them. */
    static final String NAMES = "uniform, bsdSequential, randomStart, randomProbe, hash, doubleHash[:tableLength], "
        + "randomIncrements[:n], linux";

    /**
     * Parses one specification.
     *
     * @param text e.g. {@code doubleHash:1024}
     * @return the specification
     * @throws IllegalArgumentException naming the bad text and the accepted names or parameter range
     */
    public static AlgorithmSpec parse(String text) {
        final String trimmed = text.trim();
        final int colon = trimmed.indexOf(':');
        final String name = (colon < 0 ? trimmed : trimmed.substring(0, colon)).toLowerCase(Locale.ROOT);
        final String parameter = colon < 0 ? null : trimmed.substring(colon + 1).trim();
        switch (name) {
            case "uniform":
                return plain(trimmed, parameter, "uniform", Algorithm.uniform());
            case "bsdsequential":
                return plain(trimmed, parameter, "bsdSequential", Algorithm.bsdSequential());
            case "randomstart":
                return plain(trimmed, parameter, "randomStart", Algorithm.randomStart());
            case "randomprobe":
                return plain(trimmed, parameter, "randomProbe", Algorithm.randomProbe());
            case "hash":
                return plain(trimmed, parameter, "hash", Algorithm.hash());
            case "linux":
                return plain(trimmed, parameter, "linux", Algorithm.linux());
            case "doublehash": {
                final int length = parameter == null ? Algorithm.DEFAULT_TABLE_LENGTH
                    : number(trimmed, parameter, 1, Algorithm.MAX_TABLE_LENGTH);
                return new AlgorithmSpec("doubleHash:" + length, Algorithm.doubleHash(length), length);
            }
            case "randomincrements": {
                final int n = parameter == null ? Algorithm.DEFAULT_INCREMENTS
                    : number(trimmed, parameter, 1, Integer.MAX_VALUE);
                return new AlgorithmSpec("randomIncrements:" + n, Algorithm.randomIncrements(n), 0);
            }
            default:
                throw new IllegalArgumentException("unknown algorithm '" + trimmed + "': expected one of " + NAMES);
        }
    }

    /**
     * Parses a comma-separated list, e.g. {@code uniform,linux,doubleHash:1024}.
     *
     * @param list the list; blank entries are not allowed
     * @return the specifications in the given order
     * @throws IllegalArgumentException on an empty list or a bad entry
     */
    public static List<AlgorithmSpec> parseList(String list) {
        final List<AlgorithmSpec> specs = new ArrayList<>();
        for (String part : list.split(",", -1)) {
            if (part.isBlank()) {
                throw new IllegalArgumentException("empty algorithm in list '" + list + "': expected e.g. uniform,linux");
            }
            specs.add(parse(part));
        }
        return specs;
    }

    /** Whether the algorithm keeps a per-bucket table an attacker can map (Kol–Klein–Gilad, metric 3). */
    boolean hasPerturbationTable() {
        return tableLength > 0 || label.equals("linux");
    }

    private static AlgorithmSpec plain(String text, String parameter, String label, Algorithm algorithm) {
        if (parameter != null) {
            throw new IllegalArgumentException("algorithm '" + text + "' takes no parameter: write '" + label + "'");
        }
        return new AlgorithmSpec(label, algorithm, label.equals("linux") ? Algorithm.DEFAULT_TABLE_LENGTH : 0);
    }

    private static int number(String text, String parameter, int min, int max) {
        final long value;
        try {
            value = Long.parseLong(parameter);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad parameter in algorithm '" + text + "': '" + parameter
                + "' is not a whole number (allowed " + min + ".." + max + ")", e);
        }
        if (value < min || value > max) {
            throw new IllegalArgumentException("parameter of algorithm '" + text + "' is " + value
                + ", allowed " + min + ".." + max);
        }
        return (int) value;
    }
}
