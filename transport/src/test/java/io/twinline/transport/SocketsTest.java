package io.twinline.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The socket API reads a timeout of 0 ms as "none": a deadline's last moments must not become one. */
class SocketsTest {

    @Test
    void aTimeoutUnderAMillisecondIsOneMillisecondNotNone() {
        assertEquals(1, Sockets.timeoutMillis(Duration.ofNanos(1)));
        assertEquals(1, Sockets.timeoutMillis(Duration.ofNanos(999_999)));
        assertEquals(1, Sockets.timeoutMillis(Duration.ofMillis(1)));
        assertEquals(2_500, Sockets.timeoutMillis(Duration.ofMillis(2_500)));
    }

    @Test
    void zeroStaysNoneAndTheLargestFitsAnInt() {
        assertEquals(0, Sockets.timeoutMillis(Duration.ZERO));
        assertEquals(Integer.MAX_VALUE, Sockets.timeoutMillis(Duration.ofDays(365)));
        assertThrows(IllegalArgumentException.class, () -> Sockets.timeoutMillis(Duration.ofMillis(-1)));
    }

    @Test
    void theSendBufferIsBoundedWhenAskedAndLeftToTheSystemAtZero() throws java.io.IOException {
        try (java.net.ServerSocket listener = new java.net.ServerSocket(0, 2,
                java.net.InetAddress.getLoopbackAddress());
             java.net.Socket a = new java.net.Socket(listener.getInetAddress(), listener.getLocalPort());
             java.net.Socket b = new java.net.Socket(listener.getInetAddress(), listener.getLocalPort())) {
            int systems = b.getSendBufferSize();
            Endpoint.of(a).sendBufferBytes(32 * 1024);
            int bounded = a.getSendBufferSize();
            org.junit.jupiter.api.Assertions.assertTrue(bounded >= 32 * 1024 && bounded <= 64 * 1024,
                    "about what was asked (Linux reports twice the value): " + bounded);
            Endpoint.of(b).sendBufferBytes(0);
            org.junit.jupiter.api.Assertions.assertEquals(systems, b.getSendBufferSize(), "0 leaves it as it was");
        }
    }

    /**
     * TLS layered on a read-ahead socket asks for its input more than once; every call must give the one buffered
     * stream, or bytes read ahead into a first stream's buffer are lost to the second.
     */
    @Test
    void aReadAheadSocketKeepsWhatItReadAheadAcrossCallsForItsInput() throws Exception {
        try (java.net.ServerSocket listener = Sockets.listenReadAhead(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 2);
             java.net.Socket dialled = Sockets.connect((java.net.InetSocketAddress) listener.getLocalSocketAddress(),
                     Duration.ofSeconds(5), new ReadAheadSocket());
             java.net.Socket accepted = listener.accept()) {
            org.junit.jupiter.api.Assertions.assertInstanceOf(ReadAheadSocket.class, accepted);
            org.junit.jupiter.api.Assertions.assertTrue(dialled.getTcpNoDelay(), "configured as every socket is");
            accepted.getOutputStream().write("abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            accepted.getOutputStream().flush();
            dialled.setSoTimeout(5_000);
            java.io.InputStream first = dialled.getInputStream();
            byte[] head = first.readNBytes(1);
            java.io.InputStream second = dialled.getInputStream();
            byte[] rest = second.readNBytes(5);
            assertEquals("a", new String(head, java.nio.charset.StandardCharsets.US_ASCII));
            assertEquals("bcdef", new String(rest, java.nio.charset.StandardCharsets.US_ASCII));
        }
    }

    @Test
    void aReadAheadSocketThatCannotConnectIsClosed() {
        ReadAheadSocket socket = new ReadAheadSocket();
        assertThrows(java.net.UnknownHostException.class, () -> Sockets.connect(
                java.net.InetSocketAddress.createUnresolved("nosuchhost.invalid", 1), Duration.ofSeconds(5), socket));
        org.junit.jupiter.api.Assertions.assertTrue(socket.isClosed());
    }
}
