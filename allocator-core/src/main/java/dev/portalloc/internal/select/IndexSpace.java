package dev.portalloc.internal.select;

import dev.portalloc.PortSet;

/**
 * The RFC 6056 index space shared by the selection contexts: the allocator's automatic set in ascending
 * order ({@code min_ephemeral + index} for a single range). Reserved ports stay in the index space and fail
 * {@code check_suitable_port}, as the RFC (and Linux's {@code ip_local_reserved_ports}) treat them.
 *
 * <p>Thread-safety: immutable.
 */
abstract class IndexSpace implements SelectionContext {
    private final PortSet space;
    private final int size;
    private final int first;
    private final boolean contiguous;

    IndexSpace(PortSet space) {
        this.space = space;
        this.size = space.size();
        this.first = space.first();
        this.contiguous = space.rangeCount() == 1;
    }

    @Override
    public final int size() {
        return size;
    }

    @Override
    public final int port(int index) {
        return contiguous ? first + index : space.nth(index);
    }

    /** @return bytes {@code at..at+7} of {@code b} read as a little-endian long (hash input words) */
    static long littleEndian(byte[] b, int at) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[at + i] & 0xff);
        }
        return v;
    }
}
