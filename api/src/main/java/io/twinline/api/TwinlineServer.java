package io.twinline.api;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;

/** A running server: it accepts sessions, answers their calls and can call any of them back. Thread-safe. */
public interface TwinlineServer extends AutoCloseable {

    /** {@return the address the server listens on, with the real port when it was bound to port 0} */
    InetSocketAddress address();

    /** {@return the live sessions (not yet {@code DISCONNECTED} or {@code CLOSED}), in no particular order} */
    List<Session> sessions();

    /**
     * Returns the live session with the given id, if any.
     *
     * @param id a session id as {@link Session#id()} returns it
     * @return the session, or empty if there is none with that id or it has ended
     */
    Optional<Session> session(String id);

    /**
     * Returns the server's counters over every session it has held since it started, and the sessions it holds
     * now by state. Its cost grows with the number of sessions held, which it visits once.
     *
     * @return a snapshot of the counters
     */
    MetricsSnapshot metrics();

    /**
     * Closes the server: stops accepting, closes every session in an orderly way (each gets GOODBYE), and
     * returns when every thread of the server has ended. Idempotent.
     */
    @Override
    void close();
}
