package dev.portalloc.internal.bitmap;

import org.jetbrains.kotlinx.lincheck.Actor;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;

import java.util.Arrays;
import java.util.List;

/** Builds the hand-written Lincheck scenarios of the bitmap tests (operations take int arguments). */
final class Scenarios {
    private Scenarios() {
    }

    static ExecutionScenario scenario(List<Actor> init, List<List<Actor>> parallel) {
        return new ExecutionScenario(init, parallel, List.of(), null);
    }

    static Actor actor(Class<?> test, String name, Object... args) throws NoSuchMethodException {
        Class<?>[] types = new Class<?>[args.length];
        Arrays.fill(types, int.class);
        return new Actor(test.getMethod(name, types), List.of(args));
    }
}
