package dev.portalloc.internal.select;

import dev.portalloc.internal.random.IndexSource;

/**
 * What a {@link PortSelector} may see and do during one selection: the RFC 6056 index space, the
 * {@code check_suitable_port} test (which claims the port when it passes), the complete search used as a
 * fallback, and the keyed hash of the selection's identifiers.
 *
 * <p>The same selector code serves every mode; only the context differs:
 * <ul>
 * <li>exclusive mode ({@code bind(0)}-style, {@link ExclusiveContext}): a port is suitable if it is selectable
 *     (not reserved) and free, and claiming it holds it exclusively; the hash input is the local part only
 *     (protocol number and local address, RFC 6056 §3.5);</li>
 * <li>connect mode (later, a per-call context carrying the destination): a port is suitable if it is selectable
 *     and the 5-tuple with this destination is unused, and claiming it is the flow layer's join
 *     (docs/design/connect-style.md); the hash input adds the remote address and port.</li>
 * </ul>
 *
 * <p>Thread-safety: implementations are safe for concurrent use, or confined to the calling thread.
 */
public interface SelectionContext {
    /** Returned by {@link #completeSearch} when no suitable port exists. */
    int NONE = -1;

    /** Hash purpose: Algorithm 3's {@code F()}, and Algorithm 4's {@code F()} ({@code secret_key1}). */
    long PURPOSE_OFFSET = 1;
    /** Hash purpose: Algorithm 4's {@code G()} ({@code secret_key2}). */
    long PURPOSE_INDEX = 2;

    /** @return {@code num_ephemeral}: the number of ports in the index space (at least 1) */
    int size();

    /**
     * @param index {@code 0 .. size()-1}
     * @return the port at {@code index}: RFC 6056's {@code min_ephemeral + index}, generalised to a port set
     *     as its {@code index}-th port in ascending order
     */
    int port(int index);

    /**
     * RFC 6056's {@code check_suitable_port(port)}, claiming the port when it is suitable.
     *
     * @param port a port of the index space
     * @return true if the port was suitable and is now claimed for the caller
     */
    boolean tryClaim(int port);

    /**
     * The word-level shortcut of an RFC sequence: counts the candidates {@code index, index + step, ...} that
     * {@link #tryClaim} would refuse on the bitmap words alone (not selectable, held exclusively, or, in connect
     * mode, marked in the destination's hint as carrying its tuple), so that a selector can advance its counters
     * over them at once, as if it had probed each: the sequence yields the same port and leaves the same counter
     * state. A port the words do not rule out ends the run and still needs {@link #tryClaim}.
     *
     * @param index the first candidate, {@code 0 .. size()-1}
     * @param step 1 or 2 (Linux scans one parity at a time)
     * @param limit the most candidates to count; {@code index + (limit - 1) * step} must be below {@link #size()}
     * @param tally where the words read are counted ({@link IndexSource#countProbes})
     * @return {@code k} in {@code 0..limit}: the first {@code k} candidates are refused
     */
    int refusedRun(int index, int step, int limit, IndexSource tally);

    /** Set in {@link #claimAfterRun}'s result when the candidate that ended the run was claimed. */
    int CLAIMED = 1;

    /**
     * {@link #refusedRun}, then {@link #tryClaim} of the candidate that ended the run, if it ended before
     * {@code limit}: the step every sequential walk takes when it has no counter to advance in between. Counts
     * the same probes as the two calls (the words read, and the candidate tried). A context may serve both from
     * one read of the candidate's word.
     *
     * @return {@code k << 1}, plus {@link #CLAIMED} if candidate {@code index + k * step} was claimed; {@code k}
     *     is {@link #refusedRun}'s result, so {@code k < limit} means that candidate was tried
     */
    default int claimAfterRun(int index, int step, int limit, IndexSource tally) {
        final int k = refusedRun(index, step, limit, tally);
        if (k == limit) {
            return k << 1;
        }
        tally.countProbes(1);
        return k << 1 | (tryClaim(port(index + k * step)) ? CLAIMED : 0);
    }

    /**
     * @return whether most candidates are already known to be refused (in connect mode: the destination is hot
     *     and uses over 3/4 of the index space), so that random probes would mostly miss and the complete search
     *     is the cheaper way to the same uniform choice
     */
    default boolean dense() {
        return false;
    }

    /**
     * The complete search that backs up an RFC sequence that gave up: claims a suitable port chosen uniformly
     * at random, or reports that at some moment during the call none existed.
     *
     * @param random the calling thread's generator
     * @return the claimed port, or {@link #NONE}
     */
    int completeSearch(IndexSource random);

    /**
     * A keyed hash (SipHash-2-4 under the allocator's current secret) of the context's identifiers and
     * {@code purpose}. Different purposes act as the RFC's independent keys ({@code secret_key1},
     * {@code secret_key2}), because SipHash is a PRF.
     *
     * @param purpose {@link #PURPOSE_OFFSET} or {@link #PURPOSE_INDEX}
     * @return 64 hash bits
     */
    long hash(long purpose);
}
