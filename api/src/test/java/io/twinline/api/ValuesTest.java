package io.twinline.api;

import static io.twinline.api.RecoveryPolicyTest.refused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the javadoc of {@link Channel}, {@link MetricsSnapshot} and its histogram promises about bad arguments. */
class ValuesTest {

    @Test
    void channelCodesAre0And1AndNothingElse() {
        assertEquals(Channel.A, Channel.ofCode(0));
        assertEquals(Channel.B, Channel.ofCode(1));
        assertEquals(Channel.B, Channel.A.other());
        refused("unknown channel code: 2", () -> Channel.ofCode(2));
        refused("unknown channel code: -1", () -> Channel.ofCode(-1));
    }

    private static <E extends Enum<E>> Map<E, Long> zeros(Class<E> type) {
        Map<E, Long> counts = new EnumMap<>(type);
        for (E key : type.getEnumConstants()) {
            counts.put(key, 0L);
        }
        return counts;
    }

    private static Map<Channel, Map<FailureCause, Long>> zerosByChannel() {
        return Map.of(Channel.A, zeros(FailureCause.class), Channel.B, zeros(FailureCause.class));
    }

    private static final MetricsSnapshot.Histogram EMPTY =
            new MetricsSnapshot.Histogram(List.of(Duration.ofMillis(1)), List.of(0L, 0L), 0, Duration.ZERO);

    private static MetricsSnapshot snapshot(Map<SessionState, Long> sessions, Map<String, Long> rejected) {
        return new MetricsSnapshot(0, sessions, zeros(SessionState.class), zeros(CallOutcome.class),
                zeros(CallOutcome.class), EMPTY, zerosByChannel(), zerosByChannel(), EMPTY, 0, 0, 0, 0, 0, 0,
                rejected, EMPTY, 0);
    }

    @Test
    void metricsSnapshotRefusesAMissingOrNullCountAndANullReason() {
        Map<SessionState, Long> missing = zeros(SessionState.class);
        missing.remove(SessionState.CLOSED);
        refused("sessions has no count for CLOSED", () -> snapshot(missing, Map.of()));
        Map<SessionState, Long> nullCount = zeros(SessionState.class);
        nullCount.put(SessionState.NORMAL, null);
        refused("sessions has no count for NORMAL", () -> snapshot(nullCount, Map.of()));
        Map<String, Long> nullReason = new HashMap<>();
        nullReason.put(null, 1L);
        assertThrows(NullPointerException.class, () -> snapshot(zeros(SessionState.class), nullReason));
        assertThrows(NullPointerException.class, () -> snapshot(null, Map.of()));
    }

    @Test
    void metricsSnapshotKeepsItsOwnCopies() {
        Map<SessionState, Long> sessions = zeros(SessionState.class);
        MetricsSnapshot taken = snapshot(sessions, Map.of("server_full", 2L, "bad_token", 1L));
        sessions.put(SessionState.NORMAL, 5L);
        assertEquals(0L, taken.sessions().get(SessionState.NORMAL));
        assertEquals(List.of("bad_token", "server_full"), List.copyOf(taken.handshakesRejected().keySet()));
        assertThrows(UnsupportedOperationException.class, () -> taken.sessions().put(SessionState.NORMAL, 1L));
    }

    @Test
    void histogramNeedsOneCountMoreThanBoundsAndItsLastCountIsTheCount() {
        List<Duration> bounds = List.of(Duration.ofMillis(1), Duration.ofMillis(10));
        refused("cumulativeCounts needs 3 entries, has 2",
                () -> new MetricsSnapshot.Histogram(bounds, List.of(1L, 2L), 2, Duration.ZERO));
        refused("the last cumulative count 3 differs from count 4",
                () -> new MetricsSnapshot.Histogram(bounds, List.of(1L, 2L, 3L), 4, Duration.ZERO));
        assertThrows(NullPointerException.class,
                () -> new MetricsSnapshot.Histogram(bounds, List.of(1L, 2L, 3L), 3, null));
        assertEquals(3, new MetricsSnapshot.Histogram(bounds, List.of(1L, 2L, 3L), 3, Duration.ZERO).count());
    }
}
