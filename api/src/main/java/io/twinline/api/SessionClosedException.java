package io.twinline.api;

/**
 * The session was closed in an orderly way, by this side or the peer, before the call was answered (or before
 * it was made). A call that was sent but not answered may or may not have run at the peer.
 */
public class SessionClosedException extends TwinlineException {
    private static final long serialVersionUID = 1L;

    /**
     * A call refused or given up because the session closed.
     *
     * @param sessionId the session that closed
     * @param message what was refused or given up
     */
    public SessionClosedException(String sessionId, String message) {
        super(sessionId, message, null);
    }
}
