package dev.portalloc.internal.flow;

import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.jetbrains.kotlinx.lincheck.paramgen.IntGen;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

/**
 * Linearizability of the IPv4 tuple table's claim/scan/veto protocol under Lincheck. Three keys share one
 * chain (a table of 8 buckets; the keys are chosen to land in the same bucket, and six more keys fill the
 * bucket so that claims spill into an overflow bucket). {@code insert} retries while another insert of the
 * same key is in flight ({@link Ipv4TupleTable#BUSY}) and commits what it inserted, and {@code state} waits out
 * a pending key, which makes results deterministic.
 */
@Param(name = "key", gen = IntGen.class, conf = "0:2")
public class Ipv4TupleTableLincheckTest {
    private static final int BUCKET_BITS = 3;
    private static final long SALT = 5;
    static final long[] KEYS = sameBucketKeys(10);

    private final Ipv4TupleTable table = new Ipv4TupleTable(SALT, BUCKET_BITS);

    public Ipv4TupleTableLincheckTest() {
        // Fill six of the bucket's seven slots with other keys of the same bucket: the three test keys then
        // compete for one main slot and the overflow bucket.
        for (int i = 3; i < 9; i++) {
            table.commit(table.insert(KEYS[i]));
        }
    }

    /** Keys whose mixed value lands in bucket 0 of a 2^BUCKET_BITS table with salt SALT. */
    private static long[] sameBucketKeys(int count) {
        final Ipv4TupleTable probe = new Ipv4TupleTable(SALT, BUCKET_BITS);
        final long[] keys = new long[count];
        int found = 0;
        for (long k = 1; found < count; k++) {
            if (probe.bucketOf(k) == 0) {
                keys[found++] = k;
            }
        }
        return keys;
    }

    @Operation
    public boolean insert(@Param(name = "key") int k) {
        int r;
        while ((r = table.insert(KEYS[k])) == Ipv4TupleTable.BUSY) {
            Thread.onSpinWait();
        }
        if (r >= 0) {
            table.commit(r); // the pending phase is the flow layer's; here insert + commit is one operation
        }
        return r >= 0; // else PRESENT
    }

    @Operation
    public boolean remove(@Param(name = "key") int k) {
        return table.transition(KEYS[k], Ipv4TupleTable.LIVE, 0);
    }

    @Operation
    public boolean quarantine(@Param(name = "key") int k) {
        return table.transition(KEYS[k], Ipv4TupleTable.LIVE, Ipv4TupleTable.QUARANTINED);
    }

    @Operation
    public long state(@Param(name = "key") int k) {
        long s;
        while ((s = table.state(KEYS[k])) == Ipv4TupleTable.PENDING) {
            Thread.onSpinWait(); // a reader that needs a definite answer waits out the pending phase
        }
        return s;
    }

    /** The sequential specification: a map from key to state. */
    public static class Spec {
        private final Map<Integer, Long> states = new HashMap<>();

        public boolean insert(int k) {
            return states.putIfAbsent(k, Ipv4TupleTable.LIVE) == null;
        }

        public boolean remove(int k) {
            return states.remove(k, Ipv4TupleTable.LIVE);
        }

        public boolean quarantine(int k) {
            return states.replace(k, Ipv4TupleTable.LIVE, Ipv4TupleTable.QUARANTINED);
        }

        public long state(int k) {
            return states.getOrDefault(k, 0L);
        }
    }

    @Test
    void modelChecking() {
        new ModelCheckingOptions().sequentialSpecification(Spec.class).iterations(20).invocationsPerIteration(300)
            .threads(3).actorsPerThread(3).check(getClass());
    }

    @Test
    void stress() {
        new StressOptions().sequentialSpecification(Spec.class).iterations(8).invocationsPerIteration(1_000)
            .threads(3).actorsPerThread(3).check(getClass());
    }
}
