package io.twinline.api;

/**
 * The session ended in {@link SessionState#DISCONNECTED}: recovery was impossible or gave up. Whether the call
 * ran at the peer is unknown. The cause says why the session ended: when a recovery gave up, it is an exception
 * whose own cause is the failure that started the recovery and whose suppressed exceptions are the recovery's
 * failed tries.
 */
public class DisconnectedException extends TwinlineException {
    private static final long serialVersionUID = 1L;

    /**
     * A call or session that ended with the session's disconnect.
     *
     * @param sessionId the session that ended
     * @param message what ended it
     * @param cause why the session ended, as the class description says
     */
    public DisconnectedException(String sessionId, String message, Throwable cause) {
        super(sessionId, message, cause);
    }

    /** {@return always {@code true}: after a disconnect nobody knows whether the call ran at the peer} */
    public boolean outcomeUnknown() {
        return true;
    }
}
