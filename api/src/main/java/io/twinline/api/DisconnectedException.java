package io.twinline.api;

/**
 * The session ended in {@link SessionState#DISCONNECTED}: recovery was impossible or gave up. Whether the call
 * ran at the peer is unknown. The cause names the failure that started it; earlier failures of the recovery are
 * attached as suppressed exceptions.
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
