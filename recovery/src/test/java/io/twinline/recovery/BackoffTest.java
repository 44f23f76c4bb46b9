package io.twinline.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.RecoveryPolicy;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The reconnect loop's pause after the n-th failed try, {@code min(backoffMax, backoffInitial × 2^(n−1))} shortened
 * at random by up to {@code jitter} of itself: doubling up to the cap, the bounds of the jitter at both extremes of
 * the random source, no overflow for huge failure counts, and fewer than one failure refused.
 */
class BackoffTest {

    /** nextDouble() of these is 0 and the largest double below 1: no cut, and the largest cut. */
    private static final RandomGenerator LOWEST = () -> 0L;
    private static final RandomGenerator HIGHEST = () -> -1L;

    private static Backoff backoff(Duration initial, Duration max, double jitter, RandomGenerator random) {
        return new Backoff(RecoveryPolicy.defaults().withBackoff(initial, max, jitter), random);
    }

    @Test
    void withoutJitter_pauseDoublesFromInitialUpToMax() {
        Backoff backoff = backoff(Duration.ofMillis(10), Duration.ofSeconds(1), 0, HIGHEST);
        List<Long> pauses = new ArrayList<>();
        for (int n = 1; n <= 10; n++) {
            pauses.add(Duration.ofNanos(backoff.pauseNanos(n)).toMillis());
        }
        assertEquals(List.of(10L, 20L, 40L, 80L, 160L, 320L, 640L, 1000L, 1000L, 1000L), pauses);
    }

    @Test
    void withoutJitter_matchesMinOfMaxAndInitialTimesTwoToTheNMinusOne() {
        long[][] policies = {{1, 1}, {7, 1_000}, {1_000_000, 86_400_000_000_000L}, {1, 3_600_000_000_000L},
                {1, Long.MAX_VALUE}, {1_000_000_000, Long.MAX_VALUE}, {Long.MAX_VALUE, Long.MAX_VALUE}};
        for (long[] p : policies) {
            Backoff backoff = backoff(Duration.ofNanos(p[0]), Duration.ofNanos(p[1]), 0, HIGHEST);
            for (int n = 1; n <= 130; n++) {
                BigInteger exact = BigInteger.valueOf(p[0]).shiftLeft(n - 1).min(BigInteger.valueOf(p[1]));
                assertEquals(exact.longValueExact(), backoff.pauseNanos(n), "initial " + p[0] + " ns, max " + p[1]
                        + " ns, after " + n + " failures");
            }
        }
    }

    @Test
    void jitterHalf_everyPauseIsWithinHalfAndWholeOfTheBase() {
        Backoff random = backoff(Duration.ofMillis(20), Duration.ofSeconds(1), 0.5, new SplittableRandom(7));
        Backoff exact = backoff(Duration.ofMillis(20), Duration.ofSeconds(1), 0, HIGHEST);
        for (int n = 1; n <= 12; n++) {
            long base = exact.pauseNanos(n);
            for (int draw = 0; draw < 1_000; draw++) {
                long pause = random.pauseNanos(n);
                assertTrue(pause >= base / 2 && pause <= base, pause + " outside [" + base / 2 + ", " + base + "]");
            }
        }
    }

    @Test
    void jitterHalf_extremesOfTheRandomGiveTheBaseAndJustOverHalfOfIt() {
        long base = Duration.ofMillis(20).toNanos();
        assertEquals(base, backoff(Duration.ofMillis(20), Duration.ofSeconds(1), 0.5, LOWEST).pauseNanos(1));
        long shortest = backoff(Duration.ofMillis(20), Duration.ofSeconds(1), 0.5, HIGHEST).pauseNanos(1);
        assertTrue(shortest >= base / 2 && shortest <= base / 2 + 1, String.valueOf(shortest));
    }

    @Test
    void hugeFailureCounts_doNotOverflow() {
        Duration max = Duration.ofNanos(Long.MAX_VALUE);
        Backoff exact = backoff(Duration.ofMillis(20), max, 0, HIGHEST);
        Backoff jittered = backoff(Duration.ofMillis(20), max, 0.5, HIGHEST);
        for (int n : new int[] {62, 63, 64, 65, 1_000, Integer.MAX_VALUE}) {
            assertEquals(Long.MAX_VALUE, exact.pauseNanos(n), "after " + n + " failures");
            long pause = jittered.pauseNanos(n);
            assertTrue(pause >= Long.MAX_VALUE / 2, pause + " after " + n + " failures");
        }
        assertEquals(Duration.ofSeconds(1).toNanos(),
                backoff(Duration.ofMillis(20), Duration.ofSeconds(1), 0, HIGHEST).pauseNanos(Integer.MAX_VALUE));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
    void fewerThanOneFailure_isRejected(int failedTries) {
        Backoff backoff = backoff(Duration.ofMillis(20), Duration.ofSeconds(1), 0.5, new SplittableRandom(1));
        assertThrows(IllegalArgumentException.class, () -> backoff.pauseNanos(failedTries));
    }
}
