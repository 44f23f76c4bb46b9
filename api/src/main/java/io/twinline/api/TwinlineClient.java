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

    /** Returns the current session. */
    Session session();

    /** Calls the server on the current session; see {@link Session#call(String, byte[])}. */
    default byte[] call(String route, byte[] body) {
        return session().call(route, body);
    }

    /** Calls the server on the current session; see {@link Session#call(String, byte[], Duration)}. */
    default byte[] call(String route, byte[] body, Duration timeout) {
        return session().call(route, body, timeout);
    }

    /** Returns the client's counters over every session it has held since it connected. */
    MetricsSnapshot metrics();

    /** Closes the current session in an orderly way and stops reconnecting. Idempotent. */
    @Override
    void close();
}
