package dev.portalloc.internal.flow;

import dev.portalloc.Destination;
import dev.portalloc.internal.bitmap.PortBitmap;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The ports one hot destination uses (live or quarantined tuples), as a hint: one bit per port and a count
 * per 1,024-port block, so that selection for a destination that holds most ports can find the few it does
 * not hold by rank/select instead of by probing (see {@link HotDestinations}).
 *
 * <p>It is only a hint. Correctness never depends on it: every candidate is still joined through the tuple
 * table, and the final "nothing suitable" verdict never reads it. Bits are set after a tuple is inserted and
 * cleared after it is removed, so a bit can be clear for a used port (before a repair) and, after a race
 * between a repair and a release, set for an unused one until the next clear; either only costs time.
 *
 * <p>Selection reads it through {@link FlowTable#hint}: the RFC sequences skip marked ports without a
 * tuple-table lookup ({@code SelectionContext.refusedRun}), uniform selection ranks the unmarked ones.
 *
 * <p>Thread-safety: thread-safe and lock-free (CAS on the bit's word, atomic add on the block count, which
 * changes exactly when a bit flips).
 */
public final class DestinationPorts {
    private static final VarHandle BITS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle COUNT = MethodHandles.arrayElementVarHandle(int[].class);
    private static final VarHandle TOTAL;

    static {
        try {
            TOTAL = MethodHandles.lookup().findVarHandle(DestinationPorts.class, "total", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Destination destination;
    private final long[] bits = new long[(PortBitmap.MAX_PORT + 1) / 64];
    private final int[] counts = new int[PortBitmap.BLOCKS];
    @SuppressWarnings("unused") // through TOTAL
    private volatile int total;
    /** Set once the destination was demoted: the hint is no longer maintained and must not be used. */
    private volatile boolean retired;

    /** @param destination the destination whose ports this hint marks */
    DestinationPorts(Destination destination) {
        this.destination = destination;
    }

    /** @return the destination whose ports this hint marks */
    Destination destination() {
        return destination;
    }

    /** @return whether the port is marked used */
    public boolean isSet(int port) {
        return ((long) BITS.getOpaque(bits, port >>> 6) & (1L << port)) != 0;
    }

    /** @return the marks of the 32 ports of bitmap word {@code w}, as held-bit positions */
    public long marksOfWord(int w) {
        return ((long) BITS.getOpaque(bits, w >>> 1) >>> ((w & 1) << 5)) & 0xFFFF_FFFFL;
    }

    /** Marks the port used. */
    void set(int port) {
        final int i = port >>> 6;
        final long bit = 1L << port;
        long cur = (long) BITS.getVolatile(bits, i);
        while ((cur & bit) == 0) {
            final long witness = (long) BITS.compareAndExchange(bits, i, cur, cur | bit);
            if (witness == cur) {
                COUNT.getAndAdd(counts, port >>> 10, 1);
                TOTAL.getAndAdd(this, 1);
                return;
            }
            cur = witness;
        }
    }

    /**
     * Marks the port unused.
     *
     * @return the number of marked ports after the change (0: the destination is no longer hot)
     */
    int clear(int port) {
        final int i = port >>> 6;
        final long bit = 1L << port;
        long cur = (long) BITS.getVolatile(bits, i);
        while ((cur & bit) != 0) {
            final long witness = (long) BITS.compareAndExchange(bits, i, cur, cur & ~bit);
            if (witness == cur) {
                COUNT.getAndAdd(counts, port >>> 10, -1);
                return (int) TOTAL.getAndAdd(this, -1) - 1;
            }
            cur = witness;
        }
        return (int) TOTAL.getVolatile(this);
    }

    /** Marks the hint as demoted (volatile write). */
    void retire() {
        retired = true;
    }

    /** @return whether the destination was demoted (volatile read) */
    boolean isRetired() {
        return retired;
    }

    /** @return marked ports in all (volatile read) */
    public int total() {
        return (int) TOTAL.getVolatile(this);
    }

    /** @return marked ports in the block (opaque read) */
    int count(int block) {
        return (int) COUNT.getOpaque(counts, block);
    }
}
