package io.twinline.api;

/** The peer has no handler for the route called. The handler did not run. The session goes on. */
public class NoSuchRouteException extends RemoteFailureException {
    private static final long serialVersionUID = 1L;

    /**
     * A call to a route the peer has no handler for.
     *
     * @param sessionId the session the call was made on
     * @param route the route called
     */
    public NoSuchRouteException(String sessionId, String route) {
        super(sessionId, route, "no handler for route '" + route + "'");
    }
}
