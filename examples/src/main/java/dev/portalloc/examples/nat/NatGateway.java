package dev.portalloc.examples.nat;

import dev.portalloc.nat.AddressPool;
import dev.portalloc.nat.PortBlockAllocator;

import org.agrona.DeadlineTimerWheel;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.Long2ObjectHashMap;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The translation table of a user-space UDP NAT44 gateway (a CGN in miniature): it maps internal
 * (address, port) endpoints to external (address, port) endpoints, takes the external ports from a
 * {@link PortBlockAllocator}, expires idle mappings and quarantines the freed external ports, all driven by
 * one Agrona {@link DeadlineTimerWheel} in virtual time.
 *
 * <h2>Behaviour (RFC 4787 and RFC 6888)</h2>
 * <ul>
 * <li><b>Endpoint-independent mapping</b> (RFC 4787 REQ-1): the mapping key is the internal endpoint only,
 *     so every packet from {@code 10.0.0.7:40000} leaves from the same external endpoint, whatever its
 *     destination. This is what lets peer-to-peer applications (and STUN) work through the NAT.</li>
 * <li><b>Endpoint-independent filtering</b> (RFC 4787 REQ-8, the "application transparency" choice): an
 *     inbound packet to a live external endpoint is delivered to its internal endpoint, whoever sent it.
 *     A stricter gateway would also remember the destinations of each mapping (address-dependent
 *     filtering).</li>
 * <li><b>Mapping timeout, refreshed by outbound traffic only</b> (RFC 4787 REQ-5, REQ-6): a mapping
 *     expires after {@code mappingTimeout} without an outbound packet; REQ-5 forbids less than two
 *     minutes.</li>
 * <li><b>Port blocks and quotas</b> (RFC 6888 REQ-4, REQ-13, REQ-14): the {@link PortBlockAllocator} gives
 *     every subscriber whole blocks of ports from its paired external address and enforces the per-subscriber
 *     quota. When it says no, the packet is dropped: the gateway fails closed and never steals another
 *     subscriber's mapping (REQ-11).</li>
 * <li><b>Quarantine</b> (RFC 6888 REQ-8): an expired mapping's external port is not handed out again for
 *     {@code quarantine} (120 s in the RFC), so that late packets for the old flow never reach a new one.
 *     The gateway keeps holding the port during that time and releases it to the block allocator only when
 *     the quarantine timer fires. (Holding the port also keeps its block with the subscriber meanwhile,
 *     which is what the block log should say: the subscriber's traffic may still arrive on it.)</li>
 * </ul>
 *
 * <h2>Data structures</h2>
 * Everything is keyed by a {@code long}, so Agrona's open-addressing primitive maps hold the table without
 * boxing keys:
 * <ul>
 * <li>{@code byInternal}: internal endpoint ({@code address << 16 | port}) → {@link Mapping} (outbound
 *     path);</li>
 * <li>{@code byExternal}: external endpoint (the block allocator's mapping value, also
 *     {@code address << 16 | port}) → internal endpoint (inbound path);</li>
 * <li>{@code byTimer}: timer id of the wheel → {@link Mapping}, for the two timers of a mapping's life
 *     (idle expiry, then quarantine end).</li>
 * </ul>
 * A production gateway would also pool the {@code Mapping} objects (or lay them out in an off-heap buffer
 * with flyweights); here one small object per mapping keeps the code readable.
 *
 * <h2>Time</h2>
 * The gateway has no clock of its own: the caller says what time it is with {@link #advanceTo(long)}
 * before each packet (milliseconds of virtual or real time). A real gateway passes its poll loop's clock;
 * the example passes the synthetic traffic's timestamps, which makes every run reproducible.
 *
 * <h2>Thread-safety</h2>
 * Not thread-safe: one instance belongs to one packet-processing thread, as a DPDK or VPP worker owns its
 * flows (the Agrona maps and timer wheel are single-threaded too). Several workers may share one
 * {@link PortBlockAllocator}, which is lock-free; they must then split the subscribers between them (for
 * example by a hash of the internal address, as receive-side scaling does), since a subscriber's mappings
 * live in one table.
 */
public final class NatGateway {

    /** {@link #outbound} result: the allocator has no free block for the subscriber's external address. */
    public static final long DROPPED_EXHAUSTED = PortBlockAllocator.EXHAUSTED;
    /** {@link #outbound} result: the subscriber is at its port or block quota. */
    public static final long DROPPED_QUOTA = PortBlockAllocator.QUOTA_EXCEEDED;
    /** {@link #inbound} result: no live mapping for that external endpoint. */
    public static final long NO_MAPPING = -1L;

    /**
     * Tick of the timer wheel, in milliseconds (a power of two, as Agrona requires). Expiry happens at the
     * first {@link #advanceTo} at or after the deadline; the tick only sets how timers are bucketed.
     */
    private static final long TICK_MILLIS = 256;
    /** Spokes of the wheel: 1,024 ticks of 256 ms cover 262 s, one revolution for the default timeouts. */
    private static final int TICKS_PER_WHEEL = 1024;

    private final PortBlockAllocator blocks;
    private final long mappingTimeoutMillis;
    private final long quarantineMillis;

    private final DeadlineTimerWheel wheel =
        new DeadlineTimerWheel(TimeUnit.MILLISECONDS, 0, TICK_MILLIS, TICKS_PER_WHEEL);
    private final DeadlineTimerWheel.TimerHandler onTimer = this::onTimerExpiry;
    private final Long2ObjectHashMap<Mapping> byInternal = new Long2ObjectHashMap<>();
    private final Long2LongHashMap byExternal = new Long2LongHashMap(NO_MAPPING);
    private final Long2ObjectHashMap<Mapping> byTimer = new Long2ObjectHashMap<>();

    /**
     * Audit only (a real gateway does not need it): when each external endpoint last left the table. Lets the
     * gateway count any endpoint that the allocator hands out again before its quarantine is over.
     */
    private final Long2LongHashMap expiredAt = new Long2LongHashMap(Long.MIN_VALUE);

    private long now;
    private int quarantined;
    private long mappingsCreated;
    private long mappingsExpired;
    private long mappingReuses;
    private long newDestinationReuses;
    private long droppedExhausted;
    private long droppedQuota;
    private long inboundDelivered;
    private long inboundDropped;
    private long duplicateMappings;
    private long quarantineViolations;

    /**
     * @param blocks where external ports come from; the gateway releases every port it acquired, after
     *     quarantine
     * @param mappingTimeout idle time after which a mapping expires (RFC 4787 REQ-5: at least 2 minutes)
     * @param quarantine how long a freed external port stays unused (RFC 6888 REQ-8: 120 s); may be zero
     */
    public NatGateway(PortBlockAllocator blocks, Duration mappingTimeout, Duration quarantine) {
        this.blocks = Objects.requireNonNull(blocks, "blocks");
        this.mappingTimeoutMillis = mappingTimeout.toMillis();
        this.quarantineMillis = quarantine.toMillis();
        if (mappingTimeoutMillis <= 0 || quarantineMillis < 0) {
            throw new IllegalArgumentException("mappingTimeout must be positive and quarantine not negative: "
                + mappingTimeout + ", " + quarantine);
        }
    }

    /**
     * Moves the gateway's time forward and runs every timer that is due: idle mappings expire, quarantines
     * end. Call it before handling a packet stamped {@code nowMillis}.
     *
     * @param nowMillis the current time; never less than the previous call's
     */
    public void advanceTo(long nowMillis) {
        if (nowMillis < now) {
            throw new IllegalArgumentException("time went backwards: " + nowMillis + " < " + now);
        }
        now = nowMillis;
        // poll() expires the due timers of the wheel's current tick, then moves to the next tick if that one is
        // over. So catching up with a jump in time takes one poll per tick, and one more for the tick that
        // contains `now` (its timers with a deadline up to `now` are due too).
        while (wheel.currentTickTime() <= nowMillis) {
            wheel.poll(nowMillis, onTimer, Integer.MAX_VALUE);
        }
        wheel.poll(nowMillis, onTimer, Integer.MAX_VALUE);
    }

    /**
     * Translates an outbound packet's source: finds the internal endpoint's mapping, or creates one.
     *
     * @param internalAddress the subscriber's address (IPv4 as an int)
     * @param internalPort the packet's source port
     * @param remoteAddress the packet's destination address (IPv4 as an int)
     * @param remotePort the packet's destination port
     * @return the external endpoint ({@code address << 16 | port}, see {@link AddressPool#externalAddress} and
     *     {@link AddressPool#externalPort}) to write into the packet, or {@link #DROPPED_EXHAUSTED} or
     *     {@link #DROPPED_QUOTA} when the packet must be dropped
     */
    public long outbound(int internalAddress, int internalPort, int remoteAddress, int remotePort) {
        final long internal = endpoint(internalAddress, internalPort);
        final long remote = endpoint(remoteAddress, remotePort);
        Mapping m = byInternal.get(internal);
        if (m != null) {
            // Endpoint-independent mapping: the same external endpoint whatever the destination.
            mappingReuses++;
            if (m.lastRemote != remote) {
                newDestinationReuses++;
                m.lastRemote = remote;
            }
            m.lastOutbound = now; // outbound refresh; the timer notices it lazily (see onTimerExpiry)
            return m.external;
        }

        final long external = blocks.tryAcquire(internalAddress);
        if (external == PortBlockAllocator.EXHAUSTED) {
            droppedExhausted++;
            return DROPPED_EXHAUSTED;
        }
        if (external == PortBlockAllocator.QUOTA_EXCEEDED) {
            droppedQuota++;
            return DROPPED_QUOTA;
        }
        audit(external);

        m = new Mapping(internalAddress, internalPort, external);
        m.lastRemote = remote;
        m.lastOutbound = now;
        byInternal.put(internal, m);
        byExternal.put(external, internal);
        schedule(m, now + mappingTimeoutMillis);
        mappingsCreated++;
        return external;
    }

    /**
     * Translates an inbound packet's destination back to the internal endpoint (endpoint-independent
     * filtering: any remote may reach a live mapping). Inbound packets do not refresh the mapping.
     *
     * @param externalAddress the packet's destination address (IPv4 as an int)
     * @param externalPort the packet's destination port
     * @return the internal endpoint ({@code address << 16 | port}), or {@link #NO_MAPPING}: drop the packet
     */
    public long inbound(int externalAddress, int externalPort) {
        final long internal = byExternal.get(endpoint(externalAddress, externalPort));
        if (internal == NO_MAPPING) {
            inboundDropped++;
        } else {
            inboundDelivered++;
        }
        return internal;
    }

    /** The wheel calls this for each due timer; {@code true} tells it the timer is consumed. */
    private boolean onTimerExpiry(TimeUnit unit, long nowMillis, long timerId) {
        // Remove first: the wheel reuses a fired timer's id for the next timer scheduled into its slot.
        final Mapping m = byTimer.remove(timerId);
        if (!m.quarantined) {
            final long idleDeadline = m.lastOutbound + mappingTimeoutMillis;
            if (idleDeadline > nowMillis) {
                // Refreshed since the timer was set. Rescheduling here, once per timeout, is far cheaper than
                // cancelling and rescheduling the timer on every packet.
                schedule(m, idleDeadline);
            } else {
                expire(m, idleDeadline);
            }
        } else {
            endQuarantine(m);
        }
        return true;
    }

    /** The mapping leaves the table; its external port goes into quarantine (or back at once without one). */
    private void expire(Mapping m, long expiredAtMillis) {
        byInternal.remove(endpoint(m.internalAddress, m.internalPort));
        byExternal.remove(m.external);
        expiredAt.put(m.external, expiredAtMillis);
        mappingsExpired++;
        // Quarantine counts from the moment the mapping expired, not from when the wheel noticed.
        final long quarantineEnds = expiredAtMillis + quarantineMillis;
        if (quarantineEnds > now) {
            m.quarantined = true;
            quarantined++;
            schedule(m, quarantineEnds);
        } else {
            blocks.release(m.internalAddress, m.external);
        }
    }

    private void endQuarantine(Mapping m) {
        quarantined--;
        // Only now may the port go to another mapping; a block whose last port this was goes back to the pool.
        blocks.release(m.internalAddress, m.external);
    }

    private void schedule(Mapping m, long deadline) {
        byTimer.put(wheel.scheduleTimer(deadline), m);
    }

    /** Counts allocator answers that would break the table: a live endpoint again, or one still in quarantine. */
    private void audit(long external) {
        if (byExternal.containsKey(external)) {
            duplicateMappings++;
        }
        final long expired = expiredAt.get(external);
        if (expired != Long.MIN_VALUE && now - expired < quarantineMillis) {
            quarantineViolations++;
        }
    }

    /** Packs an IPv4 endpoint into a long: address in bits 16..47, port in bits 0..15. */
    static long endpoint(int address, int port) {
        return Integer.toUnsignedLong(address) << 16 | port;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Counters (the example's summary)

    /** @return live mappings in the table */
    public int liveMappings() {
        return byInternal.size();
    }

    /** @return external ports held in quarantine (expired mappings whose port is not yet released) */
    public int quarantinedPorts() {
        return quarantined;
    }

    /** @return mappings created since the start */
    public long mappingsCreated() {
        return mappingsCreated;
    }

    /** @return mappings that expired after {@code mappingTimeout} without outbound traffic */
    public long mappingsExpired() {
        return mappingsExpired;
    }

    /** @return outbound packets that found their mapping in the table */
    public long mappingReuses() {
        return mappingReuses;
    }

    /** @return of those, packets to another destination than the mapping's previous packet (EIM at work) */
    public long newDestinationReuses() {
        return newDestinationReuses;
    }

    /** @return outbound packets dropped because the subscriber's external address had no free block */
    public long droppedExhausted() {
        return droppedExhausted;
    }

    /** @return outbound packets dropped because the subscriber was at its quota */
    public long droppedQuota() {
        return droppedQuota;
    }

    /** @return inbound packets translated to an internal endpoint */
    public long inboundDelivered() {
        return inboundDelivered;
    }

    /** @return inbound packets with no live mapping */
    public long inboundDropped() {
        return inboundDropped;
    }

    /** @return new mappings whose external endpoint was already live in the table (must be 0) */
    public long duplicateMappings() {
        return duplicateMappings;
    }

    /** @return new mappings whose external endpoint had expired less than {@code quarantine} before (must be 0) */
    public long quarantineViolations() {
        return quarantineViolations;
    }

    /** @return timers in the wheel: one per live or quarantined mapping */
    public long timers() {
        return wheel.timerCount();
    }

    /**
     * One mapping's life: live (in the maps, idle timer running), then quarantined (out of the maps, quarantine
     * timer running), then gone (port released). Not thread-safe: owned by its gateway's thread.
     */
    private static final class Mapping {
        final int internalAddress;
        final int internalPort;
        final long external;
        long lastRemote;
        long lastOutbound;
        /** False while live (its timer is the idle timer), true once expired (its timer ends the quarantine). */
        boolean quarantined;

        Mapping(int internalAddress, int internalPort, long external) {
            this.internalAddress = internalAddress;
            this.internalPort = internalPort;
            this.external = external;
        }
    }
}
