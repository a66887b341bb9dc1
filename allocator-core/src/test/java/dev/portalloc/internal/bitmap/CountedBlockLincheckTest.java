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
 * Linearizability of the bitmap where the summary bounds decide: the selection covers block 1 (ports
 * 1024-2047, all selectable, so the exact pass and the verdict read its bound instead of its words)
 * and ports 2100 and 2101 of block 2, its only automatic ports; 2101 is reserved until {@link #unreserve()}, so
 * block 2 is read word by word before and judged by its bound after (all its automatic ports are selectable
 * then; the bound counts the free ports of its edge word 65 that are automatic, and none of the others). Each
 * instance starts with every port of block 1 held except 1030, 1031 (one word) and 2040 (another), so that
 * exhaustion is a few operations away. Results are checked by
 * {@link AnyFreePortVerifier} against the contract "some free selectable port, or none only when none is
 * free"; as in {@link PortBitmapLincheckTest}, the bitmap draws 0 every time, which sends most acquisitions
 * through the exact pass and the verdict.
 */
@Param(name = "port", gen = IntGen.class, conf = "0:5")
public class CountedBlockLincheckTest {
    static final int[] PORTS = {1030, 1031, 2040, 2100, 2101, 1024};
    private static final PortSet AUTOMATIC = PortSet.range(1024, 2047).union(PortSet.of(2100, 2101));
    private static final Selection BEFORE = new Selection(AUTOMATIC, PortSet.of(2101));
    private static final Selection AFTER = new Selection(AUTOMATIC, PortSet.empty());
    private static final PortSet INITIALLY_HELD = PortSet.range(1024, 2047).minus(PortSet.of(1030, 1031, 2040));
    private static final IndexSource LOWEST = bound -> 0;

    private final PortBitmap bitmap = new PortBitmap(BEFORE);

    public CountedBlockLincheckTest() {
        for (int p : INITIALLY_HELD) {
            bitmap.tryClaim(p);
        }
    }

    /** Read by {@link AnyFreePortVerifier}. */
    static AnyFreePortVerifier.Config config() {
        return new AnyFreePortVerifier.Config(PORTS, BEFORE.selectable(), AFTER.selectable(), INITIALLY_HELD);
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

    /** Makes 2101 selectable, once per scenario, concurrently with everything else. */
    @Operation(runOnce = true)
    public void unreserve() {
        bitmap.publish(AFTER);
    }

    /**
     * A verdict across a counted and a word-read block: it reads block 1's count as 0; 1030 is released (the
     * count goes 0 -> 1); then 2100, free until now, is claimed; the verdict reads block 2's words full. A
     * count that the release raised only after freeing the port, or a release into the full word that did
     * not mark it, would let "exhausted" through.
     */
    private static ExecutionScenario releaseBehindTheVerdict() throws NoSuchMethodException {
        return Scenarios.scenario(
            List.of(actor("claim", 0), actor("claim", 1), actor("claim", 2)),
            List.of(List.of(actor("acquire")), List.of(actor("release", 0)), List.of(actor("claim", 3))));
    }

    /**
     * Why a release counts its port before freeing it: block 1 has one free port, 1031. 1030 (same word, so
     * not full: no mark) is released while 1031 is claimed and 1030 is then seen free; a count raised only
     * after the freeing CAS would read 0 meanwhile, and the verdict would report exhaustion with 1030 free.
     */
    private static ExecutionScenario countBeforeFree() throws NoSuchMethodException {
        return Scenarios.scenario(
            List.of(actor("claim", 0), actor("claim", 2), actor("claim", 3)),
            List.of(List.of(actor("release", 0)), List.of(actor("claim", 1), actor("isHeld", 0), actor("acquire"))));
    }

    private static Actor actor(String name, Object... args) throws NoSuchMethodException {
        return Scenarios.actor(CountedBlockLincheckTest.class, name, args);
    }

    @Test
    void modelChecking() throws NoSuchMethodException {
        new ModelCheckingOptions()
            .addCustomScenario(releaseBehindTheVerdict())
            .addCustomScenario(countBeforeFree())
            .iterations(20)
            .invocationsPerIteration(1_000)
            .threads(3)
            .actorsPerThread(2)
            .actorsBefore(2)
            .loopBound(200) // publish() marks 34 words in a loop; that is work, not a livelock
            .verifier(AnyFreePortVerifier.class)
            .check(getClass());
    }

    @Test
    void stress() {
        new StressOptions()
            .iterations(30)
            .invocationsPerIteration(1_000)
            .threads(3)
            .actorsPerThread(3)
            .actorsBefore(2)
            .verifier(AnyFreePortVerifier.class)
            .check(getClass());
    }
}
