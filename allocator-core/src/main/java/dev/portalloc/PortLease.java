package dev.portalloc;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Reference;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * A port, or a connect-style tuple, held from a {@link PortAllocator} until {@link #close()}: the
 * {@code AutoCloseable} form of {@code acquire}/{@code release}.
 *
 * <pre>{@code
 * try (PortLease lease = ports.lease()) {          // exclusive, like acquire()
 *     socket.bind(lease.socketAddress());
 *     ...
 * }                                                 // release(port), exactly once
 * try (PortLease lease = ports.lease(backend)) {   // connect-style, like acquire(backend)
 *     ...
 * }                                                 // release(port, backend)
 * }</pre>
 *
 * Leases come from {@link PortAllocator#lease()}, {@link PortAllocator#tryLease()},
 * {@link PortAllocator#lease(Destination)} and {@link PortAllocator#tryLease(Destination)}. The {@code try}
 * forms return null when nothing is free, which try-with-resources accepts (it skips closing a null resource).
 * Leases allocate (the lease and its leak tracking) and are meant for code that holds a port for a while, a
 * socket for instance; the plain {@code acquire}/{@code release} methods stay allocation-free and are what
 * per-packet code should use.
 *
 * <h2>Closing</h2>
 * {@link #close()} releases the port (or the tuple) the first time it is called and does nothing after: the
 * open/closed state is one atomic flip, so any number of calls from any threads release exactly once. The
 * release is the allocator's, with its quarantine if one is configured.
 *
 * <h2>Leaks</h2>
 * A lease that becomes unreachable while open is reported once, as a {@code WARNING} through
 * {@link System.Logger} (logger {@code dev.portalloc.PortLease}), naming the protocol, local address, port and
 * destination; with {@code -Dportalloc.leaseLeakTrace=true} leases also record where they were acquired and the
 * report includes that stack trace (a stack walk per lease, so it is off by default). The library starts no
 * thread for this, so no {@link java.lang.ref.Cleaner}: the JVM queues unreachable leases after a garbage
 * collection, and the next lease created or closed, or the next {@link PortAllocator#stats()} call (of any
 * allocator, by any thread), reports them: a metrics scrape (such as {@code AllocatorMetrics}, which reads
 * {@code stats()}) therefore surfaces leaks too. A program that stops creating and closing leases and reading
 * statistics gets no further reports. The report holds the lease's description, not its allocator, so a leaked
 * lease does not keep its allocator reachable.
 *
 * <p>A leaked lease's port is <em>not</em> released: it stays held, visible in the allocator's statistics and
 * in the report. Reporting only is what Netty's leak detector does, and here it is also the safe choice: the
 * lease object being unreachable does not mean the port is unused (a program may keep the socket and drop the
 * lease), and handing that port to the next caller would give two sockets one port, which is the one thing an
 * allocator must never do. Held ports of a leaked lease can still be released explicitly with
 * {@link PortAllocator#release(int)} or {@link PortAllocator#release(int, Destination)}.
 *
 * <h2>Thread-safety</h2>
 * Thread-safe: immutable but for the atomic open/closed state; it may be closed from another thread than the one
 * that acquired it (the allocator's release happens-before the port's next acquisition).
 */
public final class PortLease implements AutoCloseable {
    private static final VarHandle CLOSED;

    static {
        try {
            CLOSED = MethodHandles.lookup().findVarHandle(PortLease.class, "closed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final PortAllocator allocator;
    private final int port;
    /** Null for an exclusive lease. */
    private final Destination destination;
    private final LeaseLeaks.Tracker tracker;
    @SuppressWarnings("unused") // read and written through CLOSED
    private volatile boolean closed;

    /** For the allocator's factory methods: {@code port} (with {@code destination}, if not null) is already held. */
    PortLease(PortAllocator allocator, int port, Destination destination) {
        this.allocator = allocator;
        this.port = port;
        this.destination = destination;
        this.tracker = LeaseLeaks.track(this, allocator, port, destination);
    }

    /**
     * Releases the port ({@link PortAllocator#release(int)}) or the tuple
     * ({@link PortAllocator#release(int, Destination)}) on the first call; later calls, concurrent or not, do
     * nothing.
     *
     * @throws IllegalStateException if the allocator no longer held the port or tuple when this lease released it
     *     (someone released it behind the lease's back); the lease is closed all the same
     */
    @Override
    public void close() {
        if (!CLOSED.compareAndSet(this, false, true)) {
            return;
        }
        try {
            if (destination == null) {
                allocator.release(port);
            } else {
                allocator.release(port, destination);
            }
        } finally {
            LeaseLeaks.untrack(tracker);
            // Until the tracker is untracked this lease must stay reachable, or the collector could queue it as a
            // leak while it is being closed.
            Reference.reachabilityFence(this);
        }
        LeaseLeaks.reportLeaks();
    }

    /** @return whether {@link #close()} has not been called yet */
    public boolean isOpen() {
        return !closed;
    }

    /** @return the leased port, 1..65535 */
    public int port() {
        return port;
    }

    /** @return the destination of a connect-style lease, or null for an exclusive one */
    public Destination destination() {
        return destination;
    }

    /** @return whether this lease holds the port exclusively (no destination) */
    public boolean isExclusive() {
        return destination == null;
    }

    /** @return the allocator the port came from, and goes back to */
    public PortAllocator allocator() {
        return allocator;
    }

    /** @return the allocator's local address (the wildcard unless the builder named one) */
    public InetAddress localAddress() {
        return allocator.localAddress();
    }

    /** @return the local address and the leased port, what a socket binds to (a new object per call) */
    public InetSocketAddress socketAddress() {
        return new InetSocketAddress(allocator.localAddress(), port);
    }

    /** @return for example {@code PortLease[TCP 127.0.0.1:40000 -> 203.0.113.7:443, open]} */
    @Override
    public String toString() {
        return "PortLease[" + describe(allocator, port, destination) + (closed ? ", closed]" : ", open]");
    }

    /** The lease's identity in messages: protocol, local address and port, and destination if any. */
    static String describe(PortAllocator allocator, int port, Destination destination) {
        final InetAddress local = allocator.localAddress();
        final String host = local instanceof Inet4Address ? local.getHostAddress() : "[" + local.getHostAddress() + "]";
        return allocator.protocol() + " " + host + ":" + port + (destination == null ? "" : " -> " + destination);
    }
}
