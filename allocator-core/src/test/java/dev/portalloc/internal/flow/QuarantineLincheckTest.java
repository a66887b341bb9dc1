package dev.portalloc.internal.flow;

import dev.portalloc.Destination;
import dev.portalloc.PortSet;
import dev.portalloc.internal.bitmap.PortBitmap;
import dev.portalloc.internal.bitmap.Selection;
import dev.portalloc.internal.random.IndexSource;
import org.agrona.concurrent.NanoClock;
import org.jetbrains.kotlinx.lincheck.Actor;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.jetbrains.kotlinx.lincheck.paramgen.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.jetbrains.lincheck.datastructures.ManagedStrategyGuaranteeKt.forClasses;

/**
 * Lazy quarantine expiry under Lincheck's model checker: "a call that starts after an entry's expiry must see
 * it expired", even while another thread is in the middle of expiring it.
 *
 * <p>The clock advances by one tick on every read and the quarantine lasts one tick, so an entry is due from
 * the first clock read after its release: every operation that starts after the release has returned must
 * treat the port (or tuple) as released. The releases are therefore all in the scenarios' initial part, and
 * the parallel operations, which all start after them, are judged by {@link SuitablePortVerifier} as if the
 * releases had no quarantine. Operations mirror {@code PortAllocator}'s, including their retry after
 * {@code expireAllDue()}; {@code isHeld}/{@code isLive}, which do not expire anything, are not used.
 * Only hand-written scenarios run: each races an explicit or automatic acquisition of a due entry with an
 * unrelated operation whose lazy {@code expireSome()} is expiring that entry.
 */
@Param(name = "port", gen = IntGen.class, conf = "0:3")
@Param(name = "dest", gen = IntGen.class, conf = "0:1")
public class QuarantineLincheckTest {
    static final int[] PORTS = FlowTableLincheckTest.PORTS;
    static final int[] SELECTABLE = FlowTableLincheckTest.SELECTABLE;
    static final Destination[] DESTINATIONS = FlowTableLincheckTest.DESTINATIONS;
    private static final Selection SELECTION = new Selection(PortSet.of(SELECTABLE), PortSet.empty());
    private static final IndexSource LOWEST = bound -> 0;
    /** Interleavings explored per scenario; tune for the time budget. */
    static final int INVOCATIONS = 300;

    /** One tick per read. */
    static final class TickingClock implements NanoClock {
        private final AtomicLong now = new AtomicLong();

        @Override
        public long nanoTime() {
            return now.incrementAndGet();
        }
    }

    private final PortBitmap bitmap = new PortBitmap(SELECTION);
    private final FlowTable flows = new FlowTable(bitmap, 1, new TickingClock(), 0L, 3);

    /** Read by {@link SuitablePortVerifier}. */
    static SuitablePortVerifier.Config config() {
        return FlowTableLincheckTest.config();
    }

    /** {@code PortAllocator.tryAcquire()}. */
    @Operation
    public int acquire() {
        flows.expireSome();
        int port;
        for (;;) {
            final long mark = flows.expiryMark();
            port = bitmap.select(LOWEST);
            if (port != PortBitmap.NONE || !flows.expireAllDue(mark)) {
                return port;
            }
        }
    }

    /** {@code PortAllocator.tryAcquire(port)}. */
    @Operation
    public boolean claim(@Param(name = "port") int index) {
        final long mark = flows.expiryMark();
        boolean claimed = bitmap.tryClaim(PORTS[index]);
        if (!claimed && flows.expireAllDue(mark)) {
            claimed = bitmap.tryClaim(PORTS[index]);
        }
        return claimed;
    }

    /** {@code PortAllocator.release(port)}, reporting instead of throwing: into quarantine. */
    @Operation
    public boolean release(@Param(name = "port") int index) {
        return flows.releaseExclusive(PORTS[index]);
    }

    /** {@code PortAllocator.tryAcquire(d)} with the uniform algorithm. */
    @Operation
    public int acquireFor(@Param(name = "dest") int d) {
        return flows.search(DESTINATIONS[d], LOWEST);
    }

    /** {@code PortAllocator.tryAcquire(port, d)}. */
    @Operation
    public boolean join(@Param(name = "port") int index, @Param(name = "dest") int d) {
        flows.expireSome();
        final long mark = flows.expiryMark();
        boolean joined = flows.join(PORTS[index], DESTINATIONS[d]);
        if (!joined && flows.expireAllDue(mark)) {
            joined = flows.join(PORTS[index], DESTINATIONS[d]);
        }
        return joined;
    }

    /** {@code PortAllocator.release(port, d)}, reporting instead of throwing: into quarantine. */
    @Operation
    public boolean leave(@Param(name = "port") int index, @Param(name = "dest") int d) {
        return flows.release(PORTS[index], DESTINATIONS[d]);
    }

    /** Port 96 released from exclusive use; a join elsewhere expires it while 96 is claimed explicitly. */
    private static ExecutionScenario explicitClaimOfADuePort() throws NoSuchMethodException {
        return scenario(List.of(actor("claim", 2), actor("release", 2)),
            List.of(List.of(actor("join", 3, 0)), List.of(actor("claim", 2))));
    }

    /** The same with an automatic exclusive acquisition, 96 being the only selectable port not held. */
    private static ExecutionScenario automaticAcquisitionOfADuePort() throws NoSuchMethodException {
        return scenario(List.of(actor("claim", 0), actor("claim", 1), actor("claim", 2), actor("release", 2)),
            List.of(List.of(actor("join", 3, 0)), List.of(actor("acquire"))));
    }

    /** Tuple (96, d0) released; a join elsewhere expires it while it is joined explicitly again. */
    private static ExecutionScenario explicitJoinOfADueTuple() throws NoSuchMethodException {
        return scenario(List.of(actor("join", 2, 0), actor("leave", 2, 0)),
            List.of(List.of(actor("join", 3, 1)), List.of(actor("join", 2, 0))));
    }

    /** The same with an automatic acquisition for d0, 96 being the only port without a tuple to d0. */
    private static ExecutionScenario automaticJoinOfADueTuple() throws NoSuchMethodException {
        return scenario(List.of(actor("claim", 0), actor("claim", 1), actor("join", 2, 0), actor("leave", 2, 0)),
            List.of(List.of(actor("join", 3, 1)), List.of(actor("acquireFor", 0))));
    }

    /**
     * Tuple (96, d0) released; a join elsewhere expires it, leaving 96 (its last user: LEAVING, then FREE, then
     * the count stored back to 0) while 96 is claimed exclusively and released again into quarantine.
     */
    private static ExecutionScenario exclusiveReleaseWhileTheLastTupleLeaves() throws NoSuchMethodException {
        return scenario(List.of(actor("join", 2, 0), actor("leave", 2, 0)),
            List.of(List.of(actor("join", 3, 1)), List.of(actor("claim", 2), actor("release", 2))));
    }

    /**
     * A release into quarantine of the joining tuple, after a claim failed on its SHARED port (so the join has
     * linearized): it must find the tuple live, also when the join's commit lands between the release's failed
     * attempt (the tuple still PENDING) and its second look.
     */
    private static ExecutionScenario leaveBetweenJoinAndCommit() throws NoSuchMethodException {
        return scenario(List.of(),
            List.of(List.of(actor("join", 0, 0)), List.of(actor("claim", 0), actor("leave", 0, 0))));
    }

    private static ExecutionScenario scenario(List<Actor> init, List<List<Actor>> parallel) {
        return new ExecutionScenario(init, parallel, List.of(), null);
    }

    private static Actor actor(String name, Object... args) throws NoSuchMethodException {
        Class<?>[] types = new Class<?>[args.length];
        Arrays.fill(types, int.class);
        return new Actor(QuarantineLincheckTest.class.getMethod(name, types), List.of(args));
    }

    @Test
    void aCallAfterTheExpirySeesItExpired() throws NoSuchMethodException {
        new ModelCheckingOptions()
            .addGuarantee(forClasses("org.jctools.maps.NonBlockingHashMapLong", "org.jctools.maps.NonBlockingHashMap",
                "dev.portalloc.internal.flow.Ipv4TupleTable")
                .allMethods().treatAsAtomic())
            .addCustomScenario(explicitClaimOfADuePort())
            .addCustomScenario(automaticAcquisitionOfADuePort())
            .addCustomScenario(explicitJoinOfADueTuple())
            .addCustomScenario(automaticJoinOfADueTuple())
            .addCustomScenario(exclusiveReleaseWhileTheLastTupleLeaves())
            .addCustomScenario(leaveBetweenJoinAndCommit())
            .iterations(0)
            .invocationsPerIteration(INVOCATIONS)
            .verifier(SuitablePortVerifier.class)
            .check(getClass());
    }
}
