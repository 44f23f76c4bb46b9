package io.twinline.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A rejected connection ends with its last frame and a FIN, drained until the peer closes, and never hangs. */
class LingeringCloseTest {
    private static final Duration LONG = Duration.ofMinutes(10);

    private Socket near;
    private Socket far;
    private Connection connection;

    @BeforeEach
    void connect() throws IOException {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            near = new Socket(listener.getInetAddress(), listener.getLocalPort());
            far = listener.accept();
        }
        far.setSoTimeout(10_000);
        connection = new Connection(near, 4096, 4096, System::nanoTime);
        connection.writeHandshake(new Frame.Rejected(RejectReason.UNKNOWN_SESSION, "no session s-1"));
    }

    @AfterEach
    void close() throws IOException {
        connection.close();
        far.close();
    }

    private Frame readAnswer() throws IOException {
        return new FrameCodec(4096).read(new DataInputStream(far.getInputStream()));
    }

    @Test
    void thePeerReadsTheFrameThenEndOfStreamAndItsLaterBytesAreDroppedUntilItCloses() throws Exception {
        AtomicReference<Throwable> peerFailed = new AtomicReference<>();
        Thread peer = Thread.ofVirtual().start(() -> {
            try {
                assertInstanceOf(Frame.Rejected.class, readAnswer());
                assertEquals(-1, far.getInputStream().read(), "FIN right after the frame");
                far.getOutputStream().write(new byte[32 * 1024]); // still read by the lingering side
            } catch (IOException | AssertionError e) {
                peerFailed.set(e);
            } finally {
                try {
                    far.close();
                } catch (IOException ignored) {
                    // closing is all that is left to do
                }
            }
        });
        // Returns when the peer closes, long before the wait or the byte limit, having read all it sent.
        int dropped = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> connection.lingeringClose(LONG, 1 << 20));
        assertEquals(32 * 1024, dropped);
        assertTrue(connection.isClosed());
        peer.join();
        if (peerFailed.get() != null) {
            throw new AssertionError("the peer", peerFailed.get());
        }
    }

    @Test
    void aPeerThatNeverStopsSendingIsClosedAfterTheByteLimit() throws Exception {
        Thread peer = Thread.ofVirtual().start(() -> {
            try {
                OutputStream out = far.getOutputStream();
                byte[] chunk = new byte[8192];
                while (true) {
                    out.write(chunk);
                }
            } catch (IOException e) {
                // closed by the lingering side: what this test waits for
            }
        });
        int dropped = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> connection.lingeringClose(LONG, 64 * 1024));
        assertEquals(64 * 1024, dropped, "read up to the limit, then closed");
        assertTrue(connection.isClosed());
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> peer.join()); // its writes fail once closed
    }

    @Test
    void aSilentPeerIsClosedAfterTheWait() throws Exception {
        int dropped = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> connection.lingeringClose(Duration.ofMillis(200), 64 * 1024));
        assertEquals(0, dropped);
        assertTrue(connection.isClosed());
        assertInstanceOf(Frame.Rejected.class, readAnswer());
        assertEquals(-1, far.getInputStream().read());
        // Fully closed now: the peer's writes are refused (the first may still be taken by the kernel).
        assertThrows(IOException.class, () -> {
            for (int i = 0; i < 100; i++) {
                far.getOutputStream().write(new byte[1024]);
                Thread.sleep(10);
            }
        });
    }
}
