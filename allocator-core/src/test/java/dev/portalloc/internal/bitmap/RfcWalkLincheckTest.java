package dev.portalloc.internal.bitmap;

import dev.portalloc.PortSet;
import dev.portalloc.internal.random.IndexSource;
import dev.portalloc.internal.select.ExclusiveContext;
import dev.portalloc.internal.select.PortSelector;
import dev.portalloc.internal.select.PortSelectors;
import dev.portalloc.internal.select.Secret;
import org.jetbrains.kotlinx.lincheck.paramgen.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.junit.jupiter.api.Test;

/**
 * Linearizability of the RFC 6056 walks in exclusive mode: the shared counters advanced by CAS over stretches
 * of refused candidates ({@code SelectionContext.refusedRun}), Linux's parity passes and Algorithm 5's local
 * walk published by CAS, each falling back to the complete search. Checked by {@link AnyFreePortVerifier}:
 * an acquisition returns some free selectable port at its linearization point, or none only when none is free.
 *
 * <p>The index space is the contiguous range 28-35 across two bitmap words (28-31 | 32-35), with 33 reserved
 * until {@code unreserve()}, so walks cross a word boundary, skip a reserved port and see the selection change.
 * Every draw is 0 (Algorithm 5 then steps by 1, Linux starts at offset 1), except Algorithm 1's (index 4).
 */
public final class RfcWalkLincheckTest {
    static final int[] PORTS = {28, 31, 32, 33, 35, 5};
    private static final PortSet AUTOMATIC = PortSet.range(28, 35);
    private static final Selection RESERVED = new Selection(AUTOMATIC, PortSet.of(33));
    private static final Selection UNRESERVED = new Selection(AUTOMATIC, PortSet.empty());
    private static final IndexSource LOWEST = bound -> 0;

    /** Read by {@link AnyFreePortVerifier} (for the nested classes, from here: their enclosing class). */
    static AnyFreePortVerifier.Config config() {
        return new AnyFreePortVerifier.Config(PORTS, RESERVED.selectable(), UNRESERVED.selectable(), PortSet.empty());
    }

    /** The operations, over one bitmap and one selector (the subclass's algorithm). */
    @Param(name = "port", gen = IntGen.class, conf = "0:5")
    public abstract static class Walk {
        private final PortBitmap bitmap = new PortBitmap(RESERVED);
        private final ExclusiveContext context = new ExclusiveContext(bitmap, () -> Secret.derived(1, 0), 6, new byte[16]);
        private final PortSelector selector;
        private final IndexSource draws;

        Walk(PortSelector selector) {
            this(selector, LOWEST);
        }

        Walk(PortSelector selector, IndexSource draws) {
            this.selector = selector;
            this.draws = draws;
        }

        @Operation
        public int acquire() {
            return selector.select(context, draws);
        }

        @Operation
        public boolean claim(@Param(name = "port") int index) {
            return bitmap.tryClaim(PORTS[index]);
        }

        @Operation
        public boolean release(@Param(name = "port") int index) {
            return bitmap.release(PORTS[index]);
        }

        @Operation(runOnce = true)
        public void unreserve() {
            bitmap.publish(UNRESERVED);
        }
    }

    public static final class Bsd extends Walk {
        public Bsd() {
            super(PortSelectors.bsdSequential());
        }
    }

    public static final class DoubleHash extends Walk {
        public DoubleHash() {
            super(PortSelectors.doubleHash(2, bound -> bound - 1));
        }
    }

    public static final class LinuxBind extends Walk {
        public LinuxBind() {
            super(PortSelectors.linuxBind());
        }
    }

    /**
     * Algorithm 1, whose walk claims through {@code claimAfterRun}'s one-read path (step 1): every start is index 4
     * (port 32), so that a walk past a held 32 meets the reserved 33 first.
     */
    public static final class RandomStart extends Walk {
        public RandomStart() {
            super(PortSelectors.randomStart(), bound -> 4);
        }
    }

    public static final class RandomIncrements extends Walk {
        public RandomIncrements() {
            super(PortSelectors.randomIncrements(3, bound -> 5));
        }
    }

    private static void check(Class<? extends Walk> walk) {
        new ModelCheckingOptions()
            .iterations(12)
            .invocationsPerIteration(500)
            .threads(3)
            .actorsPerThread(2)
            .actorsBefore(2)
            .loopBound(200) // publish() marks words in a loop; that is work, not a livelock
            .verifier(AnyFreePortVerifier.class)
            .check(walk);
        new StressOptions()
            .iterations(12)
            .invocationsPerIteration(500)
            .threads(3)
            .actorsPerThread(3)
            .actorsBefore(2)
            .verifier(AnyFreePortVerifier.class)
            .check(walk);
    }

    @Test
    void bsdSequential() {
        check(Bsd.class);
    }

    @Test
    void doubleHash() {
        check(DoubleHash.class);
    }

    @Test
    void linuxBind() {
        check(LinuxBind.class);
    }

    @Test
    void randomStart() {
        check(RandomStart.class);
    }

    @Test
    void randomIncrements() {
        check(RandomIncrements.class);
    }
}
