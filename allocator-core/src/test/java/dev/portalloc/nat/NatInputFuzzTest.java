package dev.portalloc.nat;

import static dev.portalloc.Fuzz.qtWith;
import static dev.portalloc.Fuzz.returnsOrThrows;
import static dev.portalloc.Fuzz.thrownExactly;
import static dev.portalloc.Fuzz.withinTimeLimit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import dev.portalloc.AllocatorStats;
import dev.portalloc.Fuzz;
import dev.portalloc.PortAllocator;
import dev.portalloc.PortSet;
import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.quicktheories.api.Pair;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * Fuzz tests of the NAT toolkit's user input: the stateless formulas' parameters ({@link MapPsid},
 * {@link DeterministicNat}), CIDR prefixes and address ranges, the builders of {@link DeterministicNat},
 * {@link AddressPool} and {@link PortBlockAllocator}, and the operations of the pool, the block allocator,
 * {@link ParityPreserving} and {@link PortPreservation}. Like {@code dev.portalloc.InputFuzzTest}: valid input
 * gives the right result, bad input exactly {@link IllegalArgumentException} (or the documented
 * {@link NullPointerException} / {@link IllegalStateException}) with a message naming the bad value, and a
 * rejected call changes nothing. Bounded by default; {@code -Dportalloc.fuzz.examples=N} or
 * {@code -Dportalloc.fuzz.seconds=S} runs longer (see {@link Fuzz}).
 */
class NatInputFuzzTest {

    // ---------------------------------------------------------------------------------------------------------
    // MapPsid

    /** Bit counts around 0..16 (and sometimes any int). */
    @SuppressWarnings("unchecked")
    private static Gen<Integer> bits() {
        return Generate.frequency(Pair.of(8, integers().between(-1, 17)), Pair.of(1, Fuzz.ints()));
    }

    private static String firstBadBits(int a, int k, int m) {
        if (a < 0 || a > 16) {
            return "a = " + a;
        }
        if (k < 0 || k > 16) {
            return "k = " + k;
        }
        if (m < 0 || m > 16) {
            return "m = " + m;
        }
        if (a + k + m != 16) {
            return "= " + (a + k + m);
        }
        return null;
    }

    @Test
    void mapPsidParametersAreCheckedAndTheFormulaHolds() {
        // m is usually 16 - a - k, so that most examples are valid; psid is usually below 2^k.
        final Gen<List<Integer>> params = bits().zip(bits(), integers().between(-1, 1), Fuzz.ints(),
            (a, k, dm, psid) -> List.of(a, k, Math.max(-1, 16 - a - k) + (dm == 1 ? 0 : dm),
                psid >= 0 && k >= 0 && k <= 16 && psid > (1 << k) ? psid % ((1 << k) + 1) : psid));
        withinTimeLimit(() -> qtWith(1500).forAll(params, Fuzz.ints()).checkAssert((p, port) -> {
            final int a = p.get(0);
            final int k = p.get(1);
            final int m = p.get(2);
            final int psid = p.get(3);
            final String badBits = firstBadBits(a, k, m);
            final String bad = badBits != null ? badBits : psid < 0 || psid >= 1 << k ? "PSID " + psid : null;
            final IllegalArgumentException e = returnsOrThrows(IllegalArgumentException.class,
                () -> MapPsid.portSet(a, k, m, psid));
            assertThat(e == null).as("portSet(%d, %d, %d, %d) accepted", a, k, m, psid).isEqualTo(bad == null);
            if (e != null) {
                assertThat(e.getMessage()).contains(bad);
            } else {
                final PortSet set = MapPsid.portSet(a, k, m, psid);
                final int expectedSize = a > 0 ? ((1 << a) - 1) << m : (1 << m) - (psid == 0 ? 1 : 0);
                assertThat(set.size()).isEqualTo(expectedSize);
                final Random r = new Random(port);
                for (int i = 0; i < 64; i++) {
                    final int q = 1 + r.nextInt(65535);
                    assertThat(set.contains(q)).as("port %d", q).isEqualTo(MapPsid.psidOf(q, a, k, m) == psid);
                }
            }
            final String badOf = badBits != null ? badBits : port < 1 || port > 65535 ? "port " + port : null;
            final IllegalArgumentException ofError = returnsOrThrows(IllegalArgumentException.class,
                () -> MapPsid.psidOf(port, a, k, m));
            assertThat(ofError == null).as("psidOf(%d, %d, %d, %d) accepted", port, a, k, m).isEqualTo(badOf == null);
            if (ofError != null) {
                assertThat(ofError.getMessage()).contains(badOf);
            }
        }));
    }

    // ---------------------------------------------------------------------------------------------------------
    // CIDR prefixes

    /**
     * An independent reading of the CIDR syntax the builders document: after {@link String#trim()}, a dotted
     * quad of 1-3 digit numbers 0..255, optionally {@code /} and a 1-2 digit prefix length 0..32, with no host
     * bit set. Returns the number of addresses, or -1 if invalid.
     */
    static long cidrSize(String cidr) {
        final String text = cidr.trim();
        final String[] halves = text.split("/", -1);
        if (halves.length > 2) {
            return -1;
        }
        int length = 32;
        if (halves.length == 2) {
            if (!halves[1].matches("[0-9]{1,2}") || Integer.parseInt(halves[1]) > 32) {
                return -1;
            }
            length = Integer.parseInt(halves[1]);
        }
        final String[] parts = halves[0].split("\\.", -1);
        if (parts.length != 4) {
            return -1;
        }
        long address = 0;
        for (String part : parts) {
            if (!part.matches("[0-9]{1,3}") || Integer.parseInt(part) > 255) {
                return -1;
            }
            address = address << 8 | Integer.parseInt(part);
        }
        final long hostMask = (1L << (32 - length)) - 1;
        return (address & hostMask) != 0 ? -1 : 1L << (32 - length);
    }

    private static Gen<String> validCidrs() {
        return integers().all().zip(integers().between(0, 32), integers().between(0, 3), (address, length, style) -> {
            final int network = length == 0 ? 0 : address & (-1 << (32 - length));
            final String quad = (network >>> 24) + "." + (network >>> 16 & 0xFF) + "." + (network >>> 8 & 0xFF) + "."
                + (network & 0xFF);
            return style == 0 && length == 32 ? quad : style == 1 ? " " + quad + "/" + length + "\t" : quad + "/" + length;
        });
    }

    @Test
    @SuppressWarnings("unchecked")
    void cidrPrefixesAreParsedStrictlyAndNamedWhenBad() {
        final Gen<String> cidrs = Generate.frequency(Pair.of(4, Fuzz.mutated(validCidrs())), Pair.of(2, Fuzz.junk()),
            Pair.of(1, validCidrs()));
        withinTimeLimit(() -> qtWith(2000).forAll(cidrs).checkAssert(cidr -> {
            final long size = cidrSize(cidr);
            final IllegalArgumentException inside = returnsOrThrows(IllegalArgumentException.class,
                () -> DeterministicNat.builder().inside(cidr));
            assertThat(inside == null).as("inside(%s) accepted", cidr).isEqualTo(size > 0);
            if (inside != null) {
                assertThat(inside.getMessage()).contains(cidr);
            }
            final IllegalArgumentException external = returnsOrThrows(IllegalArgumentException.class,
                () -> AddressPool.builder().external(cidr));
            assertThat(external == null).as("external(%s) accepted", cidr)
                .isEqualTo(size > 0 && size <= AddressPool.MAX_ADDRESSES);
            if (external != null) {
                assertThat(external.getMessage()).contains(size > 0 ? Long.toString(size) : cidr);
            }
            if (size > 0 && size <= 256) {
                final DeterministicNat nat = DeterministicNat.builder().inside(cidr).outside(cidr).build();
                assertThat(nat.subscriberCount()).isEqualTo(size);
            }
        }));
        for (String role : List.of("inside", "outside")) {
            final IllegalArgumentException e = thrownExactly(IllegalArgumentException.class, () -> {
                if (role.equals("inside")) {
                    DeterministicNat.builder().inside((String) null);
                } else {
                    DeterministicNat.builder().outside((String) null);
                }
            });
            assertThat(e).hasMessageContaining(role).hasMessageContaining("null");
        }
    }

    private static Inet4Address address(int a) {
        return Ipv4List.toAddress(a);
    }

    @Test
    void addressRangesAndListsAreChecked() {
        withinTimeLimit(() -> qtWith(2000).forAll(Fuzz.ints(), Fuzz.longsWithEdges()).checkAssert((first, count) -> {
            final long room = (1L << 32) - Integer.toUnsignedLong(first);
            final boolean valid = count >= 1 && count <= room;
            final IllegalArgumentException e = returnsOrThrows(IllegalArgumentException.class,
                () -> DeterministicNat.builder().outside(address(first), count));
            assertThat(e == null).as("outside(%s, %d) accepted", Ipv4List.format(first), count).isEqualTo(valid);
            if (e != null) {
                assertThat(e.getMessage()).contains(Long.toString(count)).contains(Ipv4List.format(first));
            }
            final IllegalArgumentException pool = returnsOrThrows(IllegalArgumentException.class,
                () -> AddressPool.builder().external(address(first), count));
            assertThat(pool == null).isEqualTo(valid && count <= AddressPool.MAX_ADDRESSES);
            if (pool != null) {
                assertThat(pool.getMessage()).contains(Long.toString(count));
            }
        }));
        withinTimeLimit(() -> qtWith(1000).forAll(lists().of(integers().between(-1, 6)).ofSizeBetween(0, 8))
            .checkAssert(codes -> {
                // -1 is a null element; 0..6 are addresses, so repeats are common.
                final List<Inet4Address> list = new ArrayList<>();
                codes.forEach(c -> list.add(c < 0 ? null : address(0xC0000200 + c)));
                final int nullAt = codes.indexOf(-1);
                final boolean repeated = codes.stream().filter(c -> c >= 0).distinct().count()
                    != codes.stream().filter(c -> c >= 0).count();
                final IllegalArgumentException e = returnsOrThrows(IllegalArgumentException.class,
                    () -> DeterministicNat.builder().inside(list));
                assertThat(e == null).as("inside(%s) accepted", list)
                    .isEqualTo(!codes.isEmpty() && nullAt < 0 && !repeated);
                if (e != null) {
                    assertThat(e.getMessage()).contains(codes.isEmpty() ? "empty" : nullAt >= 0 ? "#" + nullAt + " is null"
                        : "appears twice");
                }
            }));
        thrownExactly(NullPointerException.class, () -> DeterministicNat.builder().inside((List<Inet4Address>) null));
        thrownExactly(NullPointerException.class, () -> DeterministicNat.builder().inside(null, 1));
    }

    // ---------------------------------------------------------------------------------------------------------
    // DeterministicNat parameters and formulas

    @Test
    void deterministicNatParametersAreCheckedOneAtATime() {
        withinTimeLimit(() -> qtWith(1500).forAll(integers().between(0, 2), Fuzz.ints()).checkAssert((which, v) -> {
            final DeterministicNat.Builder b = DeterministicNat.builder().inside("100.64.0.0/24").outside("192.0.2.0/24");
            final String name;
            final boolean valid;
            switch (which) {
                case 0 -> {
                    b.firstPort(v);
                    name = "firstPort ";
                    valid = v >= 1 && v <= 65535;
                }
                case 1 -> {
                    b.portsPerUser(v);
                    name = "portsPerUser ";
                    valid = v >= 1 && v <= 65536 - 1024;
                }
                default -> {
                    b.subscribersPerAddress(v);
                    name = "subscribersPerAddress ";
                    valid = v >= 1 && v <= 65536 - 1024;
                }
            }
            final IllegalArgumentException e = returnsOrThrows(IllegalArgumentException.class, b::build);
            assertThat(e == null).as("%s%d accepted", name, v).isEqualTo(valid);
            if (e != null) {
                assertThat(e.getMessage()).contains(name + v);
            }
        }));
    }

    @Test
    void deterministicNatBuildsOrRejectsAnyMixAndItsFormulasAreInverse() {
        final Gen<List<Integer>> mix = Fuzz.ints().zip(Fuzz.ints(), Fuzz.ints(), integers().between(0, 7), List::of);
        withinTimeLimit(() -> qtWith(1500).forAll(mix, integers().between(0, 12), integers().between(0, 8), Fuzz.ints())
            .checkAssert((p, insideBits, outsideBits, probe) -> {
                final DeterministicNat.Builder b = DeterministicNat.builder()
                    .inside(address(0x64400000), 1L << insideBits).outside(address(0xC6336400), 1L << outsideBits);
                if ((p.get(3) & 1) != 0) {
                    b.firstPort(Math.floorMod(p.get(0), 70_000) - 10);
                }
                if ((p.get(3) & 2) != 0) {
                    b.portsPerUser(Math.floorMod(p.get(1), 70_000) - 10);
                }
                if ((p.get(3) & 4) != 0) {
                    b.subscribersPerAddress(Math.floorMod(p.get(2), 70_000) - 10);
                }
                final DeterministicNat nat;
                try {
                    nat = b.build();
                } catch (Throwable t) {
                    assertThat(t).isExactlyInstanceOf(IllegalArgumentException.class);
                    return;
                }
                final int ppu = nat.portsPerUser();
                assertThat(nat.firstPort() + (long) nat.subscribersPerAddress() * ppu).isLessThanOrEqualTo(65536);
                final long subscriber = Integer.toUnsignedLong(probe) % nat.subscriberCount();
                final Inet4Address internal = address(0x64400000 + (int) subscriber);
                final DeterministicNat.Mapping m = nat.forward(internal);
                assertThat(m.ports().size()).isEqualTo(ppu);
                assertThat(m.ports().first()).isGreaterThanOrEqualTo(nat.firstPort());
                final int port = m.ports().nth(Integer.remainderUnsigned(probe, ppu));
                assertThat(nat.reverse(m.external(), port)).contains(internal);
                // Any int is a valid reverse query: non-ports belong to nobody, nothing throws.
                final Optional<Inet4Address> any = nat.reverse(m.external(), probe);
                if (any.isPresent()) {
                    assertThat(nat.forward(any.get()).ports().contains(probe)).isTrue();
                }
                final IllegalArgumentException e = returnsOrThrows(IllegalArgumentException.class,
                    () -> nat.forward(address(0x0A000000 + probe % 1000)));
                if (e != null) {
                    assertThat(e.getMessage()).contains(Ipv4List.format(0x0A000000 + probe % 1000));
                }
            }));
    }

    // ---------------------------------------------------------------------------------------------------------
    // AddressPool

    private static final int POOL_FIRST = 0xC0000200; // 192.0.2.0/30
    private static final PortSet POOL_PORTS = PortSet.parse("40000-40007");

    /** One pool call: kind, an address (in the pool when below 4), a port, a mapping. */
    record PoolOp(int kind, int address, int port, long mapping) {
    }

    @SuppressWarnings("unchecked")
    private static Gen<List<PoolOp>> poolOps() {
        final Gen<Integer> addresses = Generate.frequency(Pair.of(6, integers().between(POOL_FIRST, POOL_FIRST + 3)),
            Pair.of(1, Fuzz.ints()));
        final Gen<Integer> ports = Generate.frequency(Pair.of(6, integers().between(39_999, 40_008)),
            Pair.of(2, Fuzz.ints()));
        final Gen<PoolOp> op = integers().between(0, 6).zip(addresses, ports, Fuzz.longsWithEdges(),
            PoolOp::new);
        return lists().of(op).ofSizeBetween(1, 40);
    }

    private static boolean inRange(int port) {
        return port >= 1 && port <= 65535;
    }

    private static boolean inPool(int address) {
        return Integer.compareUnsigned(address - POOL_FIRST, 4) < 0;
    }

    @Test
    void addressPoolRejectsBadAddressesPortsAndMappingsWithoutChange() {
        withinTimeLimit(() -> qtWith(300).forAll(poolOps(), Fuzz.longsWithEdges()).checkAssert((ops, seed) -> {
            final AddressPool pool = AddressPool.builder().external(address(POOL_FIRST), 4).ports(POOL_PORTS)
                .seed(seed).preserveParity((seed & 1) == 0).whenFull(AddressPool.WhenFull.values()[(int) (seed >>> 1 & 1)])
                .build();
            final Set<Long> held = new HashSet<>();
            for (PoolOp op : ops) {
                final int address = op.address();
                final int port = op.port();
                final long heldBefore = pool.heldPorts();
                final long key = Integer.toUnsignedLong(address) << 16 | (port & 0xFFFF);
                Throwable rejected = null;
                switch (op.kind()) {
                    case 0, 1 -> {
                        final long mapping = op.kind() == 0 ? pool.tryAcquire(address)
                            : pool.tryAcquire(address, 40_000 + Math.floorMod(port, 8), PortPreservation.FALLBACK);
                        if (mapping != AddressPool.NONE) {
                            assertThat(inPool(AddressPool.externalAddress(mapping))).isTrue();
                            assertThat(POOL_PORTS.contains(AddressPool.externalPort(mapping))).isTrue();
                            assertThat(held.add(mapping)).as("mapping %x handed out twice", mapping).isTrue();
                        }
                    }
                    case 2 -> {
                        if (!inPool(address)) {
                            rejected = thrownExactly(IllegalArgumentException.class, () -> pool.tryAcquire(address, port));
                            assertThat(rejected).hasMessageContaining(Ipv4List.format(address));
                        } else if (!inRange(port)) {
                            rejected = thrownExactly(IllegalArgumentException.class, () -> pool.tryAcquire(address, port));
                            assertThat(rejected).hasMessageContaining("port " + port);
                        } else {
                            assertThat(pool.tryAcquire(address, port)).isEqualTo(held.add(key));
                        }
                    }
                    case 3 -> {
                        if (!inPool(address)) {
                            rejected = thrownExactly(IllegalArgumentException.class, () -> pool.release(address, port));
                            assertThat(rejected).hasMessageContaining(Ipv4List.format(address));
                        } else if (!inRange(port)) {
                            rejected = thrownExactly(IllegalArgumentException.class, () -> pool.release(address, port));
                            assertThat(rejected).hasMessageContaining("port " + port);
                        } else if (!held.contains(key)) {
                            rejected = thrownExactly(IllegalStateException.class, () -> pool.release(address, port));
                            assertThat(rejected).hasMessageContaining("port " + port);
                        } else {
                            pool.release(address, port);
                            held.remove(key);
                        }
                    }
                    case 4 -> {
                        // A random long, or the mapping of (address, port) when that is a valid pair.
                        final long mapping = (op.mapping() & 1) == 0 && inPool(address) && inRange(port) ? key
                            : op.mapping();
                        final int a = AddressPool.externalAddress(mapping);
                        final int p = AddressPool.externalPort(mapping);
                        if (mapping < 0 || mapping >= 1L << 48) {
                            rejected = thrownExactly(IllegalArgumentException.class, () -> pool.release(mapping));
                            assertThat(rejected).hasMessageContaining(Long.toString(mapping));
                        } else if (!inPool(a)) {
                            rejected = thrownExactly(IllegalArgumentException.class, () -> pool.release(mapping));
                            assertThat(rejected).hasMessageContaining(Ipv4List.format(a));
                        } else if (p == 0) {
                            rejected = thrownExactly(IllegalArgumentException.class, () -> pool.release(mapping));
                            assertThat(rejected).hasMessageContaining("port 0");
                        } else if (!held.contains(mapping)) {
                            rejected = thrownExactly(IllegalStateException.class, () -> pool.release(mapping));
                            assertThat(rejected).hasMessageContaining("port " + p);
                        } else {
                            pool.release(mapping);
                            held.remove(mapping);
                        }
                    }
                    case 5 -> {
                        if (!inPool(address)) {
                            rejected = thrownExactly(IllegalArgumentException.class, () -> pool.isHeld(address, port));
                        } else if (!inRange(port)) {
                            rejected = thrownExactly(IllegalArgumentException.class, () -> pool.isHeld(address, port));
                        } else {
                            assertThat(pool.isHeld(address, port)).isEqualTo(held.contains(key));
                        }
                    }
                    default -> {
                        final PortPreservation pres = PortPreservation.values()[Math.floorMod(address, 3)];
                        assertThat(thrownExactly(NullPointerException.class, () -> pool.tryAcquire(address, 40_000, null)))
                            .hasMessage("preservation");
                        assertThat(pool.heldPorts()).isEqualTo(heldBefore);
                        if (!inRange(port)) {
                            rejected = thrownExactly(IllegalArgumentException.class,
                                () -> pool.tryAcquire(address, port, pres));
                            assertThat(rejected).hasMessageContaining("suggested port " + port);
                        } else {
                            final long mapping = pool.tryAcquire(address, port, pres);
                            if (mapping != AddressPool.NONE) {
                                assertThat(held.add(mapping)).isTrue();
                            }
                        }
                    }
                }
                if (rejected != null) {
                    assertThat(pool.heldPorts()).as("held after rejected %s (%s)", op, rejected).isEqualTo(heldBefore);
                }
                assertThat(pool.heldPorts()).as("held after %s", op).isEqualTo(held.size());
            }
        }));
    }

    @Test
    void addressPoolBuilderChecksItsParameters() {
        withinTimeLimit(() -> qtWith(500).forAll(integers().between(0, 40)).checkAssert(length -> {
            final IllegalArgumentException e = returnsOrThrows(IllegalArgumentException.class,
                () -> AddressPool.builder().key(new byte[length]));
            assertThat(e == null).isEqualTo(length == 16);
            if (e != null) {
                assertThat(e.getMessage()).contains(Integer.toString(length));
            }
        }));
        thrownExactly(NullPointerException.class, () -> AddressPool.builder().key(null));
        thrownExactly(IllegalArgumentException.class, () -> AddressPool.builder().ports(PortSet.empty()));
        thrownExactly(NullPointerException.class, () -> AddressPool.builder().ports(null));
        thrownExactly(NullPointerException.class, () -> AddressPool.builder().whenFull(null));
        assertThat(thrownExactly(IllegalArgumentException.class, () -> AddressPool.builder().build()))
            .hasMessageContaining("external");
        assertThat(thrownExactly(IllegalArgumentException.class, () -> AddressPool.builder().external("192.0.2.0/30")
            .ports(POOL_PORTS).reserved(PortSet.parse("39000-41000")).build())).hasMessageContaining("reserved");
    }

    // ---------------------------------------------------------------------------------------------------------
    // PortBlockAllocator

    @Test
    void portBlockParametersAreCheckedAndNamed() {
        final PortSet ports = PortSet.parse("1024-65535");
        final int span = 65535 - 1024 + 1;
        withinTimeLimit(() -> qtWith(300).forAll(Fuzz.ints(), Fuzz.ints(), Fuzz.ints(), integers().between(0, 1))
            .checkAssert((blockSize, maxBlocks, maxPorts, setPorts) -> {
                final int size = Math.floorMod(blockSize, 2 * span) - 5;   // mostly in range, sometimes beyond
                final int blocks = Math.floorMod(maxBlocks, 1100) - 5;
                final PortBlockAllocator.Builder b = PortBlockAllocator.builder(AddressPool.builder()
                    .external("192.0.2.0/31").ports(ports).seed(1)).blockSize(size).maxBlocksPerSubscriber(blocks);
                if (setPorts == 1) {
                    b.maxPortsPerSubscriber(maxPorts);
                }
                final String bad = size < 1 || size > span ? "blockSize " + size
                    : blocks < 1 || blocks > 1024 ? "maxBlocksPerSubscriber " + blocks
                    : setPorts == 1 && (maxPorts < 1 || maxPorts > (long) blocks * size) ? "maxPortsPerSubscriber " + maxPorts
                    : null;
                final IllegalArgumentException e = returnsOrThrows(IllegalArgumentException.class, b::build);
                assertThat(e == null).as("blockSize %d, maxBlocks %d, maxPorts %s accepted", size, blocks,
                    setPorts == 1 ? maxPorts : "unset").isEqualTo(bad == null);
                if (e != null) {
                    assertThat(e.getMessage()).contains(bad);
                }
            }));
        thrownExactly(NullPointerException.class, () -> PortBlockAllocator.builder(null));
        thrownExactly(NullPointerException.class,
            () -> PortBlockAllocator.builder(AddressPool.builder()).listener(null));
        thrownExactly(NullPointerException.class, () -> PortBlockAllocator.builder(AddressPool.builder()).clock(null));
    }

    @Test
    void portBlockReleasesOfBadMappingsChangeNothing() {
        final int subscriber = 0x64400001;
        withinTimeLimit(() -> qtWith(300).forAll(lists().of(Fuzz.longsWithEdges().zip(Fuzz.ints(), Pair::of))
                .ofSizeBetween(1, 30), Fuzz.longsWithEdges()).checkAssert((ops, seed) -> {
            final PortBlockAllocator blocks = PortBlockAllocator.builder(AddressPool.builder().external("192.0.2.0/31")
                .ports(PortSet.parse("40000-40063")).seed(seed)).blockSize(8).maxBlocksPerSubscriber(2).build();
            final List<Long> held = new ArrayList<>();
            for (Pair<Long, Integer> op : ops) {
                final int heldPorts = blocks.heldPorts(subscriber);
                final long inUse = blocks.blocksInUse();
                final int choice = Math.floorMod(op._2, 4);
                if (choice == 0) {
                    final long m = blocks.tryAcquire(subscriber);
                    if (m >= 0) {
                        held.add(m);
                    } else {
                        assertThat(m).isIn(PortBlockAllocator.QUOTA_EXCEEDED, PortBlockAllocator.EXHAUSTED);
                    }
                } else if (choice == 1 && !held.isEmpty()) {
                    blocks.release(subscriber, held.remove(Math.floorMod(op._1, held.size())));
                } else {
                    // A random mapping, an offset of a held one, or a held one for another subscriber.
                    final long mapping = choice == 2 || held.isEmpty() ? op._1 : held.get(0) + (op._1 & 0xF);
                    final int who = choice == 3 && (op._1 & 0x10) != 0 ? subscriber + 1 : subscriber;
                    if (who == subscriber && held.contains(mapping)) {
                        continue;
                    }
                    final Throwable e;
                    try {
                        blocks.release(who, mapping);
                        throw new AssertionError("release(" + Long.toHexString(mapping) + ") of nothing held returned");
                    } catch (IllegalArgumentException | IllegalStateException t) {
                        e = t;
                    }
                    assertThat(e.getClass()).isIn(IllegalArgumentException.class, IllegalStateException.class);
                    assertThat(e.getMessage()).satisfiesAnyOf(
                        msg -> assertThat(msg).contains(Long.toString(mapping)),
                        msg -> assertThat(msg).contains(Ipv4List.format(AddressPool.externalAddress(mapping))),
                        msg -> assertThat(msg).contains("port " + AddressPool.externalPort(mapping)));
                    assertThat(blocks.heldPorts(subscriber)).isEqualTo(heldPorts);
                    assertThat(blocks.blocksInUse()).isEqualTo(inUse);
                }
                assertThat(blocks.heldPorts(subscriber)).isEqualTo(held.size());
            }
        }));
    }

    // ---------------------------------------------------------------------------------------------------------
    // ParityPreserving and PortPreservation

    @Test
    void parityAndPreservationRejectBadPortsWithoutChange() {
        withinTimeLimit(() -> qtWith(1500).forAll(Fuzz.ints(), integers().between(0, 2)).checkAssert((port, policy) -> {
            final PortAllocator a = PortAllocator.builder().ports(PortSet.parse("50000-50009")).seed(port).build();
            final ParityPreserving parity = ParityPreserving.over(a);
            final PortPreservation pres = PortPreservation.values()[policy];
            final AllocatorStats before = a.stats();
            final IllegalArgumentException view = returnsOrThrows(IllegalArgumentException.class,
                () -> parity.viewFor(port));
            assertThat(view == null).isEqualTo(port >= 0 && port <= 65535);
            if (view != null) {
                assertThat(view.getMessage()).contains(Integer.toString(port));
                thrownExactly(IllegalArgumentException.class, () -> parity.tryAcquire(port));
                thrownExactly(IllegalArgumentException.class, () -> parity.acquire(port));
            }
            for (org.junit.jupiter.api.function.Executable call : List.<org.junit.jupiter.api.function.Executable>of(
                    () -> pres.tryAcquire(a, port), () -> pres.tryAcquire(parity, port))) {
                final IllegalArgumentException e = returnsOrThrows(IllegalArgumentException.class, call);
                assertThat(e == null).isEqualTo(inRange(port));
                if (e != null) {
                    assertThat(e.getMessage()).contains("suggested port " + port);
                    assertThat(a.stats()).isEqualTo(before);
                }
            }
            assertThat(PortPreservation.isPreservable(a, port)).isEqualTo(port >= 50000 && port <= 50009);
            if (inRange(port)) {
                // Valid suggestions: each call took exactly one port (the allocator has 10 and the parity views 5).
                assertThat(a.stats().heldPorts()).isBetween(pres == PortPreservation.FAIL ? 0 : 2, 2);
                if (!PortPreservation.isPreservable(a, port)) {
                    assertThat(a.isHeld(port)).isFalse();
                } else if (pres != PortPreservation.OFF) {
                    assertThat(a.isHeld(port)).isTrue();
                }
            }
        }));
        thrownExactly(NullPointerException.class, () -> ParityPreserving.over(null));
        thrownExactly(NullPointerException.class, () -> PortPreservation.OFF.tryAcquire((PortAllocator) null, 80));
    }
}
