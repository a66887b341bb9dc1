/**
 * Stateless port-set formulas for carrier NAT and address sharing: which external ports belong to
 * which subscriber, and back.
 *
 * <ul>
 *   <li>{@link dev.portalloc.nat.DeterministicNat}: deterministic CGN mapping of RFC 7422, where
 *       every subscriber gets a fixed (external address, contiguous port block) so that abuse
 *       reports can be traced by arithmetic instead of per-connection logs.</li>
 *   <li>{@link dev.portalloc.nat.MapPsid}: the port sets of the MAP algorithm (RFC 7597 section
 *       5.1 and Appendix B, reused unchanged by MAP-T, RFC 7599 section 5), identified by a Port
 *       Set ID.</li>
 * </ul>
 *
 * <p>Everything here is pure computation on immutable values: no state, no locks, no I/O (address
 * parsing never touches DNS). Every class is immutable and thread-safe. Port sets are returned as
 * {@link dev.portalloc.PortSet}s, ready to be handed to a {@link dev.portalloc.PortAllocator}.
 */
package dev.portalloc.nat;
