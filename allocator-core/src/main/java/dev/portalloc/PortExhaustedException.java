package dev.portalloc;

/**
 * Thrown by {@link PortAllocator#acquire()} when, at the moment of the call, no port of the automatic
 * set is free (every one is held or reserved), and by {@link PortAllocator#acquire(Destination)} when no
 * such port is left for the destination.
 *
 * <p>Unchecked, like {@link java.net.BindException}'s role in a stack that cannot recover locally:
 * callers that expect exhaustion use {@link PortAllocator#tryAcquire()} instead, which returns
 * {@link PortAllocator#NONE} and costs no exception.
 */
public final class PortExhaustedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int automaticPorts;
    private final int reservedPorts;
    private final int heldPorts;
    private final Destination destination;

    /**
     * @param automaticPorts size of the automatic-selection set
     * @param reservedPorts how many of those ports were reserved
     * @param heldPorts how many ports of the automatic set were held (a weakly consistent count)
     */
    public PortExhaustedException(int automaticPorts, int reservedPorts, int heldPorts) {
        super("no free port: the automatic set has " + automaticPorts + " ports, "
            + reservedPorts + " of them reserved and " + heldPorts + " held");
        this.automaticPorts = automaticPorts;
        this.reservedPorts = reservedPorts;
        this.heldPorts = heldPorts;
        this.destination = null;
    }

    /**
     * For a connect-style acquisition ({@link PortAllocator#acquire(Destination)}).
     *
     * @param automaticPorts size of the automatic-selection set
     * @param reservedPorts how many of those ports were reserved
     * @param heldPorts how many ports of the automatic set were held, exclusively or by tuples (weakly
     *     consistent)
     * @param destination the destination that no suitable port was left for
     */
    public PortExhaustedException(int automaticPorts, int reservedPorts, int heldPorts, Destination destination) {
        super("no port left for " + destination + ": the automatic set has " + automaticPorts + " ports, "
            + reservedPorts + " of them reserved and " + heldPorts + " held; each one not reserved is held "
            + "exclusively or already has a live or quarantined connection to " + destination);
        this.automaticPorts = automaticPorts;
        this.reservedPorts = reservedPorts;
        this.heldPorts = heldPorts;
        this.destination = destination;
    }

    /** @return the destination of a failed connect-style acquisition, or null for an exclusive one */
    public Destination destination() {
        return destination;
    }

    /** @return size of the automatic-selection set when the acquisition failed */
    public int automaticPorts() {
        return automaticPorts;
    }

    /** @return ports of the automatic set that were reserved when the acquisition failed */
    public int reservedPorts() {
        return reservedPorts;
    }

    /** @return ports of the automatic set that were held when the acquisition failed (weakly consistent) */
    public int heldPorts() {
        return heldPorts;
    }
}
