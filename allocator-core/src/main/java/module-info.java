/**
 * portalloc: lock-free source (ephemeral) port allocation.
 *
 * <p>Only {@code dev.portalloc} is exported; everything under {@code dev.portalloc.internal}
 * is implementation and may change without notice.
 */
module dev.portalloc {
    requires org.jctools.core;
    requires org.agrona;

    exports dev.portalloc;
}
