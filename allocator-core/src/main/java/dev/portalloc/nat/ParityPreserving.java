package dev.portalloc.nat;

import dev.portalloc.PortAllocator;
import dev.portalloc.PortExhaustedException;
import dev.portalloc.PortSet;

import java.util.Objects;

/**
 * Port parity preservation (RFC 4787 section 4.2.2, REQ-4): the external port of a mapping has the
 * same parity as the internal port, uniformly at random among the free ports of that parity.
 *
 * <pre>{@code
 * ParityPreserving parity = ParityPreserving.over(allocator);   // keep it: building costs two set intersections
 * int external = parity.tryAcquire(internalPort);              // same parity as internalPort, or NONE
 * }</pre>
 *
 * <h2>Why</h2>
 * RTP uses an even port and RTCP the next, odd one (RFC 3550 section 11); an application behind a NAT that
 * announces its RTP port expects the peer's RTCP to arrive on port + 1 of the same parity relation. A NAT that
 * preserves parity does not guarantee contiguity (RFC 4787 section 4.2.3 does not ask for it) but keeps an
 * even internal port even, which is what REQ-4 recommends.
 *
 * <h2>How</h2>
 * Two {@link PortAllocator.Subset} views of one allocator, built once: one over the even ports of 1..65535
 * ({@link #EVEN_PORTS}) and one over the odd ports ({@link #ODD_PORTS}). Each inherits the allocator's
 * guarantees restricted to its parity: uniform over the free selectable ports of that parity, never a false
 * exhaustion, and exhaustion of one parity says nothing about the other (the odd view keeps working when
 * every even port is held). Ports are ordinary holdings of the allocator: release them with
 * {@link PortAllocator#release(int)}.
 *
 * <h2>Memory</h2>
 * A parity set has one range per port, so each view's restricted selection costs about 12 bytes per
 * selectable port of its parity plus a word mask: about 0.4 MB per view for 1024-65535, 0.8 MB per
 * allocator. That is fine for one allocator and expensive for thousands; {@link AddressPool} preserves parity
 * with masks over its own one-bit-per-port state instead, at no cost per address.
 *
 * <h2>Thread-safety</h2>
 * Thread-safe and lock-free, like the views it wraps: {@link #tryAcquire(int)} allocates nothing (after the
 * calling thread's first use of the allocator) except when the allocator's reservations changed, which
 * rebuilds a view once.
 */
public final class ParityPreserving {

    /** The even ports of 1..65535: 2, 4, ..., 65534. Shared by every view. */
    public static final PortSet EVEN_PORTS = everyOther(2);
    /** The odd ports of 1..65535: 1, 3, ..., 65535. Shared by every view. */
    public static final PortSet ODD_PORTS = everyOther(1);

    private static final int MAX_INTERNAL_PORT = 65535;

    private final PortAllocator allocator;
    private final PortAllocator.Subset even;
    private final PortAllocator.Subset odd;

    private ParityPreserving(PortAllocator allocator) {
        this.allocator = allocator;
        this.even = allocator.subset(EVEN_PORTS);
        this.odd = allocator.subset(ODD_PORTS);
    }

    /**
     * Builds the two parity views of {@code allocator}. Keep and reuse the result.
     *
     * @param allocator the allocator whose ports are handed out
     * @return parity-preserving selection over it
     */
    public static ParityPreserving over(PortAllocator allocator) {
        return new ParityPreserving(Objects.requireNonNull(allocator, "allocator"));
    }

    /**
     * Acquires a uniformly chosen free selectable port with the parity of {@code internalPort}.
     *
     * @param internalPort the internal source port (or ICMP identifier), 0..65535; only its parity matters
     * @return the port, now held in the allocator, or {@link PortAllocator#NONE} if no selectable port of
     *     that parity was free
     * @throws IllegalArgumentException if {@code internalPort} is outside 0..65535
     */
    public int tryAcquire(int internalPort) {
        return viewFor(internalPort).tryAcquire();
    }

    /**
     * Like {@link #tryAcquire(int)} but throws on exhaustion.
     *
     * @param internalPort the internal source port (or ICMP identifier), 0..65535
     * @return the port, now held in the allocator
     * @throws PortExhaustedException if no selectable port of that parity is free
     * @throws IllegalArgumentException if {@code internalPort} is outside 0..65535
     */
    public int acquire(int internalPort) {
        return viewFor(internalPort).acquire();
    }

    /**
     * @param internalPort 0..65535
     * @return the view of the ports with the parity of {@code internalPort}
     * @throws IllegalArgumentException if {@code internalPort} is outside 0..65535
     */
    public PortAllocator.Subset viewFor(int internalPort) {
        if (internalPort < 0 || internalPort > MAX_INTERNAL_PORT) {
            throw new IllegalArgumentException("internal port " + internalPort + " is out of range 0.."
                + MAX_INTERNAL_PORT);
        }
        return (internalPort & 1) == 0 ? even : odd;
    }

    /** @return the allocator the ports come from (release them there) */
    public PortAllocator allocator() {
        return allocator;
    }

    @Override
    public String toString() {
        return "ParityPreserving[" + allocator + "]";
    }

    /** {@code first, first + 2, ...} up to 65535. */
    private static PortSet everyOther(int first) {
        int[] ports = new int[(MAX_INTERNAL_PORT - first) / 2 + 1];
        for (int i = 0; i < ports.length; i++) {
            ports[i] = first + 2 * i;
        }
        return PortSet.of(ports);
    }
}
