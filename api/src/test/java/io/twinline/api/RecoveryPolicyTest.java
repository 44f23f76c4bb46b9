package io.twinline.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** What {@link RecoveryPolicy}'s javadoc promises: its defaults, and which values each method refuses. */
class RecoveryPolicyTest {
    private static final RecoveryPolicy DEFAULTS = RecoveryPolicy.defaults();

    static void refused(String message, Executable change) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, change).getMessage());
    }

    static void refusedNull(String name, Executable change) {
        assertEquals(name, assertThrows(NullPointerException.class, change).getMessage());
    }

    @Test
    void defaultsAreTheDocumentedValues() {
        assertEquals(new RecoveryPolicy(Duration.ofSeconds(1), Duration.ofSeconds(3), Duration.ofSeconds(1),
                Duration.ofSeconds(10), 10, Duration.ofMillis(20), Duration.ofSeconds(1), 0.5, Duration.ofSeconds(20)),
                DEFAULTS);
        assertEquals(Duration.ofSeconds(10), DEFAULTS.quietInterval());
        assertEquals(Duration.ofSeconds(14), DEFAULTS.clientBudget(), "idle timeout + probe timeout + time limit");
    }

    @Test
    void withQuietIntervalRefusesNegativeTooLongFractionalAndNull() {
        refused("quietInterval must be whole milliseconds from 0 to PT1M: PT-0.001S",
                () -> DEFAULTS.withQuietInterval(Duration.ofMillis(-1)));
        refused("quietInterval must be whole milliseconds from 0 to PT1M: PT1M0.001S",
                () -> DEFAULTS.withQuietInterval(Duration.ofMillis(60_001)));
        refused("quietInterval must be whole milliseconds from 0 to PT1M: PT5.0000001S",
                () -> DEFAULTS.withQuietInterval(Duration.ofSeconds(5).plusNanos(100)));
        refusedNull("quietInterval", () -> DEFAULTS.withQuietInterval(null));
        assertEquals(Duration.ofSeconds(60), DEFAULTS.withQuietInterval(Duration.ofSeconds(60)).quietInterval());
        // Zero, or one not longer than the heartbeat, is allowed and means the session never goes quiet.
        assertEquals(false, DEFAULTS.withQuietInterval(Duration.ZERO).quietEnabled());
        assertEquals(false, DEFAULTS.withQuietInterval(Duration.ofSeconds(1)).quietEnabled());
        assertEquals(true, DEFAULTS.withQuietInterval(Duration.ofMillis(1001)).quietEnabled());
        assertEquals(false, DEFAULTS.withIdleTimeout(Duration.ofSeconds(30)).withHeartbeatInterval(
                Duration.ofSeconds(10)).quietEnabled(), "a heartbeat as long as the quiet interval");
    }

    @Test
    void withHeartbeatIntervalRefusesNonPositiveNullAndNotShorterThanTheIdleTimeout() {
        refused("heartbeatInterval must be positive: PT0S", () -> DEFAULTS.withHeartbeatInterval(Duration.ZERO));
        refused("heartbeatInterval must be positive: PT-1S",
                () -> DEFAULTS.withHeartbeatInterval(Duration.ofSeconds(-1)));
        refused("idleTimeout must exceed heartbeatInterval: PT3S <= PT3S",
                () -> DEFAULTS.withHeartbeatInterval(Duration.ofSeconds(3)));
        refusedNull("heartbeatInterval", () -> DEFAULTS.withHeartbeatInterval(null));
        assertEquals(Duration.ofMillis(2999), DEFAULTS.withHeartbeatInterval(Duration.ofMillis(2999))
                .heartbeatInterval());
    }

    @Test
    void withIdleTimeoutRefusesNonPositiveNullAndNotLongerThanTheHeartbeat() {
        refused("idleTimeout must be positive: PT0S", () -> DEFAULTS.withIdleTimeout(Duration.ZERO));
        refused("idleTimeout must exceed heartbeatInterval: PT1S <= PT1S",
                () -> DEFAULTS.withIdleTimeout(Duration.ofSeconds(1)));
        refusedNull("idleTimeout", () -> DEFAULTS.withIdleTimeout(null));
        assertEquals(Duration.ofMillis(1001), DEFAULTS.withIdleTimeout(Duration.ofMillis(1001)).idleTimeout());
    }

    @Test
    void withProbeTimeoutRecoveryTimeLimitAndReattachWindowRefuseNonPositiveAndNull() {
        refused("probeTimeout must be positive: PT0S", () -> DEFAULTS.withProbeTimeout(Duration.ZERO));
        refusedNull("probeTimeout", () -> DEFAULTS.withProbeTimeout(null));
        refused("recoveryTimeLimit must be positive: PT-0.001S",
                () -> DEFAULTS.withRecoveryTimeLimit(Duration.ofMillis(-1)));
        refusedNull("recoveryTimeLimit", () -> DEFAULTS.withRecoveryTimeLimit(null));
        refused("reattachWindow must be positive: PT0S", () -> DEFAULTS.withReattachWindow(Duration.ZERO));
        refusedNull("reattachWindow", () -> DEFAULTS.withReattachWindow(null));
        assertEquals(Duration.ofNanos(1), DEFAULTS.withProbeTimeout(Duration.ofNanos(1)).probeTimeout());
    }

    @Test
    void withMaxReconnectTriesRefusesLessThanOne() {
        refused("maxReconnectTries must be at least 1: 0", () -> DEFAULTS.withMaxReconnectTries(0));
        refused("maxReconnectTries must be at least 1: -5", () -> DEFAULTS.withMaxReconnectTries(-5));
        assertEquals(1, DEFAULTS.withMaxReconnectTries(1).maxReconnectTries());
    }

    @Test
    void withBackoffRefusesNonPositiveNullMaxBelowInitialAndJitterOutsideZeroToOne() {
        Duration second = Duration.ofSeconds(1);
        refused("backoffInitial must be positive: PT0S", () -> DEFAULTS.withBackoff(Duration.ZERO, second, 0.5));
        refused("backoffMax must be positive: PT0S", () -> DEFAULTS.withBackoff(second, Duration.ZERO, 0.5));
        refused("backoffMax must not be below backoffInitial: PT1S < PT2S",
                () -> DEFAULTS.withBackoff(Duration.ofSeconds(2), second, 0.5));
        refused("jitter must be within [0, 1]: -0.1", () -> DEFAULTS.withBackoff(second, second, -0.1));
        refused("jitter must be within [0, 1]: 1.5", () -> DEFAULTS.withBackoff(second, second, 1.5));
        refused("jitter must be within [0, 1]: NaN", () -> DEFAULTS.withBackoff(second, second, Double.NaN));
        refusedNull("backoffInitial", () -> DEFAULTS.withBackoff(null, second, 0.5));
        refusedNull("backoffMax", () -> DEFAULTS.withBackoff(second, null, 0.5));

        RecoveryPolicy bounds = DEFAULTS.withBackoff(second, second, 0).withBackoff(second, second, 1);
        assertEquals(1.0, bounds.jitter(), "0 and 1 are within bounds");
        assertEquals(second, bounds.backoffMax(), "max equal to initial is accepted");
    }

    @Test
    void withMethodsChangeOneFieldAndLeaveTheOriginalAlone() {
        RecoveryPolicy changed = DEFAULTS.withReattachWindow(Duration.ofMinutes(1));
        assertEquals(Duration.ofMinutes(1), changed.reattachWindow());
        assertEquals(DEFAULTS, changed.withReattachWindow(DEFAULTS.reattachWindow()));
        assertEquals(Duration.ofSeconds(20), RecoveryPolicy.defaults().reattachWindow());
    }
}
