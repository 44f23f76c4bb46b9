package io.twinline.api;

import java.time.Duration;

/**
 * No answer came within the call's timeout. If the call was sent ({@link #sent()}), the request may still run at
 * the peer, and runs at most once: the session keeps it (and its slot among the in-flight calls) until the peer
 * answers. If it was not sent (every in-flight slot stayed taken for the whole timeout), it did not run and never
 * will.
 */
public class CallTimeoutException extends TwinlineException {
    private static final long serialVersionUID = 1L;
    /** Whether the request was sent. */
    private final boolean sent;

    /**
     * A call that was sent and not answered in time.
     *
     * @param sessionId the session the call was made on
     * @param route the route called
     * @param timeout the call's timeout
     */
    public CallTimeoutException(String sessionId, String route, Duration timeout) {
        this(sessionId, route, timeout, true);
    }

    /**
     * A call not answered, or not even sent, within its timeout.
     *
     * @param sessionId the session the call was made on
     * @param route the route called
     * @param timeout the call's timeout
     * @param sent whether the request was sent; {@code false} when no in-flight slot came free within the timeout
     */
    public CallTimeoutException(String sessionId, String route, Duration timeout, boolean sent) {
        super(sessionId, sent
                ? "call to '" + route + "' not answered within " + timeout + "; it may still run, once"
                : "call to '" + route + "' not sent within " + timeout
                        + ": every in-flight slot stayed taken; it did not run", null);
        this.sent = sent;
    }

    /** {@return whether the request was sent: only then may it run at the peer} */
    public boolean sent() {
        return sent;
    }
}
