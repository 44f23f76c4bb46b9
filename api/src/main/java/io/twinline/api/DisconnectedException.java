package io.twinline.api;

/**
 * The session ended in {@link SessionState#DISCONNECTED}: recovery was impossible or gave up. Whether the call
 * ran at the peer is unknown. The cause says why the session ended: when a recovery gave up, it is an exception
 * whose own cause is the failure that started the recovery and whose suppressed exceptions are the recovery's
 * failed tries.
 */
public class DisconnectedException extends TwinlineException {
    private static final long serialVersionUID = 1L;

    public DisconnectedException(String sessionId, String message, Throwable cause) {
        super(sessionId, message, cause);
    }

    /** Always {@code true}: after a disconnect nobody knows whether the call ran at the peer. */
    public boolean outcomeUnknown() {
        return true;
    }
}
