package dev.portalloc.internal.select;

import dev.portalloc.Destination;
import dev.portalloc.PortSet;
import dev.portalloc.internal.bitmap.PortBitmap;
import dev.portalloc.internal.flow.DestinationPorts;
import dev.portalloc.internal.flow.FlowTable;
import dev.portalloc.internal.flow.PortShares;
import dev.portalloc.internal.random.IndexSource;

import java.util.function.Supplier;

/**
 * The {@link SelectionContext} of connect-style selection: one per thread and allocator, re-aimed at a
 * destination for each call ({@link #target}), so a selection allocates nothing.
 *
 * <ul>
 * <li>Index space: the automatic set, as in exclusive mode ({@link IndexSpace}).</li>
 * <li>{@code check_suitable_port}: the port is selectable and {@link FlowTable#tryJoin} succeeds (not held
 *     exclusively, the 5-tuple with the destination unused); a port mid-transition counts as unsuitable for
 *     the RFC sequences, and the complete search waits for it when it is the last candidate.</li>
 * <li>Complete search: {@link FlowTable#search}, uniform over the suitable ports, complete.</li>
 * <li>Hash input (RFC 6056 {@code F(local_IP, remote_IP, remote_port)}): five little-endian 64-bit words,
 *     {@code m0 = purpose | protocol << 8 | remotePort << 16 | timeBucket << 32}, {@code m1, m2} = the local
 *     address and {@code m3, m4} = the remote address, each as 16 bytes of IPv6 (IPv4 as
 *     {@code ::ffff:a.b.c.d}) read little-endian. {@code timeBucket} is 0 except for
 *     {@link #PURPOSE_TIMED}, where it is the allocator clock's nanoseconds divided by 10 s (truncated to 32
 *     bits), as Linux re-salts its port offset every 10 seconds.</li>
 * </ul>
 *
 * <p>Thread-safety: confined to its thread (it holds the destination of the current call). It references the
 * allocator's bitmap and flow layer only during a call, so a thread-local copy that outlives its allocator
 * holds a few hundred bytes, not the allocator's state.
 */
public final class ConnectContext extends IndexSpace {
    /** Hash purpose: Linux's offset, with the 10-second time bucket in the input. */
    public static final long PURPOSE_TIMED = 3;
    private static final long TEN_SECONDS = 10_000_000_000L;

    /** The allocator's flow layer and bitmap, set for the current call only ({@link #target}, {@link #clear}). */
    private FlowTable flows;
    private PortBitmap bitmap;
    private final Supplier<Secret> secret;
    private final long protocolWord;
    private final long local0;
    private final long local1;
    private Destination destination;
    /** The destination's hint when the call started (or once this call promoted it), else null. */
    private DestinationPorts hint;
    /** Candidates of this call refused because the tuple was used: enough of them make the destination hot. */
    private int used;
    /** The calling thread's generator during the call (counts the promotion's lookups). */
    private IndexSource tally;
    private long remote0;
    private long remote1;

    public ConnectContext(PortSet space, Supplier<Secret> secret, int protocol, byte[] localAddress) {
        super(space);
        this.secret = secret;
        this.protocolWord = (long) (protocol & 0xff) << 8;
        this.local0 = littleEndian(localAddress, 0);
        this.local1 = littleEndian(localAddress, 8);
    }

    /**
     * Aims this context at {@code d} for the calling thread's next selection; {@link #clear()} afterwards.
     *
     * @param bitmap the allocator's bitmap
     * @param flows the allocator's flow layer
     * @param d the destination
     * @param tally the calling thread's generator, where the call's work is counted
     * @return this context
     */
    public ConnectContext target(PortBitmap bitmap, FlowTable flows, Destination d, IndexSource tally) {
        this.bitmap = bitmap;
        this.tally = tally;
        this.flows = flows;
        this.hint = flows.hint(d);
        this.used = 0;
        if (d != destination) {
            destination = d;
            remote0 = Long.reverseBytes(d.ipv6High());
            remote1 = Long.reverseBytes(d.ipv6Low());
        }
        return this;
    }

    /**
     * Drops the references to the allocator's state taken by {@link #target}: the context lives in a thread-local
     * value, which may outlive the allocator (until the thread's map expunges it), and must not keep megabytes
     * of flow layer reachable meanwhile.
     */
    public void clear() {
        bitmap = null;
        flows = null;
        hint = null;
        tally = null;
    }

    @Override
    public boolean tryClaim(int port) {
        if (!bitmap.selection().isSelectable(port)) {
            return false;
        }
        final DestinationPorts h = hint;
        if (h != null) {
            // A marked port carries a tuple to the destination (up to a release in flight): refused at once.
            return !h.isSet(port) && flows.tryJoin(port, destination, h) == PortShares.JOINED;
        }
        final int r = flows.tryJoin(port, destination); // looks the hint up: another thread may have promoted it
        if (r == FlowTable.USED && ++used == FlowTable.PROMOTE_AFTER) {
            // The RFC sequences walk into the destination's own tuples again and again: a destination that holds
            // this many ports is made hot, so that the rest of this walk, and later ones, skip them word by word.
            hint = flows.promote(destination, tally);
        }
        return r == PortShares.JOINED;
    }

    @Override
    public boolean dense() {
        final DestinationPorts h = hint;
        return h != null && h.total() >= size() - (size() >>> 2);
    }

    /**
     * Not selectable, held exclusively, or marked in the destination's hint. A destination that became hot
     * during the call is seen at the next call: until then its used ports are refused by {@link #tryClaim}.
     */
    @Override
    long refusedBits(int w) {
        final long word = bitmap.word(w);
        long refused = PortBitmap.exclusiveBits(word) | unselectable(bitmap.selection(), w);
        final DestinationPorts h = hint;
        if (h != null) {
            refused |= h.marksOfWord(w);
        }
        return refused & 0xFFFF_FFFFL;
    }

    @Override
    public int completeSearch(IndexSource random) {
        return flows.search(destination, random);
    }

    @Override
    public long hash(long purpose) {
        long m0 = purpose | protocolWord | (long) destination.port() << 16;
        if (purpose == PURPOSE_TIMED) {
            m0 |= ((flows.clock().nanoTime() / TEN_SECONDS) & 0xFFFF_FFFFL) << 32;
        }
        return secret.get().hash40(m0, local0, local1, remote0, remote1);
    }
}
