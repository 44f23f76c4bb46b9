package io.twinline.api;

import static io.twinline.api.RecoveryPolicyTest.refused;
import static io.twinline.api.RecoveryPolicyTest.refusedNull;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** What {@link Limits}' javadoc promises: its defaults, and which values each method refuses. */
class LimitsTest {
    private static final Limits DEFAULTS = Limits.defaults();

    @Test
    void defaultsAreTheDocumentedValues() {
        assertEquals(new Limits(16 * 1024 * 1024, 1024, 64 * 1024 * 1024, 64L * 1024 * 1024, 128 * 1024, 10_000,
                Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(2), 1024, 256), DEFAULTS);
    }

    @Test
    void theBudgetOfBytesInFlightHoldsAtLeastOneMessage() {
        refused("maxInFlightBytes must be at least maxMessageBytes (16777216): 16777215",
                () -> DEFAULTS.withMaxInFlightBytes((16 << 20) - 1));
        refused("maxCachedBytes must be at least 1: 0", () -> DEFAULTS.withMaxCachedBytes(0));
        refused("sendBufferBytes must not be negative: -1", () -> DEFAULTS.withSendBufferBytes(-1));
        assertEquals(0, DEFAULTS.withSendBufferBytes(0).sendBufferBytes(), "0: the system's own sizing");
        assertEquals(128 << 20, DEFAULTS.withMaxMessageBytes(128 << 20).maxInFlightBytes(),
                "a message limit above the budget raises the budget with it");
        assertEquals(64 << 20, DEFAULTS.withMaxMessageBytes(1024).maxInFlightBytes());
    }

    @Test
    void handshakeBoundsArePositiveAndThePerAddressOneWithinTheTotal() {
        assertEquals(8, DEFAULTS.withMaxHandshakes(8, 8).maxHandshakesPerAddress());
        refused("maxHandshakes must be at least 1: 0", () -> DEFAULTS.withMaxHandshakes(0, 1));
        refused("maxHandshakesPerAddress must be within 1..maxHandshakes (8): 9",
                () -> DEFAULTS.withMaxHandshakes(8, 9));
        refused("maxHandshakesPerAddress must be within 1..maxHandshakes (8): 0",
                () -> DEFAULTS.withMaxHandshakes(8, 0));
    }

    @Test
    void withMaxMessageBytesRefusesLessThanTheMinimum() {
        refused("maxMessageBytes must be at least 1024: 1023",
                () -> DEFAULTS.withMaxMessageBytes(Limits.MIN_MESSAGE_BYTES - 1));
        assertEquals(1024, DEFAULTS.withMaxMessageBytes(Limits.MIN_MESSAGE_BYTES).maxMessageBytes());
    }

    @Test
    void withMaxInFlightAndWithMaxSessionsRefuseLessThanOne() {
        refused("maxInFlight must be at least 1: 0", () -> DEFAULTS.withMaxInFlight(0));
        refused("maxSessions must be at least 1: -1", () -> DEFAULTS.withMaxSessions(-1));
        assertEquals(1, DEFAULTS.withMaxInFlight(1).maxInFlight());
        assertEquals(1, DEFAULTS.withMaxSessions(1).maxSessions());
    }

    @Test
    void withHandshakeTimeoutAndWithCallTimeoutRefuseNonPositiveAndNull() {
        refused("handshakeTimeout must be positive: PT0S", () -> DEFAULTS.withHandshakeTimeout(Duration.ZERO));
        refused("callTimeout must be positive: PT-1S", () -> DEFAULTS.withCallTimeout(Duration.ofSeconds(-1)));
        refusedNull("handshakeTimeout", () -> DEFAULTS.withHandshakeTimeout(null));
        refusedNull("callTimeout", () -> DEFAULTS.withCallTimeout(null));
        assertEquals(Duration.ofMillis(1), DEFAULTS.withCallTimeout(Duration.ofMillis(1)).callTimeout());
    }

    @Test
    void withCloseGraceRefusesNegativeAndNullButTakesZero() {
        refused("closeGrace must not be negative: PT-0.001S", () -> DEFAULTS.withCloseGrace(Duration.ofMillis(-1)));
        refusedNull("closeGrace", () -> DEFAULTS.withCloseGrace(null));
        assertEquals(Duration.ZERO, DEFAULTS.withCloseGrace(Duration.ZERO).closeGrace());
    }
}
