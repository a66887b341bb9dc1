package dev.portalloc.internal.select;

import dev.portalloc.internal.bitmap.PortBitmap;
import dev.portalloc.internal.random.IndexSource;

import java.util.function.Supplier;

/**
 * The {@link SelectionContext} of exclusive ({@code bind(0)}-style) selection: one per allocator, shared by
 * all threads (thread-safe: it holds no per-call state).
 *
 * <ul>
 * <li>Index space: the automatic set in ascending order (RFC 6056's {@code min_ephemeral..max_ephemeral} for
 *     a single range). Reserved ports stay in the index space and fail {@code check_suitable_port}, as the
 *     RFC (and Linux's {@code ip_local_reserved_ports}) treat them, so they still consume counter steps.</li>
 * <li>{@code check_suitable_port}: the port is selectable in the current selection (not reserved) and the
 *     bitmap's exclusive claim succeeds.</li>
 * <li>Complete search: the bitmap's uniform selection, with its linearizable exhaustion verdict.</li>
 * <li>Hash input (RFC 6056 §3.5, local part only: there is no destination): three little-endian 64-bit
 *     words, {@code m0 = purpose | protocol << 8 | 16 << 16} (16 = address length in bytes),
 *     {@code m1, m2} = the 16 bytes of the local address as an IPv6 address (IPv4 as {@code ::ffff:a.b.c.d})
 *     read little-endian. The connect-style context will hash a longer input that adds the remote address
 *     and port.</li>
 * </ul>
 */
public final class ExclusiveContext extends IndexSpace {
    private final PortBitmap bitmap;
    private final Supplier<Secret> secret;
    private final long hashWord0;
    private final long address0;
    private final long address1;

    /**
     * @param bitmap the allocator's bitmap
     * @param secret the allocator's current secret (read once per hash, so a rekey applies to later hashes)
     * @param protocol the IP protocol number, 0..255
     * @param localAddress the local address as 16 bytes (IPv6, or IPv4-mapped)
     */
    public ExclusiveContext(PortBitmap bitmap, Supplier<Secret> secret, int protocol, byte[] localAddress) {
        super(bitmap.selection().automatic());
        if (localAddress.length != 16) {
            throw new IllegalArgumentException("local address must be 16 bytes, but its length is " + localAddress.length);
        }
        this.bitmap = bitmap;
        this.secret = secret;
        this.hashWord0 = ((long) (protocol & 0xff) << 8) | (16L << 16);
        this.address0 = littleEndian(localAddress, 0);
        this.address1 = littleEndian(localAddress, 8);
    }

    @Override
    public boolean tryClaim(int port) {
        return bitmap.selection().isSelectable(port) && bitmap.tryClaim(port);
    }

    /**
     * {@inheritDoc}
     *
     * <p>The common case takes one read of the candidate's word: when that read already shows an open candidate
     * within the limit, the claim's CAS starts from the same value, with no second read of the word or the
     * selection (work before a CAS delays it). Every other case is the two calls.
     */
    @Override
    public int claimAfterRun(int index, int step, int limit, IndexSource tally) {
        if (contiguous) {
            final int port = first + index;
            final int w = port >>> 5;
            final long word = bitmap.word(w); // acquire, as tryClaim's own read
            final long open = openFrom(refusedBits(w, word), port, step);
            final int k = Long.numberOfTrailingZeros(open) / step;
            if (open != 0 && k < limit) {
                tally.countProbes(2); // the word read, and the candidate tried: as refusedRun and the selector
                return k << 1 | (bitmap.tryClaim(port + k * step, word) ? CLAIMED : 0);
            }
        }
        return super.claimAfterRun(index, step, limit, tally);
    }

    @Override
    long refusedBits(int w) {
        return refusedBits(w, bitmap.word(w));
    }

    /** {@link #refusedBits(int)} from {@code word}, a value of word {@code w}. */
    private long refusedBits(int w, long word) {
        // Held in any way (exclusively or SHARED), or not selectable.
        return (word | unselectable(bitmap.selection(), w)) & 0xFFFF_FFFFL;
    }

    @Override
    public int completeSearch(IndexSource random) {
        return bitmap.select(random);
    }

    @Override
    public long hash(long purpose) {
        return secret.get().hash24(hashWord0 | purpose, address0, address1);
    }
}
