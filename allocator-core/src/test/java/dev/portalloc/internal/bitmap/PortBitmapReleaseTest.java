package dev.portalloc.internal.bitmap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portalloc.PortSet;
import org.junit.jupiter.api.Test;

/**
 * Which releases and reads owe the exhaustion verdict an epoch increment (rules 2 and 4 of {@link PortBitmap}'s
 * class Javadoc): a release into a word with no free <em>selectable</em> port does, whatever its free reserved
 * ports, and the one-CAS fast path must not skip it; so does every read that reports a port free. Single-threaded, so the increment is the only trace: the mark it sets is
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

    /**
     * Rule 4: a read that reports a port free pays an increment even in a word without marks, since a release
     * judged by a replaced selection frees its port without one (rule 7; {@code ReservationLincheckTest}). A read
     * that reports nothing free pays nothing.
     */
    @Test
    void readsThatReportAFreePortPayTheEpochWhateverTheMarks() {
        final PortBitmap bitmap = new PortBitmap(new Selection(AUTOMATIC, PortSet.empty()));
        holdAllBut(bitmap, TEN);
        assertThat(PortBitmap.dirtyMarks(bitmap.word(32))).as("a clean word").isZero();
        long epoch = bitmap.epoch();
        assertThat(bitmap.isHeld(1024)).isFalse();
        assertThat(bitmap.epoch()).as("isHeld of a free port").isEqualTo(++epoch);
        assertThat(bitmap.state(1024)).isEqualTo(PortBitmap.FREE);
        assertThat(bitmap.epoch()).as("state of a free port").isEqualTo(++epoch);
        assertThat(bitmap.release(1024)).isFalse();
        assertThat(bitmap.epoch()).as("a release refused because the port is free").isEqualTo(++epoch);
        assertThat(bitmap.isExclusive(1024)).isFalse();
        assertThat(bitmap.isHeld(1040)).isTrue();
        assertThat(bitmap.state(1040)).isEqualTo(PortBitmap.EXCLUSIVE);
        assertThat(bitmap.isExclusive(1040)).isTrue();
        assertThat(bitmap.epoch()).as("reads that report nothing free").isEqualTo(epoch);
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
