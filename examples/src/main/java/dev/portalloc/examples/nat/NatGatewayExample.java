package dev.portalloc.examples.nat;

import dev.portalloc.PortSet;
import dev.portalloc.nat.AddressPool;
import dev.portalloc.nat.BlockListener;
import dev.portalloc.nat.PortBlockAllocator;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;

/**
 * A user-space NAT gateway, end to end: a CGN's port blocks from {@code dev.portalloc.nat}, a translation
 * table ({@link NatGateway}) and a synthetic stream of subscriber traffic ({@link SubscriberTraffic}),
 * run for {@link Scenario#duration()} of virtual time in about a second of real time.
 *
 * <p>Run it from the repository root:
 * <pre>{@code
 * mvn -B -q -DskipTests -pl examples -am package exec:java -Dexample.main=dev.portalloc.examples.nat.NatGatewayExample
 * }</pre>
 *
 * <p>How to read it: {@link #run(Scenario, PrintStream)} builds the three pieces and feeds packets through the
 * gateway, the way a packet-processing loop would: advance the clock, translate the outbound packet, maybe
 * translate a reply. The summary shows how the block allocator shared a small external pool among many
 * subscribers: how many blocks it handed out, how full they were, and what it refused (fail-closed, never
 * by evicting another subscriber).
 *
 * <p>Thread-safety: {@code main} and {@code run} are single-threaded and share no state between calls, so
 * separate calls (even concurrent ones) are independent.
 */
public final class NatGatewayExample {

    /** Virtual time starts here, so that block log records carry readable dates. */
    private static final long EPOCH_MILLIS = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
    /** Block log records printed at the start of the run, as a CGN's log would show them. */
    private static final int LOGGED_BLOCK_EVENTS = 4;

    private NatGatewayExample() {
    }

    /**
     * Everything that defines a run; the same scenario always produces the same output. Immutable, so
     * thread-safe.
     *
     * @param seed seeds the traffic and the port allocator
     * @param duration virtual time to simulate
     * @param externalCidr the NAT's external addresses
     * @param blockSize ports per block
     * @param maxBlocksPerSubscriber block quota
     * @param maxPortsPerSubscriber port quota (RFC 6888 REQ-4)
     * @param mappingTimeout idle timeout of a mapping (RFC 4787 REQ-5: at least 2 minutes)
     * @param quarantine reuse delay of a freed external port (RFC 6888 REQ-8: 120 s)
     * @param subscribers subscribers behind the NAT (10.0.0.1 onwards)
     * @param heavySubscribers how many of them run peer-to-peer style traffic
     * @param heavyShare fraction of the packets the heavy subscribers send
     * @param socketsNormal concurrent sockets of a normal subscriber
     * @param socketsHeavy concurrent sockets of a heavy subscriber
     * @param packetsPerSecond outbound packet rate of all subscribers together
     * @param meanSocketLifetime how long a socket keeps sending, on average
     * @param meanOnline how long a normal subscriber stays online, on average
     * @param meanOffline how long a normal subscriber stays offline, on average
     * @param newDestinationProbability chance that a packet goes to another server than its socket's usual one
     * @param replyProbability chance that the server answers a packet (an inbound packet to translate)
     */
    public record Scenario(long seed, Duration duration, String externalCidr, int blockSize,
                           int maxBlocksPerSubscriber, int maxPortsPerSubscriber, Duration mappingTimeout,
                           Duration quarantine, int subscribers, int heavySubscribers, double heavyShare,
                           int socketsNormal, int socketsHeavy, double packetsPerSecond,
                           Duration meanSocketLifetime, Duration meanOnline, Duration meanOffline,
                           double newDestinationProbability, double replyProbability) {

        /**
         * The default run: 1,200 subscribers behind two external addresses for 15 virtual minutes. The pool
         * holds 2 × 504 blocks of 128 ports; the subscribers want a little more than that at the peak, so the
         * run shows every outcome: blocks shared out, heavy users held at their quota, and a few exhaustion
         * drops once the pool is full.
         *
         * @param seed the seed
         * @return the scenario
         */
        public static Scenario standard(long seed) {
            return new Scenario(seed, Duration.ofMinutes(15), "198.51.100.10/31", 128, 4, 400,
                Duration.ofMinutes(2), Duration.ofSeconds(120), 2_000, 12, 0.25, 3, 96, 160,
                Duration.ofSeconds(40), Duration.ofMinutes(3), Duration.ofMinutes(10), 0.05, 0.5);
        }
    }

    /**
     * What a run measured; the printed summary shows the same figures. Immutable, so thread-safe.
     *
     * @param packets outbound packets
     * @param mappingsCreated mappings created
     * @param mappingsExpired mappings expired
     * @param mappingReuses outbound packets that found their mapping
     * @param newDestinationReuses of those, packets to a new destination on an existing mapping
     * @param droppedExhausted packets dropped: no free block on the subscriber's address
     * @param droppedQuota packets dropped: subscriber at its quota
     * @param repliesDelivered replies translated back
     * @param replyMismatches replies translated to another internal endpoint than the packet came from (must be 0)
     * @param duplicateMappings external endpoints handed out while live (must be 0)
     * @param quarantineViolations external endpoints handed out again during their quarantine (must be 0)
     * @param blocksAllocated block allocation events
     * @param blocksReleased block release events
     * @param peakBlocksInUse most blocks in use at once
     * @param totalBlocks blocks in the pool
     * @param peakPortsHeld most external ports held at once (live mappings and quarantine)
     * @param portsHeldAtPeakBlocks ports held when the most blocks were in use
     * @param portsHeldAtEnd ports held at the end, by the gateway's count
     * @param portsHeldByAllocatorAtEnd ports held at the end, by the block allocator's count (must agree)
     */
    public record Summary(long packets, long mappingsCreated, long mappingsExpired, long mappingReuses,
                          long newDestinationReuses, long droppedExhausted, long droppedQuota,
                          long repliesDelivered, long replyMismatches, long duplicateMappings,
                          long quarantineViolations, long blocksAllocated, long blocksReleased,
                          long peakBlocksInUse, long totalBlocks, int peakPortsHeld, int portsHeldAtPeakBlocks,
                          int portsHeldAtEnd, long portsHeldByAllocatorAtEnd) {
    }

    public static void main(String[] args) {
        final long seed = args.length > 0 ? Long.parseLong(args[0]) : 42;
        run(Scenario.standard(seed), System.out);
    }

    /**
     * Builds the block allocator, the gateway and the traffic, runs the scenario and prints its summary.
     *
     * @param scenario what to run
     * @param out where to print
     * @return the measured figures
     */
    public static Summary run(Scenario scenario, PrintStream out) {
        // 1. Virtual time. Everything below reads the time from here, so the run does not depend on the
        //    machine's clock: block log records are stamped with it, the gateway's timers run on it.
        final long[] nowMillis = {0};
        final BlockLog log = new BlockLog(out);

        // 2. The port blocks: a pool of external addresses, each subscriber paired with one of them by a keyed
        //    hash (RFC 6888 REQ-2), ports handed out in blocks with per-subscriber quotas. The seed makes the
        //    hash key and the port choices reproducible; a production CGN leaves it out (secure random keys).
        final PortBlockAllocator blocks = PortBlockAllocator.builder(AddressPool.builder()
                .external(scenario.externalCidr())
                .ports(PortSet.parse("1024-65535"))          // RFC 4787 REQ-3: keep 0-1023 for well-known ports
                .seed(scenario.seed()))
            .blockSize(scenario.blockSize())
            .maxBlocksPerSubscriber(scenario.maxBlocksPerSubscriber())
            .maxPortsPerSubscriber(scenario.maxPortsPerSubscriber())
            .listener(log)                                   // one log record per block, not per mapping
            .clock(() -> EPOCH_MILLIS + nowMillis[0])        // Agrona EpochClock: virtual time
            .build();
        out.println("allocator: " + blocks);

        // 3. The translation table, and the traffic that will go through it.
        final NatGateway gateway = new NatGateway(blocks, scenario.mappingTimeout(), scenario.quarantine());
        final SubscriberTraffic traffic = new SubscriberTraffic(scenario);
        final long totalBlocks = (long) blocks.addresses() * blocks.blocksPerAddress();

        // 4. The packet loop. Each packet: advance the clock (expires idle mappings, ends quarantines),
        //    translate the source, and with some probability translate the server's reply back.
        final long endMillis = scenario.duration().toMillis();
        long packets = 0;
        long repliesDelivered = 0;
        long replyMismatches = 0;
        long peakBlocks = 0;
        int portsAtPeakBlocks = 0;
        int peakPorts = 0;
        long nextSampleMillis = 0;
        for (traffic.next(); traffic.timeMillis() < endMillis; traffic.next()) {
            nowMillis[0] = traffic.timeMillis();
            gateway.advanceTo(nowMillis[0]);
            packets++;
            final long external = gateway.outbound(traffic.subscriber(), traffic.internalPort(),
                traffic.remoteAddress(), traffic.remotePort());
            if (external >= 0 && traffic.nextDouble() < scenario.replyProbability()) {
                // The server answers to the address and port it saw: the external endpoint.
                final long internal = gateway.inbound(AddressPool.externalAddress(external),
                    AddressPool.externalPort(external));
                repliesDelivered++;
                if (internal != NatGateway.endpoint(traffic.subscriber(), traffic.internalPort())) {
                    replyMismatches++;
                }
            }
            // Sample utilisation once per virtual second (blocksInUse() reads every address's block table).
            if (nowMillis[0] >= nextSampleMillis) {
                nextSampleMillis = nowMillis[0] + 1000;
                final int held = gateway.liveMappings() + gateway.quarantinedPorts();
                peakPorts = Math.max(peakPorts, held);
                final long inUse = blocks.blocksInUse();
                if (inUse > peakBlocks) {
                    peakBlocks = inUse;
                    portsAtPeakBlocks = held;
                }
            }
        }
        gateway.advanceTo(endMillis);

        // 5. Cross-check the gateway's books against the allocator's: every port the gateway holds (live or in
        //    quarantine) is held in the allocator, and nothing else is.
        long heldByAllocator = 0;
        for (int s = 0; s < scenario.subscribers(); s++) {
            heldByAllocator += blocks.heldPorts(SubscriberTraffic.FIRST_SUBSCRIBER + s);
        }
        final int heldAtEnd = gateway.liveMappings() + gateway.quarantinedPorts();

        final Summary summary = new Summary(packets, gateway.mappingsCreated(), gateway.mappingsExpired(),
            gateway.mappingReuses(), gateway.newDestinationReuses(), gateway.droppedExhausted(),
            gateway.droppedQuota(), repliesDelivered, replyMismatches, gateway.duplicateMappings(),
            gateway.quarantineViolations(), log.allocated, log.released, peakBlocks, totalBlocks, peakPorts,
            portsAtPeakBlocks, heldAtEnd, heldByAllocator);
        print(summary, scenario, blocks, gateway, out);
        return summary;
    }

    private static void print(Summary s, Scenario scenario, PortBlockAllocator blocks, NatGateway gateway,
                              PrintStream out) {
        final int blockSize = blocks.blockSize();
        out.printf("%n%s of virtual time, %d subscribers (%d heavy), seed %d%n", scenario.duration(),
            scenario.subscribers(), scenario.heavySubscribers(), scenario.seed());
        out.printf("packets:      %,d outbound, %,d replies translated back (%d to a wrong endpoint)%n",
            s.packets(), s.repliesDelivered(), s.replyMismatches());
        out.printf("mappings:     %,d created, %,d expired after %s idle; %,d live and %,d in quarantine now%n",
            s.mappingsCreated(), s.mappingsExpired(), scenario.mappingTimeout(), gateway.liveMappings(),
            gateway.quarantinedPorts());
        out.printf("EIM:          %,d packets reused a live mapping, %,d of them to a new destination%n",
            s.mappingReuses(), s.newDestinationReuses());
        out.printf("blocks:       %,d allocated, %,d released; peak %,d of %,d in use (%d ports each)%n",
            s.blocksAllocated(), s.blocksReleased(), s.peakBlocksInUse(), s.totalBlocks(), blockSize);
        out.printf("exhaustion:   %,d packets dropped with no free block on the subscriber's address, "
            + "%,d at the subscriber's quota (%d ports / %d blocks)%n", s.droppedExhausted(), s.droppedQuota(),
            scenario.maxPortsPerSubscriber(), scenario.maxBlocksPerSubscriber());
        out.printf("utilisation:  at the block peak %,d ports held = %.1f%% of the ports in owned blocks, "
            + "%.1f%% of the pool; peak ports held %,d%n", s.portsHeldAtPeakBlocks(),
            percent(s.portsHeldAtPeakBlocks(), s.peakBlocksInUse() * blockSize),
            percent(s.portsHeldAtPeakBlocks(), s.totalBlocks() * blockSize), s.peakPortsHeld());
        out.printf("audit:        %d duplicate external endpoints, %d reused during quarantine; "
            + "ports held at the end: gateway %,d, allocator %,d%n", s.duplicateMappings(),
            s.quarantineViolations(), s.portsHeldAtEnd(), s.portsHeldByAllocatorAtEnd());
    }

    private static double percent(long part, long whole) {
        return whole == 0 ? 0 : 100.0 * part / whole;
    }

    /**
     * The CGN's block log (RFC 6888 REQ-14: one record per block instead of per mapping): counts the events and
     * prints the first few. The allocator calls it on the allocating or releasing thread; this example has one
     * thread, so plain fields suffice (a multi-threaded gateway needs a thread-safe listener). Not thread-safe.
     */
    private static final class BlockLog implements BlockListener {
        private final PrintStream out;
        long allocated;
        long released;

        BlockLog(PrintStream out) {
            this.out = out;
        }

        @Override
        public void blockAllocated(int subscriber, int externalAddress, int firstPort, int lastPort,
                                   long epochMillis) {
            allocated++;
            record("allocated", subscriber, externalAddress, firstPort, lastPort, epochMillis);
        }

        @Override
        public void blockReleased(int subscriber, int externalAddress, int firstPort, int lastPort,
                                  long epochMillis) {
            released++;
            record("released ", subscriber, externalAddress, firstPort, lastPort, epochMillis);
        }

        private void record(String what, int subscriber, int external, int first, int last, long epochMillis) {
            if (allocated + released <= LOGGED_BLOCK_EVENTS) {
                out.printf("block log: %s %s -> %s:%d-%d at %s%n", what, ipv4(subscriber), ipv4(external), first,
                    last, Instant.ofEpochMilli(epochMillis));
            }
        }
    }

    /** Formats an IPv4 address held in an int. */
    static String ipv4(int address) {
        return (address >>> 24) + "." + (address >>> 16 & 0xFF) + "." + (address >>> 8 & 0xFF) + "." + (address & 0xFF);
    }
}
