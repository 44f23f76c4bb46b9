package io.twinline.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The connection's writer: started on demand, retired when idle, never losing or doubling a frame. */
class ConnectionWriterTest {
    private Socket near;
    private Socket far;
    private Connection connection;
    private DataInputStream farIn;
    private final FrameCodec codec = new FrameCodec(1 << 20);
    private final AtomicInteger starts = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();
    private volatile Thread lastWriter;

    @BeforeEach
    void connect() throws IOException {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            near = new Socket(listener.getInetAddress(), listener.getLocalPort());
            far = listener.accept();
        }
        far.setSoTimeout(10_000); // a lost frame fails the test instead of hanging it
        farIn = new DataInputStream(far.getInputStream());
        connection = new Connection(near, 1 << 20, 1 << 20, System::nanoTime);
    }

    @AfterEach
    void close() throws IOException {
        connection.close();
        far.close();
    }

    /** Starts each writer on a virtual thread and counts starts and writers running. */
    private void startWritersOnThreads() {
        connection.writers(() -> {
            starts.incrementAndGet();
            running.incrementAndGet();
            lastWriter = Thread.ofVirtual().start(() -> {
                try {
                    connection.runWriter();
                } catch (IOException e) {
                    // the test closes the connection
                } finally {
                    running.decrementAndGet();
                }
            });
            return true;
        });
    }

    private void awaitNoWriter() throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (running.get() != 0 && System.nanoTime() < end) {
            Thread.sleep(1);
        }
        assertEquals(0, running.get(), "writer still running");
    }

    @Test
    void framesQueuedBeforeWritersAreSetGoOutOnceTheyAre() throws IOException {
        connection.send(new Frame.Ping(1));
        assertEquals(0, starts.get());
        startWritersOnThreads();
        assertEquals(new Frame.Ping(1), codec.read(farIn));
        assertEquals(1, starts.get());
    }

    @Test
    void writerEndsAfterHeartbeatsAndANewOneStartsForTheNextFrame() throws Exception {
        connection.retireWriterAfter(Duration.ZERO);
        startWritersOnThreads();
        connection.send(new Frame.Ping(1));
        assertEquals(new Frame.Ping(1), codec.read(farIn));
        awaitNoWriter();
        connection.send(new Frame.Pong(2));
        assertEquals(new Frame.Pong(2), codec.read(farIn));
        assertEquals(2, starts.get());
        awaitNoWriter();
    }

    @Test
    void withoutARetireTimeTheWriterEndsOnceTheQueueIsEmptyEvenIfMoreIsExpected() throws Exception {
        // A receive channel: handlers write their own responses, so a writer started for a stray frame must not
        // stay to take theirs over while they run.
        connection.retireWriterAfter(Duration.ZERO);
        connection.moreExpected(() -> true);
        startWritersOnThreads();
        connection.send(new Frame.Request(1, "r", new byte[] {7}));
        assertEquals(1, assertInstanceOf(Frame.Request.class, codec.read(farIn)).id());
        awaitNoWriter();
        connection.sendAndDrain(new Frame.Response(2, ResponseStatus.OK, new byte[] {1}));
        assertEquals(2, assertInstanceOf(Frame.Response.class, codec.read(farIn)).id());
        assertEquals(1, starts.get(), "the response was written by its sender");
    }

    @Test
    void writerStaysWhileTheConnectionCarriesData() throws Exception {
        connection.retireWriterAfter(Duration.ofHours(1));
        startWritersOnThreads();
        connection.send(new Frame.Request(1, "r", new byte[] {7}));
        Frame first = codec.read(farIn);
        assertEquals(1, assertInstanceOf(Frame.Request.class, first).id());
        // Parked for more frames (not merely not yet ended): a writer that retired would have returned instead.
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (lastWriter.getState() != Thread.State.WAITING && lastWriter.isAlive() && System.nanoTime() < end) {
            Thread.onSpinWait();
        }
        assertEquals(Thread.State.WAITING, lastWriter.getState(), "the writer of a busy connection waits for more");
        assertEquals(1, running.get());
        connection.send(new Frame.Ping(3));
        assertEquals(new Frame.Ping(3), codec.read(farIn));
        assertEquals(1, starts.get());
        connection.close();
        awaitNoWriter();
    }

    @Test
    void sendAndDrainWritesOnTheCallingThreadWhenNoWriterRuns() throws Exception {
        // A writer thread would wait for more here (busy link, more expected); the draining sender must not.
        connection.retireWriterAfter(Duration.ofHours(1));
        connection.moreExpected(() -> true);
        startWritersOnThreads();
        assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> connection.sendAndDrain(new Frame.Response(9, ResponseStatus.OK, new byte[] {1, 2})));
        Frame read = codec.read(farIn);
        assertEquals(9, assertInstanceOf(Frame.Response.class, read).id());
        assertEquals(0, starts.get(), "no thread was started for it");
        assertEquals(0, running.get());
    }

    @Test
    void sendAloneWritesOnTheCallingThreadOnlyWhenNothingElseIsQueued() throws Exception {
        connection.retireWriterAfter(Duration.ofHours(1));
        connection.send(new Frame.Ping(1)); // queued: no writers yet
        connection.sendAlone(new Frame.Pong(2)); // must not write ahead of, or drain, what others queued
        assertEquals(0, starts.get());
        startWritersOnThreads();
        assertEquals(new Frame.Ping(1), codec.read(farIn));
        assertEquals(new Frame.Pong(2), codec.read(farIn));
        assertEquals(1, starts.get());
        connection.close();
        awaitNoWriter();
    }

    @Test
    void sendAloneOnAQuietConnectionStartsNoThread() throws Exception {
        connection.retireWriterAfter(Duration.ZERO);
        startWritersOnThreads();
        connection.sendAlone(new Frame.Pong(5));
        assertEquals(new Frame.Pong(5), codec.read(farIn));
        assertEquals(0, starts.get());
        connection.send(new Frame.Ping(6)); // the right was handed back: a writer starts for the next frame
        assertEquals(new Frame.Ping(6), codec.read(farIn));
        assertEquals(1, starts.get());
        awaitNoWriter();
    }

    @Test
    void anInterruptedWriterHandsTheRightToWriteBack() throws Exception {
        connection.retireWriterAfter(Duration.ofHours(1)); // the writer waits for more after its first batch
        startWritersOnThreads();
        connection.send(new Frame.Request(1, "r", new byte[] {7}));
        assertInstanceOf(Frame.Request.class, codec.read(farIn));
        lastWriter.interrupt();
        awaitNoWriter();
        connection.send(new Frame.Ping(2));
        assertEquals(new Frame.Ping(2), codec.read(farIn));
        assertEquals(2, starts.get());
    }

    @Test
    void aWriterThatCannotBeStartedClosesTheConnection() throws Exception {
        connection.writers(() -> {
            throw new OutOfMemoryError("test: no thread");
        });
        connection.send(new Frame.Ping(1)); // does not throw at the sender (a reader answering a PING)
        assertTrue(connection.isClosed());
        assertThrows(EOFException.class, () -> codec.read(farIn));
    }

    @Test
    void flushAndCloseSendsWhatIsQueuedWhenNoWriterRuns() throws Exception {
        connection.retireWriterAfter(Duration.ZERO);
        startWritersOnThreads();
        connection.send(new Frame.Ping(1));
        assertEquals(new Frame.Ping(1), codec.read(farIn));
        awaitNoWriter();
        connection.send(new Frame.Goodbye("bye"));
        connection.flushAndClose(5_000);
        assertEquals(new Frame.Goodbye("bye"), codec.read(farIn));
        assertThrows(EOFException.class, () -> codec.read(farIn));
    }

    /**
     * Senders race writers that end whenever the queue runs dry (the hand-back of the right to write is the
     * delicate part): every frame arrives exactly once, in each sender's order.
     */
    @Test
    void noFrameIsLostOrDoubledWhileWritersComeAndGo() throws Exception {
        connection.retireWriterAfter(Duration.ZERO);
        startWritersOnThreads();
        int senders = 8;
        int perSender = 5_000;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int s = 0; s < senders; s++) {
            int sender = s;
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    go.await();
                    for (int i = 0; i < perSender; i++) {
                        Frame.Ping ping = new Frame.Ping((long) sender << 32 | i);
                        if (i % 3 == 0) {
                            connection.sendAndDrain(ping);
                        } else {
                            connection.send(ping);
                        }
                        if (i % 500 == 0) {
                            Thread.sleep(1); // let the queue run dry now and then, so writers end
                        }
                    }
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }));
        }
        go.countDown();
        int[] next = new int[senders];
        for (int n = 0; n < senders * perSender; n++) {
            long nonce = assertInstanceOf(Frame.Ping.class, codec.read(farIn)).nonce();
            int sender = (int) (nonce >>> 32);
            int seq = (int) nonce;
            assertEquals(next[sender], seq, "sender " + sender + " out of order, or a frame lost or doubled");
            next[sender]++;
        }
        for (Thread t : threads) {
            t.join();
        }
        for (int s = 0; s < senders; s++) {
            assertEquals(perSender, next[s]);
        }
        awaitNoWriter();
    }

    /**
     * The hand-back's race made likely: two senders queue one frame each at the same moment, over and over, while
     * the writer of the previous frames is ending. A frame left behind by an ending writer would never be read.
     */
    @Test
    void theLastFrameIsNeverLeftBehindByAnEndingWriter() throws Exception {
        connection.retireWriterAfter(Duration.ZERO);
        startWritersOnThreads();
        far.setSoTimeout(2_000);
        for (int round = 0; round < 3_000; round++) {
            long base = (long) round << 1;
            CountDownLatch go = new CountDownLatch(1);
            Thread a = Thread.ofVirtual().start(() -> sendAfter(go, new Frame.Ping(base)));
            Thread b = Thread.ofVirtual().start(() -> sendAfter(go, new Frame.Ping(base + 1)));
            go.countDown();
            long first = assertInstanceOf(Frame.Ping.class, codec.read(farIn)).nonce();
            long second = assertInstanceOf(Frame.Ping.class, codec.read(farIn)).nonce();
            assertEquals(2 * base + 1, first + second, "round " + round);
            a.join();
            b.join();
        }
        assertTrue(starts.get() > 1, "writers ended and were started again: " + starts.get());
    }

    private void sendAfter(CountDownLatch go, Frame frame) {
        try {
            go.await();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        connection.send(frame);
    }
}
