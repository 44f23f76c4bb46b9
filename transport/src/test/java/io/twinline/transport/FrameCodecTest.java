package io.twinline.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrameCodecTest {
    private static final byte[] TOKEN = new byte[16];

    static {
        Arrays.fill(TOKEN, (byte) 7);
    }

    private final FrameCodec codec = new FrameCodec(64 * 1024);

    private byte[] encode(Frame frame) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        codec.write(frame, out);
        out.flush();
        return bytes.toByteArray();
    }

    private Frame decode(byte[] bytes) throws IOException {
        return codec.read(new DataInputStream(new ByteArrayInputStream(bytes)));
    }

    @Test
    void everyFrameTypeRoundTrips() throws IOException {
        List<Frame> frames = List.of(
                new Frame.Hello(FrameCodec.VERSION, 1 << 20, 1024, 1 << 26),
                new Frame.Hello(FrameCodec.VERSION, 1 << 20, 1024, 1 << 26, "alice:s3cret".getBytes()),
                new Frame.Welcome(42L, TOKEN, 20_000, 1000, 3000, 1 << 24, 1024, 1 << 26, "", 0),
                new Frame.Welcome(43L, TOKEN, 20_000, 1000, 3000, 1 << 24, 1024, 1 << 26, "node-2.example", 7420),
                new Frame.Attach(FrameCodec.VERSION, 42L, TOKEN, 1, 1 << 20),
                new Frame.Attached(0),
                new Frame.Rejected(RejectReason.BAD_TOKEN, "wrong token for s-2a"),
                new Frame.Request(9L, "ledger.add", new byte[] {1, 2, 3}),
                new Frame.Request(10L, "r", new byte[0]),
                new Frame.Response(9L, ResponseStatus.OK, new byte[] {4, 5}),
                new Frame.Response(11L, ResponseStatus.HANDLER_FAILED, "boom".getBytes()),
                new Frame.Response(12L, ResponseStatus.NO_SUCH_ROUTE, new byte[0]),
                new Frame.Ack(5L, new long[] {7, 9, 12}),
                new Frame.Ack(1L, new long[0]),
                new Frame.Ping(-3L),
                new Frame.Ping(4L, 10_000),
                new Frame.Pong(Long.MAX_VALUE),
                new Frame.Goodbye("closed by client"));
        for (Frame frame : frames) {
            Frame back = decode(encode(frame));
            assertEquals(frame.type(), back.type());
            if (frame instanceof Frame.Welcome w) {
                Frame.Welcome b = (Frame.Welcome) back;
                assertArrayEquals(w.token(), b.token());
                assertEquals(w.toString(), b.toString());
            } else if (frame instanceof Frame.Attach a) {
                Frame.Attach b = (Frame.Attach) back;
                assertArrayEquals(a.token(), b.token());
                assertEquals(a.sessionId(), b.sessionId());
                assertEquals(a.channel(), b.channel());
                assertEquals(a.maxMessageBytes(), b.maxMessageBytes());
            } else {
                assertEquals(frame, back, "round trip of " + frame);
            }
        }
    }

    @Test
    void streamOfFramesDecodesInOrder() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        for (long i = 1; i <= 100; i++) {
            codec.writeRequest(i, "add".getBytes(), new byte[(int) i], out);
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()));
        for (long i = 1; i <= 100; i++) {
            Frame.Request r = (Frame.Request) codec.read(in);
            assertEquals(i, r.id());
            assertEquals(i, r.body().length);
        }
        assertThrows(EOFException.class, () -> codec.read(in));
    }

    @Test
    void truncatedFrameIsRejected() throws IOException {
        byte[] whole = encode(new Frame.Request(1L, "add", new byte[100]));
        for (int cut = 1; cut < whole.length; cut += 7) {
            byte[] part = Arrays.copyOf(whole, cut);
            assertThrows(EOFException.class, () -> decode(part), "cut at " + cut);
        }
    }

    @Test
    void fieldLongerThanItsFrameIsRejectedBeforeAllocation() {
        // A REJECTED frame of 5 bytes whose detail claims 60,000 bytes.
        byte[] bytes = ByteBuffer.allocate(9).putInt(5).put((byte) 0x05).putShort((short) 1)
                .putShort((short) 60_000).array();
        MalformedFrameException e = assertThrows(MalformedFrameException.class, () -> decode(bytes));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void oversizedLengthIsRejectedWithoutReadingTheBody() {
        // Claims 2 GiB; the stream has nothing more. A codec that allocated first would fail with OutOfMemoryError.
        byte[] bytes = ByteBuffer.allocate(5).putInt(Integer.MAX_VALUE).put((byte) 0x10).array();
        CountingInput counting = new CountingInput(bytes);
        MalformedFrameException e = assertThrows(MalformedFrameException.class,
                () -> codec.read(new DataInputStream(counting)));
        assertTrue(e.getMessage().contains("outside"), e.getMessage());
        assertEquals(4, counting.read, "only the length field was read");
    }

    @Test
    void aLengthThatIsTextIsShownAsText() {
        byte[] http = "HTTP/1.1 400 Bad Request\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        MalformedFrameException e = assertThrows(MalformedFrameException.class, () -> decode(http));
        assertEquals("frame length 1213486160 outside 1..65536, as text \"HTTP\"", e.getMessage());
        byte[] binary = ByteBuffer.allocate(5).putInt(0x7FFF_0000).put((byte) 0x10).array();
        e = assertThrows(MalformedFrameException.class, () -> decode(binary));
        assertFalse(e.getMessage().contains("as text"), e.getMessage());
    }

    @Test
    void negativeAndZeroLengthsAreRejected() {
        for (int length : new int[] {0, -1, Integer.MIN_VALUE}) {
            byte[] bytes = ByteBuffer.allocate(5).putInt(length).put((byte) 0x20).array();
            assertThrows(MalformedFrameException.class, () -> decode(bytes), "length " + length);
        }
    }

    @Test
    void unknownTypeIsRejected() {
        byte[] bytes = ByteBuffer.allocate(13).putInt(9).put((byte) 0x7F).putLong(1).array();
        MalformedFrameException e = assertThrows(MalformedFrameException.class, () -> decode(bytes));
        assertTrue(e.getMessage().contains("unknown frame type 0x7f"), e.getMessage());
    }

    @Test
    void helloIsTheBytesOfProtocolSection33() throws IOException {
        byte[] bytes = encode(new Frame.Hello(FrameCodec.VERSION, 1 << 24, 1024, 1 << 26));
        assertEquals("00000015" + "01" + "54574e4c" + "0002" + "01000000" + "00000400" + "04000000" + "0000",
                java.util.HexFormat.of().formatHex(bytes));
    }

    @Test
    void aHelloCredentialPastItsLimitIsRefusedBothWays() throws IOException {
        byte[] longest = new byte[FrameCodec.MAX_CREDENTIAL_BYTES];
        assertEquals(new Frame.Hello(FrameCodec.VERSION, 4096, 16, 4096, longest),
                decode(encode(new Frame.Hello(FrameCodec.VERSION, 4096, 16, 4096, longest))));
        byte[] tooLong = new byte[FrameCodec.MAX_CREDENTIAL_BYTES + 1];
        assertThrows(IllegalArgumentException.class,
                () -> encode(new Frame.Hello(FrameCodec.VERSION, 4096, 16, 4096, tooLong)));
        // Written by hand: the length says one byte more than the limit.
        byte[] bytes = encode(new Frame.Hello(FrameCodec.VERSION, 4096, 16, 4096, longest));
        java.nio.ByteBuffer.wrap(bytes).putShort(23, (short) (FrameCodec.MAX_CREDENTIAL_BYTES + 1));
        MalformedFrameException e = assertThrows(MalformedFrameException.class, () -> decode(bytes));
        assertTrue(e.getMessage().contains("credential"), e.getMessage());
    }

    @Test
    void badMagicIsRejected() throws IOException {
        byte[] bytes = encode(new Frame.Hello(FrameCodec.VERSION, 4096, 16, 4096));
        bytes[5] = 'X';
        MalformedFrameException e = assertThrows(MalformedFrameException.class, () -> decode(bytes));
        assertTrue(e.getMessage().contains("bad magic"), e.getMessage());
    }

    @Test
    void otherVersionIsRejectedAsUnsupported() throws IOException {
        byte[] bytes = encode(new Frame.Attach(FrameCodec.VERSION, 1L, TOKEN, 0, 4096));
        bytes[9] = 0;
        bytes[10] = 9;
        UnsupportedVersionException e = assertThrows(UnsupportedVersionException.class, () -> decode(bytes));
        assertEquals(9, e.version());
    }

    @Test
    void trailingBytesInAFixedFrameAreRejected() {
        byte[] bytes = ByteBuffer.allocate(19).putInt(15).put((byte) 0x20).putLong(5).putInt(0).putShort((short) 0)
                .array();
        MalformedFrameException e = assertThrows(MalformedFrameException.class, () -> decode(bytes));
        assertTrue(e.getMessage().contains("trailing"), e.getMessage());
    }

    @Test
    void aPingCarriesItsQuietIntervalAndOneAboveTheLimitIsMalformed() throws IOException {
        byte[] quiet = encode(new Frame.Ping(7, 10_000));
        assertArrayEquals(ByteBuffer.allocate(17).putInt(13).put((byte) 0x20).putLong(7).putInt(10_000).array(), quiet);
        assertEquals(new Frame.Ping(7, Frame.Ping.MAX_QUIET_MILLIS),
                decode(ByteBuffer.allocate(17).putInt(13).put((byte) 0x20).putLong(7)
                        .putInt(Frame.Ping.MAX_QUIET_MILLIS).array()));
        byte[] over = ByteBuffer.allocate(17).putInt(13).put((byte) 0x20).putLong(7)
                .putInt(Frame.Ping.MAX_QUIET_MILLIS + 1).array();
        MalformedFrameException e = assertThrows(MalformedFrameException.class, () -> decode(over));
        assertTrue(e.getMessage().contains("quiet interval of 60001 ms"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Frame.Ping(1, Frame.Ping.MAX_QUIET_MILLIS + 1));
        // The version-1 layout, without the field, is now a truncated frame.
        byte[] old = ByteBuffer.allocate(13).putInt(9).put((byte) 0x20).putLong(7).array();
        assertThrows(MalformedFrameException.class, () -> decode(old));
    }

    @Test
    void unknownResponseStatusAndChannelAreRejected() {
        byte[] response = ByteBuffer.allocate(14).putInt(10).put((byte) 0x11).putLong(1).put((byte) 9).array();
        assertThrows(MalformedFrameException.class, () -> decode(response));
        byte[] attached = ByteBuffer.allocate(6).putInt(2).put((byte) 0x04).put((byte) 2).array();
        assertThrows(MalformedFrameException.class, () -> decode(attached));
    }

    @Test
    void emptyRouteIsRejected() {
        byte[] bytes = ByteBuffer.allocate(14).putInt(10).put((byte) 0x10).putLong(1).put((byte) 0).array();
        assertThrows(MalformedFrameException.class, () -> decode(bytes));
    }

    @Test
    void ackWithTooManyIdsIsRejected() {
        byte[] bytes = ByteBuffer.allocate(16).putInt(12).put((byte) 0x12).putLong(1)
                .putShort((short) (FrameCodec.MAX_ACK_IDS + 1)).put((byte) 0).array();
        assertThrows(MalformedFrameException.class, () -> decode(bytes));
    }

    @Test
    void frameOverTheLimitIsRejected() throws IOException {
        FrameCodec small = new FrameCodec(1024);
        byte[] bytes = encode(new Frame.Request(1L, "add", new byte[2000]));
        MalformedFrameException e = assertThrows(MalformedFrameException.class,
                () -> small.read(new DataInputStream(new ByteArrayInputStream(bytes))));
        assertTrue(e.getMessage().contains("1..1024"), e.getMessage());
    }

    @Test
    void tokenOfWrongLengthCannotBeBuilt() {
        assertThrows(IllegalArgumentException.class,
                () -> new Frame.Attach(FrameCodec.VERSION, 1L, new byte[8], 0, 4096));
    }

    @Test
    void welcomeDoesNotPrintItsToken() {
        Frame.Welcome w = new Frame.Welcome(1L, TOKEN, 1, 1, 1, 1024, 1, 1024, "", 0);
        assertTrue(w.toString().contains("<hidden>"));
        assertInstanceOf(String.class, w.toString());
    }

    /** Counts bytes handed out, to prove the codec did not read (or allocate for) a hostile body. */
    private static final class CountingInput extends InputStream {
        private final byte[] bytes;
        int read;

        CountingInput(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public int read() {
            return read < bytes.length ? bytes[read++] & 0xFF : -1;
        }
    }
}
