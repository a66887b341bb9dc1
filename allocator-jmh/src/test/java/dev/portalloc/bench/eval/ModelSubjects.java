package dev.portalloc.bench.eval;

import dev.portalloc.Destination;
import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;

import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Reference models used as known-answer subjects in the harness's tests: an RFC 6056 Algorithm 4 whose bucket of
 * each destination the test can read (ground truth for the fingerprint attack), a sequential allocator whose
 * rekey jumps back to the first port, and a faulty allocator that gives up early.
 *
 * <p>Thread-safety: not thread-safe (test use from one thread).
 */
final class ModelSubjects {
    private ModelSubjects() {
    }

    /** Connect-mode model of RFC 6056 Algorithm 4: port = first + (F(d) + table[G(d)]) mod n, table advanced per candidate. */
    static final class Algorithm4 implements Subject {
        private final PortSet ports;
        private final int[] table;
        private final long key;
        private final Map<Destination, BitSet> live = new HashMap<>();

        Algorithm4(PortSet ports, int tableLength, long seed) {
            this.ports = ports;
            this.table = new int[tableLength];
            final SplittableRandom r = new SplittableRandom(seed);
            for (int i = 0; i < tableLength; i++) {
                table[i] = r.nextInt();
            }
            this.key = r.nextLong();
        }

        private long mix(Destination d, long salt) {
            long z = d.hashCode() * 0x9E3779B97F4A7C15L + key + salt;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }

        /** @return the bucket G(d): ground truth for the attack test */
        int bucket(Destination d) {
            return (int) Math.floorMod(mix(d, 1), (long) table.length);
        }

        @Override
        public int allocate(Destination d) {
            final int n = ports.size();
            final int g = bucket(d);
            final long offset = mix(d, 2);
            final BitSet held = live.computeIfAbsent(d, x -> new BitSet());
            for (int i = 0; i < n; i++) {
                final int port = ports.nth((int) Math.floorMod(offset + table[g], (long) n));
                table[g]++;
                if (!held.get(port)) {
                    held.set(port);
                    return port;
                }
            }
            return PortAllocator.NONE;
        }

        @Override
        public boolean claim(int port, Destination d) {
            final BitSet held = live.computeIfAbsent(d, x -> new BitSet());
            if (held.get(port)) {
                return false;
            }
            held.set(port);
            return true;
        }

        @Override
        public void free(int port, Destination d) {
            live.get(d).clear(port);
        }

        @Override
        public void rekey() {
            throw new UnsupportedOperationException("not needed by the tests");
        }

        @Override
        public boolean perDestination() {
            return true;
        }
    }

    /** Exclusive-mode models: one set of held ports, whatever the destination. */
    abstract static class ExclusiveModel implements Subject {
        final PortSet ports;
        final BitSet held = new BitSet();

        ExclusiveModel(PortSet ports) {
            this.ports = ports;
        }

        @Override
        public boolean claim(int port, Destination d) {
            if (held.get(port)) {
                return false;
            }
            held.set(port);
            return true;
        }

        @Override
        public void free(int port, Destination d) {
            held.clear(port);
        }

        @Override
        public void rekey() {
        }

        @Override
        public boolean perDestination() {
            return false;
        }
    }

    /** Exclusive sequential allocator (BSD-like); its rekey jumps back to the first port, reusing recent ports. */
    static final class RewindingSequential extends ExclusiveModel {
        private int next;

        RewindingSequential(PortSet ports) {
            super(ports);
        }

        @Override
        public int allocate(Destination d) {
            for (int i = 0; i < ports.size(); i++) {
                final int port = ports.nth(next);
                next = (next + 1) % ports.size();
                if (!held.get(port)) {
                    held.set(port);
                    return port;
                }
            }
            return PortAllocator.NONE;
        }

        @Override
        public void rekey() {
            next = 0;
        }
    }

    /** Exclusive allocator that, like a capped random search, reports exhaustion after a few random probes. */
    static final class GivesUpEarly extends ExclusiveModel {
        private final SplittableRandom random = new SplittableRandom(1);
        private final int probes;

        GivesUpEarly(PortSet ports, int probes) {
            super(ports);
            this.probes = probes;
        }

        @Override
        public int allocate(Destination d) {
            for (int i = 0; i < probes; i++) {
                final int port = ports.nth(random.nextInt(ports.size()));
                if (!held.get(port)) {
                    held.set(port);
                    return port;
                }
            }
            return PortAllocator.NONE;
        }
    }
}
