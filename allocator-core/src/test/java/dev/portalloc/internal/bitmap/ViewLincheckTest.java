package dev.portalloc.internal.bitmap;

import dev.portalloc.PortSet;
import dev.portalloc.internal.random.IndexSource;
import org.jetbrains.kotlinx.lincheck.Actor;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.jetbrains.kotlinx.lincheck.paramgen.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Test;
import java.util.List;

/**
 * The exhaustion verdict of a view (a {@link Selection} restricted to some ports, as {@code PortAllocator.Subset}
 * and {@code ParityPreserving} make them) under Lincheck's model checker, with {@link AnyFreePortVerifier}.
 *
 * <p><b>The race</b> (rule 8 of {@link PortBitmap}'s class Javadoc). Releases judge whether a word is full by the
 * allocator-wide selection, and mark their port and pay an epoch increment only then. A view's pass counts the
 * view's ports only, so a word with every port of the view held and other ports free is full for the pass and not
 * for a release into it: the release frees its port with one CAS and returns, unannounced. If the last free port
 * of the view, in a word the pass reads later, is then claimed, the pass read every word full and the epoch
 * unchanged, and reported exhaustion although no moment had every port of the view held.
 *
 * <p><b>The ports.</b> The automatic set is 64-95 (word 2) and 128 (word 4); the view is their even ports.
 * Every even port of word 2 is held from the start and its odd ports are free, so a release of 64 takes the
 * one-CAS path (the word keeps 16 free ports); 128 is the view's one free port.
 */
@Param(name = "port", gen = IntGen.class, conf = "0:1")
public class ViewLincheckTest {
    static final int[] PORTS = {64, 128};
    private static final PortSet AUTOMATIC = PortSet.parse("64-95,128");
    private static final PortSet EVEN = PortSet.parse(
        "64,66,68,70,72,74,76,78,80,82,84,86,88,90,92,94,128");
    private static final PortSet EVEN_OF_WORD_2 = EVEN.minus(PortSet.parse("128"));
    /** Every draw is 0, as in {@link PortBitmapLincheckTest}. */
    private static final IndexSource LOWEST = bound -> 0;
    private static final Selection BASE = new Selection(AUTOMATIC, PortSet.empty());
    private static final Selection VIEW = new Selection(BASE, EVEN);

    private final PortBitmap bitmap = new PortBitmap(BASE);

    public ViewLincheckTest() {
        for (int p : EVEN_OF_WORD_2) {
            bitmap.tryClaim(p);
        }
    }

    /** Read by {@link AnyFreePortVerifier}: the view's ports are the ones {@code acquire} may return. */
    static AnyFreePortVerifier.Config config() {
        return new AnyFreePortVerifier.Config(PORTS, VIEW.selectable(), VIEW.selectable(), EVEN_OF_WORD_2);
    }

    /** A selection from the view. */
    @Operation
    public int acquire() {
        return bitmap.select(LOWEST, VIEW);
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
     * Thread 1 selects from the view; thread 2 releases 64, then claims 128. Once the release has returned, 64 or
     * 128 is free at every moment, so the view's "exhausted" is false unless it is linearized before the release.
     */
    private static ExecutionScenario releaseBehindTheViewPass() throws NoSuchMethodException {
        return Scenarios.scenario(List.of(),
            List.of(List.of(actor("acquire")), List.of(actor("release", 0), actor("claim", 1))));
    }

    /**
     * The same with a reader in thread 2, which sees 64 free while its release is still running in thread 3 (or,
     * having read 64 held, claims 128 behind the release; that interleaving fails without rule 8 as well).
     */
    private static ExecutionScenario readerBehindTheViewPass() throws NoSuchMethodException {
        return Scenarios.scenario(List.of(),
            List.of(List.of(actor("acquire")), List.of(actor("isHeld", 0), actor("claim", 1)),
                List.of(actor("release", 0))));
    }

    private static Actor actor(String name, Object... args) throws NoSuchMethodException {
        return Scenarios.actor(ViewLincheckTest.class, name, args);
    }

    @Test
    void modelChecking() throws NoSuchMethodException {
        Scenarios.modelCheck(getClass(), 10_000, releaseBehindTheViewPass(), readerBehindTheViewPass());
    }
}
