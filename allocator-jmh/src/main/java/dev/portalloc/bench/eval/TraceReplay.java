package dev.portalloc.bench.eval;

import dev.portalloc.Destination;
import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Replays a connection trace: a CSV file with lines {@code time,op,destination[,port]}.
 * <ul>
 * <li>{@code time}: seconds since the start of the trace (decimal), never decreasing;</li>
 * <li>{@code op}: {@code open} or {@code close};</li>
 * <li>{@code destination}: {@code address:port}, IPv6 in brackets ({@code [2001:db8::1]:443});</li>
 * <li>{@code port}: optional. On {@code open}, the local port is claimed explicitly (as {@code bind()} to a
 *     named port) instead of chosen by the algorithm. On {@code close}, the connection with that local port to
 *     that destination closes; without it, the oldest open connection to that destination closes.</li>
 * </ul>
 * An optional header line {@code time,op,destination,port} before the first event, blank lines and lines starting with {@code #} are
 * skipped. A bad line stops the replay with its line number and what was expected. The sample in
 * {@code src/main/resources/dev/portalloc/bench/eval/sample-trace.csv} is the bundled default.
 *
 * <p>Thread-safety: stateless; a replay drives its subject from the calling thread.
 */
final class TraceReplay {
    private TraceReplay() {
    }

    /** One trace line. */
    record Event(int line, double time, boolean open, Destination destination, int port) {
    }

    /**
     * Figures of a replay.
     *
     * @param opens open events
     * @param granted opens that got a port
     * @param failures opens that got none
     * @param falseExhaustions failures while a port was free (verified against the ledger)
     * @param explicitConflicts explicit claims refused
     * @param violations ledger violations of any kind
     * @param log the granted automatic allocations, for the quality metrics
     */
    record Outcome(long opens, long granted, long failures, long falseExhaustions, long explicitConflicts,
                   long violations, AllocationLog log) {
    }

    /**
     * @param location a file path, or {@code classpath:} and a resource name
     * @return the events
     * @throws IOException if it cannot be read
     * @throws IllegalArgumentException on a malformed line, naming the line number
     */
    static List<Event> read(String location) throws IOException {
        final InputStream in;
        if (location.startsWith("classpath:")) {
            final String resource = location.substring("classpath:".length());
            in = TraceReplay.class.getClassLoader().getResourceAsStream(resource);
            if (in == null) {
                throw new IOException("trace resource not found on the class path: " + resource);
            }
        } else {
            in = Files.newInputStream(Path.of(location));
        }
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            return parse(reader.lines().toList(), location);
        }
    }

    /**
     * @param lines the trace's lines
     * @param name the trace's name, for messages
     * @return the events
     */
    static List<Event> parse(List<String> lines, String name) {
        final List<Event> events = new ArrayList<>();
        double previous = 0;
        boolean seenData = false;
        for (int i = 0; i < lines.size(); i++) {
            final String line = lines.get(i).trim();
            final int number = i + 1;
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (!seenData && line.toLowerCase(Locale.ROOT).startsWith("time,")) {
                seenData = true; // the header
                continue;
            }
            seenData = true;
            final String[] f = line.split(",", -1);
            if (f.length < 3 || f.length > 4) {
                throw bad(name, number, line, "3 or 4 fields time,op,destination[,port]");
            }
            final double time;
            try {
                time = Double.parseDouble(f[0].trim());
            } catch (NumberFormatException e) {
                throw bad(name, number, line, "a time in seconds, e.g. 0.25");
            }
            if (!(time >= previous)) {
                throw bad(name, number, line, "a time ≥ the previous line's " + previous);
            }
            previous = time;
            final String op = f[1].trim().toLowerCase(Locale.ROOT);
            if (!op.equals("open") && !op.equals("close")) {
                throw bad(name, number, line, "op 'open' or 'close'");
            }
            final Destination destination;
            try {
                destination = Destination.parse(f[2].trim());
            } catch (IllegalArgumentException e) {
                throw bad(name, number, line, "a destination address:port (" + e.getMessage() + ")");
            }
            int port = PortAllocator.NONE;
            if (f.length == 4 && !f[3].isBlank()) {
                try {
                    port = Integer.parseInt(f[3].trim());
                } catch (NumberFormatException e) {
                    port = 0;
                }
                if (port < PortAllocator.MIN_PORT || port > PortAllocator.MAX_PORT) {
                    throw bad(name, number, line, "a local port 1..65535 or nothing");
                }
            }
            events.add(new Event(number, time, op.equals("open"), destination, port));
        }
        return events;
    }

    private static IllegalArgumentException bad(String name, int line, String text, String expected) {
        return new IllegalArgumentException("trace " + name + " line " + line + " '" + text + "': expected " + expected);
    }

    /**
     * @param events the trace
     * @param subject a fresh subject
     * @param selectable its selectable set
     * @param quarantineNanos its quarantine, for the ledger
     * @param clock its clock
     * @return the figures
     */
    static Outcome replay(List<Event> events, Subject subject, PortSet selectable, long quarantineNanos,
                          SimulatedClock clock) {
        final ShadowLedger ledger = new ShadowLedger(selectable, subject.perDestination(), quarantineNanos);
        final Map<Destination, ArrayDeque<Integer>> open = new HashMap<>();
        final Map<Destination, Integer> index = new HashMap<>();
        final AllocationLog log = new AllocationLog();
        long opens = 0;
        long granted = 0;
        long failures = 0;
        long conflicts = 0;
        for (Event e : events) {
            clock.advanceTo(e.time());
            final long now = clock.nanoTime();
            final ArrayDeque<Integer> ports = open.computeIfAbsent(e.destination(), d -> new ArrayDeque<>());
            if (e.open()) {
                opens++;
                if (e.port() != PortAllocator.NONE) {
                    if (subject.claim(e.port(), e.destination())) {
                        if (selectable.contains(e.port())) {
                            ledger.acquired(e.port(), e.destination(), now);
                        }
                        ports.add(e.port());
                        granted++;
                    } else {
                        conflicts++;
                    }
                    continue;
                }
                final int choices = ledger.freeFor(e.destination(), now);
                final int port = subject.allocate(e.destination());
                if (port == PortAllocator.NONE) {
                    failures++;
                    ledger.failed(e.destination(), now);
                } else {
                    ledger.acquired(port, e.destination(), now);
                    log.add(index.computeIfAbsent(e.destination(), d -> index.size()), port, choices);
                    ports.add(port);
                    granted++;
                }
            } else {
                final Integer port = e.port() == PortAllocator.NONE ? ports.pollFirst()
                    : (ports.remove(e.port()) ? Integer.valueOf(e.port()) : null);
                if (port == null) {
                    throw new IllegalArgumentException("trace line " + e.line() + ": close of " + e.destination()
                        + (e.port() == PortAllocator.NONE ? "" : " port " + e.port()) + " with no such open connection");
                }
                subject.free(port, e.destination());
                if (selectable.contains(port)) {
                    ledger.released(port, e.destination(), now);
                }
            }
        }
        return new Outcome(opens, granted, failures, ledger.falseExhaustions(), conflicts, ledger.violationCount(), log);
    }
}
