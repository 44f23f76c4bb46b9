package io.twinline.api;

import java.time.Duration;

/**
 * A request/response session over two TCP connections, as seen from either end.
 *
 * <p>Thread-safe: any number of threads (virtual threads are the intended callers) may call at once; calls are
 * multiplexed over the session's send channel and their responses may arrive in any order.
 *
 * <p>While the session lives, each call's handler runs exactly once at the peer, and the caller gets its answer
 * even when one of the two connections fails and is rebuilt meanwhile. When the session ends in
 * {@link SessionState#DISCONNECTED}, waiting callers get a {@link DisconnectedException} at once.
 */
public interface Session extends AutoCloseable {

    /** {@return the session id the server assigned, as shown in logs ({@code s-1f})} */
    String id();

    /**
     * Who the client opened this session as, on the server's side: the name the server's {@link Authenticator}
     * gave, or without one, the subject of the client's verified certificate (mutual TLS, RFC 2253 form). Empty
     * on the client's side, and on a server with neither.
     *
     * @return the principal's name, or empty
     */
    default java.util.Optional<String> principal() {
        return java.util.Optional.empty();
    }

    /** {@return the current state} */
    SessionState state();

    /**
     * Calls {@code route} at the peer and waits for the answer, with the default call timeout of
     * {@link Limits#callTimeout()}. Meant to be called from virtual threads, as many at once as needed; a platform
     * thread may call as well, but its wait for each answer costs an operating-system wake-up.
     *
     * @param route the route to call: 1 to 255 bytes in UTF-8
     * @param body the request body; it is not copied, so do not change it once passed
     * @return the response body
     * @throws RemoteFailureException if the peer's handler threw or the route is unknown
     * @throws CallTimeoutException if no answer came within the timeout (the handler may still run, once)
     * @throws DisconnectedException if the session ended in {@code DISCONNECTED}; the outcome is unknown
     * @throws SessionClosedException if the session was closed (by either side) before the answer came
     * @throws CallInterruptedException if the calling thread was interrupted while waiting
     * @throws IllegalArgumentException if the route is empty or longer than 255 UTF-8 bytes, or the body is longer
     *     than the peer's message limit or the session's budget of request bytes in flight
     *     ({@link Limits#maxMessageBytes()}, {@link Limits#maxInFlightBytes()})
     * @throws NullPointerException if {@code route} or {@code body} is null
     */
    byte[] call(String route, byte[] body);

    /**
     * Calls {@code route} at the peer and waits at most {@code timeout} for the answer. The timeout keeps
     * running through any recovery.
     *
     * @param route the route to call: 1 to 255 bytes in UTF-8
     * @param body the request body; it is not copied, so do not change it once passed
     * @param timeout the longest wait for the answer, the wait for an in-flight slot included
     * @return the response body
     * @throws RemoteFailureException if the peer's handler threw or the route is unknown
     * @throws CallTimeoutException if no answer came within the timeout (the handler may still run, once)
     * @throws DisconnectedException if the session ended in {@code DISCONNECTED}; the outcome is unknown
     * @throws SessionClosedException if the session was closed (by either side) before the answer came
     * @throws CallInterruptedException if the calling thread was interrupted while waiting
     * @throws IllegalArgumentException if the timeout is zero or negative, the route is empty or longer than
     *     255 UTF-8 bytes, or the body is longer than the peer's message limit or the session's budget of request
     *     bytes in flight
     * @throws NullPointerException if {@code route}, {@code body} or {@code timeout} is null
     */
    byte[] call(String route, byte[] body, Duration timeout);

    /**
     * Returns this session's counters: the calls it made and handled, its channels' failures and recoveries, and
     * its bytes. Cheap enough to call once a second for every session.
     *
     * @return a snapshot of the counters
     */
    MetricsSnapshot metrics();

    /**
     * Adds a listener told of every later state change of this session.
     *
     * @param listener the listener; it runs as {@link StateListener} describes
     * @throws NullPointerException if {@code listener} is null
     */
    void addStateListener(StateListener listener);

    /**
     * Closes the session in an orderly way: new calls fail, calls in flight are given up to
     * {@link Limits#closeGrace()} to be answered, then GOODBYE is sent and both connections closed. Returns when
     * every thread of the session has ended. Idempotent. Called from one of the session's own threads (its
     * handlers, and the listeners those threads run), it cannot wait for itself: it starts the close on another
     * thread and returns at once.
     */
    @Override
    void close();
}
