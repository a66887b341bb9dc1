package dev.portalloc.nat;

/**
 * Receives the port block events of a {@link PortBlockAllocator}: what a CGN with port block allocation logs
 * instead of one record per mapping (RFC 6888 REQ-14: minimize log volume). Abuse reports name an external
 * address, port and time; the block records that cover them name the subscriber.
 *
 * <h2>Contract</h2>
 * <ul>
 * <li>Called synchronously by the thread whose acquisition claims the block ({@link #blockAllocated}),
 *     before any port of the block is handed out, and by the thread whose release frees its last port
 *     ({@link #blockReleased}), after the last port was released and before the block can be claimed again.
 *     So for one block (address, first port), the events alternate allocated, released, allocated, ... and
 *     each happens-before the next.</li>
 * <li>Implementations must be thread-safe (several threads report at once), should be quick (the caller
 *     waits) and must not call back into the allocator.</li>
 * <li>Fail-closed: if {@link #blockAllocated} throws, the block is not used, the acquisition fails with that
 *     exception and no released event follows. If {@link #blockReleased} throws, the block is never handed
 *     out again (it would otherwise appear in the log as owned by two subscribers at once); the exception
 *     propagates from the release, which has otherwise completed.</li>
 * </ul>
 * Arguments are primitives so that reporting allocates nothing: addresses are IPv4 addresses as ints
 * (most significant byte first), the ports are the block's whole range (a block may contain reserved ports,
 * which are never handed out), and the time is from the allocator's {@link org.agrona.concurrent.EpochClock}
 * (milliseconds since the epoch).
 */
public interface BlockListener {

    /** A listener that ignores every event. */
    BlockListener NONE = new BlockListener() {
    };

    /**
     * A block now belongs to a subscriber.
     *
     * @param subscriber the subscriber's internal IPv4 address
     * @param externalAddress the external IPv4 address of the block
     * @param firstPort the first port of the block
     * @param lastPort the last port of the block (inclusive)
     * @param epochMillis when, in milliseconds since the epoch
     */
    default void blockAllocated(int subscriber, int externalAddress, int firstPort, int lastPort, long epochMillis) {
    }

    /**
     * A block no longer belongs to the subscriber: its last port was released.
     *
     * @param subscriber the subscriber's internal IPv4 address
     * @param externalAddress the external IPv4 address of the block
     * @param firstPort the first port of the block
     * @param lastPort the last port of the block (inclusive)
     * @param epochMillis when, in milliseconds since the epoch
     */
    default void blockReleased(int subscriber, int externalAddress, int firstPort, int lastPort, long epochMillis) {
    }
}
