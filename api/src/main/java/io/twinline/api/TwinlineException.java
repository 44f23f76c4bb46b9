package io.twinline.api;

/**
 * The base of every exception a twinline call or connect can end in. Unchecked, so handlers and lambdas stay
 * plain; every method that throws one documents which.
 */
public class TwinlineException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String sessionId;

    /**
     * @param sessionId the session concerned, or {@code null} when there is none yet
     */
    public TwinlineException(String sessionId, String message, Throwable cause) {
        super(sessionId == null ? message : "[" + sessionId + "] " + message, cause);
        this.sessionId = sessionId;
    }

    /** Returns the id of the session concerned, or {@code null} when the failure came before one existed. */
    public String sessionId() {
        return sessionId;
    }
}
