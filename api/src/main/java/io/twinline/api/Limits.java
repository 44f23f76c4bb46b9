package io.twinline.api;

import java.time.Duration;

/**
 * Hard limits that keep memory bounded and bad peers harmless. Immutable and validated; start from
 * {@link #defaults()}.
 *
 * @param maxMessageBytes the longest request or response body accepted, in bytes; a peer that announces a longer one
 *     has its connection closed before the body is kept. The two ends announce theirs in the handshake: a request
 *     body must fit the peer's (else the call is refused at once), a response body the caller's (a larger one
 *     reaches the caller as a {@link RemoteFailureException}). Bodies travel in chunks of at most 64 KiB whatever
 *     this is
 * @param maxInFlight the most unanswered calls per direction per session; a caller past it blocks until a slot
 *     frees. The two ends announce theirs in the handshake and each direction uses the smaller. Also bounds the
 *     peer's cache of unacknowledged responses
 * @param maxInFlightBytes the most request body bytes unanswered at once per direction per session (at least
 *     {@code maxMessageBytes}); a caller past it waits, within its timeout, until earlier calls are answered. The
 *     two ends announce theirs in the handshake and each direction uses the smaller; a peer that sends more is
 *     closed as malformed. With {@code maxInFlight} it bounds the calls kept for replay and the requests a responder
 *     holds. It also bounds the bodies arriving in chunks at once on each connection to this end, responses
 *     included: the peer begins a body longer than one chunk only while those it has begun there stay within it
 * @param maxCachedBytes the response body bytes a responder keeps for the peer's replay (answered, not yet
 *     acknowledged) past which it starts no new request until acknowledgements bring it back under; the requests
 *     wait, in order. Not announced: it bounds this side's memory only
 * @param sendBufferBytes the bytes the operating system may hold for sending on each connection (written, not yet
 *     acknowledged by the peer), or 0 for the system's own sizing. Anything written later, a heartbeat or a small
 *     call's chunk included, waits behind what is held there: on a link of rate R a control frame can wait up to
 *     about {@code sendBufferBytes / R} (128 KiB: 0.13 s at 8 Mbit/s). It also bounds one connection's throughput
 *     to about {@code sendBufferBytes / round-trip time} (128 KiB over 50 ms: 21 Mbit/s): raise it, or set 0, for
 *     long fat links
 * @param maxSessions the most sessions a server holds, counting an ended one until its threads have finished
 *     (up to {@code closeGrace}); HELLO past it is REJECTED with {@code SERVER_FULL}, however many HELLOs
 *     arrive at the same moment
 * @param handshakeTimeout a new connection that has not completed HELLO or ATTACH within this is dropped; a client
 *     waits at most this long for each dial and each answer to its HELLO or ATTACH, and opens a first session again
 *     for this long while the server resets its connections before answering (too many in handshake)
 * @param callTimeout the timeout of {@link Session#call(String, byte[])}
 * @param closeGrace how long an orderly close waits for calls in flight to be answered before GOODBYE
 * @param maxHandshakes the most connections a server holds before their first frame (HELLO or ATTACH) is read and
 *     answered; a connection accepted past it is reset at once and counted ({@code connectionsShed}), so a flood of
 *     connections that say nothing holds at most this many sockets and threads, each for at most
 *     {@code handshakeTimeout}
 * @param maxHandshakesPerAddress the most of those from one IP address; past it, that address's new connections are
 *     reset while other addresses still get in. Clients behind one NAT share it
 */
public record Limits(
        int maxMessageBytes,
        int maxInFlight,
        int maxInFlightBytes,
        long maxCachedBytes,
        int sendBufferBytes,
        int maxSessions,
        Duration handshakeTimeout,
        Duration callTimeout,
        Duration closeGrace,
        int maxHandshakes,
        int maxHandshakesPerAddress) {

    /** The smallest message limit accepted: room for a small call and a failure's description. */
    public static final int MIN_MESSAGE_BYTES = 1024;

    private static final Limits DEFAULTS = new Limits(
            // 16 MiB: large payloads fit; a hostile length costs at most this much per connection.
            16 << 20,
            // Enough for a thousand concurrent callers per session without queueing them.
            1024,
            // Four maximal bodies, or a thousand of 64 KiB: what a session may hold of the peer's requests and keep of
            // its own for replay, per direction.
            64 << 20,
            // As much of this side's answers kept for the peer's replay.
            64L << 20,
            // Two chunks: a heartbeat or a small call waits behind at most that much in the kernel, while a
            // connection still moves about 20 Mbit/s over a 50 ms round trip.
            128 << 10,
            // 10,000 sessions need 20,000 sockets: the open-file limit of a typical server process.
            10_000,
            // A handshake is one round trip; five seconds drops silent or slow connections early.
            Duration.ofSeconds(5),
            Duration.ofSeconds(30),
            Duration.ofSeconds(2),
            // A handshake takes a round trip: even a burst of thousands of clients re-attaching after an outage
            // rarely has a thousand in handshake at once, while a flood of silent connections holds at most this many.
            1024,
            // A new session holds two places until its B is attached (HELLO's, then B's): 128 sessions opening at once
            // from one address, or a NAT of a few clients re-attaching (64 dials at once per client process, DialGate).
            256);

    /**
     * Validates every field.
     *
     * @throws IllegalArgumentException if {@code maxMessageBytes} is below {@link #MIN_MESSAGE_BYTES}, if
     *     {@code maxInFlight} or {@code maxSessions} is below 1, if {@code maxInFlightBytes} is below
     *     {@code maxMessageBytes}, {@code maxCachedBytes} below 1 or {@code sendBufferBytes} below 0, if
     *     {@code handshakeTimeout} or {@code callTimeout} is not positive, or if {@code closeGrace} is negative; the message names the field and shows the value
     * @throws NullPointerException if a duration is null
     */
    public Limits {
        if (maxMessageBytes < MIN_MESSAGE_BYTES) {
            throw new IllegalArgumentException(
                    "maxMessageBytes must be at least " + MIN_MESSAGE_BYTES + ": " + maxMessageBytes);
        }
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight must be at least 1: " + maxInFlight);
        }
        if (maxInFlightBytes < maxMessageBytes) {
            throw new IllegalArgumentException("maxInFlightBytes must be at least maxMessageBytes (" + maxMessageBytes
                    + "): " + maxInFlightBytes);
        }
        if (maxCachedBytes < 1) {
            throw new IllegalArgumentException("maxCachedBytes must be at least 1: " + maxCachedBytes);
        }
        if (sendBufferBytes < 0) {
            throw new IllegalArgumentException("sendBufferBytes must not be negative: " + sendBufferBytes);
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
        if (maxHandshakes < 1) {
            throw new IllegalArgumentException("maxHandshakes must be at least 1: " + maxHandshakes);
        }
        if (maxHandshakesPerAddress < 1 || maxHandshakesPerAddress > maxHandshakes) {
            throw new IllegalArgumentException("maxHandshakesPerAddress must be within 1..maxHandshakes ("
                    + maxHandshakes + "): " + maxHandshakesPerAddress);
        }
    }

    /**
     * Limits with the default bounds of connections in handshake (1,024, and 256 per address).
     *
     * @param maxMessageBytes as the record's component
     * @param maxInFlight as the record's component
     * @param maxInFlightBytes as the record's component
     * @param maxCachedBytes as the record's component
     * @param sendBufferBytes as the record's component
     * @param maxSessions as the record's component
     * @param handshakeTimeout as the record's component
     * @param callTimeout as the record's component
     * @param closeGrace as the record's component
     * @throws IllegalArgumentException as the canonical constructor
     */
    public Limits(int maxMessageBytes, int maxInFlight, int maxInFlightBytes, long maxCachedBytes,
                  int sendBufferBytes, int maxSessions, Duration handshakeTimeout, Duration callTimeout,
                  Duration closeGrace) {
        this(maxMessageBytes, maxInFlight, maxInFlightBytes, maxCachedBytes, sendBufferBytes, maxSessions,
                handshakeTimeout, callTimeout, closeGrace, 1024, 256);
    }

    /**
     * Returns the defaults: 16 MiB messages, 1,024 calls and 64 MiB of request bodies in flight, 64 MiB of responses
     * kept for replay, a 128 KiB send buffer, 10,000 sessions, a 5 s handshake timeout, a 30 s
     * call timeout, a 2 s close grace, and 1,024 connections in handshake, 256 from one address.
     *
     * @return the default limits
     */
    public static Limits defaults() {
        return DEFAULTS;
    }

    /**
     * Returns these limits with another message limit; {@code maxInFlightBytes} is raised to it if lower.
     *
     * @param value the longest request or response body accepted, in bytes
     * @return the new limits
     * @throws IllegalArgumentException if {@code value} is below {@link #MIN_MESSAGE_BYTES}
     */
    public Limits withMaxMessageBytes(int value) {
        return new Limits(value, maxInFlight, Math.max(value, maxInFlightBytes), maxCachedBytes, sendBufferBytes,
                maxSessions, handshakeTimeout, callTimeout, closeGrace, maxHandshakes, maxHandshakesPerAddress);
    }

    /**
     * Returns these limits with another number of calls in flight.
     *
     * @param value the most unanswered calls per direction per session
     * @return the new limits
     * @throws IllegalArgumentException if {@code value} is below 1
     */
    public Limits withMaxInFlight(int value) {
        return new Limits(maxMessageBytes, value, maxInFlightBytes, maxCachedBytes, sendBufferBytes,
                maxSessions, handshakeTimeout, callTimeout, closeGrace, maxHandshakes, maxHandshakesPerAddress);
    }

    /**
     * Returns these limits with another number of sessions.
     *
     * @param value the most sessions a server holds
     * @return the new limits
     * @throws IllegalArgumentException if {@code value} is below 1
     */
    public Limits withMaxSessions(int value) {
        return new Limits(maxMessageBytes, maxInFlight, maxInFlightBytes, maxCachedBytes, sendBufferBytes,
                value, handshakeTimeout, callTimeout, closeGrace, maxHandshakes, maxHandshakesPerAddress);
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
        return new Limits(maxMessageBytes, maxInFlight, maxInFlightBytes, maxCachedBytes, sendBufferBytes,
                maxSessions, value, callTimeout, closeGrace, maxHandshakes, maxHandshakesPerAddress);
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
        return new Limits(maxMessageBytes, maxInFlight, maxInFlightBytes, maxCachedBytes, sendBufferBytes,
                maxSessions, handshakeTimeout, value, closeGrace, maxHandshakes, maxHandshakesPerAddress);
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
        return new Limits(maxMessageBytes, maxInFlight, maxInFlightBytes, maxCachedBytes, sendBufferBytes,
                maxSessions, handshakeTimeout, callTimeout, value, maxHandshakes, maxHandshakesPerAddress);
    }

    /**
     * Returns these limits with another budget of request bytes in flight.
     *
     * @param value the most request body bytes unanswered at once per direction per session
     * @return the new limits
     * @throws IllegalArgumentException if {@code value} is below {@code maxMessageBytes}
     */
    public Limits withMaxInFlightBytes(int value) {
        return new Limits(maxMessageBytes, maxInFlight, value, maxCachedBytes, sendBufferBytes,
                maxSessions, handshakeTimeout, callTimeout, closeGrace, maxHandshakes, maxHandshakesPerAddress);
    }

    /**
     * Returns these limits with another budget of responses kept for replay.
     *
     * @param value the response bytes kept, past which no new request starts until acknowledgements come
     * @return the new limits
     * @throws IllegalArgumentException if {@code value} is below 1
     */
    public Limits withMaxCachedBytes(long value) {
        return new Limits(maxMessageBytes, maxInFlight, maxInFlightBytes, value, sendBufferBytes,
                maxSessions, handshakeTimeout, callTimeout, closeGrace, maxHandshakes, maxHandshakesPerAddress);
    }

    /**
     * Returns these limits with another send buffer.
     *
     * @param value the bytes the operating system may hold for sending on each connection, or 0 for its own sizing
     * @return the new limits
     * @throws IllegalArgumentException if {@code value} is negative
     */
    public Limits withSendBufferBytes(int value) {
        return new Limits(maxMessageBytes, maxInFlight, maxInFlightBytes, maxCachedBytes, value,
                maxSessions, handshakeTimeout, callTimeout, closeGrace, maxHandshakes, maxHandshakesPerAddress);
    }

    /**
     * Returns these limits with other bounds of connections in handshake.
     *
     * @param total the most connections in handshake at once
     * @param perAddress the most of those from one IP address
     * @return the new limits
     * @throws IllegalArgumentException if {@code total} is below 1 or {@code perAddress} is not within
     *     1..{@code total}
     */
    public Limits withMaxHandshakes(int total, int perAddress) {
        return new Limits(maxMessageBytes, maxInFlight, maxInFlightBytes, maxCachedBytes, sendBufferBytes,
                maxSessions, handshakeTimeout, callTimeout, closeGrace, total, perAddress);
    }
}
