package io.twinline.api;

/**
 * The state of a session: the patent's Fig. 4 states ({@link #NORMAL}, {@link #RECOVERING},
 * {@link #DISCONNECTED}) and the lifecycle states around them.
 *
 * <p>Each state has a stable {@link #code()} published on the status endpoint and in logs.
 */
public enum SessionState {
    /** Entered when a session is created; left when both channels are attached for the first time. */
    CONNECTING(0),
    /** Fig. 4 state 480: both channels work and no problem is known. */
    NORMAL(1),
    /**
     * Fig. 4 state 485: a problem was detected on one channel and a recovery process is rebuilding it.
     * Calls made now wait for the channel within their own deadline.
     */
    RECOVERING(2),
    /**
     * Fig. 4 state 490: recovery failed or was impossible. Terminal: every waiting caller got a
     * {@link DisconnectedException}, and every later call fails at once.
     */
    DISCONNECTED(3),
    /** Terminal: the session was closed in an orderly way (GOODBYE) by either side. Not a failure. */
    CLOSED(4);

    private final int code;

    SessionState(int code) {
        this.code = code;
    }

    /** {@return the stable numeric code of this state, as published on the status endpoint} */
    public int code() {
        return code;
    }

    /** {@return whether this state is final: {@link #DISCONNECTED} or {@link #CLOSED}} */
    public boolean isTerminal() {
        return this == DISCONNECTED || this == CLOSED;
    }
}
