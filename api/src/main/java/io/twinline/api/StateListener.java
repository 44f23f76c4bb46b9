package io.twinline.api;

/**
 * Told of every state change of a session, one change at a time and in the order the changes happened, even when
 * two threads change the state at once. Runs on the thread that made the change (a channel's reader, the session's
 * ticker, a recovery process, a closing thread, or the thread that established the session: the caller of
 * {@code connect()} or the server's handshake thread), or, when another thread is telling the listeners of an
 * earlier change at that moment, on that thread right after it: keep it short and never block in it, since the
 * listeners of later changes wait for it. A change made from inside a listener is told once every listener has been
 * told of the change being told.
 */
@FunctionalInterface
public interface StateListener {
    /**
     * Called after {@code session} moved from {@code from} to {@code to}.
     *
     * @param session the session whose state changed
     * @param from the state it left
     * @param to the state it entered
     * @param cause what made the change: the detected failure for {@code RECOVERING} and {@code DISCONNECTED},
     *     otherwise {@code null}
     */
    void onTransition(Session session, SessionState from, SessionState to, Throwable cause);
}
