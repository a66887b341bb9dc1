package dev.portalloc.internal.lincheck;

import org.jetbrains.kotlinx.lincheck.Actor;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionResult;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.jetbrains.kotlinx.lincheck.execution.ResultWithClock;
import org.jetbrains.kotlinx.lincheck.util.LincheckResult;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The linearizability check shared by the project's custom Lincheck verifiers: a depth-first search for an
 * order of the parallel operations that respects real time (an operation that finished before another
 * started is placed first, by Lincheck's happens-before clocks) and in which a nondeterministic model accepts
 * every result. Explored states (thread positions plus the model's {@code toString()}) are remembered.
 *
 * <p>Thread-safety: stateless; each call works on its own copies.
 */
public final class LinearizationSearch {
    private LinearizationSearch() {
    }

    /** A model of the object under test: copied before each tentative step. */
    public interface Model<M extends Model<M>> {
        /** @return an independent copy */
        M copy();

        /**
         * Applies one operation.
         *
         * @return whether the observed result is one the specification allows from this state
         */
        boolean apply(Actor actor, LincheckResult observed);
    }

    /**
     * @param initial the model before the scenario's init part
     * @return whether the execution is linearizable with respect to the model
     */
    public static <M extends Model<M>> boolean verify(ExecutionScenario scenario, ExecutionResult result, M initial) {
        final M model = initial;
        final List<LincheckResult> initResults = result.getInitResults();
        for (int i = 0; i < scenario.getInitExecution().size(); i++) {
            if (!model.apply(scenario.getInitExecution().get(i), initResults.get(i))) {
                return false;
            }
        }
        final List<List<Actor>> threads = scenario.getParallelExecution();
        final List<List<ResultWithClock>> results = result.getParallelResultsWithClock();
        return search(scenario, result, threads, results, new int[threads.size()], model, new HashSet<>());
    }

    private static <M extends Model<M>> boolean search(ExecutionScenario scenario, ExecutionResult result,
                                                        List<List<Actor>> threads, List<List<ResultWithClock>> results,
                                                        int[] done, M model, Set<String> visited) {
        if (!visited.add(Arrays.toString(done) + model)) {
            return false;
        }
        boolean finished = true;
        for (int t = 0; t < threads.size(); t++) {
            int k = done[t];
            if (k >= threads.get(t).size()) {
                continue;
            }
            finished = false;
            int[] clock = results.get(t).get(k).getClockOnStart().getClock();
            boolean ready = true;
            for (int u = 0; u < threads.size(); u++) {
                if (u != t && done[u] < clock[u]) {
                    ready = false; // an operation that finished before this one started is not yet placed
                    break;
                }
            }
            if (!ready) {
                continue;
            }
            M next = model.copy();
            if (next.apply(threads.get(t).get(k), results.get(t).get(k).getResult())) {
                done[t]++;
                boolean ok = search(scenario, result, threads, results, done, next, visited);
                done[t]--;
                if (ok) {
                    return true;
                }
            }
        }
        if (!finished) {
            return false;
        }
        List<LincheckResult> post = result.getPostResults();
        for (int i = 0; i < scenario.getPostExecution().size(); i++) {
            if (!model.apply(scenario.getPostExecution().get(i), post.get(i))) {
                return false;
            }
        }
        return true;
    }
}
