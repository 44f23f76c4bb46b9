package io.twinline.transport;

import java.util.Arrays;
import java.util.Optional;

/**
 * One protocol frame. docs/PROTOCOL.md gives the byte layout of each; the type codes are in {@link FrameType}.
 */
public sealed interface Frame {

    /**
     * The body a {@link Connection} delivers for a REQUEST or RESPONSE it was told not to keep
     * ({@link Connection.Bodies#wanted}): its bytes were read and dropped. Compared by identity.
     */
    byte[] DROPPED = new byte[0];

    /**
     * A request or response, which a {@link Connection}'s writer sends as a first frame and, for a body longer than
     * {@link FrameCodec#CHUNK_BYTES}, CONTINUATIONs, interleaved with other messages and with control frames.
     */
    interface Message {
        /** Returns the call's id. */
        long id();

        /** Returns the whole body. */
        byte[] body();

        /** Writes the first frame, carrying the first {@code chunk} bytes of the body; does not flush. */
        void writeHead(FrameCodec codec, java.io.DataOutputStream out, int chunk) throws java.io.IOException;
    }

    /** Returns the frame's type. */
    FrameType type();

    /**
     * First frame of a new session, on channel A.
     *
     * @param credential what the client presents to the server's authenticator (empty: nothing), at most
     *     {@link FrameCodec#MAX_CREDENTIAL_BYTES}
     */
    record Hello(int version, int maxMessageBytes, int maxInFlight, int maxInFlightBytes, byte[] credential)
            implements Frame {
        public Hello {
            java.util.Objects.requireNonNull(credential, "credential");
        }

        /** A HELLO without a credential. */
        public Hello(int version, int maxMessageBytes, int maxInFlight, int maxInFlightBytes) {
            this(version, maxMessageBytes, maxInFlight, maxInFlightBytes, new byte[0]);
        }

        public FrameType type() {
            return FrameType.HELLO;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Hello h && h.version == version && h.maxMessageBytes == maxMessageBytes
                    && h.maxInFlight == maxInFlight && h.maxInFlightBytes == maxInFlightBytes
                    && Arrays.equals(h.credential, credential);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(version, maxMessageBytes, maxInFlight, maxInFlightBytes)
                    * 31 + Arrays.hashCode(credential);
        }

        @Override
        public String toString() {
            return "Hello[version=" + version + ", maxMessageBytes=" + maxMessageBytes + ", maxInFlight=" + maxInFlight
                    + ", maxInFlightBytes=" + maxInFlightBytes + ", credential=" + credential.length + " bytes]";
        }
    }

    /**
     * The server's answer to HELLO.
     *
     * @param advertisedHost where to re-attach ({@code ""}: the address already dialled)
     */
    record Welcome(long sessionId, byte[] token, int reattachWindowMs, int heartbeatMs, int idleTimeoutMs,
                   int maxMessageBytes, int maxInFlight, int maxInFlightBytes, String advertisedHost,
                   int advertisedPort) implements Frame {
        public Welcome {
            if (token.length != FrameCodec.TOKEN_BYTES) {
                throw new IllegalArgumentException("token must be " + FrameCodec.TOKEN_BYTES + " bytes: "
                        + token.length);
            }
        }

        public FrameType type() {
            return FrameType.WELCOME;
        }

        /** Returns the advertised re-attach address, if the server named one. */
        public Optional<String> advertised() {
            return advertisedHost.isEmpty() ? Optional.empty() : Optional.of(advertisedHost + ":" + advertisedPort);
        }

        @Override
        public String toString() {
            return "Welcome[sessionId=" + sessionId + ", token=<hidden>, reattachWindowMs=" + reattachWindowMs
                    + ", heartbeatMs=" + heartbeatMs + ", idleTimeoutMs=" + idleTimeoutMs + ", maxMessageBytes="
                    + maxMessageBytes + ", maxInFlight=" + maxInFlight + ", maxInFlightBytes=" + maxInFlightBytes
                    + ", advertised=" + advertised() + "]";
        }
    }

    /** Attaches a new connection to an existing session as channel {@code channel} (0 = A, 1 = B). */
    record Attach(int version, long sessionId, byte[] token, int channel, int maxMessageBytes) implements Frame {
        public Attach {
            if (token.length != FrameCodec.TOKEN_BYTES) {
                throw new IllegalArgumentException("token must be " + FrameCodec.TOKEN_BYTES + " bytes: "
                        + token.length);
            }
        }

        public FrameType type() {
            return FrameType.ATTACH;
        }

        @Override
        public String toString() {
            return "Attach[sessionId=" + sessionId + ", channel=" + channel + ", token=<hidden>]";
        }
    }

    /** The server accepted an ATTACH. */
    record Attached(int channel) implements Frame {
        public FrameType type() {
            return FrameType.ATTACHED;
        }
    }

    /** The server refused a HELLO or ATTACH; it closes the connection after sending this. */
    record Rejected(RejectReason reason, String detail) implements Frame {
        public FrameType type() {
            return FrameType.REJECTED;
        }
    }

    /** A call. {@code id} is unique per session and direction, starting at 1. */
    record Request(long id, String route, byte[] body) implements Frame, Message {
        public FrameType type() {
            return FrameType.REQUEST;
        }

        @Override
        public void writeHead(FrameCodec codec, java.io.DataOutputStream out, int chunk) throws java.io.IOException {
            codec.writeRequestHead(id, FrameCodec.routeBytes(route), body, chunk, out);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Request r && r.id == id && r.route.equals(route) && Arrays.equals(r.body, body);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(id) * 31 + route.hashCode();
        }

        @Override
        public String toString() {
            return "Request[id=" + id + ", route=" + route + ", body=" + body.length + " bytes]";
        }
    }

    /** The answer to the request with the same id, on the same channel. */
    record Response(long id, ResponseStatus status, byte[] body) implements Frame, Message {
        public FrameType type() {
            return FrameType.RESPONSE;
        }

        @Override
        public void writeHead(FrameCodec codec, java.io.DataOutputStream out, int chunk) throws java.io.IOException {
            codec.writeResponseHead(id, status, body, chunk, out);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Response r && r.id == id && r.status == status && Arrays.equals(r.body, body);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(id) * 31 + status.hashCode();
        }

        @Override
        public String toString() {
            return "Response[id=" + id + ", status=" + status + ", body=" + body.length + " bytes]";
        }
    }

    /**
     * The first frame of a request whose body continues in CONTINUATION frames: {@code chunk} is its first part.
     * Only {@link FrameCodec#read} makes these; a {@link Connection} joins the parts into a {@link Request}.
     */
    record RequestHead(long id, String route, int bodyLength, byte[] chunk) implements Frame {
        public FrameType type() {
            return FrameType.REQUEST;
        }

        @Override
        public String toString() {
            return "RequestHead[id=" + id + ", route=" + route + ", body=" + bodyLength + " bytes, chunk="
                    + chunk.length + "]";
        }
    }

    /** The first frame of a response whose body continues in CONTINUATION frames; see {@link RequestHead}. */
    record ResponseHead(long id, ResponseStatus status, int bodyLength, byte[] chunk) implements Frame {
        public FrameType type() {
            return FrameType.RESPONSE;
        }

        @Override
        public String toString() {
            return "ResponseHead[id=" + id + ", status=" + status + ", body=" + bodyLength + " bytes, chunk="
                    + chunk.length + "]";
        }
    }

    /** The next part of the body of the request or response {@code id} that is arriving on the same connection. */
    record Continuation(long id, byte[] chunk) implements Frame {
        public FrameType type() {
            return FrameType.CONTINUATION;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Continuation c && c.id == id && Arrays.equals(c.chunk, chunk);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(id) * 31 + Arrays.hashCode(chunk);
        }

        @Override
        public String toString() {
            return "Continuation[id=" + id + ", chunk=" + chunk.length + " bytes]";
        }
    }

    /**
     * The requester received the responses with these ids, and every response with an id below {@code floor}:
     * the responder may forget them.
     */
    record Ack(long floor, long[] ids) implements Frame {
        public FrameType type() {
            return FrameType.ACK;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Ack a && a.floor == floor && Arrays.equals(a.ids, ids);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(floor) * 31 + Arrays.hashCode(ids);
        }

        @Override
        public String toString() {
            return "Ack[floor=" + floor + ", ids=" + Arrays.toString(ids) + "]";
        }
    }

    /**
     * Must be answered at once with a PONG carrying the same nonce, on the same channel.
     *
     * @param nonce chosen by the sender, repeated in the PONG
     * @param quietMillis 0, or the sender's promise that its next bytes on this connection follow this PING within
     *     that many milliseconds (a quiet heartbeat, PROTOCOL §7.2); at most {@link #MAX_QUIET_MILLIS}
     */
    record Ping(long nonce, int quietMillis) implements Frame {
        /** The longest quiet interval a PING may announce. */
        public static final int MAX_QUIET_MILLIS = 60_000;

        /**
         * @throws IllegalArgumentException if {@code quietMillis} is negative or above {@link #MAX_QUIET_MILLIS}
         */
        public Ping {
            if (quietMillis < 0 || quietMillis > MAX_QUIET_MILLIS) {
                throw new IllegalArgumentException("quietMillis " + quietMillis + " outside 0.." + MAX_QUIET_MILLIS);
            }
        }

        /** A PING that promises nothing beyond the sender's usual heartbeat. */
        public Ping(long nonce) {
            this(nonce, 0);
        }

        public FrameType type() {
            return FrameType.PING;
        }
    }

    /** The answer to a PING. */
    record Pong(long nonce) implements Frame {
        public FrameType type() {
            return FrameType.PONG;
        }
    }

    /** Orderly close of the whole session; no recovery follows. */
    record Goodbye(String reason) implements Frame {
        public FrameType type() {
            return FrameType.GOODBYE;
        }
    }
}
