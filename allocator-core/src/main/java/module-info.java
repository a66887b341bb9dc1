/**
 * portalloc: lock-free source (ephemeral) port allocation.
 *
 * <p>{@code dev.portalloc} (the allocator, port sets and port leases), {@code dev.portalloc.nat} (the
 * stateless NAT port-set formulas of RFC 7422 and RFC 7597/7599, and the NAT toolkit built on the
 * allocator), {@code dev.portalloc.net} (binding {@code java.nio} channels to leased ports) and
 * {@code dev.portalloc.metrics} (a Micrometer binder; Micrometer is optional) are exported; everything under
 * {@code dev.portalloc.internal} is implementation and may change without notice.
 */
module dev.portalloc {
    requires org.jctools.core;
    requires transitive org.agrona; // EpochClock is part of PortBlockAllocator's API
    // JFR events (dev.portalloc.internal.jfr). Not static: the allocator records them on its own paths, and a
    // static requires leaves jdk.jfr unresolved on a module path where nothing else names it (then the first
    // event would throw NoClassDefFoundError). jdk.jfr is in every JDK since 11; jlink adds it to an image.
    requires jdk.jfr;
    // Micrometer is optional: only dev.portalloc.metrics uses it, and only a user who binds the meters loads it.
    // Not transitive although its types are in that package's API: javac then demands micrometer.core when
    // compiling every user module, with Micrometer or without (tried). A module that binds the meters
    // requires micrometer.core itself.
    requires static micrometer.core;

    exports dev.portalloc;
    exports dev.portalloc.nat;
    exports dev.portalloc.net;
    exports dev.portalloc.metrics;
}
