/**
 * Carrier NAT and address sharing: which external ports belong to which subscriber, computed by formula or
 * allocated on demand.
 *
 * <p>Stateless formulas (immutable, pure computation, no I/O; address parsing never touches DNS):
 * <ul>
 *   <li>{@link dev.portalloc.nat.DeterministicNat}: deterministic CGN mapping of RFC 7422, where
 *       every subscriber gets a fixed (external address, contiguous port block) so that abuse
 *       reports can be traced by arithmetic instead of per-connection logs.</li>
 *   <li>{@link dev.portalloc.nat.MapPsid}: the port sets of the MAP algorithm (RFC 7597 section
 *       5.1 and Appendix B, reused unchanged by MAP-T, RFC 7599 section 5), identified by a Port
 *       Set ID.</li>
 * </ul>
 *
 * <p>Dynamic allocation (thread-safe, lock-free on the allocation paths, no threads):
 * <ul>
 *   <li>{@link dev.portalloc.nat.ParityPreserving}: an external port of a {@link dev.portalloc.PortAllocator}
 *       with the internal port's parity (RFC 4787 REQ-4), uniform within the parity.</li>
 *   <li>{@link dev.portalloc.nat.PortPreservation}: try the internal (or PCP suggested) port first, then fall
 *       back or fail (RFC 4787 section 4.2.1, RFC 6887 PREFER_FAILURE).</li>
 *   <li>{@link dev.portalloc.nat.AddressPool}: many external addresses with "paired" pooling (RFC 4787 REQ-2,
 *       RFC 6888 REQ-2) by a keyed hash of the subscriber; each address an exclusive allocator of one bit per
 *       port (8 KiB, built on first use), with port and parity preservation built in.</li>
 *   <li>{@link dev.portalloc.nat.PortBlockAllocator} and {@link dev.portalloc.nat.BlockListener}: per-subscriber
 *       quotas and port block allocation with block-level logging (RFC 6888 REQ-4, REQ-11, REQ-13/14).</li>
 * </ul>
 * Port sets are {@link dev.portalloc.PortSet}s, ready to be handed to a {@link dev.portalloc.PortAllocator}.
 */
package dev.portalloc.nat;
