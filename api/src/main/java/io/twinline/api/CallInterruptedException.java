package io.twinline.api;

/**
 * The calling thread was interrupted while waiting for an answer or for a slot; its interrupt flag is set again.
 * If the call was sent ({@link #sent()}), the request may still run at the peer, at most once; if it was
 * interrupted while waiting for an in-flight slot, it was not sent and does not run.
 */
public class CallInterruptedException extends TwinlineException {
    private static final long serialVersionUID = 1L;
    /** Whether the request was sent. */
    private final boolean sent;

    /**
     * A call interrupted while waiting for its answer: it was sent.
     *
     * @param sessionId the session the call was made on
     * @param route the route called
     * @param cause the interruption
     */
    public CallInterruptedException(String sessionId, String route, InterruptedException cause) {
        this(sessionId, route, cause, true);
    }

    /**
     * A call interrupted while waiting for its answer or for an in-flight slot.
     *
     * @param sessionId the session the call was made on
     * @param route the route called
     * @param cause the interruption
     * @param sent whether the request was sent; {@code false} when interrupted while waiting for an in-flight slot
     */
    public CallInterruptedException(String sessionId, String route, InterruptedException cause, boolean sent) {
        super(sessionId, sent ? "interrupted while calling '" + route + "'"
                : "interrupted while waiting to send a call to '" + route + "'; it was not sent", cause);
        this.sent = sent;
    }

    /** {@return whether the request was sent: only then may it run at the peer} */
    public boolean sent() {
        return sent;
    }
}
