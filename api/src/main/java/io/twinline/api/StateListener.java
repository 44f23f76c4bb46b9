package io.twinline.api;

/**
 * Told of every state change of a session. Runs on the thread that made the change (a channel's reader, the
 * session's ticker, a recovery process, a closing thread, or the thread that established the session: the caller
 * of {@code connect()} or the server's handshake thread): keep it short and never block in it.
 */
@FunctionalInterface
public interface StateListener {
    /**
     * Called after {@code session} moved from {@code from} to {@code to}.
     *
     * @param cause what made the change: the detected failure for {@code RECOVERING} and {@code DISCONNECTED},
     *     otherwise {@code null}
     */
    void onTransition(Session session, SessionState from, SessionState to, Throwable cause);
}
