package dev.portalloc;

import org.agrona.concurrent.NanoClock;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The soak test's shadow ledger of one {@link PortAllocator}, shared by the threads that use it: what has been
 * handed out (exclusive ports and 5-tuples, by holder), reserved and quarantined, and when, so that the
 * allocator's answers are verified instead of trusted.
 *
 * <h2>What it counts</h2>
 * <ul>
 * <li><b>Duplicates</b>: a port granted exclusively while the ledger has another exclusive holder, or a tuple
 *     granted while the ledger has it live. The ledger records a grant only after the allocator returned it and
 *     clears a holding before the allocator releases it, so a ledger holding lies inside the allocator's: two
 *     ledger holdings at once are two allocator holdings at once.</li>
 * <li><b>Mixed holders</b>: a port held exclusively and carrying a live tuple at the same time (the same
 *     argument).</li>
 * <li><b>Early reuse</b>: a grant whose clock reading after the call is less than the quarantine after the
 *     clock reading taken before the release of the same tuple (or, for an exclusive grant, of the port or any
 *     tuple on it). Both readings bracket the allocator's own, so this is certain.</li>
 * <li><b>Unselectable grants</b>: an automatic grant outside the automatic set, or of a port whose
 *     reservation had returned before the acquisition started and was still in place after it.</li>
 * <li><b>False exhaustions</b> (and <b>false refusals</b> of an explicit port): a failed call while a port was
 *     certainly free for the whole call. The call's window is {@code [start, end]} in {@link SoakSequence}
 *     numbers. After it, the judging thread waits until every operation that started before {@code end} has
 *     finished (so all of them are in the ledger); then a port is a <em>witness</em> if the ledger shows it
 *     free now (no holder, and for an automatic call selectable and not reserved), no event touched it at or
 *     after {@code start}, and every quarantine on it had ended by the clock reading taken before the call.
 *     Every event is stamped with a number that is at least as late as its effect on the allocator:
 *     acquisitions with their start number (the ledger then shows them held until a release), releases and
 *     reservation changes with a number drawn after the allocator call returned. So a witness was free in the
 *     allocator throughout the call, and the allocator promises that a call fails only if at some moment no
 *     suitable port was free. The judgement never accuses a correct allocator; it may miss a false exhaustion
 *     whose free ports were all touched during the call.</li>
 * <li><b>Ledger errors</b>: a release of something the ledger does not show held by the releasing thread.</li>
 * </ul>
 *
 * <p>Ports are tracked in a window {@code [first, first + size)}; destinations by index. The harness's
 * {@code ShadowLedger} (allocator-jmh) checks the same properties for one simulation thread; this one is its
 * concurrent counterpart.
 *
 * <p>Thread-safety: thread-safe (atomic arrays; every write that a judgement depends on is ordered before the
 * write that publishes it, as described at each method).
 */
final class SoakLedger {
    /** The reading of a release that never happened: far in the past, without overflow in differences. */
    static final long NEVER = Long.MIN_VALUE / 4;
    private static final long NOT_RESERVED = Long.MAX_VALUE;
    private static final int MAX_MESSAGES = 20;

    final String name;
    private final int first;
    private final int size;
    private final int destinations;
    private final PortSet automatic;
    private final int[] automaticPorts;
    private final long quarantine;
    private final NanoClock clock;
    private final SoakSequence sequence;

    /** Exclusive holder per port (0: none); holder per tuple {@code port * destinations + d}. */
    private final AtomicIntegerArray exclusiveHolder;
    private final AtomicIntegerArray tupleHolder;
    private final AtomicIntegerArray liveTuplesOnPort;
    /** Latest event stamps: exclusive holdings of a port, a tuple, any tuple of a port, reservations of a port. */
    private final AtomicLongArray portEvent;
    private final AtomicLongArray tupleEvent;
    private final AtomicLongArray anyTupleEvent;
    private final AtomicLongArray reservationEvent;
    private final AtomicIntegerArray reserved;
    /** Number drawn after the reservation call that reserved a port returned; {@link #NOT_RESERVED} otherwise. */
    private final AtomicLongArray reservedSince;
    /** Latest clock reading before a release, and latest end of quarantine (reading after the release + Q). */
    private final AtomicLongArray exclusiveReleasedBefore;
    private final AtomicLongArray exclusiveQuarantineEnd;
    private final AtomicLongArray tupleReleasedBefore;
    private final AtomicLongArray tupleQuarantineEnd;
    private final AtomicLongArray anyTupleReleasedBefore;
    private final AtomicLongArray anyTupleQuarantineEnd;

    final LongAdder duplicates = new LongAdder();
    final LongAdder mixedHolders = new LongAdder();
    final LongAdder earlyReuses = new LongAdder();
    final LongAdder unselectableGrants = new LongAdder();
    final LongAdder falseExhaustions = new LongAdder();
    final LongAdder exhaustionsJudged = new LongAdder();
    final LongAdder falseRefusals = new LongAdder();
    final LongAdder refusalsJudged = new LongAdder();
    final LongAdder ledgerErrors = new LongAdder();
    private final List<String> messages = Collections.synchronizedList(new ArrayList<>());

    /**
     * @param name the allocator's name in messages
     * @param first first tracked port
     * @param size tracked ports
     * @param destinations number of destination indexes
     * @param automatic the allocator's automatic set (inside the tracked window)
     * @param initiallyReserved ports reserved by the builder
     * @param quarantine the allocator's quarantine in clock units (0: none)
     * @param clock the allocator's clock
     * @param sequence the operations' order
     */
    SoakLedger(String name, int first, int size, int destinations, PortSet automatic, PortSet initiallyReserved,
               long quarantine, NanoClock clock, SoakSequence sequence) {
        this.name = name;
        this.first = first;
        this.size = size;
        this.destinations = destinations;
        this.automatic = automatic;
        this.automaticPorts = automatic.toArray();
        automatic.stream().forEach(this::index); // inside the window, or IllegalArgumentException
        this.quarantine = quarantine;
        this.clock = clock;
        this.sequence = sequence;
        final int tuples = size * destinations;
        exclusiveHolder = new AtomicIntegerArray(size);
        tupleHolder = new AtomicIntegerArray(tuples);
        liveTuplesOnPort = new AtomicIntegerArray(size);
        portEvent = new AtomicLongArray(size);
        tupleEvent = new AtomicLongArray(tuples);
        anyTupleEvent = new AtomicLongArray(size);
        reservationEvent = new AtomicLongArray(size);
        reserved = new AtomicIntegerArray(size);
        reservedSince = filled(size, NOT_RESERVED);
        exclusiveReleasedBefore = filled(size, NEVER);
        exclusiveQuarantineEnd = filled(size, NEVER);
        tupleReleasedBefore = filled(tuples, NEVER);
        tupleQuarantineEnd = filled(tuples, NEVER);
        anyTupleReleasedBefore = filled(size, NEVER);
        anyTupleQuarantineEnd = filled(size, NEVER);
        initiallyReserved.stream().forEach(p -> {
            reserved.set(index(p), 1);
            reservedSince.set(index(p), 0);
        });
    }

    private static AtomicLongArray filled(int length, long value) {
        final AtomicLongArray a = new AtomicLongArray(length);
        for (int i = 0; i < length; i++) {
            a.set(i, value);
        }
        return a;
    }

    private int index(int port) {
        if (port < first || port >= first + size) {
            throw new IllegalArgumentException("port " + port + " outside the tracked window " + first + "-"
                + (first + size - 1));
        }
        return port - first;
    }

    /** @return whether {@code port} is in the tracked window */
    boolean tracks(int port) {
        return port >= first && port < first + size;
    }

    private int tuple(int i, int d) {
        return i * destinations + d;
    }

    private static void raise(AtomicLongArray a, int i, long value) {
        a.accumulateAndGet(i, value, Math::max);
    }

    private void violation(LongAdder counter, String message) {
        counter.increment();
        if (messages.size() < MAX_MESSAGES) {
            messages.add(name + ": " + message + " (clock " + clock.nanoTime() + ")");
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Grants and releases. A grant is recorded after the allocator returned it, within the operation started at
    // `start`; its stamp (`start`) is written before the holding that publishes it.

    /**
     * Records an exclusive grant.
     *
     * @param holder the holding thread (1..)
     * @param port the port
     * @param start the operation's start number
     * @param automaticCall whether the allocator chose the port (then it must have been selectable)
     */
    void grantedExclusive(int holder, int port, long start, boolean automaticCall) {
        final long now = clock.nanoTime();
        if (!tracks(port)) {
            violation(unselectableGrants, "port " + port + " granted outside " + automatic);
            return;
        }
        final int i = index(port);
        if (automaticCall) {
            checkSelectable(port, i, start);
        }
        raise(portEvent, i, start);
        final int other = exclusiveHolder.getAndUpdate(i, h -> h == 0 ? holder : h);
        if (other != 0) {
            violation(duplicates, "port " + port + " granted exclusively to thread " + holder + " while thread "
                + other + " holds it");
        }
        if (liveTuplesOnPort.get(i) > 0) {
            violation(mixedHolders, "port " + port + " granted exclusively while it carries "
                + liveTuplesOnPort.get(i) + " live tuples");
        }
        if (now - exclusiveReleasedBefore.get(i) < quarantine) {
            violation(earlyReuses, "port " + port + " granted exclusively at " + now + ", released at "
                + exclusiveReleasedBefore.get(i) + " (quarantine " + quarantine + ")");
        }
        if (now - anyTupleReleasedBefore.get(i) < quarantine) {
            violation(earlyReuses, "port " + port + " granted exclusively at " + now + ", a tuple on it released at "
                + anyTupleReleasedBefore.get(i) + " (quarantine " + quarantine + ")");
        }
    }

    /**
     * Records a tuple grant.
     *
     * @param holder the holding thread (1..)
     * @param port the local port
     * @param d the destination index
     * @param start the operation's start number
     * @param automaticCall whether the allocator chose the port
     */
    void grantedTuple(int holder, int port, int d, long start, boolean automaticCall) {
        final long now = clock.nanoTime();
        if (!tracks(port)) {
            violation(unselectableGrants, "port " + port + " granted for d" + d + " outside " + automatic);
            return;
        }
        final int i = index(port);
        final int t = tuple(i, d);
        if (automaticCall) {
            checkSelectable(port, i, start);
        }
        raise(tupleEvent, t, start);
        raise(anyTupleEvent, i, start);
        final int other = tupleHolder.getAndUpdate(t, h -> h == 0 ? holder : h);
        if (other != 0) {
            violation(duplicates, "duplicate live tuple (" + port + ", d" + d + "): granted to thread " + holder
                + " while thread " + other + " holds it");
        }
        liveTuplesOnPort.incrementAndGet(i);
        if (exclusiveHolder.get(i) != 0) {
            violation(mixedHolders, "tuple (" + port + ", d" + d + ") granted while thread " + exclusiveHolder.get(i)
                + " holds the port exclusively");
        }
        if (now - tupleReleasedBefore.get(t) < quarantine) {
            violation(earlyReuses, "tuple (" + port + ", d" + d + ") granted at " + now + ", released at "
                + tupleReleasedBefore.get(t) + " (quarantine " + quarantine + ")");
        }
        if (now - exclusiveReleasedBefore.get(i) < quarantine) {
            violation(earlyReuses, "tuple (" + port + ", d" + d + ") granted at " + now
                + ", the port released exclusively at " + exclusiveReleasedBefore.get(i));
        }
    }

    private void checkSelectable(int port, int i, long start) {
        if (!automatic.contains(port)) {
            violation(unselectableGrants, "automatic grant of port " + port + " outside " + automatic);
        } else if (reservedSince.get(i) < start) {
            violation(unselectableGrants, "automatic grant of port " + port + ", reserved since " + reservedSince.get(i)
                + ", in an operation started at " + start);
        }
    }

    /**
     * Before the allocator call that releases an exclusive port: stamps it, reads the clock, clears the holder.
     */
    void releasingExclusive(int holder, int port, long start) {
        final int i = index(port);
        raise(portEvent, i, start);
        raise(exclusiveReleasedBefore, i, clock.nanoTime());
        if (!exclusiveHolder.compareAndSet(i, holder, 0)) {
            violation(ledgerErrors, "thread " + holder + " releases port " + port + ", held by thread "
                + exclusiveHolder.get(i));
        }
    }

    /** After the allocator released the port: its quarantine end, then a stamp later than the release. */
    void releasedExclusive(int port) {
        final int i = index(port);
        raise(exclusiveQuarantineEnd, i, clock.nanoTime() + quarantine);
        raise(portEvent, i, sequence.next());
    }

    /** Before the allocator call that releases a tuple (as {@link #releasingExclusive}). */
    void releasingTuple(int holder, int port, int d, long start) {
        final int i = index(port);
        final int t = tuple(i, d);
        raise(tupleEvent, t, start);
        raise(anyTupleEvent, i, start);
        final long now = clock.nanoTime();
        raise(tupleReleasedBefore, t, now);
        raise(anyTupleReleasedBefore, i, now);
        if (!tupleHolder.compareAndSet(t, holder, 0)) {
            violation(ledgerErrors, "thread " + holder + " releases tuple (" + port + ", d" + d + "), held by thread "
                + tupleHolder.get(t));
        }
        liveTuplesOnPort.decrementAndGet(i);
    }

    /** After the allocator released the tuple (as {@link #releasedExclusive}). */
    void releasedTuple(int port, int d) {
        final int i = index(port);
        final int t = tuple(i, d);
        final long end = clock.nanoTime() + quarantine;
        raise(tupleQuarantineEnd, t, end);
        raise(anyTupleQuarantineEnd, i, end);
        final long stamp = sequence.next();
        raise(tupleEvent, t, stamp);
        raise(anyTupleEvent, i, stamp);
    }

    /** Before {@link PortAllocator#reserve}: stamps the ports and marks them reserved. */
    void reserving(PortSet ports, long start) {
        ports.stream().forEach(p -> {
            raise(reservationEvent, index(p), start);
            reserved.set(index(p), 1);
        });
    }

    /** After {@link PortAllocator#reserve} returned: from now on automatic selections must avoid the ports. */
    void reserved(PortSet ports) {
        final long stamp = sequence.next();
        ports.stream().forEach(p -> {
            reservedSince.set(index(p), stamp);
            raise(reservationEvent, index(p), stamp);
        });
    }

    /** Before {@link PortAllocator#unreserve}: grants of the ports are no longer unselectable. */
    void unreserving(PortSet ports, long start) {
        ports.stream().forEach(p -> {
            raise(reservationEvent, index(p), start);
            reservedSince.set(index(p), NOT_RESERVED);
        });
    }

    /** After {@link PortAllocator#unreserve} returned. */
    void unreserved(PortSet ports) {
        final long stamp = sequence.next();
        ports.stream().forEach(p -> {
            reserved.set(index(p), 0);
            raise(reservationEvent, index(p), stamp);
        });
    }

    // ---------------------------------------------------------------------------------------------------------
    // Judgements of failed calls

    /**
     * Judges a failed automatic acquisition (exclusive if {@code d < 0}, else to destination {@code d}).
     *
     * @param d the destination index, or -1 for an exclusive acquisition
     * @param start the call's start number (drawn before the call)
     * @param end a number drawn after the call returned
     * @param clockBefore the clock reading taken before the call
     * @param self the judging participant, idle
     * @return a witness port that was free throughout the call, or -1
     */
    int judgeExhaustion(int d, long start, long end, long clockBefore, int self) {
        sequence.awaitOperationsStartedBefore(end, self);
        exhaustionsJudged.increment();
        for (int port : automaticPorts) {
            if (freeThroughout(index(port), d, start, clockBefore, true)) {
                violation(falseExhaustions, (d < 0 ? "exclusive acquisition" : "acquisition for d" + d)
                    + " failed, numbers " + start + ".." + end + ", while port " + port + " was free throughout");
                return port;
            }
        }
        return -1;
    }

    /**
     * Judges a refused explicit acquisition of {@code port} (exclusive if {@code d < 0}); as
     * {@link #judgeExhaustion}, without selectability (explicit calls may take any port).
     *
     * @return whether the port was free throughout the call (a false refusal)
     */
    boolean judgeRefusal(int port, int d, long start, long end, long clockBefore, int self) {
        sequence.awaitOperationsStartedBefore(end, self);
        refusalsJudged.increment();
        if (freeThroughout(index(port), d, start, clockBefore, false)) {
            violation(falseRefusals, (d < 0 ? "exclusive tryAcquire(" + port + ")" : "tryAcquire(" + port + ", d" + d
                + ")") + " refused, numbers " + start + ".." + end + ", while the port was free throughout");
            return true;
        }
        return false;
    }

    /**
     * The witness test. States are read before stamps: a writer stamps before it changes a state, so a state
     * seen free after a later change comes with that change's stamp.
     */
    private boolean freeThroughout(int i, int d, long start, long clockBefore, boolean selectable) {
        if (selectable && reserved.get(i) != 0) {
            return false;
        }
        if (exclusiveHolder.get(i) != 0) {
            return false;
        }
        if (d < 0 ? liveTuplesOnPort.get(i) != 0 : tupleHolder.get(tuple(i, d)) != 0) {
            return false;
        }
        if (selectable && reservationEvent.get(i) >= start) {
            return false;
        }
        if (portEvent.get(i) >= start || (d < 0 ? anyTupleEvent.get(i) : tupleEvent.get(tuple(i, d))) >= start) {
            return false;
        }
        // Stamps older than the call: the releases finished before it, so their quarantine ends are written.
        return exclusiveQuarantineEnd.get(i) <= clockBefore
            && (d < 0 ? anyTupleQuarantineEnd.get(i) : tupleQuarantineEnd.get(tuple(i, d))) <= clockBefore;
    }

    /** @return violations of every kind */
    long violations() {
        return duplicates.sum() + mixedHolders.sum() + earlyReuses.sum() + unselectableGrants.sum()
            + falseExhaustions.sum() + falseRefusals.sum() + ledgerErrors.sum();
    }

    /** @return the first violation messages */
    List<String> messages() {
        synchronized (messages) {
            return List.copyOf(messages);
        }
    }

    /** @return live tuples the ledger shows on tracked ports (0 once every holder released) */
    long liveTuples() {
        long n = 0;
        for (int i = 0; i < size; i++) {
            n += liveTuplesOnPort.get(i);
        }
        return n;
    }
}
