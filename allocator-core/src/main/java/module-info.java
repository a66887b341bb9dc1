/**
 * portalloc: lock-free source (ephemeral) port allocation.
 *
 * <p>{@code dev.portalloc} (the allocator, port sets and port leases), {@code dev.portalloc.nat} (the
 * stateless NAT port-set formulas of RFC 7422 and RFC 7597/7599, and the NAT toolkit built on the
 * allocator) and {@code dev.portalloc.net} (binding {@code java.nio} channels to leased ports) are
 * exported; everything under
 * {@code dev.portalloc.internal} is implementation and may change without notice.
 */
module dev.portalloc {
    requires org.jctools.core;
    requires transitive org.agrona; // EpochClock is part of PortBlockAllocator's API

    exports dev.portalloc;
    exports dev.portalloc.nat;
    exports dev.portalloc.net;
}
