package io.twinline.api;

/** The peer answered the call with a failure: its handler threw, or the route is unknown. The session goes on. */
public class RemoteFailureException extends TwinlineException {
    private static final long serialVersionUID = 1L;

    private final String route;
    private final String remoteMessage;

    public RemoteFailureException(String sessionId, String route, String remoteMessage) {
        super(sessionId, "call to '" + route + "' failed at the peer: " + remoteMessage, null);
        this.route = route;
        this.remoteMessage = remoteMessage;
    }

    /** Returns the route that was called. */
    public String route() {
        return route;
    }

    /** Returns the message the peer sent (the handler exception's class and message). */
    public String remoteMessage() {
        return remoteMessage;
    }
}
