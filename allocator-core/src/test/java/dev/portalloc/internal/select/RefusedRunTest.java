package dev.portalloc.internal.select;

import dev.portalloc.Destination;
import dev.portalloc.PortSet;
import dev.portalloc.internal.bitmap.PortBitmap;
import dev.portalloc.internal.bitmap.Selection;
import dev.portalloc.internal.flow.FlowTable;
import dev.portalloc.internal.random.IndexSource;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link SelectionContext#refusedRun}, the word-level shortcut of the RFC sequences, against the definition
 * candidate by candidate: over contiguous and multi-range index spaces, with reserved ports and held ports
 * (exclusive and SHARED), in steps of 1 and 2, it counts exactly the leading candidates that
 * {@code tryClaim} would refuse on the words alone.
 */
class RefusedRunTest {
    private static final byte[] LOCAL = new byte[16];
    private static final IndexSource TALLY = bound -> 0;

    @Test
    void countsExactlyTheLeadingRefusedCandidates() {
        final String[][] spaces = {
            {"32768-60999", ""}, {"1000-1100", "1010-1020,1064"}, {"5-40,100-163,200,300-301", "33,150-155"},
            {"65500-65535", "65535"}, {"1-65535", ""}};
        final SplittableRandom random = new SplittableRandom(7);
        for (String[] space : spaces) {
            for (double density : new double[] {0.0, 0.5, 0.97, 1.0}) {
                final PortBitmap bitmap = filled(space, density, true, random);
                final PortSet automatic = bitmap.selection().automatic();
                final ExclusiveContext exclusive = new ExclusiveContext(bitmap, () -> null, 6, LOCAL);
                final FlowTable flows = new FlowTable(bitmap, 0, System::nanoTime, 1L);
                final ConnectContext connect = new ConnectContext(automatic, () -> null, 6, LOCAL)
                    .target(bitmap, flows, Destination.ipv4(0x0A000001, 80), TALLY);
                for (int trial = 0; trial < 2_000; trial++) {
                    final int n = automatic.size();
                    final int step = 1 + random.nextInt(2);
                    final int index = random.nextInt(n);
                    final int limit = 1 + random.nextInt((n - 1 - index) / step + 1);
                    for (IndexSpace ctx : new IndexSpace[] {exclusive, connect}) {
                        int expected = 0;
                        while (expected < limit && refused(ctx, bitmap, ctx.port(index + expected * step))) {
                            expected++;
                        }
                        assertThat(ctx.refusedRun(index, step, limit, TALLY))
                            .as("%s %s, index %d, step %d, limit %d", ctx.getClass().getSimpleName(), space[0], index,
                                step, limit)
                            .isEqualTo(expected);
                    }
                }
            }
        }
    }

    /**
     * {@link SelectionContext#claimAfterRun} of the exclusive context, whose common case claims from its one read
     * of the candidate's word: the run it reports is the definition's, the candidate that ended it is claimed
     * exactly when it is free and selectable (and then held exclusively), no other port changes, and the tally
     * counts what {@code refusedRun} and one tried candidate count.
     */
    @Test
    void exclusiveClaimAfterRunClaimsExactlyTheCandidateThatEndsTheRun() {
        final String[][] spaces = {{"32768-60999", ""}, {"1000-1100", "1010-1020,1064"}, {"1-65535", "40000-40031"}};
        final SplittableRandom random = new SplittableRandom(11);
        for (String[] space : spaces) {
            // 1.0: every run reaches the end of the space, where the last word of 32768-60999 has bits past it
            for (double density : new double[] {0.0, 0.5, 0.97, 1.0}) {
                final PortBitmap bitmap = filled(space, density, false, random);
                final PortSet automatic = bitmap.selection().automatic();
                final ExclusiveContext ctx = new ExclusiveContext(bitmap, () -> null, 6, LOCAL);
                final int n = automatic.size();
                for (int trial = 0; trial < 2_000; trial++) {
                    final int step = 1 + random.nextInt(2);
                    final int index = random.nextInt(n);
                    final int limit = 1 + random.nextInt((n - 1 - index) / step + 1);
                    int expected = 0;
                    while (expected < limit && refused(ctx, bitmap, ctx.port(index + expected * step))) {
                        expected++;
                    }
                    final int held = bitmap.heldCount();
                    final CountingTally runTally = new CountingTally();
                    ctx.refusedRun(index, step, limit, runTally);
                    final CountingTally tally = new CountingTally();
                    final int run = ctx.claimAfterRun(index, step, limit, tally);
                    final String as = String.format("%s, index %d, step %d, limit %d", space[0], index, step, limit);
                    assertThat(run >>> 1).as(as).isEqualTo(expected);
                    assertThat(tally.probes).as(as).isEqualTo(runTally.probes + (expected < limit ? 1 : 0));
                    if (expected < limit) {
                        final int port = ctx.port(index + expected * step);
                        assertThat(run & SelectionContext.CLAIMED).as(as).isEqualTo(SelectionContext.CLAIMED);
                        assertThat(bitmap.state(port)).as(as).isEqualTo(PortBitmap.EXCLUSIVE);
                        assertThat(bitmap.heldCount()).as(as).isEqualTo(held + 1);
                        assertThat(bitmap.release(port)).as(as).isTrue();
                    } else {
                        assertThat(run & SelectionContext.CLAIMED).as(as).isZero();
                    }
                    assertThat(bitmap.heldCount()).as(as).isEqualTo(held);
                }
            }
        }
    }

    /**
     * A bitmap over {@code space} (automatic ports, reserved ports) with each automatic port held with probability
     * {@code density}: exclusively, or, when {@code shared}, exclusively or SHARED at random.
     */
    private static PortBitmap filled(String[] space, double density, boolean shared, SplittableRandom random) {
        final Selection selection = new Selection(PortSet.parse(space[0]),
            space[1].isEmpty() ? PortSet.empty() : PortSet.parse(space[1]));
        final PortBitmap bitmap = new PortBitmap(selection);
        final PortSet automatic = selection.automatic();
        for (int i = 0; i < automatic.size(); i++) {
            if (random.nextDouble() < density) {
                final int port = automatic.nth(i);
                if (!shared || random.nextBoolean()) {
                    bitmap.tryClaim(port);
                } else {
                    bitmap.tryClaimShared(port);
                }
            }
        }
        return bitmap;
    }

    /** Counts the probes reported to it. */
    private static final class CountingTally implements IndexSource {
        int probes;

        @Override
        public int nextIndex(int bound) {
            return 0;
        }

        @Override
        public void countProbes(int n) {
            probes += n;
        }
    }

    /** The definition: not selectable, or held in a way that refuses this context's claim. */
    private static boolean refused(IndexSpace ctx, PortBitmap bitmap, int port) {
        if (!bitmap.selection().isSelectable(port)) {
            return true;
        }
        final int state = bitmap.state(port);
        return ctx instanceof ExclusiveContext ? state != PortBitmap.FREE : state == PortBitmap.EXCLUSIVE;
    }
}
