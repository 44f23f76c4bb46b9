package io.twinline.api;

/**
 * One of a session's two TCP connections. The client opens both.
 *
 * <p>Channel {@link #A} carries the client's requests and their responses (the client's send channel, the
 * server's receive channel); channel {@link #B} carries the server's requests and their responses (the server's
 * send channel, the client's receive channel).
 */
public enum Channel {
    /** The patent's path 128: client-to-server requests and their responses. */
    A(0),
    /** The patent's path 178: server-to-client requests and their responses. */
    B(1);

    private final int code;

    Channel(int code) {
        this.code = code;
    }

    /** {@return the channel's code on the wire: 0 for A, 1 for B} */
    public int code() {
        return code;
    }

    /** {@return the session's other channel} */
    public Channel other() {
        return this == A ? B : A;
    }

    /**
     * Returns the channel with the given wire code.
     *
     * @param code a code as {@link #code()} returns it
     * @return {@link #A} for 0, {@link #B} for 1
     * @throws IllegalArgumentException if the code is neither 0 nor 1
     */
    public static Channel ofCode(int code) {
        return switch (code) {
            case 0 -> A;
            case 1 -> B;
            default -> throw new IllegalArgumentException("unknown channel code: " + code);
        };
    }
}
