package io.twinline.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The writer's lanes and chunks, and the reader's joining of them (protocol version 2): a control frame or a small
 * message queued while a long body is being written goes out before that body ends; GOODBYE waits for it; long
 * bodies past the peer's budget of bodies arriving begin only as others finish, while short ones overtake; the reader
 * joins interleaved parts into whole messages and refuses parts that do not fit.
 */
class ConnectionLanesTest {
    private static final int LONG_BODY = 16 << 20;
    private final FrameCodec codec = new FrameCodec(FrameCodec.FRAME_LIMIT);
    private Socket near;
    private Socket far;
    private Connection connection;

    @AfterEach
    void close() throws IOException {
        if (connection != null) {
            connection.close();
        }
        if (far != null) {
            far.close();
        }
    }

    /** A connection over loopback with small socket buffers, so a long body cannot vanish into them at once. */
    private DataInputStream connect() throws IOException {
        pair();
        connection = new Connection(near, LONG_BODY, LONG_BODY, System::nanoTime);
        connection.writers(() -> {
            Thread.ofVirtual().start(() -> {
                try {
                    connection.runWriter();
                } catch (IOException e) {
                    // the test closes the connection
                }
            });
            return true;
        });
        return new DataInputStream(far.getInputStream());
    }

    /** The sockets {@link #near} and {@link #far}. */
    private void pair() throws IOException {
        try (ServerSocket listener = new ServerSocket()) {
            listener.setReceiveBufferSize(64 * 1024);
            listener.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
            near = new Socket();
            near.setSendBufferSize(64 * 1024);
            near.connect(listener.getLocalSocketAddress());
            far = listener.accept();
        }
        far.setSoTimeout(20_000); // a lost frame fails the test instead of hanging it
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Waits until the writer is part-way through the long body and cannot go on: the far end is not reading. */
    private void awaitWriterBlockedInTheBody() throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long last = -1;
        int steady = 0;
        while (System.nanoTime() < end && steady < 20) {
            long sent = connection.bytesSent();
            steady = sent == last && sent > FrameCodec.CHUNK_BYTES ? steady + 1 : 0;
            last = sent;
            Thread.sleep(5);
        }
        assertTrue(last > FrameCodec.CHUNK_BYTES && last < LONG_BODY / 2,
                "the writer stopped part-way through the body: " + last + " bytes sent");
    }

    @Test
    void aPingQueuedDuringALongBodyOvertakesTheRestOfIt() throws Exception {
        DataInputStream in = connect();
        connection.send(new Frame.Response(7, ResponseStatus.OK, random(LONG_BODY, 1)));
        awaitWriterBlockedInTheBody();
        connection.send(new Frame.Ping(42));
        long bodyBytesBefore = 0;
        while (true) {
            Frame f = codec.read(in);
            if (f instanceof Frame.Ping p) {
                assertEquals(42, p.nonce());
                break;
            }
            bodyBytesBefore += switch (f) {
                case Frame.ResponseHead h -> h.chunk().length;
                case Frame.Continuation c -> c.chunk().length;
                default -> throw new AssertionError("unexpected " + f);
            };
        }
        assertTrue(bodyBytesBefore < LONG_BODY, "the PING came before the body's last part: after "
                + bodyBytesBefore + " of " + LONG_BODY + " bytes");
    }

    @Test
    void aSmallCallQueuedAfterALongOneArrivesBeforeItAndGoodbyeAfterBoth() throws Exception {
        DataInputStream in = connect();
        byte[] longBody = random(LONG_BODY, 2);
        connection.send(new Frame.Request(1, "bulk", longBody));
        awaitWriterBlockedInTheBody();
        connection.send(new Frame.Request(2, "small", new byte[] {9}));
        connection.send(new Frame.Goodbye("done"));
        // Joined by a reading connection of its own, as the peer would.
        Connection reader = new Connection(Endpoint.of(far), LONG_BODY, LONG_BODY, System::nanoTime);
        Frame first = reader.read();
        assertEquals(2, assertInstanceOf(Frame.Request.class, first).id(), "the small call is not held up");
        Frame second = reader.read();
        Frame.Request bulk = assertInstanceOf(Frame.Request.class, second);
        assertEquals(1, bulk.id());
        assertArrayEquals(longBody, bulk.body(), "the long body arrives whole and intact");
        assertEquals(new Frame.Goodbye("done"), reader.read(), "GOODBYE follows every message queued before it");
    }

    @Test
    void aPingQueuedBehindManyOneFrameMessagesOvertakesThem() throws Exception {
        pair();
        connection = new Connection(near, LONG_BODY, LONG_BODY, System::nanoTime);
        int messages = 64;
        for (long id = 1; id <= messages; id++) { // each fits one frame: none is a long body
            connection.send(new Frame.Response(id, ResponseStatus.OK, new byte[FrameCodec.CHUNK_BYTES]));
        }
        connection.send(new Frame.Ping(9));
        establishWith(Long.MAX_VALUE); // the writer finds all of them queued
        DataInputStream in = new DataInputStream(far.getInputStream());
        int before = 0;
        while (!(codec.read(in) instanceof Frame.Ping p && p.nonce() == 9)) {
            before++;
        }
        assertTrue(before <= 2, "the PING waited behind " + before + " of " + messages + " messages of "
                + FrameCodec.CHUNK_BYTES + " bytes");
    }

    /** Has {@link #connection} start its writer, with the peer's budget of bodies arriving at once. */
    private void establishWith(long peerMaxArrivingBytes) throws IOException {
        connection.establish(new Connection.Established(LONG_BODY, Duration.ZERO, () -> {
            Thread.ofVirtual().start(() -> {
                try {
                    connection.runWriter();
                } catch (IOException e) {
                    // the test closes the connection
                }
            });
            return true;
        }, null, () -> false, Connection.Bodies.ALL, 64, peerMaxArrivingBytes));
    }

    @Test
    void longBodiesPastThePeersBudgetBeginOnlyAsOthersFinishWhileShortOnesOvertake() throws Exception {
        int budget = 200_000;
        pair();
        connection = new Connection(near, LONG_BODY, LONG_BODY, System::nanoTime);
        byte[] one = random(150_000, 5);
        byte[] two = random(150_000, 6);
        byte[] three = random(120_000, 7);
        connection.send(new Frame.Response(1, ResponseStatus.OK, one));
        connection.send(new Frame.Response(2, ResponseStatus.OK, two));
        connection.send(new Frame.Response(3, ResponseStatus.OK, new byte[] {3}));
        connection.send(new Frame.Response(4, ResponseStatus.OK, three));
        connection.send(new Frame.Response(5, ResponseStatus.OK, new byte[] {5}));
        establishWith(budget); // only now, so that the writer finds all five queued
        DataInputStream in = new DataInputStream(far.getInputStream());
        java.util.Map<Long, int[]> begun = new java.util.HashMap<>(); // id -> {length, received}
        List<Long> finished = new ArrayList<>();
        long mostBegun = 0;
        while (finished.size() < 5) {
            Frame f = codec.read(in);
            switch (f) {
                case Frame.Response r -> finished.add(r.id());
                case Frame.ResponseHead h -> begun.put(h.id(), new int[] {h.bodyLength(), h.chunk().length});
                case Frame.Continuation c -> {
                    int[] b = begun.get(c.id());
                    b[1] += c.chunk().length;
                    if (b[1] == b[0]) {
                        begun.remove(c.id());
                        finished.add(c.id());
                    }
                }
                default -> throw new AssertionError("unexpected " + f);
            }
            mostBegun = Math.max(mostBegun, begun.values().stream().mapToLong(b -> b[0]).sum());
        }
        assertTrue(mostBegun <= budget, "long bodies begun and not finished at once: " + mostBegun + " bytes, budget "
                + budget);
        assertEquals(List.of(3L, 5L, 1L, 2L, 4L).subList(0, 2), finished.subList(0, 2),
                "the short ones overtake the long ones held back: " + finished);
        assertEquals(1L, finished.get(2), "the long ones begin in order: " + finished);
    }

    @Test
    void aLongBodyQueuedAgainWhileItGoesOutPastTheBudgetIsSentOnce() throws Exception {
        pair();
        connection = new Connection(near, LONG_BODY, LONG_BODY, System::nanoTime);
        Frame.Response twice = new Frame.Response(1, ResponseStatus.OK, random(150_000, 8));
        connection.send(twice);
        connection.send(twice); // a response re-sent for a replayed request while it is going out
        connection.send(new Frame.Goodbye("done"));
        establishWith(200_000); // the copy would not fit beside the original
        Connection reader = new Connection(Endpoint.of(far), LONG_BODY, LONG_BODY, System::nanoTime);
        assertEquals(1, assertInstanceOf(Frame.Response.class, reader.read()).id());
        assertEquals(new Frame.Goodbye("done"), reader.read(), "no second copy before GOODBYE");
    }

    /** Frames written back to back into a byte stream, as a peer would send them. */
    private static InputStream stream(Frame... frames) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        FrameCodec writer = new FrameCodec(FrameCodec.FRAME_LIMIT);
        for (Frame f : frames) {
            writer.write(f, out);
        }
        out.flush();
        return new ByteArrayInputStream(bytes.toByteArray());
    }

    /** A connection that reads {@code input} and writes nowhere. */
    private static Connection reading(InputStream input, int maxMessageBytes, Connection.Bodies bodies,
                                      int maxArriving) throws IOException {
        Endpoint endpoint = new StubEndpoint() {
            @Override
            public InputStream input() {
                return input;
            }
        };
        Connection c = new Connection(endpoint, maxMessageBytes, maxMessageBytes, System::nanoTime);
        c.establish(new Connection.Established(maxMessageBytes, Duration.ZERO, () -> true, null, () -> false, bodies,
                maxArriving, maxMessageBytes));
        return c;
    }

    private static byte[] part(byte[] body, int from, int to) {
        return java.util.Arrays.copyOfRange(body, from, to);
    }

    @Test
    void interleavedPartsAreJoinedAndControlFramesPassAtOnce() throws IOException {
        byte[] a = random(100_000, 3);
        byte[] b = random(70_000, 4);
        Connection c = reading(stream(
                new Frame.RequestHead(1, "a", a.length, part(a, 0, 65_536)),
                new Frame.RequestHead(2, "b", b.length, part(b, 0, 65_536)),
                new Frame.Ping(5),
                new Frame.Continuation(2, part(b, 65_536, b.length)),
                new Frame.Ack(1, new long[0]),
                new Frame.Continuation(1, part(a, 65_536, a.length))), 1 << 20, Connection.Bodies.ALL, 8);
        assertEquals(new Frame.Ping(5), c.read());
        assertEquals(new Frame.Request(2, "b", b), c.read());
        assertEquals(new Frame.Ack(1, new long[0]), c.read());
        assertEquals(new Frame.Request(1, "a", a), c.read());
        assertEquals(0, c.arrivingBytes(), "nothing is kept once both are whole");
    }

    @Test
    void anUnwantedBodyIsReadAndDropped() throws IOException {
        byte[] a = random(100_000, 5);
        Connection c = reading(stream(
                new Frame.ResponseHead(3, ResponseStatus.OK, a.length, part(a, 0, 65_536)),
                new Frame.Continuation(3, part(a, 65_536, a.length)),
                new Frame.Pong(1)), 1 << 20, new Connection.Bodies() {
                    @Override
                    public boolean wanted(long id) {
                        return false;
                    }
                }, 8);
        Frame.Response r = assertInstanceOf(Frame.Response.class, c.read());
        assertEquals(3, r.id());
        assertSame(Frame.DROPPED, r.body());
        assertEquals(new Frame.Pong(1), c.read(), "the stream stays in step after the dropped body");
    }

    private static void refused(String expected, Connection c) {
        MalformedFrameException e = assertThrows(MalformedFrameException.class, () -> {
            while (true) {
                c.read();
            }
        });
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void partsThatDoNotFitTheirBodyAreRefused() throws IOException {
        byte[] a = random(100_000, 6);
        refused("whose body is not arriving", reading(stream(
                new Frame.Continuation(9, new byte[10])), 1 << 20, Connection.Bodies.ALL, 8));
        refused("runs past its body", reading(stream(
                new Frame.RequestHead(1, "a", 70_000, part(a, 0, 65_536)),
                new Frame.Continuation(1, part(a, 0, 10_000))), 1 << 20, Connection.Bodies.ALL, 8));
        refused("begun again", reading(stream(
                new Frame.RequestHead(1, "a", 70_000, part(a, 0, 65_536)),
                new Frame.Request(1, "a", new byte[1])), 1 << 20, Connection.Bodies.ALL, 8));
        refused("accepts at most 65536", reading(stream(
                new Frame.RequestHead(1, "a", 100_000, part(a, 0, 65_536))), 65_536, Connection.Bodies.ALL, 8));
        refused("more than 1 bodies arriving", reading(stream(
                new Frame.RequestHead(1, "a", 70_000, part(a, 0, 65_536)),
                new Frame.RequestHead(2, "a", 70_000, part(a, 0, 65_536))), 1 << 20, Connection.Bodies.ALL, 1));
    }

    @Test
    void aBodyPastTheBudgetIsRefusedBeforeItIsKept() throws IOException {
        List<Long> admitted = new ArrayList<>();
        Connection.Bodies budget = new Connection.Bodies() {
            @Override
            public void admit(long id, int length, long arrivingBytes) throws MalformedFrameException {
                if (arrivingBytes + length > 150_000) {
                    throw new MalformedFrameException("over budget: " + id);
                }
                admitted.add(id);
            }
        };
        byte[] a = random(100_000, 7);
        Connection c = reading(stream(
                new Frame.RequestHead(1, "a", a.length, part(a, 0, 65_536)),
                new Frame.RequestHead(2, "a", a.length, part(a, 0, 65_536))), 1 << 20, budget, 8);
        refused("over budget: 2", c);
        assertEquals(List.of(1L), admitted);
        assertEquals(100_000, c.arrivingBytes(), "only the admitted body is kept");
    }

    @Test
    void theSameMessageQueuedTwiceWhileItsPartsAreGoingOutIsSentOnce() throws Exception {
        DataInputStream in = connect();
        Frame.Response twice = new Frame.Response(5, ResponseStatus.OK, random(300_000, 8));
        connection.send(twice);
        connection.send(twice); // a handler's send and a replay's re-send of the same cached response
        connection.send(new Frame.Ping(1));
        Connection reader = new Connection(Endpoint.of(far), LONG_BODY, LONG_BODY, System::nanoTime);
        assertEquals(new Frame.Ping(1), reader.read());
        assertEquals(twice, reader.read(), "one whole copy, not two interleaved ones (which the peer refuses)");
        connection.send(new Frame.Pong(2));
        assertEquals(new Frame.Pong(2), reader.read(), "and nothing else");
    }
}
