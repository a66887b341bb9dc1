package dev.portalloc.internal.bitmap;

import dev.portalloc.PortSet;
import dev.portalloc.internal.random.IndexSource;
import org.jetbrains.kotlinx.lincheck.Actor;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.jetbrains.kotlinx.lincheck.paramgen.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.junit.jupiter.api.Test;

import java.util.List;


/**
 * Linearizability of the bitmap under Lincheck, in model-checking and stress modes.
 *
 * <p><b>What is compared.</b> Automatic selection is random, so no deterministic sequential specification
 * describes it. Results are therefore checked by {@link AnyFreePortVerifier} against the actual contract:
 * {@code acquire()} returns some port that is free and selectable at its linearization point, or
 * {@link PortBitmap#NONE} only if there is none; explicit claims, releases and {@code isHeld} are
 * deterministic. The bitmap draws from a source that always returns 0, so its fast path always probes the
 * lowest selectable port and, once that is held, every acquisition goes through the exact rank/select pass
 * and the exhaustion verdict with its epoch and dirty-mark protocol: the code paths most worth checking.
 *
 * <p><b>The port set</b> is chosen so that the interesting races are reachable with few operations: six
 * selectable ports spread over four bitmap words (62, 63 | 64 | 126, 127 | 130; 32 ports per word), so a
 * verdict must read several words; one explicit-only port (5) in word 0; and port 130 reserved at first and
 * unreserved at run time, to exercise selection changes.
 */
@Param(name = "port", gen = IntGen.class, conf = "0:6")
public class PortBitmapLincheckTest {
    static final int[] PORTS = {62, 63, 64, 126, 127, 130, 5};
    static final int[] SELECTABLE = {62, 63, 64, 126, 127, 130};
    private static final PortSet AUTOMATIC = PortSet.of(SELECTABLE);

    /** Every draw is 0: deterministic "lowest free" selection through the production code paths. */
    private static final IndexSource LOWEST = bound -> 0;

    private static final Selection NOTHING_RESERVED = new Selection(AUTOMATIC, PortSet.empty());
    private static final Selection PORT_130_RESERVED = new Selection(AUTOMATIC, PortSet.of(130));

    private final PortBitmap bitmap = new PortBitmap(PORT_130_RESERVED);

    /** Read by {@link AnyFreePortVerifier}. */
    static AnyFreePortVerifier.Config config() {
        return new AnyFreePortVerifier.Config(PORTS, PORT_130_RESERVED.selectable(), NOTHING_RESERVED.selectable(),
            PortSet.empty());
    }

    @Operation
    public int acquire() {
        return bitmap.select(LOWEST);
    }

    @Operation
    public boolean claim(@Param(name = "port") int index) {
        return bitmap.tryClaim(PORTS[index]);
    }

    @Operation
    public boolean release(@Param(name = "port") int index) {
        return bitmap.release(PORTS[index]);
    }

    @Operation
    public boolean isHeld(@Param(name = "port") int index) {
        return bitmap.isHeld(PORTS[index]);
    }

    /**
     * Unreserves port 130, once per scenario, concurrently with everything else: a verdict that missed the
     * newly selectable port would be a false exhaustion. The selections are built once, so that model
     * checking explores the bitmap rather than PortSet arithmetic.
     *
     * <p>Reserving is deliberately not raced here: an automatic acquisition that started before a concurrent
     * {@code reserve} may still return the port being reserved, even after another thread has seen the
     * reservation in force (see {@code PortAllocator#reserve}). That is the documented semantics.
     */
    @Operation(runOnce = true)
    public void unreserve() {
        bitmap.publish(NOTHING_RESERVED);
    }

    /**
     * The race the verdict's epoch exists for, given to the model checker explicitly: the verdict reads word
     * 1 full; 62 (word 1) is released; then 127 (word 3), free until now, is claimed; the verdict reads word 3
     * full. At no moment were both held, so "exhausted" would be a lie.
     */
    private static ExecutionScenario releaseBehindTheVerdict() throws NoSuchMethodException {
        return Scenarios.scenario(
            List.of(actor("claim", 0), actor("claim", 1), actor("claim", 2), actor("claim", 3)),
            List.of(List.of(actor("acquire")), List.of(actor("release", 0)), List.of(actor("claim", 4))));
    }

    /** A verdict racing the unreservation of 130 with every other selectable port held. */
    private static ExecutionScenario unreserveBehindTheVerdict() throws NoSuchMethodException {
        return Scenarios.scenario(
            List.of(actor("claim", 0), actor("claim", 1), actor("claim", 2), actor("claim", 3), actor("claim", 4)),
            List.of(List.of(actor("acquire")), List.of(actor("unreserve")), List.of(actor("isHeld", 5))));
    }


    private static Actor actor(String name, Object... args) throws NoSuchMethodException {
        return Scenarios.actor(PortBitmapLincheckTest.class, name, args);
    }

    @Test
    void modelChecking() throws NoSuchMethodException {
        new ModelCheckingOptions()
            .addCustomScenario(releaseBehindTheVerdict())
            .addCustomScenario(unreserveBehindTheVerdict())
            .iterations(30)
            .invocationsPerIteration(1_000)
            .threads(3)
            .actorsPerThread(3)
            .actorsBefore(4)
            .verifier(AnyFreePortVerifier.class)
            .check(getClass());
    }

    @Test
    void stress() {
        new StressOptions()
            .iterations(60)
            .invocationsPerIteration(2_000)
            .threads(3)
            .actorsPerThread(3)
            .actorsBefore(4)
            .verifier(AnyFreePortVerifier.class)
            .check(getClass());
    }
}
