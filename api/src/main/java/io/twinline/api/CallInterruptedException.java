package io.twinline.api;

/**
 * The calling thread was interrupted while waiting for an answer or for a slot; its interrupt flag is set again.
 * The request may still run at the peer, at most once.
 */
public class CallInterruptedException extends TwinlineException {
    private static final long serialVersionUID = 1L;

    public CallInterruptedException(String sessionId, String route, InterruptedException cause) {
        super(sessionId, "interrupted while calling '" + route + "'", cause);
    }
}
