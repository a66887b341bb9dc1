package dev.portalloc;

import jdk.jfr.EventType;
import jdk.jfr.Recording;
import jdk.jfr.SettingDescriptor;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The JFR events, recorded for real: each test starts a {@link Recording}, triggers events through the public
 * API, dumps the recording to a file and reads it back with {@link RecordingFile}. Every allocator here has its
 * own local address, so events of other allocators in the same JVM are filtered out.
 */
class JfrEventsTest {
    private static final String EXHAUSTED = "dev.portalloc.PortExhausted";
    private static final String REKEY = "dev.portalloc.Rekey";
    private static final String RESERVATION = "dev.portalloc.ReservationChange";
    private static final String OVERFLOW = "dev.portalloc.QuarantineOverflow";
    private static final String EXPIRY = "dev.portalloc.QuarantineExpiry";
    private static final Destination D = Destination.parse("203.0.113.7:443");

    @TempDir
    Path dir;

    private static InetAddress address(String text) {
        try {
            return InetAddress.getByName(text); // a literal: no DNS
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** Records {@code action} with {@code settings} applied and returns this test's events (by local address). */
    private List<RecordedEvent> record(String localAddress, Consumer<Recording> settings, Runnable action) {
        final Path file = dir.resolve("recording-" + System.nanoTime() + ".jfr");
        try (Recording r = new Recording()) {
            settings.accept(r);
            r.start();
            action.run();
            r.stop();
            r.dump(file);
            return RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().startsWith("dev.portalloc."))
                .filter(e -> localAddress.equals(e.getString("localAddress")))
                .collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<RecordedEvent> named(List<RecordedEvent> events, String name) {
        return events.stream().filter(e -> e.getEventType().getName().equals(name)).collect(Collectors.toList());
    }

    @Test
    void exhaustionIsRecordedForEveryKindOfAutomaticAcquisitionButNotForExplicitRefusals() {
        final PortAllocator a = PortAllocator.builder().ports(PortSet.parse("40000-40003")).reserved(PortSet.of(40003))
            .protocol(Protocol.UDP).localAddress(address("192.0.2.71")).algorithm(Algorithm.randomStart()).seed(1).build();
        final List<RecordedEvent> events = record("192.0.2.71", r -> r.enable(EXHAUSTED), () -> {
            for (int i = 0; i < 3; i++) {
                a.acquire();
            }
            assertThat(a.tryAcquire()).isEqualTo(PortAllocator.NONE);                  // 1
            assertThatThrownBy(a::acquire).isInstanceOf(PortExhaustedException.class); // 2
            assertThat(a.tryAcquire(40000)).isFalse();                                 // explicit: no event
            assertThat(a.subset(PortSet.parse("40000-40001")).tryAcquire()).isEqualTo(PortAllocator.NONE); // 3
        });
        final List<RecordedEvent> exhausted = named(events, EXHAUSTED);
        assertThat(exhausted).hasSize(3);
        for (RecordedEvent e : exhausted) {
            assertThat(e.getString("protocol")).isEqualTo("UDP");
            assertThat(e.getString("destination")).isEmpty();
            assertThat(e.getStackTrace()).isNotNull();
        }
        assertThat(exhausted.get(0).getString("algorithm")).isEqualTo("randomStart()");
        assertThat(exhausted.get(0).getInt("selectablePorts")).isEqualTo(3);
        assertThat(exhausted.get(0).getInt("heldSelectablePorts")).isEqualTo(3);
        assertThat(exhausted.get(2).getString("algorithm")).isEqualTo("uniform() (subset view)");
        assertThat(exhausted.get(2).getInt("selectablePorts")).isEqualTo(2);
        assertThat(exhausted.get(2).getInt("heldSelectablePorts")).isEqualTo(2);
    }

    @Test
    void connectStyleExhaustionNamesTheDestination() {
        final PortAllocator a = PortAllocator.builder().ports(PortSet.parse("40000-40001"))
            .localAddress(address("2001:db8::72")).seed(2).build();
        final List<RecordedEvent> events = record("2001:db8:0:0:0:0:0:72", r -> r.enable(EXHAUSTED), () -> {
            a.acquire(D);
            a.acquire(D);
            assertThat(a.tryAcquire(D)).isEqualTo(PortAllocator.NONE);
            assertThat(a.tryAcquire(Destination.parse("203.0.113.8:443"))).isNotEqualTo(PortAllocator.NONE);
        });
        final RecordedEvent e = named(events, EXHAUSTED).get(0);
        assertThat(named(events, EXHAUSTED)).hasSize(1);
        assertThat(e.getString("protocol")).isEqualTo("TCP");
        assertThat(e.getString("destination")).isEqualTo("203.0.113.7:443");
        assertThat(e.getString("algorithm")).isEqualTo("uniform()");
        assertThat(e.getInt("selectablePorts")).isEqualTo(2);
        assertThat(e.getInt("heldSelectablePorts")).isEqualTo(2);
    }

    @Test
    void aDisabledEventIsNotRecorded() {
        final PortAllocator a = PortAllocator.builder().ports(PortSet.of(40000)).localAddress(address("192.0.2.73"))
            .build();
        final List<RecordedEvent> events = record("192.0.2.73", r -> {
            r.enable(REKEY);
            r.disable(EXHAUSTED);
        }, () -> {
            a.acquire();
            assertThat(a.tryAcquire()).isEqualTo(PortAllocator.NONE);
            a.rekey();
        });
        assertThat(named(events, EXHAUSTED)).isEmpty();
        assertThat(named(events, REKEY)).hasSize(1); // the recording itself worked
    }

    @Test
    void rekeyIsRecordedWithoutTheKey() {
        final PortAllocator seeded = PortAllocator.builder().localAddress(address("192.0.2.74")).algorithm(Algorithm.hash())
            .seed(3).build();
        final PortAllocator secure = PortAllocator.builder().localAddress(address("192.0.2.74"))
            .algorithm(Algorithm.doubleHash(1024)).build();
        final List<RecordedEvent> events = record("192.0.2.74", r -> r.enable(REKEY), () -> {
            seeded.rekey();
            secure.rekey();
        });
        final List<RecordedEvent> rekeys = named(events, REKEY);
        assertThat(rekeys).hasSize(2);
        assertThat(rekeys.get(0).getString("algorithm")).isEqualTo("hash()");
        assertThat(rekeys.get(0).getBoolean("deterministic")).isTrue();
        assertThat(rekeys.get(1).getString("algorithm")).isEqualTo("doubleHash(1024)");
        assertThat(rekeys.get(1).getBoolean("deterministic")).isFalse();
        assertThat(rekeys.get(0).getFields()).extracting(f -> f.getName())
            .containsExactlyInAnyOrder("startTime", "duration", "eventThread", "stackTrace", "protocol", "localAddress",
                "algorithm", "deterministic");
    }

    @Test
    void reservationChangesAreRecordedWithThePortsAndCounts() {
        final PortAllocator a = PortAllocator.builder().ports(PortSet.parse("40000-40099"))
            .reserved(PortSet.parse("40050")).localAddress(address("192.0.2.75")).build();
        final List<RecordedEvent> events = record("192.0.2.75", r -> r.enable(RESERVATION), () -> {
            a.reserve(PortSet.parse("40000-40010,40050"));
            a.unreserve(PortSet.parse("40005-40020"));
            a.unreserve(PortSet.of(41000)); // a no-op is still a call
        });
        final List<RecordedEvent> changes = named(events, RESERVATION);
        assertThat(changes).hasSize(3);
        assertThat(changes.get(0).getString("operation")).isEqualTo("reserve");
        assertThat(changes.get(0).getString("ports")).isEqualTo("40000-40010,40050");
        assertThat(changes.get(0).getInt("requestedPorts")).isEqualTo(12);
        assertThat(changes.get(0).getInt("changedPorts")).isEqualTo(11);
        assertThat(changes.get(0).getInt("reservedPorts")).isEqualTo(12);
        assertThat(changes.get(1).getString("operation")).isEqualTo("unreserve");
        assertThat(changes.get(1).getString("ports")).isEqualTo("40005-40020");
        assertThat(changes.get(1).getInt("requestedPorts")).isEqualTo(16);
        assertThat(changes.get(1).getInt("changedPorts")).isEqualTo(6);
        assertThat(changes.get(1).getInt("reservedPorts")).isEqualTo(6);
        assertThat(changes.get(2).getInt("changedPorts")).isZero();
        assertThat(changes.get(2).getInt("reservedPorts")).isEqualTo(6);
        assertThat(a.reserved()).isEqualTo(PortSet.parse("40000-40004,40050"));
    }

    @Test
    void aQuarantineThatOutgrowsItsRingIsRecordedOncePerEpisode() {
        final ConnectStyleTest.ManualClock clock = new ConnectStyleTest.ManualClock();
        final PortAllocator a = PortAllocator.builder().ports(PortSet.parse("10000-39999"))
            .localAddress(address("192.0.2.76")).quarantine(Duration.ofSeconds(60)).clock(clock).seed(4).build();
        final int ring = 1 << 14; // QuarantineQueue.RING_CAPACITY
        final List<RecordedEvent> events = record("192.0.2.76", r -> r.enable(OVERFLOW), () -> {
            for (int i = 0; i < ring + 100; i++) { // the clock stands still: nothing expires
                a.release(a.acquire());
            }
        });
        final List<RecordedEvent> overflows = named(events, OVERFLOW);
        assertThat(overflows).hasSize(1);
        final RecordedEvent e = overflows.get(0);
        assertThat(e.getInt("ringCapacity")).isEqualTo(ring);
        assertThat(e.getLong("quarantined")).isBetween((long) ring, (long) ring + 1);
        assertThat(e.getDuration("quarantine")).isEqualTo(Duration.ofSeconds(60));
        assertThat(a.stats().quarantined()).isEqualTo(ring + 100);
    }

    @Test
    void aFullExpiryPassIsRecordedAboveItsThreshold() {
        final ConnectStyleTest.ManualClock clock = new ConnectStyleTest.ManualClock();
        final PortAllocator a = PortAllocator.builder().ports(PortSet.parse("40000-40099"))
            .localAddress(address("192.0.2.77")).quarantine(Duration.ofSeconds(60)).clock(clock).seed(5).build();
        final List<RecordedEvent> events = record("192.0.2.77",
            r -> r.enable(EXPIRY).withThreshold(Duration.ZERO), () -> {
                for (int i = 0; i < 100; i++) {
                    a.acquire();
                }
                for (int p = 40000; p < 40060; p++) {
                    a.release(p);
                }
                clock.advance(Duration.ofSeconds(61)); // the first 60 are due
                for (int p = 40060; p < 40100; p++) {
                    a.release(p);                      // these 40 are not
                }
                // Refused at first (the port is in quarantine), then a full pass expires all due entries.
                assertThat(a.tryAcquire(40000)).isTrue();
            });
        final List<RecordedEvent> passes = named(events, EXPIRY);
        assertThat(passes).hasSize(1);
        assertThat(passes.get(0).getInt("expired")).isEqualTo(60);
        assertThat(passes.get(0).getLong("remaining")).isEqualTo(40);
        assertThat(passes.get(0).getDuration()).isGreaterThanOrEqualTo(Duration.ZERO);
    }

    @Test
    void theExpiryPassThresholdIsTenMillisecondsByDefault() {
        final EventType type = EventType.getEventType(dev.portalloc.internal.jfr.QuarantineExpiryEvent.class);
        assertThat(type.getName()).isEqualTo(EXPIRY);
        assertThat(type.getSettingDescriptors()).filteredOn(s -> s.getName().equals("threshold"))
            .extracting(SettingDescriptor::getDefaultValue).containsExactly("10 ms");
        assertThat(type.getCategoryNames()).containsExactly("portalloc");
    }
}
