package dev.portalloc.internal.bitmap;

import org.jetbrains.kotlinx.lincheck.Actor;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;

import java.util.Arrays;
import java.util.List;

/** Builds the hand-written Lincheck scenarios of the bitmap tests (operations take int arguments). */
final class Scenarios {
    private Scenarios() {
    }

    static ExecutionScenario scenario(List<Actor> init, List<List<Actor>> parallel) {
        return new ExecutionScenario(init, parallel, List.of(), null);
    }

    /**
     * Explores only the given scenarios of {@code test} under the model checker, {@code invocations} interleavings
     * each, judged by {@link AnyFreePortVerifier}.
     */
    static void modelCheck(Class<?> test, int invocations, ExecutionScenario... scenarios) {
        ModelCheckingOptions options = new ModelCheckingOptions();
        for (ExecutionScenario s : scenarios) {
            options.addCustomScenario(s);
        }
        options.iterations(0)
            .invocationsPerIteration(invocations)
            .verifier(AnyFreePortVerifier.class)
            .check(test);
    }

    static Actor actor(Class<?> test, String name, Object... args) throws NoSuchMethodException {
        Class<?>[] types = new Class<?>[args.length];
        Arrays.fill(types, int.class);
        return new Actor(test.getMethod(name, types), List.of(args));
    }
}
