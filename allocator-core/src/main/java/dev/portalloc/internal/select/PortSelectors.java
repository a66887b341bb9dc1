package dev.portalloc.internal.select;

import dev.portalloc.internal.random.IndexSource;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The selectors: RFC 6056 §2.2 and §3.3.1 to §3.3.5, Linux's {@code bind(0)} scan, and uniform selection.
 * Pseudo-code and counter semantics: docs/research/port-selection-algorithms.md §1 and §2.4.
 *
 * <p>Common rules (see {@link PortSelector}): {@code index} is a position in the context's index space,
 * {@code port = ctx.port(index)} plays {@code min_ephemeral + index}; {@code check_suitable_port} is
 * {@link SelectionContext#tryClaim}; when the published sequence gives up, the selector returns
 * {@link SelectionContext#completeSearch} instead of an error. Shared counters are 64-bit atomics (one
 * {@code getAndIncrement}/{@code addAndGet} per candidate, so concurrent callers never probe the same
 * counter value), read modulo {@code num_ephemeral}: 64 bits never wrap in practice, so the sequence never
 * jumps as a 16-bit counter would when 2^16 is not a multiple of {@code num_ephemeral}. Algorithm 4's table
 * holds 32-bit unsigned entries, as Linux's does, for the same reason.
 */
public final class PortSelectors {
    private PortSelectors() {
    }

    /** Uniform selection among the suitable ports: the complete search alone. */
    public static PortSelector uniform() {
        return (ctx, random) -> ctx.completeSearch(random);
    }

    /**
     * RFC 6056 §2.2, traditional BSD: a global {@code next_ephemeral}, initialised to {@code min_ephemeral}
     * (index 0), advanced by one per candidate before the check.
     */
    public static PortSelector bsdSequential() {
        return new BsdSequential();
    }

    /** RFC 6056 §3.3.1, Algorithm 1: a random start each call, then +1 per unsuitable candidate. */
    public static PortSelector randomStart() {
        return (ctx, random) -> {
            final int n = ctx.size();
            int next = random.nextIndex(n);
            int count = n;
            do {
                // The RFC-era listing tests check_suitable_port(port) but returns next_ephemeral (an evident
                // typo, research doc §1.0); we test and return the same candidate.
                final int port = ctx.port(next);
                if (ctx.tryClaim(port)) {
                    return port;
                }
                next = next == n - 1 ? 0 : next + 1;
                count--;
            } while (count > 0);
            return ctx.completeSearch(random);
        };
    }

    /** RFC 6056 §3.3.2, Algorithm 2: a fresh random candidate each time, {@code num_ephemeral} of them. */
    public static PortSelector randomProbe() {
        return (ctx, random) -> {
            final int n = ctx.size();
            int next = random.nextIndex(n);
            int count = n;
            do {
                final int port = ctx.port(next);
                if (ctx.tryClaim(port)) {
                    return port;
                }
                next = random.nextIndex(n);
                count--;
            } while (count > 0);
            return ctx.completeSearch(random);
        };
    }

    /**
     * RFC 6056 §3.3.3, Algorithm 3: {@code offset = F(...)}, a global {@code next_ephemeral} (initially 0)
     * advanced by one per candidate.
     */
    public static PortSelector hash() {
        return new Hash();
    }

    /**
     * RFC 6056 §3.3.4, Algorithm 4: {@code offset = F(...)}, {@code index = G(...) mod tableLength}, and
     * {@code table[index]} advanced by one per candidate.
     *
     * @param tableLength positive
     * @param init the generator that fills the table ({@code random() % 65536} per entry, as the RFC does)
     */
    public static PortSelector doubleHash(int tableLength, IndexSource init) {
        return new DoubleHash(tableLength, init);
    }

    /**
     * RFC 6056 §3.3.5, Algorithm 5: {@code next_ephemeral} (initially {@code random() % 65536}) advanced by
     * {@code random() % N + 1} per candidate.
     *
     * @param n the RFC's {@code N}, positive
     * @param init the generator for the initial value
     */
    public static PortSelector randomIncrements(int n, IndexSource init) {
        return new RandomIncrements(n, init.nextIndex(1 << 16));
    }

    /**
     * Linux's {@code bind(0)} scan, {@code inet_csk_find_open_port()} (research doc §2.4), without
     * {@code SO_REUSEADDR}'s half-range pass: {@code remaining = num_ephemeral} rounded down to even (when
     * above 1), a random {@code offset} below it forced odd, a pass in steps of 2 over {@code remaining}
     * candidates from there (wrapping), then {@code offset - 1} and a pass over the other parity.
     */
    public static PortSelector linuxBind() {
        return (ctx, random) -> {
            final int n = ctx.size();
            int remaining = n;
            if (remaining > 1) {
                remaining &= ~1;
            }
            int offset = random.nextIndex(remaining) | 1;
            for (;;) {
                int index = offset;
                for (int i = 0; i < remaining; i += 2, index += 2) {
                    if (index >= remaining) {
                        index -= remaining;
                    }
                    final int port = ctx.port(index);
                    if (ctx.tryClaim(port)) {
                        return port;
                    }
                }
                offset--;
                if ((offset & 1) != 0) {
                    break;
                }
            }
            return ctx.completeSearch(random);
        };
    }

    /**
     * Linux's {@code connect()} scan, {@code __inet_hash_connect()} as of the kernel tree read for research doc
     * §2.3 (between v6.8 and v6.14, with the 2022 CVE-2022-32296 changes: 2^16-entry table, 64-bit SipHash
     * offset, 10-second re-salting): {@code port_offset = SipHash(local, remote, remote port, time bucket)};
     * {@code index} = its low bits modulo the table length; {@code offset = (table[index] + (u32)(port_offset
     * >> 32)) % remaining}, forced even (the parity of the first port, {@code low}); a pass in steps of 2, then
     * {@code offset + 1} and a pass over the other parity; after a success {@code table[index] += max(i,
     * random(0..7) * 2) + 2}, where {@code i} is the distance walked in the successful pass. A failure leaves
     * the table unchanged. {@code remaining} is the index space rounded down to even, as for bind(0).
     *
     * @param tableLength a power of two ({@code 1 << CONFIG_INET_TABLE_PERTURB_ORDER}, 2^16 by default)
     * @param init the generator that fills the table with random 32-bit values
     */
    public static PortSelector linuxConnect(int tableLength, IndexSource init) {
        return new LinuxConnect(tableLength, init);
    }

    private static final class LinuxConnect implements PortSelector {
        private final AtomicIntegerArray table;

        LinuxConnect(int tableLength, IndexSource init) {
            if (Integer.bitCount(tableLength) != 1) {
                throw new IllegalArgumentException("table length " + tableLength + " is not a power of two");
            }
            table = new AtomicIntegerArray(tableLength);
            for (int i = 0; i < tableLength; i++) {
                table.set(i, init.nextIndex(1 << 16) << 16 | init.nextIndex(1 << 16));
            }
        }

        @Override
        public int select(SelectionContext ctx, IndexSource random) {
            final int n = ctx.size();
            int remaining = n;
            if (remaining > 1) {
                remaining &= ~1;
            }
            final long portOffset = ctx.hash(ConnectContext.PURPOSE_TIMED);
            final int index = (int) (portOffset & (table.length() - 1));
            int offset = (int) (Integer.toUnsignedLong(table.get(index) + (int) (portOffset >>> 32)) % remaining);
            offset &= ~1;
            for (;;) {
                int at = offset;
                for (int i = 0; i < remaining; i += 2, at += 2) {
                    if (at >= remaining) {
                        at -= remaining;
                    }
                    final int port = ctx.port(at);
                    if (ctx.tryClaim(port)) {
                        table.getAndAdd(index, Math.max(i, random.nextIndex(8) * 2) + 2);
                        return port;
                    }
                }
                offset++;
                if ((offset & 1) == 0 || remaining <= 1) {
                    break;
                }
            }
            return ctx.completeSearch(random);
        }
    }

    private static final class BsdSequential implements PortSelector {
        private final AtomicLong next = new AtomicLong();

        @Override
        public int select(SelectionContext ctx, IndexSource random) {
            final int n = ctx.size();
            int count = n;
            do {
                final int port = ctx.port((int) Long.remainderUnsigned(next.getAndIncrement(), n));
                if (ctx.tryClaim(port)) {
                    return port;
                }
                count--;
            } while (count > 0);
            return ctx.completeSearch(random);
        }
    }

    private static final class Hash implements PortSelector {
        private final AtomicLong next = new AtomicLong();

        @Override
        public int select(SelectionContext ctx, IndexSource random) {
            final int n = ctx.size();
            final long offset = Long.remainderUnsigned(ctx.hash(SelectionContext.PURPOSE_OFFSET), n);
            int count = n;
            do {
                final long index = (offset + Long.remainderUnsigned(next.getAndIncrement(), n)) % n;
                final int port = ctx.port((int) index);
                if (ctx.tryClaim(port)) {
                    return port;
                }
                count--;
            } while (count > 0);
            return ctx.completeSearch(random);
        }
    }

    private static final class DoubleHash implements PortSelector {
        private final AtomicIntegerArray table;

        DoubleHash(int tableLength, IndexSource init) {
            table = new AtomicIntegerArray(tableLength);
            for (int i = 0; i < tableLength; i++) {
                table.set(i, init.nextIndex(1 << 16));
            }
        }

        @Override
        public int select(SelectionContext ctx, IndexSource random) {
            final int n = ctx.size();
            final long offset = Long.remainderUnsigned(ctx.hash(SelectionContext.PURPOSE_OFFSET), n);
            final int index = (int) Long.remainderUnsigned(ctx.hash(SelectionContext.PURPOSE_INDEX), table.length());
            int count = n;
            do {
                final long perturb = Integer.toUnsignedLong(table.getAndIncrement(index)) % n;
                final int port = ctx.port((int) ((offset + perturb) % n));
                if (ctx.tryClaim(port)) {
                    return port;
                }
                count--;
            } while (count > 0);
            return ctx.completeSearch(random);
        }
    }

    private static final class RandomIncrements implements PortSelector {
        private final int increments;
        private final AtomicLong next;

        RandomIncrements(int n, long initial) {
            this.increments = n;
            this.next = new AtomicLong(initial);
        }

        @Override
        public int select(SelectionContext ctx, IndexSource random) {
            final int n = ctx.size();
            int count = n;
            do {
                final long value = next.addAndGet(random.nextIndex(increments) + 1L);
                final int port = ctx.port((int) Long.remainderUnsigned(value, n));
                if (ctx.tryClaim(port)) {
                    return port;
                }
                count--;
            } while (count > 0);
            return ctx.completeSearch(random);
        }
    }
}
