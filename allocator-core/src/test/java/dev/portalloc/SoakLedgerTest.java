package dev.portalloc;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The checks of the soak test's {@link SoakLedger}, driven by hand (the soak itself is not run by
 * {@code mvn verify}): each violation is counted when it happens, and a failed call is not blamed on ports that
 * were busy, quarantined, reserved or touched during the call.
 */
class SoakLedgerTest {
    private static final int FIRST = 100;
    private static final long Q = 50;
    private static final int D0 = 0;
    private static final int D1 = 1;

    private final ConnectStyleStressTest.TickClock clock = new ConnectStyleStressTest.TickClock();
    /** Participants: 0 (configuration, or another thread), 1 and 2 (workers). */
    private final SoakSequence sequence = new SoakSequence(3);
    /** Automatic set 101-103 inside the tracked window 100-104; nothing reserved by the builder. */
    private final SoakLedger ledger = new SoakLedger("L", FIRST, 5, 2, PortSet.range(101, 103), PortSet.empty(), Q,
        clock, sequence);

    /** Runs an exclusive grant of {@code port} by thread 1 as the soak's workers do. */
    private void grantExclusive(int port) {
        final long start = sequence.begin(1);
        ledger.grantedExclusive(1, port, start, true);
        sequence.end(1);
    }

    private void grantTuple(int port, int d) {
        final long start = sequence.begin(1);
        ledger.grantedTuple(1, port, d, start, true);
        sequence.end(1);
    }

    private void releaseTuple(int port, int d) {
        final long start = sequence.begin(1);
        ledger.releasingTuple(1, port, d, start);
        ledger.releasedTuple(port, d);
        sequence.end(1);
    }

    private void releaseExclusive(int port) {
        final long start = sequence.begin(1);
        ledger.releasingExclusive(1, port, start);
        ledger.releasedExclusive(port);
        sequence.end(1);
    }

    /** Holds 102 and 103 exclusively: only 101 of the automatic set may be free. */
    private void holdAllBut101() {
        grantExclusive(102);
        grantExclusive(103);
    }

    @Test
    void aSecondExclusiveGrantOfAHeldPortIsADuplicate() {
        grantExclusive(101);
        assertThat(ledger.violations()).isZero();
        final long start = sequence.begin(2);
        ledger.grantedExclusive(2, 101, start, true);
        assertThat(ledger.duplicates.sum()).isEqualTo(1);
        assertThat(ledger.messages()).singleElement().asString().contains("port 101 granted exclusively to thread 2");
    }

    @Test
    void aLiveTupleGrantedAgainIsADuplicateButAnotherDestinationMayShareThePort() {
        grantTuple(101, D0);
        grantTuple(101, D1);
        assertThat(ledger.violations()).isZero();
        grantTuple(101, D0);
        assertThat(ledger.duplicates.sum()).isEqualTo(1);
    }

    @Test
    void anExclusiveGrantOfAPortWithALiveTupleIsAMixedHolder() {
        grantTuple(101, D0);
        grantExclusive(101);
        assertThat(ledger.mixedHolders.sum()).isEqualTo(1);
    }

    @Test
    void aGrantBeforeTheQuarantineEndedIsEarlyReuse() {
        grantTuple(101, D0);
        releaseTuple(101, D0);
        clock.now.addAndGet(Q - 1);
        grantTuple(101, D0);
        assertThat(ledger.earlyReuses.sum()).isEqualTo(1);
        releaseTuple(101, D0);
        clock.now.addAndGet(Q);
        grantTuple(101, D0);
        assertThat(ledger.earlyReuses.sum()).as("after a full quarantine").isEqualTo(1);
        grantExclusive(102);
        releaseExclusive(102);
        clock.now.addAndGet(Q - 1);
        grantTuple(102, D1); // a port released exclusively is quarantined for every destination
        assertThat(ledger.earlyReuses.sum()).isEqualTo(2);
    }

    @Test
    void anAutomaticGrantOutsideTheSetOrOfAPortReservedBeforeTheCallIsUnselectable() {
        grantExclusive(FIRST); // tracked, but not in the automatic set
        assertThat(ledger.unselectableGrants.sum()).isEqualTo(1);
        final long reserving = sequence.begin(0);
        ledger.reserving(PortSet.of(102), reserving);
        grantTuple(102, D0); // the reservation has not returned yet: allowed
        assertThat(ledger.unselectableGrants.sum()).isEqualTo(1);
        ledger.reserved(PortSet.of(102));
        sequence.end(0);
        grantTuple(102, D1);
        assertThat(ledger.unselectableGrants.sum()).isEqualTo(2);
        final long explicit = sequence.begin(1);
        ledger.grantedExclusive(1, 103, explicit, false);
        ledger.grantedTuple(1, FIRST + 4, D0, explicit, false); // explicit calls may take any port
        sequence.end(1);
        assertThat(ledger.unselectableGrants.sum()).isEqualTo(2);
    }

    @Test
    void aFailureWhileAPortWasFreeAndUntouchedIsAFalseExhaustion() {
        holdAllBut101();
        final long before = clock.nanoTime();
        final long start = sequence.begin(1);
        final long end = sequence.next();
        sequence.end(1);
        assertThat(ledger.judgeExhaustion(-1, start, end, before, 1)).isEqualTo(101);
        assertThat(ledger.falseExhaustions.sum()).isEqualTo(1);
        assertThat(ledger.judgeExhaustion(D0, start, end, before, 1)).as("for a destination").isEqualTo(101);
    }

    @Test
    void aFailureWhenEveryPortWasBusyIsATrueExhaustion() {
        holdAllBut101();
        grantTuple(101, D0);
        final long before = clock.nanoTime();
        final long start = sequence.begin(1);
        final long end = sequence.next();
        sequence.end(1);
        assertThat(ledger.judgeExhaustion(-1, start, end, before, 1)).as("101 carries a tuple").isEqualTo(-1);
        assertThat(ledger.judgeExhaustion(D0, start, end, before, 1)).as("101 carries the tuple to d0").isEqualTo(-1);
        assertThat(ledger.judgeExhaustion(D1, start, end, before, 1)).as("d1 may share 101").isEqualTo(101);
        assertThat(ledger.exhaustionsJudged.sum()).isEqualTo(3);
        assertThat(ledger.falseExhaustions.sum()).isEqualTo(1);
    }

    @Test
    void aPortReleasedDuringTheCallIsNoWitness() {
        holdAllBut101();
        grantExclusive(101);
        final long before = clock.nanoTime();
        final long start = sequence.begin(1);
        final long release = sequence.begin(0); // another thread releases 101 while the call runs
        ledger.releasingExclusive(1, 101, release);
        ledger.releasedExclusive(101);
        sequence.end(0);
        final long end = sequence.next();
        sequence.end(1);
        // Even with the quarantine taken as over, the release may have come after the allocator's verdict.
        assertThat(ledger.judgeExhaustion(-1, start, end, before + Q + 1, 1)).isEqualTo(-1);
        final long later = sequence.begin(1);
        final long laterEnd = sequence.next();
        sequence.end(1);
        assertThat(ledger.judgeExhaustion(-1, later, laterEnd, before + Q + 1, 1)).as("a later call").isEqualTo(101);
    }

    @Test
    void aQuarantinedPortIsNoWitnessUntilItsQuarantineHasEnded() {
        holdAllBut101();
        grantTuple(101, D0);
        releaseTuple(101, D0);
        for (long wait : new long[] {Q - 1, 1}) {
            clock.now.addAndGet(wait);
            final long before = clock.nanoTime();
            final long start = sequence.begin(1);
            final long end = sequence.next();
            sequence.end(1);
            ledger.judgeExhaustion(D0, start, end, before, 1);
        }
        assertThat(ledger.exhaustionsJudged.sum()).isEqualTo(2);
        assertThat(ledger.falseExhaustions.sum()).as("only the call after the quarantine").isEqualTo(1);
    }

    @Test
    void aReservedPortIsNoWitnessForAutomaticCallsButIsForExplicitOnes() {
        holdAllBut101();
        final long reserving = sequence.begin(0);
        ledger.reserving(PortSet.of(101), reserving);
        ledger.reserved(PortSet.of(101));
        sequence.end(0);
        final long before = clock.nanoTime();
        final long start = sequence.begin(1);
        final long end = sequence.next();
        sequence.end(1);
        assertThat(ledger.judgeExhaustion(-1, start, end, before, 1)).isEqualTo(-1);
        assertThat(ledger.judgeRefusal(101, -1, start, end, before, 1)).isTrue();
        assertThat(ledger.judgeRefusal(102, -1, start, end, before, 1)).as("held").isFalse();
        assertThat(ledger.falseRefusals.sum()).isEqualTo(1);
        assertThat(ledger.falseExhaustions.sum()).isZero();
    }

    @Test
    void aJudgementWaitsForOperationsThatStartedBeforeTheCallEnded() throws Exception {
        holdAllBut101();
        final long before = clock.nanoTime();
        final long start = sequence.begin(1);
        final long other = sequence.begin(0); // another thread's acquisition, in flight: it may have taken 101
        final long end = sequence.next();
        sequence.end(1);
        final CompletableFuture<Integer> verdict =
            CompletableFuture.supplyAsync(() -> ledger.judgeExhaustion(-1, start, end, before, 1));
        Thread.sleep(200);
        assertThat(verdict).as("waits for the operation in flight").isNotDone();
        ledger.grantedExclusive(2, 101, other, true);
        sequence.end(0);
        assertThat(verdict.get(10, TimeUnit.SECONDS)).as("101 was taken").isEqualTo(-1);
        assertThat(ledger.violations()).isZero();
    }
}
