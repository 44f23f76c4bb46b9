package io.twinline.api;

/**
 * The base of every exception a twinline call or connect can end in. Unchecked, so handlers and lambdas stay
 * plain; every method that throws one documents which.
 */
public class TwinlineException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The session concerned, or {@code null}. */
    private final String sessionId;

    /**
     * An exception whose message starts with the session id in brackets ({@code [s-1f] ...}) when there is one.
     *
     * @param sessionId the session concerned, or {@code null} when there is none yet
     * @param message what happened
     * @param cause the underlying failure, or {@code null}
     */
    public TwinlineException(String sessionId, String message, Throwable cause) {
        super(sessionId == null ? message : "[" + sessionId + "] " + message, cause);
        this.sessionId = sessionId;
    }

    /** {@return the id of the session concerned, or {@code null} when the failure came before one existed} */
    public String sessionId() {
        return sessionId;
    }
}
