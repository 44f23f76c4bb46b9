package io.twinline.api;

import java.time.Duration;

/**
 * A connected client: it holds one session with a server at a time. Thread-safe.
 *
 * <p>With {@link ClientBuilder#reconnectAfterDisconnect(boolean)} on, a session that ends in
 * {@code DISCONNECTED} is replaced by a fresh one (with backoff), so the client rides out a server restart;
 * calls that were in flight still fail with {@link DisconnectedException}.
 */
public interface TwinlineClient extends AutoCloseable {

    /**
     * Returns the current session. With {@link ClientBuilder#reconnectAfterDisconnect(boolean)} on, a later call
     * may return a newer session.
     *
     * @return the session this client holds now
     */
    Session session();

    /**
     * Calls the server on the current session, with the default call timeout; see
     * {@link Session#call(String, byte[])} for what it throws.
     *
     * @param route the route to call: 1 to 255 bytes in UTF-8
     * @param body the request body
     * @return the response body
     */
    default byte[] call(String route, byte[] body) {
        return session().call(route, body);
    }

    /**
     * Calls the server on the current session, waiting at most {@code timeout}; see
     * {@link Session#call(String, byte[], Duration)} for what it throws.
     *
     * @param route the route to call: 1 to 255 bytes in UTF-8
     * @param body the request body
     * @param timeout the longest wait for the answer
     * @return the response body
     */
    default byte[] call(String route, byte[] body, Duration timeout) {
        return session().call(route, body, timeout);
    }

    /** {@return the client's counters over every session it has held since it connected} */
    MetricsSnapshot metrics();

    /** Closes the current session in an orderly way and stops reconnecting. Idempotent. */
    @Override
    void close();
}
