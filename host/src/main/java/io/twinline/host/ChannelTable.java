package io.twinline.host;

import io.twinline.api.Channel;
import io.twinline.api.FailureCause;
import io.twinline.transport.Connection;
import io.twinline.transport.Frame;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The links of one session's two channels, and the one place a link is closed. Links are installed, replaced and
 * closed here under one lock, so that a link is either installed before {@link #closeAll} (and closed by it) or
 * refused after it: no link outlives its session. Runs on whichever thread attaches a link (a server's handshake
 * thread, a client's recovery process), reports a failure (a reader, a writer, the round timer's liveness round), or
 * ends the session.
 *
 * <p>Invariants: a channel's link is replaced, never repaired; a link leaves the table only by being replaced or
 * by {@link #closeAll}; every link that leaves it is failed and closed; generations increase with each link
 * installed, so an older link can always be told from a newer one.
 */
final class ChannelTable {
    private final Object lock = new Object();
    /** Current link per channel: replaced under {@code lock}, read without it. */
    private final AtomicReferenceArray<Link> links = new AtomicReferenceArray<>(2);
    /** Guarded by {@code lock}. */
    private long generation;
    /** Set once by {@link #closeAll}; guarded by {@code lock}. */
    private boolean closed;
    /** Bytes of links that left the table, so the session's counts never fall; guarded by {@code lock}. */
    private long retiredBytesSent;
    private long retiredBytesReceived;

    /** A link installed, and the link of that channel it replaced (or null). */
    record Replacement(Link fresh, Link old) {
    }

    /**
     * Installs {@code connection} as {@code channel}'s link. The link it replaces is failed and closed here, before
     * this returns; the caller waits for that link's reader to stop before starting the new one's.
     *
     * @return the new link and the one it replaced, or {@code null} if the table was closed (the connection is then
     *     closed)
     */
    Replacement install(Channel channel, Connection connection) {
        Link old;
        Link fresh;
        synchronized (lock) {
            if (closed) {
                connection.close();
                return null;
            }
            old = links.get(channel.code());
            fresh = new Link(channel, connection, ++generation);
            links.set(channel.code(), fresh);
            if (old != null) {
                // What the old reader still reads after this is counted by the runtime only.
                retiredBytesSent += old.connection.bytesSent();
                retiredBytesReceived += old.connection.bytesReceived();
            }
        }
        if (old != null) {
            fail(old, FailureCause.OTHER);
        }
        return new Replacement(fresh, old);
    }

    /** Returns the current link of {@code channel}, or {@code null}. */
    Link current(Channel channel) {
        return links.get(channel.code());
    }

    /** Whether {@code link} is its channel's current link. */
    boolean isCurrent(Link link) {
        return links.get(link.channel.code()) == link;
    }

    /** Whether {@code channel} has a link that has not failed. */
    boolean isHealthy(Channel channel) {
        Link l = current(channel);
        return l != null && l.isHealthy();
    }

    /** The current links, a snapshot (null for a channel never attached). */
    Link[] snapshot() {
        return new Link[] {links.get(0), links.get(1)};
    }

    /**
     * Fails {@code link} for {@code cause} and closes it.
     *
     * @return whether this call failed it first (and is the one to report it): later calls only make sure it is
     *     closed
     */
    boolean fail(Link link, FailureCause cause) {
        boolean first = link.markFailed(cause);
        link.close();
        return first;
    }

    /** Closes every link at once (the session ended) and refuses every later {@link #install}. Idempotent. */
    void closeAll() {
        closeTable().forEach(l -> fail(l, FailureCause.OTHER));
    }

    /** Marks the table closed, so every later {@link #install} is refused, and returns the links it held. */
    private List<Link> closeTable() {
        List<Link> current = new ArrayList<>(2);
        synchronized (lock) {
            closed = true;
            for (Link l : snapshot()) {
                if (l != null) {
                    current.add(l);
                }
            }
        }
        return current;
    }

    /**
     * The orderly end of {@link TwinSession#close}: GOODBYE on each healthy link, what is queued written, then every
     * link closed (waiting up to {@code flushMillis} per link for its writer) and later installs refused.
     */
    void closeWithGoodbye(Frame.Goodbye goodbye, long flushMillis) {
        List<Link> current = closeTable();
        for (Link l : current) {
            if (l.isHealthy()) {
                l.connection.send(goodbye);
            }
        }
        for (Link l : current) {
            l.markFailed(FailureCause.OTHER);
            l.connection.flushAndClose(flushMillis);
            l.close();
        }
    }

    /** Bytes sent on every link this session had, the current ones included. */
    long bytesSent() {
        synchronized (lock) {
            return retiredBytesSent + sumOfCurrent(Connection::bytesSent);
        }
    }

    /** Bytes received on every link this session had, the current ones included. */
    long bytesReceived() {
        synchronized (lock) {
            return retiredBytesReceived + sumOfCurrent(Connection::bytesReceived);
        }
    }

    private long sumOfCurrent(java.util.function.ToLongFunction<Connection> count) {
        long sum = 0;
        for (Link l : snapshot()) {
            sum += l == null ? 0 : count.applyAsLong(l.connection);
        }
        return sum;
    }
}
