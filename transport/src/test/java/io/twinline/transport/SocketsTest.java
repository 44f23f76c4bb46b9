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
}
