package io.twinline.api;

/** The peer has no handler for the route called. The handler did not run. The session goes on. */
public class NoSuchRouteException extends RemoteFailureException {
    private static final long serialVersionUID = 1L;

    public NoSuchRouteException(String sessionId, String route) {
        super(sessionId, route, "no handler for route '" + route + "'");
    }
}
