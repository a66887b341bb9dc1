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
 * {@link SelectionContext#completeSearch} instead of an error. Shared counters are 64-bit atomics, each
 * counter value claimed by exactly one caller (by CAS, below), so concurrent callers never probe the same
 * counter value; they are read modulo {@code num_ephemeral}: 64 bits never wrap in practice, so the sequence never
 * jumps as a 16-bit counter would when 2^16 is not a multiple of {@code num_ephemeral}. Algorithm 4's table
 * holds 32-bit unsigned entries, as Linux's does, for the same reason.
 *
 * <p>Word-level scans ({@link SelectionContext#refusedRun}): the sequential walks skip candidates the bitmap
 * words already refuse (held, reserved, or carrying a tuple to a hot destination) in one step and advance their
 * counters by the number skipped, so a destination or range that is 99 % full costs a few word reads instead of
 * a hundred probes, with the same resulting port and counter values. A shared counter is then advanced by one
 * CAS per stretch (skipped candidates plus the one tried) instead of one {@code getAndIncrement} per candidate:
 * the values are still claimed by exactly one caller each, as if that caller had incremented them in a row.
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
            while (count > 0) {
                final int stretch = Math.min(count, n - next); // up to the wrap
                final int run = ctx.claimAfterRun(next, 1, stretch, random);
                final int k = run >>> 1;
                count -= k;
                next += k;
                if (k < stretch) {
                    // The RFC-era listing tests check_suitable_port(port) but returns next_ephemeral (an evident
                    // typo, research doc §1.0); we test and return the same candidate.
                    if ((run & SelectionContext.CLAIMED) != 0) {
                        return ctx.port(next);
                    }
                    next++;
                    count--;
                }
                if (next == n) {
                    next = 0;
                }
            }
            return ctx.completeSearch(random);
        };
    }

    /**
     * RFC 6056 §3.3.2, Algorithm 2: a fresh random candidate each time. The first {@value #RANDOM_PROBES} candidates
     * are probed as the RFC does (none when the context is {@linkplain SelectionContext#dense dense}); after that
     * the complete search continues. Both pick each suitable port with equal probability: the first suitable port
     * among independent uniform candidates is uniform over the suitable ports, and so is the complete search, so
     * the handover changes no probability, only the cost (at 99 % occupancy the RFC's loop needs 100 candidates
     * on average) and the false exhaustion after {@code num_ephemeral} misses. The algorithm has no counter
     * state to preserve.
     */
    public static PortSelector randomProbe() {
        return (ctx, random) -> {
            final int n = ctx.size();
            final int probes = ctx.dense() ? 0 : Math.min(n, RANDOM_PROBES);
            for (int probe = 0; probe < probes; probe++) {
                final int port = ctx.port(random.nextIndex(n));
                random.countProbes(1);
                if (ctx.tryClaim(port)) {
                    return port;
                }
            }
            return ctx.completeSearch(random);
        };
    }

    /** Algorithm 2's candidates before the complete search takes over (as many as uniform selection probes). */
    static final int RANDOM_PROBES = 16;

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
                final long claimed = parityPass(ctx, random, offset, remaining);
                if (claimed >= 0) {
                    return (int) claimed;
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

    /**
     * One pass of Linux's scans: candidates {@code offset, offset + 2, ...}, wrapping at {@code remaining}, while
     * the distance walked {@code i} stays below {@code remaining}.
     *
     * @return {@code -1} if no candidate was claimed, else {@code i << 32 | port} for the claimed one
     */
    private static long parityPass(SelectionContext ctx, IndexSource random, int offset, int remaining) {
        int at = offset;
        for (int i = 0; i < remaining; ) {
            if (at >= remaining) {
                at -= remaining;
            }
            final int stretch = Math.min((remaining - i + 1) >>> 1, (remaining - at + 1) >>> 1);
            final int run = ctx.claimAfterRun(at, 2, stretch, random);
            final int k = run >>> 1;
            i += 2 * k;
            at += 2 * k;
            if (k < stretch) {
                if ((run & SelectionContext.CLAIMED) != 0) {
                    return (long) i << 32 | ctx.port(at);
                }
                i += 2;
                at += 2;
            }
        }
        return -1;
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
                final long claimed = parityPass(ctx, random, offset, remaining);
                if (claimed >= 0) {
                    final int i = (int) (claimed >>> 32);
                    table.getAndAdd(index, Math.max(i, random.nextIndex(8) * 2) + 2);
                    return (int) claimed;
                }
                offset++;
                if ((offset & 1) == 0 || remaining <= 1) {
                    break;
                }
            }
            return ctx.completeSearch(random);
        }
    }

    /**
     * RFC 6056's sequential walks over a shared counter: candidate {@code (offset + value) mod num_ephemeral} for
     * each counter value, one value per candidate. Subclasses say where the counter lives and when its values
     * stop mapping to consecutive indices.
     */
    private abstract static class CounterWalk implements PortSelector {
        /** @return the counter for {@code slot} (volatile read), as a non-negative value */
        abstract long read(int slot);

        /** A volatile CAS of the counter. @return the witness value, read as {@link #read} reads it */
        abstract long compareAndExchange(int slot, long expected, long value);

        /** @return counter steps from {@code value} before the indices stop being consecutive (a 32-bit wrap) */
        long consecutive(long value) {
            return Long.MAX_VALUE;
        }

        /** @return {@code value} as {@link #read} would return it once stored (a 32-bit counter wraps) */
        long stored(long value) {
            return value;
        }

        /**
         * Walks from the counter's value: skips the refused stretch ahead at once, then claims the counter
         * values of the skipped candidates and the next one by one CAS (retrying from the witness if another
         * thread moved the counter meanwhile) and tries that candidate.
         */
        final int walk(SelectionContext ctx, IndexSource random, long offset, int slot) {
            final int n = ctx.size();
            int count = n;
            long value = read(slot);
            while (count > 0) {
                final int index = (int) ((offset + Long.remainderUnsigned(value, n)) % n);
                final int stretch = (int) Math.min(Math.min(count, n - index), consecutive(value));
                final int k = ctx.refusedRun(index, 1, stretch, random);
                final long to = value + k + (k < stretch ? 1 : 0);
                final long witness = compareAndExchange(slot, value, to);
                if (witness != value) {
                    value = witness;
                    continue;
                }
                if (k < stretch) {
                    final int port = ctx.port((int) ((offset + Long.remainderUnsigned(value + k, n)) % n));
                    random.countProbes(1);
                    if (ctx.tryClaim(port)) {
                        return port;
                    }
                    count--;
                }
                count -= k;
                value = stored(to);
            }
            return ctx.completeSearch(random);
        }
    }

    /** A walk over one 64-bit counter, initially 0. */
    private abstract static class GlobalCounterWalk extends CounterWalk {
        private final AtomicLong next = new AtomicLong();

        @Override
        final long read(int slot) {
            return next.get();
        }

        @Override
        final long compareAndExchange(int slot, long expected, long value) {
            return next.compareAndExchange(expected, value);
        }
    }

    private static final class BsdSequential extends GlobalCounterWalk {
        @Override
        public int select(SelectionContext ctx, IndexSource random) {
            return walk(ctx, random, 0, 0);
        }
    }

    private static final class Hash extends GlobalCounterWalk {
        @Override
        public int select(SelectionContext ctx, IndexSource random) {
            final long offset = Long.remainderUnsigned(ctx.hash(SelectionContext.PURPOSE_OFFSET), ctx.size());
            return walk(ctx, random, offset, 0);
        }
    }

    /** Algorithm 4: the counter is {@code table[G(...)]}, 32 bits unsigned, so its indices jump where it wraps. */
    private static final class DoubleHash extends CounterWalk {
        private final AtomicIntegerArray table;

        DoubleHash(int tableLength, IndexSource init) {
            table = new AtomicIntegerArray(tableLength);
            for (int i = 0; i < tableLength; i++) {
                table.set(i, init.nextIndex(1 << 16));
            }
        }

        @Override
        long read(int slot) {
            return Integer.toUnsignedLong(table.get(slot));
        }

        @Override
        long compareAndExchange(int slot, long expected, long value) {
            return Integer.toUnsignedLong(table.compareAndExchange(slot, (int) expected, (int) value));
        }

        @Override
        long consecutive(long value) {
            return (1L << 32) - value;
        }

        @Override
        long stored(long value) {
            return value & 0xFFFF_FFFFL;
        }

        @Override
        public int select(SelectionContext ctx, IndexSource random) {
            final int n = ctx.size();
            final long offset = Long.remainderUnsigned(ctx.hash(SelectionContext.PURPOSE_OFFSET), n);
            final int index = (int) Long.remainderUnsigned(ctx.hash(SelectionContext.PURPOSE_INDEX), table.length());
            return walk(ctx, random, offset, index);
        }
    }

    /**
     * Algorithm 5. The walk runs on local copies of the counter and its index (no division per candidate) and
     * publishes the counter by one CAS when it reaches a candidate the words do not refuse (or gives up); if
     * another thread moved the counter meanwhile, it walks again from the new value with fresh increments.
     */
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
            long value = next.get();
            while (count > 0) {
                long at = value;
                int index = (int) Long.remainderUnsigned(at, n);
                int walked = 0;
                boolean open = false;
                while (walked < count) {
                    final int step = random.nextIndex(increments) + 1;
                    at += step;
                    index += step < n ? step : step % n;
                    if (index >= n) {
                        index -= n;
                    }
                    walked++;
                    if (ctx.refusedRun(index, 1, 1, random) == 0) {
                        open = true;
                        break;
                    }
                }
                final long witness = next.compareAndExchange(value, at);
                if (witness != value) {
                    value = witness;
                    continue;
                }
                count -= walked;
                value = at;
                if (open) {
                    final int port = ctx.port(index);
                    random.countProbes(1);
                    if (ctx.tryClaim(port)) {
                        return port;
                    }
                }
            }
            return ctx.completeSearch(random);
        }
    }
}
