package io.twinline.transport;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Encodes and decodes frames (docs/PROTOCOL.md). Every length read from the wire is checked against the frame
 * limit and against what remains of the frame before anything is allocated, so one frame costs at most the frame
 * limit. Bodies longer than a chunk arrive in several frames, which {@link Connection#read()} joins within the
 * limits it is given.
 *
 * <p>Stateless apart from its limit; thread-safe. A stream must be read and written by one thread at a time.
 */
public final class FrameCodec {
    /** The first four bytes of HELLO and ATTACH bodies: ASCII "TWNL". */
    public static final int MAGIC = 0x54574E4C;
    /** The protocol version this code speaks. */
    public static final int VERSION = 2;
    /**
     * The most body bytes one frame carries: a longer body is cut into a first frame and CONTINUATIONs of at most
     * this many bytes each, so that other frames can pass between its parts.
     */
    public static final int CHUNK_BYTES = 64 * 1024;
    /**
     * The frame limit of an established connection: the longest frame of version 2 is a REQUEST with a 255-byte
     * route and a full chunk (65,805 bytes); a GOODBYE carries at most 65,538.
     */
    public static final int FRAME_LIMIT = CHUNK_BYTES + 512;
    /** Length of a resume token in bytes (128 bits). */
    public static final int TOKEN_BYTES = 16;
    /** The longest credential a HELLO may carry: a HELLO stays well within the handshake frame limit. */
    public static final int MAX_CREDENTIAL_BYTES = 2048;
    /** Bytes of a REQUEST frame besides its route and chunk: type, id, route length, body length. */
    public static final int REQUEST_OVERHEAD = 1 + 8 + 1 + 4;
    /** Most ids one ACK frame carries. */
    public static final int MAX_ACK_IDS = 4096;
    /** Bytes of an ACK frame besides its ids: type, floor, count. */
    public static final int ACK_OVERHEAD = 1 + 8 + 2;

    /** Returns how many ids fit in one ACK frame under a peer's frame limit. */
    public static int ackIdsWithin(int peerMaxFrameBytes) {
        return Math.max(1, Math.min(MAX_ACK_IDS, (peerMaxFrameBytes - ACK_OVERHEAD) / 8));
    }

    private final int maxFrameBytes;

    /**
     * @param maxFrameBytes the largest frame accepted on read (type and body; the length field excluded)
     */
    public FrameCodec(int maxFrameBytes) {
        if (maxFrameBytes < 64) {
            throw new IllegalArgumentException("maxFrameBytes too small: " + maxFrameBytes);
        }
        this.maxFrameBytes = maxFrameBytes;
    }

    public int maxFrameBytes() {
        return maxFrameBytes;
    }

    /**
     * Reads one frame.
     *
     * @throws EOFException if the stream ends cleanly before a frame starts, or in the middle of one
     * @throws MalformedFrameException if the bytes are not a valid frame
     * @throws UnsupportedVersionException if a HELLO or ATTACH carries another protocol version
     */
    public Frame read(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 1 || length > maxFrameBytes) {
            throw new MalformedFrameException("frame length " + Integer.toUnsignedString(length)
                    + " outside 1.." + maxFrameBytes + asText(length));
        }
        int code = in.readUnsignedByte();
        FrameType type = FrameType.ofCode(code);
        if (type == null) {
            throw new MalformedFrameException("unknown frame type 0x" + Integer.toHexString(code));
        }
        Body body = new Body(in, length - 1, type);
        Frame frame = switch (type) {
            case HELLO -> {
                int version = body.handshakeVersion();
                int maxMessage = body.u32Int();
                int maxInFlight = body.u32Int();
                int maxInFlightBytes = body.u32Int();
                int credentialLength = body.u16();
                if (credentialLength > MAX_CREDENTIAL_BYTES) {
                    throw new MalformedFrameException("HELLO credential of " + credentialLength + " bytes, limit "
                            + MAX_CREDENTIAL_BYTES);
                }
                yield new Frame.Hello(version, maxMessage, maxInFlight, maxInFlightBytes, body.bytes(credentialLength));
            }
            case WELCOME -> new Frame.Welcome(body.u64(), body.bytes(TOKEN_BYTES), body.u32Int(), body.u32Int(),
                    body.u32Int(), body.u32Int(), body.u32Int(), body.u32Int(), body.str8(), body.u16());
            case ATTACH -> {
                int version = body.handshakeVersion();
                yield new Frame.Attach(version, body.u64(), body.bytes(TOKEN_BYTES), body.channel(), body.u32Int());
            }
            case ATTACHED -> new Frame.Attached(body.channel());
            case REJECTED -> new Frame.Rejected(RejectReason.ofCode(body.u16()), body.str16());
            case REQUEST -> {
                long id = body.u64();
                String route = body.route();
                int bodyLength = body.u32Int();
                byte[] chunk = body.chunk(bodyLength);
                yield chunk.length == bodyLength ? new Frame.Request(id, route, chunk)
                        : new Frame.RequestHead(id, route, bodyLength, chunk);
            }
            case RESPONSE -> {
                long id = body.u64();
                int statusCode = body.u8();
                ResponseStatus status = ResponseStatus.ofCode(statusCode);
                if (status == null) {
                    throw new MalformedFrameException("unknown response status " + statusCode);
                }
                int bodyLength = body.u32Int();
                byte[] chunk = body.chunk(bodyLength);
                yield chunk.length == bodyLength ? new Frame.Response(id, status, chunk)
                        : new Frame.ResponseHead(id, status, bodyLength, chunk);
            }
            case CONTINUATION -> {
                long id = body.u64();
                if (body.remaining == 0) {
                    throw new MalformedFrameException("CONTINUATION of " + id + " carries no bytes");
                }
                yield new Frame.Continuation(id, body.chunk(CHUNK_BYTES));
            }
            case ACK -> {
                long floor = body.u64();
                int count = body.u16();
                if (count > MAX_ACK_IDS) {
                    throw new MalformedFrameException("ACK with " + count + " ids, limit " + MAX_ACK_IDS);
                }
                body.need(8L * count);
                long[] ids = new long[count];
                for (int i = 0; i < count; i++) {
                    ids[i] = body.u64();
                }
                yield new Frame.Ack(floor, ids);
            }
            case PING -> {
                long nonce = body.u64();
                int quiet = body.u32Int();
                if (quiet > Frame.Ping.MAX_QUIET_MILLIS) {
                    throw new MalformedFrameException("PING announcing a quiet interval of " + quiet
                            + " ms, limit " + Frame.Ping.MAX_QUIET_MILLIS);
                }
                yield new Frame.Ping(nonce, quiet);
            }
            case PONG -> new Frame.Pong(body.u64());
            case GOODBYE -> new Frame.Goodbye(body.str16());
        };
        body.end();
        return frame;
    }

    /**
     * {@code , as text "HTTP"} when the four bytes of a bad length field are printable ASCII, or nothing: an HTTP
     * server's answer and an HTTP request both start with text, which then names the stranger at once.
     */
    private static String asText(int length) {
        StringBuilder text = new StringBuilder(4);
        for (int shift = 24; shift >= 0; shift -= 8) {
            int b = (length >>> shift) & 0xFF;
            if (b < 0x20 || b > 0x7E) {
                return "";
            }
            text.append((char) b);
        }
        return ", as text \"" + text + "\"";
    }

    /**
     * Writes one frame; does not flush.
     *
     * @throws IllegalArgumentException if a field does not fit its wire form
     */
    public void write(Frame frame, DataOutputStream out) throws IOException {
        switch (frame) {
            case Frame.Hello h -> {
                if (h.credential().length > MAX_CREDENTIAL_BYTES) {
                    throw new IllegalArgumentException("credential of " + h.credential().length + " bytes, limit "
                            + MAX_CREDENTIAL_BYTES);
                }
                out.writeInt(1 + 4 + 2 + 4 + 4 + 4 + 2 + h.credential().length);
                out.writeByte(FrameType.HELLO.code());
                out.writeInt(MAGIC);
                out.writeShort(h.version());
                out.writeInt(h.maxMessageBytes());
                out.writeInt(h.maxInFlight());
                out.writeInt(h.maxInFlightBytes());
                out.writeShort(h.credential().length);
                out.write(h.credential());
            }
            case Frame.Welcome w -> {
                byte[] host = utf8(w.advertisedHost(), 255, "advertised host");
                out.writeInt(1 + 8 + TOKEN_BYTES + 4 * 6 + 1 + host.length + 2);
                out.writeByte(FrameType.WELCOME.code());
                out.writeLong(w.sessionId());
                out.write(w.token());
                out.writeInt(w.reattachWindowMs());
                out.writeInt(w.heartbeatMs());
                out.writeInt(w.idleTimeoutMs());
                out.writeInt(w.maxMessageBytes());
                out.writeInt(w.maxInFlight());
                out.writeInt(w.maxInFlightBytes());
                out.writeByte(host.length);
                out.write(host);
                out.writeShort(w.advertisedPort());
            }
            case Frame.Attach a -> {
                out.writeInt(1 + 4 + 2 + 8 + TOKEN_BYTES + 1 + 4);
                out.writeByte(FrameType.ATTACH.code());
                out.writeInt(MAGIC);
                out.writeShort(a.version());
                out.writeLong(a.sessionId());
                out.write(a.token());
                out.writeByte(a.channel());
                out.writeInt(a.maxMessageBytes());
            }
            case Frame.Attached a -> {
                out.writeInt(2);
                out.writeByte(FrameType.ATTACHED.code());
                out.writeByte(a.channel());
            }
            case Frame.Rejected r -> {
                byte[] detail = utf8(r.detail(), 65535, "reject detail");
                out.writeInt(1 + 2 + 2 + detail.length);
                out.writeByte(FrameType.REJECTED.code());
                out.writeShort(r.reason().code());
                out.writeShort(detail.length);
                out.write(detail);
            }
            case Frame.Request r -> writeRequest(r.id(), routeBytes(r.route()), r.body(), out);
            case Frame.Response r -> {
                writeResponseHead(r.id(), r.status(), r.body(), Math.min(CHUNK_BYTES, r.body().length), out);
                writeContinuations(r.id(), r.body(), out);
            }
            case Frame.RequestHead h -> {
                byte[] route = routeBytes(h.route());
                checkHead(h.bodyLength(), h.chunk());
                out.writeInt(REQUEST_OVERHEAD + route.length + h.chunk().length);
                out.writeByte(FrameType.REQUEST.code());
                out.writeLong(h.id());
                out.writeByte(route.length);
                out.write(route);
                out.writeInt(h.bodyLength());
                out.write(h.chunk());
            }
            case Frame.ResponseHead h -> {
                checkHead(h.bodyLength(), h.chunk());
                out.writeInt(1 + 8 + 1 + 4 + h.chunk().length);
                out.writeByte(FrameType.RESPONSE.code());
                out.writeLong(h.id());
                out.writeByte(h.status().code());
                out.writeInt(h.bodyLength());
                out.write(h.chunk());
            }
            case Frame.Continuation c -> writeContinuation(c.id(), c.chunk(), 0, c.chunk().length, out);
            case Frame.Ack a -> {
                if (a.ids().length > MAX_ACK_IDS) {
                    throw new IllegalArgumentException("ACK with " + a.ids().length + " ids, limit " + MAX_ACK_IDS);
                }
                out.writeInt(1 + 8 + 2 + 8 * a.ids().length);
                out.writeByte(FrameType.ACK.code());
                out.writeLong(a.floor());
                out.writeShort(a.ids().length);
                for (long id : a.ids()) {
                    out.writeLong(id);
                }
            }
            case Frame.Ping p -> {
                out.writeInt(13);
                out.writeByte(FrameType.PING.code());
                out.writeLong(p.nonce());
                out.writeInt(p.quietMillis());
            }
            case Frame.Pong p -> {
                out.writeInt(9);
                out.writeByte(FrameType.PONG.code());
                out.writeLong(p.nonce());
            }
            case Frame.Goodbye g -> {
                byte[] reason = utf8(g.reason(), 65535, "goodbye reason");
                out.writeInt(1 + 2 + reason.length);
                out.writeByte(FrameType.GOODBYE.code());
                out.writeShort(reason.length);
                out.write(reason);
            }
        }
    }

    /**
     * Writes a whole request: its first frame and, for a body longer than {@link #CHUNK_BYTES}, the CONTINUATIONs
     * right after it. A {@link Connection} interleaves those with other frames instead
     * ({@link #writeRequestHead}, {@link #writeContinuation}).
     */
    public void writeRequest(long id, byte[] route, byte[] body, DataOutputStream out) throws IOException {
        writeRequestHead(id, route, body, Math.min(CHUNK_BYTES, body.length), out);
        writeContinuations(id, body, out);
    }

    private void writeContinuations(long id, byte[] body, DataOutputStream out) throws IOException {
        for (int offset = CHUNK_BYTES; offset < body.length; offset += CHUNK_BYTES) {
            writeContinuation(id, body, offset, Math.min(CHUNK_BYTES, body.length - offset), out);
        }
    }

    /**
     * Writes the first frame of a request from its parts, carrying the body's first {@code chunk} bytes (the whole
     * body if it is that long), so a caller that keeps the route already encoded does not encode it again. The body
     * is written straight through, never copied.
     */
    public void writeRequestHead(long id, byte[] route, byte[] body, int chunk, DataOutputStream out)
            throws IOException {
        if (route.length == 0 || route.length > 255) {
            throw new IllegalArgumentException("route must be 1 to 255 bytes: " + route.length);
        }
        checkChunk(body, 0, chunk);
        out.writeInt(REQUEST_OVERHEAD + route.length + chunk);
        out.writeByte(FrameType.REQUEST.code());
        out.writeLong(id);
        out.writeByte(route.length);
        out.write(route);
        out.writeInt(body.length);
        out.write(body, 0, chunk);
    }

    /** Writes the first frame of a response, carrying the body's first {@code chunk} bytes. */
    public void writeResponseHead(long id, ResponseStatus status, byte[] body, int chunk, DataOutputStream out)
            throws IOException {
        checkChunk(body, 0, chunk);
        out.writeInt(1 + 8 + 1 + 4 + chunk);
        out.writeByte(FrameType.RESPONSE.code());
        out.writeLong(id);
        out.writeByte(status.code());
        out.writeInt(body.length);
        out.write(body, 0, chunk);
    }

    /** Writes a CONTINUATION of message {@code id} with {@code length} bytes of its body from {@code offset}. */
    public void writeContinuation(long id, byte[] body, int offset, int length, DataOutputStream out)
            throws IOException {
        checkChunk(body, offset, length);
        if (length == 0) {
            throw new IllegalArgumentException("a CONTINUATION carries at least one byte");
        }
        out.writeInt(1 + 8 + length);
        out.writeByte(FrameType.CONTINUATION.code());
        out.writeLong(id);
        out.write(body, offset, length);
    }

    private static void checkChunk(byte[] body, int offset, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, body.length);
        if (length > CHUNK_BYTES) {
            throw new IllegalArgumentException("chunk of " + length + " bytes, limit " + CHUNK_BYTES);
        }
    }

    private static void checkHead(int bodyLength, byte[] chunk) {
        if (chunk.length > CHUNK_BYTES || chunk.length > bodyLength) {
            throw new IllegalArgumentException("chunk of " + chunk.length + " bytes for a body of " + bodyLength);
        }
    }

    /** A route's UTF-8 bytes, checked for the wire's 1 to 255 bytes. */
    static byte[] routeBytes(String route) {
        byte[] b = utf8(route, 255, "route");
        if (b.length == 0) {
            throw new IllegalArgumentException("route must not be empty");
        }
        return b;
    }

    private static byte[] utf8(String s, int max, String what) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > max) {
            throw new IllegalArgumentException(what + " longer than " + max + " bytes: " + b.length);
        }
        return b;
    }

    /** The rest of one frame on the stream: every read is checked against what remains. */
    private static final class Body {
        private final DataInputStream in;
        private final FrameType type;
        int remaining;

        Body(DataInputStream in, int remaining, FrameType type) {
            this.in = in;
            this.remaining = remaining;
            this.type = type;
        }

        void need(long n) throws MalformedFrameException {
            if (n > remaining) {
                throw new MalformedFrameException(type + " frame truncated: needs " + n + " more bytes, has "
                        + remaining);
            }
        }

        int u8() throws IOException {
            need(1);
            remaining -= 1;
            return in.readUnsignedByte();
        }

        int u16() throws IOException {
            need(2);
            remaining -= 2;
            return in.readUnsignedShort();
        }

        /** A u32 that must fit in a non-negative int (limits and durations). */
        int u32Int() throws IOException {
            need(4);
            remaining -= 4;
            int v = in.readInt();
            if (v < 0) {
                throw new MalformedFrameException(type + " field out of range: " + Integer.toUnsignedString(v));
            }
            return v;
        }

        long u64() throws IOException {
            need(8);
            remaining -= 8;
            return in.readLong();
        }

        byte[] bytes(int n) throws IOException {
            need(n);
            remaining -= n;
            byte[] b = new byte[n];
            in.readFully(b);
            return b;
        }

        String str8() throws IOException {
            return new String(bytes(u8()), StandardCharsets.UTF_8);
        }

        String str16() throws IOException {
            return new String(bytes(u16()), StandardCharsets.UTF_8);
        }

        String route() throws IOException {
            int n = u8();
            if (n == 0) {
                throw new MalformedFrameException("REQUEST with an empty route");
            }
            return new String(bytes(n), StandardCharsets.UTF_8);
        }

        int channel() throws IOException {
            int c = u8();
            if (c > 1) {
                throw new MalformedFrameException(type + " names unknown channel " + c);
            }
            return c;
        }

        int handshakeVersion() throws IOException {
            need(4);
            remaining -= 4;
            int magic = in.readInt();
            if (magic != MAGIC) {
                throw new MalformedFrameException("bad magic 0x" + Integer.toHexString(magic) + " in " + type
                        + " (expected 0x" + Integer.toHexString(MAGIC) + ")");
            }
            int version = u16();
            if (version != VERSION) {
                throw new UnsupportedVersionException(version);
            }
            return version;
        }

        /** The rest of the frame as one chunk of a body of {@code bodyLength} bytes: at most that, and a chunk. */
        byte[] chunk(int bodyLength) throws IOException {
            if (remaining > CHUNK_BYTES || remaining > bodyLength) {
                throw new MalformedFrameException(type + " carries a chunk of " + remaining + " bytes (limit "
                        + Math.min(CHUNK_BYTES, bodyLength) + ")");
            }
            return bytes(remaining);
        }

        void end() throws MalformedFrameException {
            if (remaining != 0) {
                throw new MalformedFrameException(type + " frame has " + remaining + " unexpected trailing bytes");
            }
        }
    }
}
