package dev.portalloc.internal.flow;

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
 * A linearizability verifier for the mixed exclusive and connect-style Lincheck test, whose specification
 * of automatic selection is <em>nondeterministic</em> (as the bitmap's {@code AnyFreePortVerifier}):
 * <ul>
 * <li>{@code acquire()} may return any selectable port that is free at its linearization point (no exclusive
 *     holder and no tuple), and {@code -1} only when there is none;</li>
 * <li>{@code acquireFor(d)} may return any selectable port that is not held exclusively and carries no tuple
 *     to {@code d}, and {@code -1} only when there is none;</li>
 * <li>{@code claim(p)}, {@code release(p)}, {@code isHeld(p)}, {@code join(p, d)}, {@code leave(p, d)} and
 *     {@code isLive(p, d)} are deterministic.</li>
 * </ul>
 * It searches, depth first, for an order of the operations that respects their happens-before clocks and in
 * which every result is allowed; explored states (thread positions plus the model) are remembered.
 */
public class SuitablePortVerifier implements Verifier {
    private final Config config;

    /**
     * @param ports the port of each port-argument value
     * @param selectable the ports automatic selection may return
     * @param destinations number of destination-argument values
     */
    record Config(int[] ports, int[] selectable, int destinations) {
    }

    /** The verifier: joins are atomic for every observer. */
    public SuitablePortVerifier(Class<?> sequentialSpecification) {
        try {
            java.lang.reflect.Method m = sequentialSpecification.getDeclaredMethod("config");
            m.setAccessible(true);
            this.config = (Config) m.invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("a Lincheck test using " + getClass().getSimpleName()
                + " needs a static config() method", e);
        }
    }

    @Override
    public boolean verifyResults(ExecutionScenario scenario, ExecutionResult result) {
        return LinearizationSearch.verify(scenario, result, new Model(config));
    }

    /** The abstract allocator: exclusive holders, and live tuples as bits {@code port * D + d}. */
    static final class Model implements LinearizationSearch.Model<Model> {
        final Config config;
        BitSet exclusive = new BitSet();
        BitSet live = new BitSet();

        Model(Config config) {
            this.config = config;
        }

        @Override
        public Model copy() {
            Model m = new Model(config);
            m.exclusive = (BitSet) exclusive.clone();
            m.live = (BitSet) live.clone();
            return m;
        }

        private int bit(int port, int d) {
            return port * config.destinations() + d;
        }

        private boolean hasTuples(int port) {
            for (int d = 0; d < config.destinations(); d++) {
                if (live.get(bit(port, d))) {
                    return true;
                }
            }
            return false;
        }

        private boolean free(int port) {
            return !exclusive.get(port) && !hasTuples(port);
        }

        /** Free: an exclusive observation must see it so (joins are atomic for exclusive observers). */
        private boolean surelyFree(int port) {
            return free(port);
        }

        private boolean suitable(int port, int d) {
            return !exclusive.get(port) && !live.get(bit(port, d));
        }

        private boolean isSelectable(int port) {
            for (int p : config.selectable()) {
                if (p == port) {
                    return true;
                }
            }
            return false;
        }

        /** Applies one operation with its observed result; false if the contract forbids that result. */
        @Override
        public boolean apply(Actor actor, LincheckResult observed) {
            Object value = observed instanceof ValueResult v ? v.getValue() : observed;
            List<Object> args = actor.getArguments();
            String name = actor.getMethod().getName();
            if (name.equals("acquire") || name.equals("acquireFor")) {
                boolean tuple = name.equals("acquireFor");
                int d = tuple ? (Integer) args.get(0) : -1;
                if (!(value instanceof Integer)) {
                    return false;
                }
                int got = (Integer) value;
                if (got == -1) {
                    for (int p : config.selectable()) {
                        if (tuple ? suitable(p, d) : surelyFree(p)) {
                            return false;
                        }
                    }
                    return true;
                }
                if (!isSelectable(got) || !(tuple ? suitable(got, d) : free(got))) {
                    return false;
                }
                if (tuple) {
                    live.set(bit(got, d));
                } else {
                    exclusive.set(got);
                }
                return true;
            }
            int port = config.ports()[(Integer) args.get(0)];
            int d = args.size() > 1 ? (Integer) args.get(1) : -1;
            switch (name) {
                case "claim": {
                    if (Boolean.TRUE.equals(value)) {
                        if (!free(port)) {
                            return false;
                        }
                        exclusive.set(port);
                        return true;
                    }
                    return Boolean.FALSE.equals(value) && !surelyFree(port);
                }
                case "release": {
                    boolean expected = exclusive.get(port);
                    exclusive.clear(port);
                    return Objects.equals(value, expected);
                }
                case "isHeld":
                    return Boolean.TRUE.equals(value) ? !surelyFree(port) : Boolean.FALSE.equals(value) && free(port);
                case "join": {
                    boolean expected = suitable(port, d);
                    if (expected) {
                        live.set(bit(port, d));
                    }
                    return Objects.equals(value, expected);
                }
                case "leave": {
                    boolean expected = live.get(bit(port, d));
                    live.clear(bit(port, d));
                    return Objects.equals(value, expected);
                }
                case "isLive":
                    return Objects.equals(value, live.get(bit(port, d)));
                default:
                    throw new IllegalStateException("unknown operation " + actor);
            }
        }

        @Override
        public String toString() {
            return exclusive + "/" + live;
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName();
    }
}
