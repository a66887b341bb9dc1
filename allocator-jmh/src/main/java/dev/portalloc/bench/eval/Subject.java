package dev.portalloc.bench.eval;

import dev.portalloc.Destination;
import dev.portalloc.PortAllocator;

/**
 * What the harness measures: something that hands out a local port for a connection to a destination and takes
 * it back. The harness talks only to this interface, so the same workloads and metrics run against the
 * allocator in exclusive mode ({@code bind(0)}-style, the destination ignored) and in connect mode (5-tuples),
 * and against reference models in tests.
 *
 * <p>Thread-safety: implementations need not be thread-safe; the harness drives each subject from one thread.
 */
interface Subject {
    /**
     * @param destination the remote endpoint
     * @return the local port, or {@link PortAllocator#NONE} if none is available
     */
    int allocate(Destination destination);

    /**
     * Claims a named port for a connection, as {@code bind()} to that port before {@code connect()}.
     *
     * @param port the port, 1..65535
     * @param destination the remote endpoint
     * @return whether the port was granted
     */
    boolean claim(int port, Destination destination);

    /**
     * @param port a port returned by {@link #allocate} for {@code destination} and not yet freed
     * @param destination the destination it was allocated for
     */
    void free(int port, Destination destination);

    /** Replaces the secrets of the keyed algorithms (RFC 6056 §3.4). */
    void rekey();

    /** @return whether a port is held per destination (connect mode) rather than exclusively */
    boolean perDestination();

    /**
     * The subject's running count of candidates examined by its automatic selections (for the allocator,
     * {@code AllocatorStats.probes()}: each port tested counts 1, each bitmap word, block count or hint word read
     * by a scan counts 1). The harness takes its difference around each measured {@link #allocate} call (metric 5).
     *
     * @return the count since the subject was built, or -1 if the subject does not count probes (reference models)
     */
    default long probes() {
        return -1;
    }
}
