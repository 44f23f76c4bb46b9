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
}
