package io.twinline.api;

import java.time.Duration;

/**
 * No answer came within the call's timeout. The request may still run at the peer, and runs at most once:
 * the session keeps it (and its slot among the in-flight calls) until the peer answers.
 */
public class CallTimeoutException extends TwinlineException {
    private static final long serialVersionUID = 1L;

    public CallTimeoutException(String sessionId, String route, Duration timeout) {
        super(sessionId, "call to '" + route + "' not answered within " + timeout + "; it may still run, once", null);
    }
}
