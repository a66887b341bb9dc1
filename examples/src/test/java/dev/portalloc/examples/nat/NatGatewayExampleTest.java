package dev.portalloc.examples.nat;

import dev.portalloc.examples.nat.NatGatewayExample.Scenario;
import dev.portalloc.examples.nat.NatGatewayExample.Summary;
import dev.portalloc.nat.AddressPool;
import dev.portalloc.nat.PortBlockAllocator;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class NatGatewayExampleTest {

    /** The standard run, shared by the tests: it is deterministic, so one run serves them all. */
    private static Summary standard;
    private static String standardText;

    @BeforeAll
    static void runStandard() {
        final ByteArrayOutputStream text = new ByteArrayOutputStream();
        standard = NatGatewayExample.run(Scenario.standard(42), new PrintStream(text, true, StandardCharsets.UTF_8));
        standardText = text.toString(StandardCharsets.UTF_8);
    }

    @Test
    void standardRunSharesTheBlocksWithoutDuplicatesAndShowsExhaustionAndQuota() {
        final Summary s = standard;

        // The table never breaks: no live external endpoint twice, none reused inside its quarantine, every
        // reply goes back to the endpoint it answers, and the gateway's books match the allocator's.
        assertThat(s.duplicateMappings()).isZero();
        assertThat(s.quarantineViolations()).isZero();
        assertThat(s.replyMismatches()).isZero();
        assertThat(s.portsHeldAtEnd()).isEqualTo(s.portsHeldByAllocatorAtEnd()).isPositive();

        // The scenario shows what it promises: mappings expire, EIM reuses mappings for new destinations,
        // blocks come and go, the pool runs full (fail-closed drops) and heavy users meet their quota.
        assertThat(s.packets()).isGreaterThan(100_000);
        assertThat(s.mappingsExpired()).isPositive().isLessThan(s.mappingsCreated());
        assertThat(s.newDestinationReuses()).isPositive();
        assertThat(s.blocksReleased()).isPositive().isLessThan(s.blocksAllocated());
        assertThat(s.totalBlocks()).isEqualTo(2 * 504);
        assertThat(s.peakBlocksInUse()).isBetween(s.totalBlocks() * 9 / 10, s.totalBlocks());
        assertThat(s.droppedExhausted()).isPositive();
        assertThat(s.droppedQuota()).isPositive();
        assertThat(standardText)
            .contains("block log: allocated 10.0.")
            .contains("audit:        0 duplicate external endpoints, 0 reused during quarantine");
    }

    @Test
    void sameSeedSameRun() {
        final ByteArrayOutputStream again = new ByteArrayOutputStream();
        final Summary s = NatGatewayExample.run(Scenario.standard(42), new PrintStream(again, true,
            StandardCharsets.UTF_8));
        assertThat(s).isEqualTo(standard);
        assertThat(again.toString(StandardCharsets.UTF_8)).isEqualTo(standardText);
    }

    /** The gateway on its own, with hand-made packets: EIM, timeout, quarantine and release, step by step. */
    @Test
    void mappingLivesTimesOutIsQuarantinedThenReleased() {
        final PortBlockAllocator blocks = PortBlockAllocator.builder(AddressPool.builder()
                .external("192.0.2.1/32").seed(1))
            .blockSize(64).maxBlocksPerSubscriber(1).build();
        final NatGateway nat = new NatGateway(blocks, Duration.ofMinutes(2), Duration.ofSeconds(120));
        final int subscriber = 0x0A00_0001;

        nat.advanceTo(0);
        final long external = nat.outbound(subscriber, 40000, 0xC612_0001, 443);
        assertThat(external).isNotNegative();
        assertThat(AddressPool.externalAddress(external)).isEqualTo(0xC000_0201);

        // Endpoint-independent: another destination, same external endpoint; replies find the subscriber.
        nat.advanceTo(60_000);
        assertThat(nat.outbound(subscriber, 40000, 0xC612_0002, 53)).isEqualTo(external);
        assertThat(nat.inbound(AddressPool.externalAddress(external), AddressPool.externalPort(external)))
            .isEqualTo(NatGateway.endpoint(subscriber, 40000));

        // Refreshed at 60 s, so still live at 179.9 s; expired at 180 s, and inbound packets are dropped.
        nat.advanceTo(179_999);
        assertThat(nat.liveMappings()).isEqualTo(1);
        nat.advanceTo(180_000);
        assertThat(nat.liveMappings()).isZero();
        assertThat(nat.inbound(AddressPool.externalAddress(external), AddressPool.externalPort(external)))
            .isEqualTo(NatGateway.NO_MAPPING);

        // In quarantine the port stays held (and its block with the subscriber) until 300 s.
        assertThat(nat.quarantinedPorts()).isEqualTo(1);
        assertThat(blocks.heldPorts(subscriber)).isEqualTo(1);
        nat.advanceTo(299_999);
        assertThat(blocks.heldPorts(subscriber)).isEqualTo(1);
        nat.advanceTo(300_000);
        assertThat(nat.quarantinedPorts()).isZero();
        assertThat(blocks.heldPorts(subscriber)).isZero();
        assertThat(blocks.blocksInUse()).isZero();
        assertThat(nat.timers()).isZero();
    }

    /** A one-block quota: the 65th port is refused and the packet dropped, nothing is evicted. */
    @Test
    void quotaDropsFailClosed() {
        final PortBlockAllocator blocks = PortBlockAllocator.builder(AddressPool.builder()
                .external("192.0.2.1/32").seed(1))
            .blockSize(64).maxBlocksPerSubscriber(1).build();
        final NatGateway nat = new NatGateway(blocks, Duration.ofMinutes(2), Duration.ZERO);
        nat.advanceTo(0);
        for (int port = 1; port <= 64; port++) {
            assertThat(nat.outbound(0x0A00_0001, port, 0xC612_0001, 443)).isNotNegative();
        }
        assertThat(nat.outbound(0x0A00_0001, 65, 0xC612_0001, 443)).isEqualTo(NatGateway.DROPPED_QUOTA);
        assertThat(nat.liveMappings()).isEqualTo(64);
        assertThat(nat.droppedQuota()).isEqualTo(1);
        // Without quarantine, expiry hands the ports straight back.
        nat.advanceTo(120_000);
        assertThat(nat.liveMappings()).isZero();
        assertThat(blocks.heldPorts(0x0A00_0001)).isZero();
    }
}
