package io.twinline.host;

import static io.twinline.host.Testing.text;
import static io.twinline.host.Testing.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.Channel;
import io.twinline.api.Limits;
import io.twinline.api.SessionState;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import io.twinline.transport.Frame;
import io.twinline.transport.FrameCodec;
import io.twinline.transport.RejectReason;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Strangers and broken peers lose only their own connection; the server and every other session go on (a bystander
 * session is checked after each case). Garbage instead of a handshake, a huge length from a stranger (refused before
 * anything is allocated) and a connection silent past the handshake timeout are closed; a wrong token is
 * {@code BAD_TOKEN} with the session untouched; an unknown session and another version are rejected with their
 * reason; a rejected connection ends with FIN and is drained until the peer closes, not reset (with
 * {@code transport/LingeringCloseTest}); a peer past the server's budget of request bytes, or of response bytes
 * arriving at once, loses that connection; and a frame of unknown type on a live channel A closes that connection only,
 * counts {@code malformed_frames}, and the channel recovers (Fig. 7 at the server, Fig. 6 at the client).
 */
class BadInputTest {
    private TwinlineServer server;
    private TwinlineClient bystander;

    @BeforeEach
    void start() {
        server = Testing.server().limits(Limits.defaults().withHandshakeTimeout(Duration.ofMillis(500))).start();
        bystander = Testing.client(server).connect();
    }

    @AfterEach
    void stop() {
        bystander.close();
        server.close();
    }

    private Socket dial() throws IOException {
        Socket s = new Socket("127.0.0.1", server.address().getPort());
        s.setSoTimeout(10_000);
        return s;
    }

    /** Reads until the server closes; returns whatever came first (a REJECTED, or nothing). */
    private static Frame readUntilClosed(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        DataInputStream data = new DataInputStream(in);
        Frame first = null;
        try {
            first = new FrameCodec(1 << 16).read(data);
        } catch (java.io.EOFException | java.net.SocketException e) {
            return null;
        }
        assertEquals(-1, in.read(), "server closed the connection after " + first);
        return first;
    }

    private void assertBystanderUnharmed() {
        assertEquals("still here", text(bystander.call("echo", utf8("still here"))));
        assertEquals(SessionState.NORMAL, bystander.session().state());
        // The server's side marks itself NORMAL when its recovery process sees the new link, a moment after the
        // client has its ATTACHED (calls already flow then).
        Testing.await(Duration.ofSeconds(5), "the server's side of the session NORMAL",
                () -> Testing.serverSide(server, bystander.session()).state() == SessionState.NORMAL);
    }

    @Test
    void garbageInsteadOfAHandshakeClosesThatConnectionOnly() throws Exception {
        long before = HostAccess.metrics(server).get("malformed_frames");
        try (Socket s = dial()) {
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
            assertEquals(null, readUntilClosed(s));
        }
        Testing.await(Duration.ofSeconds(5), "malformed frame counted",
                () -> HostAccess.metrics(server).get("malformed_frames") == before + 1);
        assertBystanderUnharmed();
    }

    @Test
    void hugeLengthFromAStrangerIsRefusedBeforeAllocation() throws Exception {
        try (Socket s = dial()) {
            s.getOutputStream().write(ByteBuffer.allocate(5).putInt(0x7FFF_FFF0).put((byte) 0x01).array());
            assertEquals(null, readUntilClosed(s));
        }
        assertBystanderUnharmed();
    }

    @Test
    void silentConnectionIsDroppedAfterTheHandshakeTimeout() throws Exception {
        try (Socket s = dial()) {
            assertEquals(null, readUntilClosed(s));
        }
        assertBystanderUnharmed();
    }

    @Test
    void aRejectedConnectionIsDrainedUntilThePeerClosesNotReset() throws Exception {
        // A client that ignores "send nothing before the answer": 48 KiB after its ATTACH, more than the server
        // buffers. A socket closed with bytes unread resets the connection, and a reset can destroy a REJECTED that
        // is still in the server's send buffer or lost on the way. So the server sends FIN after REJECTED and keeps
        // reading (and dropping) until the peer closes: writing on after the answer does not fail here.
        try (Socket s = dial()) {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            new FrameCodec(4096).write(new Frame.Attach(FrameCodec.VERSION, 0x7777_0000_0001L,
                    new byte[FrameCodec.TOKEN_BYTES], 0, 1 << 20), new DataOutputStream(bytes));
            bytes.write(new byte[48 * 1024]);
            s.getOutputStream().write(bytes.toByteArray()); // one write: all of it is there when the server reads
            Frame.Rejected r = assertInstanceOf(Frame.Rejected.class, readUntilClosed(s));
            assertEquals(RejectReason.UNKNOWN_SESSION, r.reason());
            for (int i = 0; i < 3; i++) {
                s.getOutputStream().write(new byte[1024]); // after a reset, these fail ("Broken pipe")
            }
        }
        assertBystanderUnharmed();
    }

    @Test
    void wrongTokenIsRejectedAndTheSessionIsUntouched() throws Exception {
        TwinSession target = Testing.serverSide(server, bystander.session());
        byte[] wrong = target.token.clone();
        wrong[0] ^= 1;
        // A is usually link 1, but B's ATTACH can be attached first when it races the end of the HELLO handshake.
        long generationBefore = target.link(Channel.A).generation;
        try (Socket s = dial()) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            new FrameCodec(4096).write(new Frame.Attach(FrameCodec.VERSION, target.numericId, wrong, 0, 1 << 20), out);
            out.flush();
            Frame.Rejected r = assertInstanceOf(Frame.Rejected.class, readUntilClosed(s));
            assertEquals(RejectReason.BAD_TOKEN, r.reason());
        }
        Link a = target.link(Channel.A);
        assertTrue(a.isHealthy(), "the session's own channel A is untouched");
        assertEquals(generationBefore, a.generation, "no link was replaced");
        assertBystanderUnharmed();
    }

    @Test
    void unknownSessionAndOtherVersionAreRejectedWithAReason() throws Exception {
        try (Socket s = dial()) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            new FrameCodec(4096).write(new Frame.Attach(FrameCodec.VERSION, 9999, new byte[16], 1, 1 << 20), out);
            out.flush();
            assertEquals(RejectReason.UNKNOWN_SESSION,
                    assertInstanceOf(Frame.Rejected.class, readUntilClosed(s)).reason());
        }
        try (Socket s = dial()) {
            byte[] hello = ByteBuffer.allocate(19).putInt(15).put((byte) 0x01).putInt(FrameCodec.MAGIC)
                    .putShort((short) 7).putInt(1 << 20).putInt(64).array();
            s.getOutputStream().write(hello);
            Frame.Rejected r = assertInstanceOf(Frame.Rejected.class, readUntilClosed(s));
            assertEquals(RejectReason.UNSUPPORTED_VERSION, r.reason());
            assertTrue(r.detail().contains("version 7"), r.detail());
        }
        try (Socket s = dial()) {
            // A version-1 peer: its HELLO had no budget of bytes in flight.
            byte[] hello = ByteBuffer.allocate(19).putInt(15).put((byte) 0x01).putInt(FrameCodec.MAGIC)
                    .putShort((short) 1).putInt(1 << 20).putInt(64).array();
            s.getOutputStream().write(hello);
            Frame.Rejected r = assertInstanceOf(Frame.Rejected.class, readUntilClosed(s));
            assertEquals(RejectReason.UNSUPPORTED_VERSION, r.reason());
            assertTrue(r.detail().contains("version 1") && r.detail().contains("speaks 2"), r.detail());
        }
        assertBystanderUnharmed();
    }

    /**
     * A session opened by hand, frame by frame, as a peer of another make would: HELLO on A announcing a budget of
     * 1 MiB, then B attached.
     */
    private static final class RawSession implements AutoCloseable {
        final FrameCodec codec = new FrameCodec(FrameCodec.FRAME_LIMIT);
        final Socket a;
        final Socket b;
        final DataOutputStream outA;
        final DataOutputStream outB;
        final DataInputStream inB;
        final Frame.Welcome welcome;

        RawSession(TwinlineServer server) throws IOException {
            a = new Socket("127.0.0.1", server.address().getPort());
            b = new Socket("127.0.0.1", server.address().getPort());
            a.setSoTimeout(10_000);
            b.setSoTimeout(10_000);
            outA = new DataOutputStream(a.getOutputStream());
            codec.write(new Frame.Hello(FrameCodec.VERSION, 1 << 20, 64, 1 << 20), outA);
            outA.flush();
            welcome = assertInstanceOf(Frame.Welcome.class, codec.read(new DataInputStream(a.getInputStream())));
            outB = new DataOutputStream(b.getOutputStream());
            inB = new DataInputStream(b.getInputStream());
            codec.write(new Frame.Attach(FrameCodec.VERSION, welcome.sessionId(), welcome.token(), 1, 1 << 20), outB);
            outB.flush();
            assertInstanceOf(Frame.Attached.class, codec.read(inB));
        }

        @Override
        public void close() throws IOException {
            a.close();
            b.close();
        }
    }

    @Test
    void aPeerPastTheServersBudgetOfRequestBytesLosesThatConnectionAndTheServerHoldsNoMore() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        TwinlineServer small = Testing.server()
                .limits(Limits.defaults().withMaxMessageBytes(1024).withMaxInFlightBytes(4096))
                .handle("hold", (session, body) -> {
                    release.await();
                    return body;
                }).start();
        // A peer that announces a large budget of its own, and ignores the server's 4096.
        try (RawSession raw = new RawSession(small)) {
            assertEquals(4096, raw.welcome.maxInFlightBytes());
            FrameCodec codec = raw.codec;
            DataOutputStream outA = raw.outA;
            TwinSession serverSide = (TwinSession) small.sessions().getFirst();
            long before = HostAccess.metrics(small).get("malformed_frames");
            for (long id = 1; id <= 5; id++) { // the fifth makes 5,000 bytes
                codec.write(new Frame.Request(id, "hold", new byte[1000]), outA);
            }
            outA.flush();
            Testing.await(Duration.ofSeconds(5), "the server closed that connection as malformed",
                    () -> HostAccess.metrics(small).get("malformed_frames") == before + 1);
            assertEquals(4000, serverSide.responder().heldBytes(), "the server holds the four that fit, no more");
            assertEquals(4, serverSide.responder().running());
        } finally {
            release.countDown();
            small.close();
        }
        assertBystanderUnharmed();
    }

    @Test
    void aPeerPastTheServersBudgetOfResponseBytesArrivingLosesThatConnection() throws Exception {
        int body = 150_000; // longer than one frame: each arrives in parts
        TwinlineServer small = Testing.server()
                .limits(Limits.defaults().withMaxMessageBytes(body).withMaxInFlightBytes(2 * body))
                .handle("fan-out", (session, ignored) -> {
                    for (int i = 0; i < 3; i++) { // three calls back to the client, in flight at once
                        Thread.ofVirtual().start(() -> session.call("big", new byte[0], Duration.ofSeconds(30)));
                    }
                    return new byte[0];
                }).start();
        try (RawSession raw = new RawSession(small)) {
            assertEquals(2 * body, raw.welcome.maxInFlightBytes());
            FrameCodec codec = raw.codec;
            DataOutputStream outA = raw.outA;
            DataOutputStream outB = raw.outB;
            DataInputStream inB = raw.inB;
            codec.write(new Frame.Request(1, "fan-out", new byte[0]), outA);
            outA.flush();
            java.util.List<Long> calls = new java.util.ArrayList<>();
            while (calls.size() < 3) {
                if (codec.read(inB) instanceof Frame.Request r) { // PINGs may come between
                    calls.add(r.id());
                }
            }
            long before = HostAccess.metrics(small).get("malformed_frames");
            // A peer that ignores the server's budget: three answers begun at once, each only its first part. The
            // first two fit (a PING after them is answered); the third does not.
            for (long id : calls.subList(0, 2)) {
                codec.write(new Frame.ResponseHead(id, io.twinline.transport.ResponseStatus.OK, body,
                        new byte[FrameCodec.CHUNK_BYTES]), outB);
            }
            codec.write(new Frame.Ping(77), outB);
            outB.flush();
            while (!(codec.read(inB) instanceof Frame.Pong p && p.nonce() == 77)) {
                // the server's own PINGs may come first
            }
            assertEquals(before, HostAccess.metrics(small).get("malformed_frames"), "two bodies within the budget");
            codec.write(new Frame.ResponseHead(calls.get(2), io.twinline.transport.ResponseStatus.OK, body,
                    new byte[FrameCodec.CHUNK_BYTES]), outB);
            outB.flush();
            Testing.await(Duration.ofSeconds(5), "the server closed that connection as malformed",
                    () -> HostAccess.metrics(small).get("malformed_frames") == before + 1);
        } finally {
            small.close();
        }
        assertBystanderUnharmed();
    }

    @Test
    void malformedFrameOnALiveChannelClosesThatConnectionAndTheSessionRecovers() throws Exception {
        TwinSession clientSide = Testing.twin(bystander);
        long before = HostAccess.metrics(server).get("malformed_frames");
        // Write raw garbage into the client's channel A, as a broken peer would: a frame of unknown type.
        Link a = clientSide.link(Channel.A);
        java.io.OutputStream raw = a.connection.endpoint().output();
        raw.write(java.nio.ByteBuffer.allocate(13).putInt(9).put((byte) 0x7E).putLong(0).array());
        raw.flush();
        Testing.await(Duration.ofSeconds(5), "server counted the malformed frame",
                () -> HostAccess.metrics(server).get("malformed_frames") == before + 1);
        Testing.await(Duration.ofSeconds(10), "channel A re-attached",
                () -> clientSide.link(Channel.A) != a && clientSide.state() == SessionState.NORMAL);
        assertBystanderUnharmed();
    }
}
