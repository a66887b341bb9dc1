package dev.portalloc.internal.select;

import dev.portalloc.internal.random.IndexSource;

/**
 * A port-selection algorithm: one RFC 6056 (or Linux) probe sequence over a {@link SelectionContext}'s index
 * space.
 *
 * <p>Every implementation follows its published probe sequence and counter updates exactly (counters advance
 * per candidate, {@code count} starts at {@code num_ephemeral}, a candidate passes
 * {@code check_suitable_port} when {@link SelectionContext#tryClaim} succeeds), with one deliberate
 * improvement: <b>no false exhaustion</b>. When the published sequence gives up ({@code count} reaches 0, or
 * Linux's two parity passes end) it falls back to {@link SelectionContext#completeSearch}, which fails only
 * if at some moment no suitable port existed. The sequence can give up while a port is free: under
 * concurrency (a port freed behind the scan), for Algorithms 2 and 5 even alone (random probes may miss
 * it), and for Linux's scan when the index space has an odd size (the last index is never scanned).
 *
 * <p>Thread-safety: selectors are shared by all threads of an allocator; shared counters are atomics.
 */
@FunctionalInterface
public interface PortSelector {
    /**
     * @param ctx the index space, suitability test and hash of this selection
     * @param random the calling thread's generator (not thread-safe: only the caller uses it)
     * @return the claimed port, or {@link SelectionContext#NONE}
     */
    int select(SelectionContext ctx, IndexSource random);
}
