package dev.portalloc.internal.bitmap;

import dev.portalloc.internal.lincheck.LinearizationSearch;
import org.jetbrains.kotlinx.lincheck.Actor;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionResult;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.jetbrains.kotlinx.lincheck.util.LincheckResult;
import org.jetbrains.kotlinx.lincheck.util.ValueResult;
import org.jetbrains.lincheck.datastructures.verifier.Verifier;

import java.util.BitSet;
import java.util.List;
import java.util.Objects;

/**
 * A linearizability verifier for the bitmap's Lincheck tests whose specification of automatic selection
 * is <em>nondeterministic</em>: {@code acquire()} may return any port that is free and selectable at its
 * linearization point, and {@code -1} only when no such port exists.
 *
 * <p>Lincheck's default verifier needs a deterministic sequential specification, and no deterministic rule
 * ("lowest free port", say) describes a selector whose choice depends on a non-atomic pass over several
 * words: the pass may legitimately claim a port that was not the lowest free one at the moment of the
 * claim. The real contract is "some free selectable port", so this verifier searches, depth first, for an
 * order of the operations that respects their happens-before clocks and in which every result is allowed
 * by that contract. States (positions of the threads plus the model) already explored are remembered,
 * which keeps the search small for Lincheck's scenario sizes.
 */
public final class AnyFreePortVerifier implements Verifier {

    private final Config config;

    /**
     * The ports and selections of one Lincheck test: {@code ports[i]} is the port of operation argument
     * {@code i}; {@code unreserve()} (or {@code reserve()}) switches from {@code selectableBefore} to
     * {@code selectableAfter}.
     */
    record Config(int[] ports, dev.portalloc.PortSet selectableBefore, dev.portalloc.PortSet selectableAfter,
                  dev.portalloc.PortSet initiallyHeld) {
    }

    /**
     * Lincheck instantiates verifiers with the sequential specification class, here the test class itself;
     * its static {@code config()} method describes the ports: declared by the class, one of its superclasses or
     * the class that encloses them (tests that check several nested classes over the same ports).
     */
    public AnyFreePortVerifier(Class<?> sequentialSpecification) {
        this.config = findConfig(sequentialSpecification);
    }

    private Config findConfig(Class<?> tested) {
        for (Class<?> c = tested; c != null; c = c.getSuperclass() != Object.class ? c.getSuperclass() : c.getEnclosingClass()) {
            try {
                final java.lang.reflect.Method m = c.getDeclaredMethod("config");
                m.setAccessible(true);
                return (Config) m.invoke(null);
            } catch (NoSuchMethodException e) {
                // look further out
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("a Lincheck test using " + getClass().getSimpleName()
            + " needs a static config() method");
    }

    @Override
    public boolean verifyResults(ExecutionScenario scenario, ExecutionResult result) {
        return LinearizationSearch.verify(scenario, result, new Model(config));
    }

    /** The abstract allocator: held ports and whether {@code unreserve()} has run. */
    static final class Model implements LinearizationSearch.Model<Model> {
        final Config config;
        BitSet held = new BitSet();
        boolean unreserved;

        Model(Config config) {
            this.config = config;
            config.initiallyHeld().forEach(held::set);
        }

        @Override
        public Model copy() {
            Model m = new Model(config);
            m.held = (BitSet) held.clone();
            m.unreserved = unreserved;
            return m;
        }

        dev.portalloc.PortSet selectable() {
            return unreserved ? config.selectableAfter() : config.selectableBefore();
        }

        /** Applies one operation with its observed result; false if the contract forbids that result. */
        @Override
        public boolean apply(Actor actor, LincheckResult observed) {
            Object value = observed instanceof ValueResult v ? v.getValue() : null;
            List<Object> args = actor.getArguments();
            int port = args.isEmpty() ? 0 : config.ports()[(Integer) args.get(0)];
            switch (actor.getMethod().getName()) {
                case "acquire": {
                    int got = (Integer) value;
                    if (got == PortBitmap.NONE) {
                        for (int p : selectable()) {
                            if (!held.get(p)) {
                                return false;
                            }
                        }
                        return true;
                    }
                    if (!selectable().contains(got) || held.get(got)) {
                        return false;
                    }
                    held.set(got);
                    return true;
                }
                case "claim": {
                    boolean expected = !held.get(port);
                    held.set(port);
                    return Objects.equals(value, expected);
                }
                case "release": {
                    boolean expected = held.get(port);
                    held.clear(port);
                    return Objects.equals(value, expected);
                }
                case "isHeld":
                    return Objects.equals(value, held.get(port));
                case "unreserve", "reserve": // the test's one change of selection
                    unreserved = true;
                    return true;
                default:
                    throw new IllegalStateException("unknown operation " + actor);
            }
        }

        @Override
        public String toString() {
            return held + (unreserved ? "u" : "r");
        }
    }

    @Override
    public String toString() {
        return "AnyFreePortVerifier";
    }
}
