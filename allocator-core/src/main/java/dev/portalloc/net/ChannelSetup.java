package dev.portalloc.net;

import java.io.IOException;
import java.nio.channels.NetworkChannel;

/**
 * Prepares a channel that a {@link PortBinder} has just opened, before it binds it: socket options
 * ({@code SO_LINGER}, {@code TCP_NODELAY}, buffer sizes, which must be set before {@code connect} to affect TCP's
 * window scaling) or the blocking mode. For example {@code ch -> ch.setOption(StandardSocketOptions.SO_LINGER, 0)}.
 *
 * <p>Called once per attempt, on the calling thread, for a fresh channel each time; an implementation that is
 * used from several threads must be thread-safe itself (setting options on the given channel only is).
 *
 * @param <C> the channel type
 */
@FunctionalInterface
public interface ChannelSetup<C extends NetworkChannel> {
    /**
     * @param channel a channel the binder opened, not yet bound
     * @throws IOException if an option cannot be set; the binder then closes the channel, releases the port and
     *     rethrows
     */
    void configure(C channel) throws IOException;
}
