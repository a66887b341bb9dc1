package dev.portalloc.internal.bitmap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalloc.PortSet;
import org.junit.jupiter.api.Test;

/**
 * Which releases owe the exhaustion verdict an epoch increment (rule 2 of {@link PortBitmap}'s class Javadoc): a
 * release into a word with no free <em>selectable</em> port does, whatever its free reserved ports, and the
 * one-CAS fast path must not skip it. Single-threaded, so the increment is the only trace: the mark it sets is
 * cleared again before the release returns.
 */
class PortBitmapReleaseTest {
    /** Word 32 (ports 1024..1055), inside the automatic range: not an edge word. */
    private static final PortSet AUTOMATIC = PortSet.range(1024, 2047);
    /** Ten ports of word 32: with them free, the word keeps more than {@value PortBitmap#EXACT_FREE} free ports. */
    private static final PortSet TEN = PortSet.range(1024, 1033);

    @Test
    void releaseIntoAWordWhoseOnlyFreePortsAreReservedPaysTheEpoch() {
        final PortBitmap bitmap = new PortBitmap(new Selection(AUTOMATIC, TEN));
        holdAllBut(bitmap, TEN);
        final long before = bitmap.epoch();
        assertThat(bitmap.release(1040)).isTrue();
        assertThat(bitmap.epoch()).as("port 1040 freed into a word with no free selectable port").isEqualTo(before + 1);
        assertThat(PortBitmap.dirtyMarks(bitmap.word(32))).as("its mark, cleared after the increment").isZero();
    }

    @Test
    void releaseIntoAWordWithFreeSelectablePortsTakesTheFastPath() {
        final PortBitmap bitmap = new PortBitmap(new Selection(AUTOMATIC, PortSet.empty()));
        holdAllBut(bitmap, TEN);
        final long before = bitmap.epoch();
        assertThat(bitmap.release(1040)).isTrue();
        assertThat(bitmap.epoch()).as("ten free selectable ports: nothing owed").isEqualTo(before);
    }

    /** Holds every port of word 32 except {@code free}. */
    private static void holdAllBut(PortBitmap bitmap, PortSet free) {
        for (int port = 1024; port <= 1055; port++) {
            if (!free.contains(port)) {
                assertThat(bitmap.tryClaim(port)).isTrue();
            }
        }
    }
}
