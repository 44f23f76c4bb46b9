package io.twinline.api;

/**
 * Answers the requests sent to one route. Runs on its own virtual thread, one per request, so it may block.
 *
 * <p>While the session lives a handler runs exactly once per call, even when the call is re-sent after a
 * channel failure. A handler that throws (an {@code Error} too, such as a failed assertion, logged at WARN with its
 * stack trace) gives the caller a {@link RemoteFailureException} carrying the exception's class and message; the
 * session carries on.
 *
 * <p>A handler may close its session, or its client: {@link Session#close()} then refuses new calls at once,
 * finishes the close on another thread and returns, and the handler's answer still goes out before the GOODBYE.
 * (Closing the server from a handler waits for the handler's own thread: hand that to another thread.)
 */
@FunctionalInterface
public interface Handler {
    /**
     * Handles one request.
     *
     * @param session the session the request arrived on; the handler may call the peer back through it
     * @param body the request body, owned by the handler
     * @return the response body, never {@code null} (use an empty array)
     * @throws Exception to fail the call; the caller sees the exception's message
     */
    byte[] handle(Session session, byte[] body) throws Exception;
}
