package io.twinline.api;

import java.time.Duration;

/**
 * Hard limits that keep memory bounded and bad peers harmless. Immutable and validated; start from
 * {@link #defaults()}.
 *
 * @param maxFrameBytes the largest frame accepted, in bytes; a longer length closes the connection before anything
 *     is allocated. The two ends announce theirs in the handshake: a request must fit in the peer's with its route
 *     and a 10-byte header, a response with a 10-byte header (a larger one reaches the caller as a
 *     {@link RemoteFailureException})
 * @param maxInFlight the most unanswered calls per direction per session; a caller past it blocks until a slot
 *     frees. The two ends announce theirs in the handshake and each direction uses the smaller. Also bounds the
 *     peer's cache of unacknowledged responses
 * @param maxSessions the most sessions a server holds, counting an ended one until its threads have finished
 *     (up to {@code closeGrace}); HELLO past it is REJECTED with {@code SERVER_FULL}, however many HELLOs
 *     arrive at the same moment
 * @param handshakeTimeout a new connection that has not completed HELLO or ATTACH within this is dropped; a client
 *     waits at most this long for each dial and each answer to its HELLO or ATTACH
 * @param callTimeout the timeout of {@link Session#call(String, byte[])}
 * @param closeGrace how long an orderly close waits for calls in flight to be answered before GOODBYE
 */
public record Limits(
        int maxFrameBytes,
        int maxInFlight,
        int maxSessions,
        Duration handshakeTimeout,
        Duration callTimeout,
        Duration closeGrace) {

    /** The smallest frame limit accepted: room for the handshake frames and a small call. */
    public static final int MIN_FRAME_BYTES = 1024;

    private static final Limits DEFAULTS = new Limits(
            // 16 MiB: large payloads fit; a hostile length costs at most this much per connection.
            16 << 20,
            // Enough for a thousand concurrent callers per session without queueing them.
            1024,
            // 10,000 sessions need 20,000 sockets: the open-file limit of a typical server process.
            10_000,
            // A handshake is one round trip; five seconds drops silent or slow connections early.
            Duration.ofSeconds(5),
            Duration.ofSeconds(30),
            Duration.ofSeconds(2));

    /**
     * Validates every field.
     *
     * @throws IllegalArgumentException if {@code maxFrameBytes} is below {@link #MIN_FRAME_BYTES}, if
     *     {@code maxInFlight} or {@code maxSessions} is below 1, if {@code handshakeTimeout} or {@code callTimeout}
     *     is not positive, or if {@code closeGrace} is negative; the message names the field and shows the value
     * @throws NullPointerException if a duration is null
     */
    public Limits {
        if (maxFrameBytes < MIN_FRAME_BYTES) {
            throw new IllegalArgumentException(
                    "maxFrameBytes must be at least " + MIN_FRAME_BYTES + ": " + maxFrameBytes);
        }
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight must be at least 1: " + maxInFlight);
        }
        if (maxSessions < 1) {
            throw new IllegalArgumentException("maxSessions must be at least 1: " + maxSessions);
        }
        RecoveryPolicy.positive(handshakeTimeout, "handshakeTimeout");
        RecoveryPolicy.positive(callTimeout, "callTimeout");
        java.util.Objects.requireNonNull(closeGrace, "closeGrace");
        if (closeGrace.isNegative()) {
            throw new IllegalArgumentException("closeGrace must not be negative: " + closeGrace);
        }
    }

    /**
     * Returns the defaults: 16 MiB frames, 1,024 calls in flight, 10,000 sessions, a 5 s handshake timeout, a 30 s
     * call timeout and a 2 s close grace.
     *
     * @return the default limits
     */
    public static Limits defaults() {
        return DEFAULTS;
    }

    /**
     * Returns these limits with another frame limit.
     *
     * @param value the largest frame accepted, in bytes
     * @return the new limits
     * @throws IllegalArgumentException if {@code value} is below {@link #MIN_FRAME_BYTES}
     */
    public Limits withMaxFrameBytes(int value) {
        return new Limits(value, maxInFlight, maxSessions, handshakeTimeout, callTimeout, closeGrace);
    }

    /**
     * Returns these limits with another number of calls in flight.
     *
     * @param value the most unanswered calls per direction per session
     * @return the new limits
     * @throws IllegalArgumentException if {@code value} is below 1
     */
    public Limits withMaxInFlight(int value) {
        return new Limits(maxFrameBytes, value, maxSessions, handshakeTimeout, callTimeout, closeGrace);
    }

    /**
     * Returns these limits with another number of sessions.
     *
     * @param value the most sessions a server holds
     * @return the new limits
     * @throws IllegalArgumentException if {@code value} is below 1
     */
    public Limits withMaxSessions(int value) {
        return new Limits(maxFrameBytes, maxInFlight, value, handshakeTimeout, callTimeout, closeGrace);
    }

    /**
     * Returns these limits with another handshake timeout.
     *
     * @param value the time a new connection has to complete HELLO or ATTACH
     * @return the new limits
     * @throws NullPointerException if {@code value} is null
     * @throws IllegalArgumentException if {@code value} is zero or negative
     */
    public Limits withHandshakeTimeout(Duration value) {
        return new Limits(maxFrameBytes, maxInFlight, maxSessions, value, callTimeout, closeGrace);
    }

    /**
     * Returns these limits with another default call timeout.
     *
     * @param value the timeout of {@link Session#call(String, byte[])}
     * @return the new limits
     * @throws NullPointerException if {@code value} is null
     * @throws IllegalArgumentException if {@code value} is zero or negative
     */
    public Limits withCallTimeout(Duration value) {
        return new Limits(maxFrameBytes, maxInFlight, maxSessions, handshakeTimeout, value, closeGrace);
    }

    /**
     * Returns these limits with another close grace.
     *
     * @param value how long an orderly close waits for calls in flight; zero waits for none
     * @return the new limits
     * @throws NullPointerException if {@code value} is null
     * @throws IllegalArgumentException if {@code value} is negative
     */
    public Limits withCloseGrace(Duration value) {
        return new Limits(maxFrameBytes, maxInFlight, maxSessions, handshakeTimeout, callTimeout, value);
    }
}
