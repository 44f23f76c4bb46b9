package io.twinline.api;

/**
 * A client could not set up a session: the server was unreachable, rejected the handshake (the reason is in the
 * message), or announced limits this client cannot work with.
 */
public class ConnectFailedException extends TwinlineException {
    private static final long serialVersionUID = 1L;

    /**
     * A connect that failed.
     *
     * @param message what failed, with the server's address
     * @param cause the underlying failure, or {@code null}
     */
    public ConnectFailedException(String message, Throwable cause) {
        super(null, message, cause);
    }
}
