package io.twinline.host;

import io.twinline.api.FailureCause;
import io.twinline.transport.Connection;
import io.twinline.transport.Frame;
import io.twinline.transport.MalformedFrameException;
import java.io.EOFException;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The read loop of one link and the dispatch of what it reads: PING answered at once, PONG to the probe and to
 * {@link Liveness}, RESPONSE and ACK to the bookkeeping, REQUEST to a handler thread, GOODBYE to the session. Runs
 * on the link's reader virtual thread, which from the first REQUEST on also owns the nested scope its handlers are
 * forked into. A read error, end of stream or malformed frame is reported to {@link RecoveryDriver#linkFailed}; the
 * reader never closes a link itself.
 */
final class ChannelReader {

    /** What the reader asks of its session on the peer's GOODBYE. */
    interface Goodbyes {
        /** The peer said GOODBYE on {@code link}, a link of the send channel if {@code sendSide}. */
        void peerSaidGoodbye(Link link, boolean sendSide, String reason);
    }

    private final String sessionId;
    private final TwinSession.Role role;
    private final TaskGroup group;
    private final String threadPrefix;
    private final ChannelTable table;
    private final Requester requester;
    private final Responder responder;
    private final Liveness liveness;
    private final RecoveryDriver recovery;
    private final RequestRunner requests;
    private final Metrics.SessionCounts counts;
    private final Goodbyes goodbyes;

    ChannelReader(String sessionId, TwinSession.Role role, TaskGroup group, String threadPrefix, ChannelTable table,
                  Requester requester, Responder responder, Liveness liveness, RecoveryDriver recovery,
                  RequestRunner requests, Metrics.SessionCounts counts, Goodbyes goodbyes) {
        this.sessionId = sessionId;
        this.role = role;
        this.group = group;
        this.threadPrefix = threadPrefix;
        this.table = table;
        this.requester = requester;
        this.responder = responder;
        this.liveness = liveness;
        this.recovery = recovery;
        this.requests = requests;
        this.counts = counts;
        this.goodbyes = goodbyes;
    }

    /**
     * Runs on the link's reader thread. From the first REQUEST on, the reader owns a nested scope for the handlers
     * of the requests it reads; a link that carries none (a send channel, an idle one) never opens it, so an idle
     * session's readers park without a scope. The thread outlives its read loop until the handlers are done;
     * {@link Link#readerExited()} marks the end of the loop, which a re-attach of the channel waits for.
     */
    void run(Link link) {
        NeedsScope first = readUntilFailure(link, null, null);
        if (first != null) {
            AtomicBoolean bodyRan = new AtomicBoolean();
            try {
                group.withChildren(threadPrefix + "/" + link.channel + "#" + link.generation + "-handlers",
                        children -> {
                            bodyRan.set(true);
                            readUntilFailure(link, children, first);
                        });
            } catch (RuntimeException | Error e) {
                if (!bodyRan.get()) {
                    // No scope (out of memory): the request read is dropped with the link; the requester's
                    // replay after the re-attach sends it again, and it runs once. (Requests that waited for an ACK
                    // stay counted as running: the session is failing anyway.)
                    Logger.error(e, "[{}/{}] reader could not open its scope", sessionId, link.channel);
                    recovery.linkFailed(link, FailureCause.OTHER,
                            new IOException("reader could not open its scope: " + e, e));
                    link.readerExited();
                } else {
                    throw e;
                }
            }
        }
    }

    /** Work the reader found before it had a scope for handlers: done first once the scope is open. */
    private interface NeedsScope {
        void run(TaskGroup.Children children) throws MalformedFrameException;
    }

    /**
     * Reads and dispatches frames until the link fails or the peer says GOODBYE.
     *
     * @param children the scope for handlers, or null while there is none
     * @param pending work found before the scope was opened, done first
     * @return without a scope, the first work that needs one (the caller opens the scope and calls again); otherwise
     *     null
     */
    private NeedsScope readUntilFailure(Link link, TaskGroup.Children children, NeedsScope pending) {
        if (children != null) {
            link.readerStarted(children);
        }
        boolean loopEnded = true;
        try {
            NeedsScope first = readFrames(link, children, pending);
            if (first != null) {
                loopEnded = false;
                return first;
            }
        } catch (EOFException e) {
            recovery.linkFailed(link, FailureCause.CLOSED_BY_PEER, new IOException("connection closed by peer", e));
        } catch (MalformedFrameException e) {
            counts.add(Metrics.MALFORMED, 1);
            Logger.warn("[{}/{}] malformed frame, closing this connection: {}", sessionId, link.channel,
                    e.getMessage());
            recovery.linkFailed(link, FailureCause.MALFORMED_FRAME, e);
        } catch (IOException e) {
            recovery.linkFailed(link, FailureCause.RESET, e);
        } catch (RuntimeException e) {
            Logger.error(e, "[{}/{}] reader failed", sessionId, link.channel);
            recovery.linkFailed(link, FailureCause.OTHER, new IOException("reader failed: " + e, e));
        } finally {
            if (loopEnded) {
                link.readerExited();
            }
        }
        return null;
    }

    private NeedsScope readFrames(Link link, TaskGroup.Children children, NeedsScope pending)
            throws IOException {
        Connection connection = link.connection;
        boolean sendSide = link.channel == role.sendChannel;
        if (pending != null) {
            pending.run(children);
        }
        while (true) {
            Frame frame = connection.read();
            switch (frame) {
                // At once, from this loop (PROTOCOL §7.1). With nothing queued and no writer running (an idle
                // link), the reader writes it itself rather than start a thread for 13 bytes; it never writes
                // anything else, so a backlog of responses cannot keep it from reading.
                case Frame.Ping p -> {
                    connection.sendAlone(new Frame.Pong(p.nonce()));
                    liveness.onPing(link, p.quietMillis());
                }
                case Frame.Pong p -> {
                    link.onPong(p.nonce());
                    liveness.onPong(link, p.nonce());
                }
                case Frame.Response r when sendSide -> requester.onResponse(r);
                case Frame.Request r when !sendSide -> {
                    liveness.onActivity();
                    if (children == null) {
                        return c -> requests.dispatch(r, c); // the first request: its handler needs the scope
                    }
                    requests.dispatch(r, children);
                }
                case Frame.Ack a when !sendSide -> {
                    java.util.List<Frame.Request> ready = responder.onAck(a);
                    if (!ready.isEmpty()) {
                        NeedsScope start = c -> ready.forEach(r -> requests.start(r, c));
                        if (children == null) {
                            return start; // requests that waited for this ACK: their handlers need the scope
                        }
                        start.run(children);
                    }
                }
                case Frame.Goodbye g -> {
                    goodbyes.peerSaidGoodbye(link, sendSide, g.reason());
                    return null;
                }
                default -> throw new MalformedFrameException(
                        "unexpected " + frame.type() + " on channel " + link.channel + " of the " + role);
            }
            if (sendSide && table.isCurrent(link)) {
                // Acks ride on the writer's next batch of requests; the timer's round sends what is left when
                // nothing else goes out. Only a backlog is sent on its own, and only on the current link: an old
                // reader still finishing must not drain acks onto a closed connection after the re-attach has
                // repeated them.
                requester.maybeFlushAcks(link);
            }
        }
    }
}
