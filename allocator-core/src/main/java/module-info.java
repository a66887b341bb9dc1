/**
 * portalloc: lock-free source (ephemeral) port allocation.
 *
 * <p>{@code dev.portalloc} (the allocator and port sets) and {@code dev.portalloc.nat} (the
 * stateless NAT port-set formulas of RFC 7422 and RFC 7597/7599, and the NAT toolkit built on the
 * allocator) are exported; everything under
 * {@code dev.portalloc.internal} is implementation and may change without notice.
 */
module dev.portalloc {
    requires org.jctools.core;
    requires transitive org.agrona; // EpochClock is part of PortBlockAllocator's API

    exports dev.portalloc;
    exports dev.portalloc.nat;
}
