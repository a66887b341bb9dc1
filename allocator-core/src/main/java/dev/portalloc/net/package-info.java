/**
 * Binding {@code java.nio} channels to ports the allocator chooses, and giving the ports back when the channels
 * close.
 *
 * <ul>
 *   <li>{@link dev.portalloc.net.PortBinder}: binds a channel to the allocator's local address and a port it
 *       chooses ({@code bind()}-style, exclusive), or opens a TCP connection from a port shared with connections
 *       to other destinations ({@code connect()}-style); when the kernel refuses a port because another program
 *       of the host uses it, it tries another, a bounded number of times.</li>
 *   <li>{@link dev.portalloc.net.LeasedChannel}: the channel with its {@link dev.portalloc.PortLease}; closing it
 *       closes the channel, then releases the port.</li>
 *   <li>{@link dev.portalloc.net.ChannelSetup}: socket options to set on a channel the binder opens, before it is
 *       bound.</li>
 * </ul>
 * Nothing here starts a thread or keeps a selector; the channels stay the caller's, blocking or not.
 */
package dev.portalloc.net;
