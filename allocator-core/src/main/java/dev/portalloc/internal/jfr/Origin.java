package dev.portalloc.internal.jfr;

import java.util.Objects;

/**
 * Which allocator a JFR event comes from: its protocol and local address, as text, computed once when the
 * allocator is built so that recording an event formats nothing of the allocator's.
 *
 * <p>Immutable, hence thread-safe.
 *
 * @param protocol the protocol's name ({@code "TCP"}, {@code "protocol 47"})
 * @param localAddress the local address as {@link java.net.InetAddress#getHostAddress()} writes it
 */
public record Origin(String protocol, String localAddress) {
    /** For flow layers built without an allocator (tests). */
    public static final Origin UNKNOWN = new Origin("", "");

    public Origin {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(localAddress, "localAddress");
    }
}
