package io.twinline.host;

import io.twinline.api.CallOutcome;
import io.twinline.api.FailureCause;
import io.twinline.api.Handler;
import io.twinline.api.Session;
import io.twinline.transport.Frame;
import io.twinline.transport.ResponseStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Runs the peer's requests of one session: each on its own virtual thread, forked by the receive channel's reader
 * into its scope ({@link ChannelReader}), which runs the route's handler and then writes its own response on the
 * current receive link when no writer runs. A response that finds no healthy link stays with the
 * {@link Responder}, whose cache answers the peer's replay after the re-attach.
 */
final class RequestRunner {
    private static final byte[] HANDLER_FAILED_BODY = "the handler failed".getBytes(StandardCharsets.UTF_8);

    private final Session session;
    private final String sessionId;
    private final TwinSession.Role role;
    private final Map<String, Handler> handlers;
    private final int peerMaxMessageBytes;
    private final Responder responder;
    private final ChannelTable table;
    private final Metrics.SessionCounts counts;
    private final RecoveryDriver recovery;

    RequestRunner(Session session, TwinSession.Role role, Map<String, Handler> handlers, int peerMaxMessageBytes,
                  Responder responder, ChannelTable table, Metrics.SessionCounts counts, RecoveryDriver recovery) {
        this.session = session;
        this.sessionId = session.id();
        this.role = role;
        this.handlers = handlers;
        this.peerMaxMessageBytes = peerMaxMessageBytes;
        this.responder = responder;
        this.table = table;
        this.counts = counts;
        this.recovery = recovery;
    }

    /** Forks the handler of a new request (or answers a repeated one from the cache); on the reader's thread. */
    void dispatch(Frame.Request request, TaskGroup.Children children)
            throws io.twinline.transport.MalformedFrameException {
        responder.onRequest(request, r -> start(r, children), this::resend);
    }

    /** Forks the handler of a request the responder has counted as running; on the reader's thread. */
    void start(Frame.Request request, TaskGroup.Children children) {
        children.spawn(null, () -> run(request), () -> responder.notStarted(request.id(), request.body().length));
    }

    /** On the request's own thread. */
    private void run(Frame.Request request) {
        try {
            handleAndRespond(request);
        } finally {
            responder.responseQueued(); // queued, or no link to queue it on: a close may send its GOODBYE now
        }
    }

    private void handleAndRespond(Frame.Request request) {
        Handler handler = handlers.get(request.route());
        ResponseStatus status;
        byte[] body;
        if (handler == null) {
            status = ResponseStatus.NO_SUCH_ROUTE;
            body = ("no handler for route '" + request.route() + "'").getBytes(StandardCharsets.UTF_8);
        } else {
            try {
                byte[] result = handler.handle(session, request.body());
                if (result == null) {
                    status = ResponseStatus.HANDLER_FAILED;
                    body = "handler returned null".getBytes(StandardCharsets.UTF_8);
                } else if (result.length > peerMaxMessageBytes) {
                    status = ResponseStatus.HANDLER_FAILED;
                    body = ("response of " + result.length + " bytes exceeds the peer's message limit of "
                            + peerMaxMessageBytes + " bytes").getBytes(StandardCharsets.UTF_8);
                } else {
                    status = ResponseStatus.OK;
                    body = result;
                }
            } catch (Exception | Error e) {
                // An Error too (a failed assertion, a stack overflow): the caller gets HANDLER_FAILED rather than
                // a timeout, and its slot back.
                status = ResponseStatus.HANDLER_FAILED;
                body = failureBody(e, request.route());
            }
        }
        counts.add(Metrics.callSlot(Metrics.CALLS_HANDLED, switch (status) {
            case OK -> CallOutcome.OK;
            case NO_SUCH_ROUTE -> CallOutcome.NO_SUCH_ROUTE;
            default -> CallOutcome.HANDLER_FAILED;
        }), 1);
        Frame.Response response = responder.complete(request.id(), request.body().length, status, body);
        Link l = table.current(role.receiveChannel);
        if (l != null && l.isHealthy()) {
            // This thread is done with the request: if no writer runs, it writes the response itself rather than
            // start one. An interrupt the handler left set must not reach the write: one that has to wait for a full
            // socket would be cut off and the socket closed.
            Thread.interrupted();
            try {
                l.connection.sendAndDrain(response);
            } catch (IOException | RuntimeException e) {
                writeFailed(l, e);
            }
        }
    }

    /** A write on {@code link} failed (a writer's, or a handler's own): so has the link. */
    void writeFailed(Link link, Exception e) {
        if (e instanceof IOException io) {
            recovery.linkFailed(link, FailureCause.WRITE_FAILED, io);
        } else {
            Logger.error(e, "[{}/{}] writer failed", sessionId, link.channel);
            recovery.linkFailed(link, FailureCause.WRITE_FAILED, new IOException("writer failed: " + e, e));
        }
    }

    /**
     * The body of a HANDLER_FAILED response for {@code e}, logged. Never throws: after an OutOfMemoryError building
     * the message may fail again, and the caller must still be answered, so it falls back to a fixed body.
     */
    private byte[] failureBody(Throwable e, String route) {
        try {
            String message = e.getClass().getSimpleName() + ": " + e.getMessage();
            if (e instanceof Error) {
                Logger.warn(e, "[{}] handler for '{}' threw an Error", sessionId, route);
            } else {
                Logger.debug("[{}] handler for '{}' failed: {}", sessionId, route, message);
            }
            return truncateUtf8(message, Math.min(4096, peerMaxMessageBytes));
        } catch (Throwable again) {
            return HANDLER_FAILED_BODY;
        }
    }

    private static byte[] truncateUtf8(String s, int max) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return b.length <= max ? b : java.util.Arrays.copyOf(b, max);
    }

    /**
     * Re-sends a finished request's response (for a request the peer sent again) on the current receive link; if
     * there is none, the peer's replay fetches it later.
     */
    private void resend(Frame.Response response) {
        Link l = table.current(role.receiveChannel);
        if (l != null && l.isHealthy()) {
            l.connection.send(response);
        }
    }
}
