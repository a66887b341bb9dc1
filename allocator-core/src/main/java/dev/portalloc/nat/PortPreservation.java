package dev.portalloc.nat;

import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;

import java.util.Objects;

/**
 * Port preservation: give a mapping the external port the host suggests, when it can be had.
 *
 * <pre>{@code
 * int p = PortPreservation.FALLBACK.tryAcquire(allocator, internalPort);  // internalPort if free, else random
 * int q = PortPreservation.FAIL.tryAcquire(allocator, suggested);         // suggested or NONE (PREFER_FAILURE)
 * int r = PortPreservation.FALLBACK.tryAcquire(parity, internalPort);     // fallback keeps the parity
 * }</pre>
 *
 * <h2>Where the suggestion comes from</h2>
 * <ul>
 * <li>RFC 4787 section 4.2.1: a NAT with "port preservation" tries the internal source port as external port
 *     and picks another one when it is taken; pass the internal port.</li>
 * <li>RFC 6887 (PCP) section 11.3: a MAP request carries a suggested external port, which the server uses if
 *     it can and otherwise replaces by another port; with the PREFER_FAILURE option (section 13.2) the client
 *     asks for failure instead of a different port. That is {@link #FALLBACK} and {@link #FAIL}.</li>
 * </ul>
 *
 * <h2>Which suggestions are honoured (a choice)</h2>
 * Only ports the allocator could have chosen automatically: in its automatic set and not reserved at the
 * moment of the call ({@link #isPreservable}). {@link PortAllocator#tryAcquire(int)} itself accepts any port,
 * but a NAT must not let a host's source port pull a mapping onto a port the operator kept out of dynamic
 * use: well-known ports below the automatic range (RFC 4787 REQ-3 keeps the 0-1023 and 1024-65535 ranges
 * apart), ports of the gateway's own services or of static port forwards (typically reserved). A suggestion
 * outside that set is treated like a taken one. A concurrent {@link PortAllocator#reserve} may or may not
 * apply to a preservation already running, as for automatic selection.
 *
 * <h2>Security</h2>
 * Preserving ports makes external ports predictable from internal ones and so gives up the randomization of
 * RFC 6056 and RFC 6888 REQ-15 for those mappings; use {@link #OFF} unless applications need preservation.
 *
 * <h2>Thread-safety</h2>
 * Constants of an enum; the methods are stateless, thread-safe, lock-free and allocation-free (beyond what
 * the allocator itself does on a thread's first call).
 */
public enum PortPreservation {
    /** Do not try the suggestion: choose as if there were none (the suggested port still has to be valid). */
    OFF,
    /** Try the suggested port; if it is taken or not preservable, choose another one. */
    FALLBACK,
    /** Try the suggested port; if it is taken or not preservable, fail (PCP PREFER_FAILURE, RFC 6887 §13.2). */
    FAIL;

    /**
     * Acquires the suggested port, or per this policy another uniformly chosen port of the allocator.
     *
     * @param allocator the allocator
     * @param suggestedPort 1..65535: the internal source port, or a PCP suggested external port
     * @return the port, now held, or {@link PortAllocator#NONE} if this policy fails or no port is free
     * @throws IllegalArgumentException if {@code suggestedPort} is outside 1..65535
     */
    public int tryAcquire(PortAllocator allocator, int suggestedPort) {
        Objects.requireNonNull(allocator, "allocator");
        checkPort(suggestedPort);
        if (this != OFF && isPreservable(allocator, suggestedPort) && allocator.tryAcquire(suggestedPort)) {
            return suggestedPort;
        }
        return this == FAIL ? PortAllocator.NONE : allocator.tryAcquire();
    }

    /**
     * Like {@link #tryAcquire(PortAllocator, int)}, but a fallback port has the parity of the suggested port
     * (RFC 4787 REQ-4): pass the internal port as suggestion.
     *
     * @param parity the parity views of an allocator
     * @param suggestedPort 1..65535
     * @return the port, now held, or {@link PortAllocator#NONE}
     * @throws IllegalArgumentException if {@code suggestedPort} is outside 1..65535
     */
    public int tryAcquire(ParityPreserving parity, int suggestedPort) {
        Objects.requireNonNull(parity, "parity");
        checkPort(suggestedPort);
        final PortAllocator allocator = parity.allocator();
        if (this != OFF && isPreservable(allocator, suggestedPort) && allocator.tryAcquire(suggestedPort)) {
            return suggestedPort;
        }
        return this == FAIL ? PortAllocator.NONE : parity.tryAcquire(suggestedPort);
    }

    /**
     * Whether a suggestion of {@code port} may be honoured: the port is in the allocator's automatic set and
     * not in its reserved set at the moment of the call (whether it is free is not checked).
     *
     * @param allocator the allocator
     * @param port any int; non-ports are not preservable
     * @return whether automatic selection could have returned {@code port}
     */
    public static boolean isPreservable(PortAllocator allocator, int port) {
        final PortSet reserved = allocator.reserved();
        return allocator.ports().contains(port) && !reserved.contains(port);
    }

    static void checkPort(int port) {
        if (port < PortAllocator.MIN_PORT || port > PortAllocator.MAX_PORT) {
            throw new IllegalArgumentException("suggested port " + port + " is out of range "
                + PortAllocator.MIN_PORT + ".." + PortAllocator.MAX_PORT);
        }
    }
}
