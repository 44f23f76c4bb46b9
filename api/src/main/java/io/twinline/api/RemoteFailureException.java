package io.twinline.api;

/** The peer answered the call with a failure: its handler threw, or the route is unknown. The session goes on. */
public class RemoteFailureException extends TwinlineException {
    private static final long serialVersionUID = 1L;

    /** The route that was called. */
    private final String route;
    /** The peer's account of the failure. */
    private final String remoteMessage;

    /**
     * A call the peer answered with a failure.
     *
     * @param sessionId the session the call was made on
     * @param route the route called
     * @param remoteMessage the message the peer sent
     */
    public RemoteFailureException(String sessionId, String route, String remoteMessage) {
        super(sessionId, "call to '" + route + "' failed at the peer: " + remoteMessage, null);
        this.route = route;
        this.remoteMessage = remoteMessage;
    }

    /** {@return the route that was called} */
    public String route() {
        return route;
    }

    /** {@return the peer's account of the failure, such as the handler exception's class and message} */
    public String remoteMessage() {
        return remoteMessage;
    }
}
