package io.twinline.api;

/**
 * How a call ended, as counted in {@link MetricsSnapshot}: for a call this end made, what its caller got; for a
 * call this end handled, what its handler answered.
 */
public enum CallOutcome {
    /** Answered with a response body. */
    OK,
    /** The handler threw or returned nothing usable: the caller got a {@link RemoteFailureException}. */
    HANDLER_FAILED,
    /** No handler for the route: the caller got a {@link NoSuchRouteException}. */
    NO_SUCH_ROUTE,
    /** No answer within the caller's timeout ({@link CallTimeoutException}). Calls made only. */
    TIMEOUT,
    /** The session ended in {@code DISCONNECTED} first ({@link DisconnectedException}). Calls made only. */
    DISCONNECTED,
    /** The session was closing or closed first ({@link SessionClosedException}). Calls made only. */
    CLOSED,
    /** The caller was interrupted while it waited ({@link CallInterruptedException}). Calls made only. */
    INTERRUPTED
}
