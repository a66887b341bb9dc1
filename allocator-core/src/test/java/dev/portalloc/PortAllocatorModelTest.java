package dev.portalloc;

import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.core.stateful.Command;
import org.quicktheories.core.stateful.Sequential;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;

import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

/**
 * Model-based test: random sequences of acquire / acquire() / tryAcquire(port) / release / reserve / unreserve
 * run against the allocator and against a plain reference model ({@link Model}); after every step the
 * allocator's observable state (held ports, reserved set, stats) must equal the model's.
 *
 * <p>The automatic set is a random subset of a 70-port window that straddles three bitmap words, and the
 * explicit and release commands draw from that window plus its neighbours, so collisions between automatic
 * and explicit holders, exhaustion and reservation changes are all frequent. Invariants checked in
 * {@link Command#nextState}: no port is granted twice, automatic choices lie in ports minus reserved,
 * exhaustion is reported only when the model has no free allowed port, explicit results and release errors
 * match the model, and stats agree with the model.
 */
class PortAllocatorModelTest {
    /** Window of ports the test plays in: 100..169 spans bitmap words 3 to 5 (32 ports per word). */
    static final int LOW = 95;
    static final int HIGH = 175;

    @Test
    void allocatorBehavesLikeTheModel() {
        qt().withExamples(400).withShrinkCycles(200)
            .forAll(automaticSets(), lists().of(steps()).ofSizeBetween(1, 120), integers().all())
            .checkAssert((ports, steps, seed) -> {
                Model initial = new Model(ports, PortSet.empty(), new BitSet(), 0, 0, 0);
                List<Command<PortAllocator, Model>> commands = new ArrayList<>();
                for (int[] step : steps) {
                    commands.add(command(step));
                }
                Sequential.modelCheck(initial, commands,
                    m -> PortAllocator.builder().ports(m.ports).seed(seed).build(),
                    a -> Model.of(a, ports));
            });
    }

    /** Random subsets of 100..169 given as unions of up to 4 small ranges (never empty). */
    private static Gen<PortSet> automaticSets() {
        return lists().of(integers().between(100, 169)).ofSizeBetween(2, 8).map(xs -> {
            PortSet s = PortSet.empty();
            for (int i = 0; i + 1 < xs.size(); i += 2) {
                s = s.union(PortSet.range(Math.min(xs.get(i), xs.get(i + 1)), Math.max(xs.get(i), xs.get(i + 1))));
            }
            return s;
        });
    }

    /** A step: {kind, port, width}. */
    private static Gen<int[]> steps() {
        return integers().between(0, 9).zip(integers().between(LOW, HIGH), integers().between(0, 12),
            (kind, port, width) -> new int[] {kind, port, width});
    }

    private static Command<PortAllocator, Model> command(int[] step) {
        final int port = step[1];
        final PortSet around = PortSet.range(port, Math.min(HIGH, port + step[2]));
        switch (step[0]) {
            case 0: case 1: case 2: return new AutoAcquire(false);
            case 3: return new AutoAcquire(true);
            case 4: case 5: return new Claim(port);
            case 6: case 7: return new Release(port);
            case 8: return new Reserve(around, true);
            default: return new Reserve(around, false);
        }
    }

    /** The reference model: immutable, compared with {@link #equals}. */
    static final class Model {
        final PortSet ports;
        final PortSet reserved;
        final BitSet held;
        final long acquisitions;
        final long releases;
        final long failures;

        Model(PortSet ports, PortSet reserved, BitSet held, long acquisitions, long releases, long failures) {
            this.ports = ports;
            this.reserved = reserved;
            this.held = held;
            this.acquisitions = acquisitions;
            this.releases = releases;
            this.failures = failures;
        }

        static Model of(PortAllocator a, PortSet ports) {
            BitSet held = new BitSet();
            for (int p = 1; p <= 300; p++) {
                if (a.isHeld(p)) {
                    held.set(p);
                }
            }
            AllocatorStats s = a.stats();
            if (s.heldPorts() != held.cardinality() || s.automaticPorts() != ports.size()
                || s.reservedPorts() != a.reserved().size()
                || s.selectablePorts() != ports.minus(a.reserved()).size()) {
                throw new AssertionError("stats disagree with the state: " + s + " held=" + held);
            }
            return new Model(a.ports(), a.reserved(), held, s.acquisitions(), s.releases(), s.failedAcquisitions());
        }

        boolean hasFreeAllowedPort() {
            for (int p : ports.minus(reserved)) {
                if (!held.get(p)) {
                    return true;
                }
            }
            return false;
        }

        Model with(BitSet newHeld, PortSet newReserved, long acq, long rel, long fail) {
            return new Model(ports, newReserved, newHeld, acquisitions + acq, releases + rel, failures + fail);
        }

        BitSet heldWith(int port, boolean value) {
            BitSet b = (BitSet) held.clone();
            b.set(port, value);
            return b;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Model m && ports.equals(m.ports) && reserved.equals(m.reserved)
                && held.equals(m.held) && acquisitions == m.acquisitions && releases == m.releases
                && failures == m.failures;
        }

        @Override
        public int hashCode() {
            return Objects.hash(ports, reserved, held);
        }

        @Override
        public String toString() {
            return "Model[ports=" + ports + ", reserved=" + reserved + ", held=" + held + ", acq=" + acquisitions
                + ", rel=" + releases + ", fail=" + failures + "]";
        }
    }

    /** tryAcquire() or acquire(): records the port (or exhaustion) for nextState to judge. */
    static final class AutoAcquire implements Command<PortAllocator, Model> {
        private final boolean throwing;
        private int result;

        AutoAcquire(boolean throwing) {
            this.throwing = throwing;
        }

        @Override
        public void run(PortAllocator a) {
            if (!throwing) {
                result = a.tryAcquire();
                return;
            }
            try {
                result = a.acquire();
            } catch (PortExhaustedException e) {
                result = PortAllocator.NONE;
            }
        }

        @Override
        public Model nextState(Model m) {
            if (result == PortAllocator.NONE) {
                if (m.hasFreeAllowedPort()) {
                    throw new AssertionError("false exhaustion: a port of " + m.ports.minus(m.reserved)
                        + " is free in " + m);
                }
                return m.with(m.held, m.reserved, 0, 0, 1);
            }
            if (!m.ports.minus(m.reserved).contains(result)) {
                throw new AssertionError("automatic choice " + result + " outside ports minus reserved in " + m);
            }
            if (m.held.get(result)) {
                throw new AssertionError("port " + result + " granted twice in " + m);
            }
            return m.with(m.heldWith(result, true), m.reserved, 1, 0, 0);
        }

        @Override
        public String toString() {
            return (throwing ? "acquire()=" : "tryAcquire()=") + result;
        }
    }

    static final class Claim implements Command<PortAllocator, Model> {
        private final int port;
        private boolean result;

        Claim(int port) {
            this.port = port;
        }

        @Override
        public void run(PortAllocator a) {
            result = a.tryAcquire(port);
        }

        @Override
        public Model nextState(Model m) {
            if (result == m.held.get(port)) {
                throw new AssertionError("tryAcquire(" + port + ")=" + result + " in " + m);
            }
            return result ? m.with(m.heldWith(port, true), m.reserved, 1, 0, 0) : m;
        }

        @Override
        public String toString() {
            return "tryAcquire(" + port + ")=" + result;
        }
    }

    static final class Release implements Command<PortAllocator, Model> {
        private final int port;
        private boolean released;

        Release(int port) {
            this.port = port;
        }

        @Override
        public void run(PortAllocator a) {
            try {
                a.release(port);
                released = true;
            } catch (IllegalStateException e) {
                released = false;
            }
        }

        @Override
        public Model nextState(Model m) {
            if (released != m.held.get(port)) {
                throw new AssertionError("release(" + port + ") " + (released ? "succeeded" : "failed") + " in " + m);
            }
            return released ? m.with(m.heldWith(port, false), m.reserved, 0, 1, 0) : m;
        }

        @Override
        public String toString() {
            return "release(" + port + ")" + (released ? "" : "!");
        }
    }

    static final class Reserve implements Command<PortAllocator, Model> {
        private final PortSet ports;
        private final boolean reserve;

        Reserve(PortSet ports, boolean reserve) {
            this.ports = ports;
            this.reserve = reserve;
        }

        @Override
        public void run(PortAllocator a) {
            if (reserve) {
                a.reserve(ports);
            } else {
                a.unreserve(ports);
            }
        }

        @Override
        public Model nextState(Model m) {
            return m.with(m.held, reserve ? m.reserved.union(ports) : m.reserved.minus(ports), 0, 0, 0);
        }

        @Override
        public String toString() {
            return (reserve ? "reserve(" : "unreserve(") + ports + ")";
        }
    }
}
