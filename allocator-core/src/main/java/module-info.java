/**
 * portalloc: lock-free source (ephemeral) port allocation.
 *
 * <p>{@code dev.portalloc} (the allocator and port sets) and {@code dev.portalloc.nat} (the
 * stateless NAT port-set formulas of RFC 7422 and RFC 7597/7599) are exported; everything under
 * {@code dev.portalloc.internal} is implementation and may change without notice.
 */
module dev.portalloc {
    requires org.jctools.core;
    requires org.agrona;

    exports dev.portalloc;
    exports dev.portalloc.nat;
}
