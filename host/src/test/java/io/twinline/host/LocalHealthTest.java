package io.twinline.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The process's {@link LocalHealth}, on times the test chooses: the lateness a deadline is stretched by is the
 * largest noticed since the deadline's start (a stall that ended before it does not count, one noticed in its
 * 100 ms slot or later does, and a canary still waiting counts with its age); the score rises by one per second
 * with a sample over the threshold and falls by one per second without, between 0 and its maximum; a deadline is
 * multiplied by one more than the score and lengthened by the lateness. No real time passes.
 */
class LocalHealthTest {
    private static final long MS = 1_000_000L;

    private final ManualClock clock = new ManualClock();
    private final LocalHealth health = new LocalHealth(clock::nanoTime);
    /** A moment on a slot's edge, so the test knows which samples share a slot. */
    private final long t0 = Math.floorDiv(clock.nanoTime(), LocalHealth.SLOT_NANOS) * LocalHealth.SLOT_NANOS
            + 10 * LocalHealth.SLOT_NANOS;

    @Test
    void lagSinceIsTheLargestLatenessNoticedSinceThen() {
        health.record(t0 + 50 * MS, 30 * MS);
        health.record(t0 + 450 * MS, 700 * MS);
        health.record(t0 + 950 * MS, 80 * MS);
        assertEquals(700 * MS, health.lagSince(t0, t0 + 1_000 * MS));
        assertEquals(700 * MS, health.lagSince(t0 + 400 * MS, t0 + 1_000 * MS), "noticed in the same slot or later");
        assertEquals(80 * MS, health.lagSince(t0 + 500 * MS, t0 + 1_000 * MS),
                "a stall that was over before the deadline began does not stretch it");
        assertEquals(0, health.lagSince(t0 + 1_000 * MS, t0 + 1_200 * MS));
    }

    @Test
    void aMomentOlderThanTheHistoryStandsForAllOfIt() {
        health.record(t0, 300 * MS);
        long later = t0 + (LocalHealth.SLOTS - 1) * LocalHealth.SLOT_NANOS;
        assertEquals(300 * MS, health.lagSince(t0 - Duration.ofHours(1).toNanos(), later));
        long past = t0 + LocalHealth.SLOTS * LocalHealth.SLOT_NANOS;
        assertEquals(0, health.lagSince(t0 - Duration.ofHours(1).toNanos(), past), "forgotten after 25.6 s");
    }

    @Test
    void aCanaryStillWaitingCountsWithItsAge() {
        assertTrue(health.canaryDue(t0));
        health.canarySent(t0);
        assertFalse(health.canaryDue(t0 + 500 * MS), "one at a time");
        assertEquals(500 * MS, health.lagSince(t0 + 400 * MS, t0 + 500 * MS));
        health.canaryRan(t0 + 600 * MS);
        assertEquals(600 * MS, health.lagSince(t0 + 550 * MS, t0 + 700 * MS), "recorded when it ran");
        assertTrue(health.canaryDue(t0 + 600 * MS), "the next may go as soon as the last has run");
        health.canarySent(t0 + 600 * MS);
        health.canaryRan(t0 + 601 * MS);
        assertFalse(health.canaryDue(t0 + 600 * MS + LocalHealth.CANARY_EVERY_NANOS - 1), "but not more often");
        assertTrue(health.canaryDue(t0 + 600 * MS + LocalHealth.CANARY_EVERY_NANOS));
    }

    @Test
    void theScoreRisesAndFallsByOnePerSecondAndStaysInItsRange() {
        long second = LocalHealth.SCORE_ROUND_NANOS;
        long t = t0;
        health.scoreRound(t); // the first round only starts the count
        for (int i = 1; i <= LocalHealth.MAX_SCORE + 2; i++) {
            health.record(t + 10 * MS, LocalHealth.UNHEALTHY_LAG_NANOS + 1);
            t += second;
            health.scoreRound(t);
            assertEquals(Math.min(i, LocalHealth.MAX_SCORE), health.score(), "after bad second " + i);
        }
        health.record(t + 10 * MS, LocalHealth.UNHEALTHY_LAG_NANOS); // not over the threshold
        health.scoreRound(t + second - 1);
        assertEquals(LocalHealth.MAX_SCORE, health.score(), "a round lasts a second");
        t += second;
        health.scoreRound(t);
        assertEquals(LocalHealth.MAX_SCORE - 1, health.score());
        for (int i = 0; i < LocalHealth.MAX_SCORE + 2; i++) {
            t += second;
            health.scoreRound(t);
        }
        assertEquals(0, health.score());
    }

    /**
     * Sessions falling silent together are evidence of a common cause: 8 overdue deadlines in one second raise the score
     * to 1 at once, 32 to 2, 128 to 3; a second with fewer than 8, and no late sample, lowers it by one.
     */
    @Test
    void manySessionsOverdueInOneSecondRaiseTheScoreAtOnce() {
        health.scoreRound(t0);
        int overdue = 0;
        int[] levels = {8, 32, 128};
        for (int level = 1; level <= 3; level++) {
            while (overdue < levels[level - 1] - 1) {
                health.overdue(t0 + overdue);
                overdue++;
            }
            assertEquals(level - 1, health.score(), "one short of " + levels[level - 1]);
            health.overdue(t0 + overdue);
            overdue++;
            assertEquals(level, health.score(), "at " + levels[level - 1]);
        }
        for (int i = 0; i < 1_000; i++) {
            health.overdue(t0 + 500 * MS);
        }
        assertEquals(LocalHealth.MAX_SCORE, health.score());
        long t = t0 + LocalHealth.SCORE_ROUND_NANOS;
        health.scoreRound(t);
        assertEquals(LocalHealth.MAX_SCORE, health.score(), "a second with many overdue is a bad second");
        for (int i = 0; i < LocalHealth.OVERDUE_PER_LEVEL - 1; i++) {
            health.overdue(t + MS);
        }
        health.scoreRound(t + LocalHealth.SCORE_ROUND_NANOS);
        assertEquals(LocalHealth.MAX_SCORE - 1, health.score(), "seven in a second are not");
    }

    @Test
    void aDeadlineIsMultipliedByOneMoreThanTheScoreAndLengthenedByTheLateness() {
        assertEquals(1_000 * MS, health.stretch(1_000 * MS, t0, t0 + 2_000 * MS), "a healthy process: as given");
        health.scoreRound(t0);
        health.record(t0 + 10 * MS, 250 * MS);
        health.scoreRound(t0 + LocalHealth.SCORE_ROUND_NANOS);
        assertEquals(1, health.score());
        assertEquals(2_000 * MS + 250 * MS, health.stretch(1_000 * MS, t0, t0 + 2_000 * MS));
        assertEquals(2_000 * MS, health.stretch(1_000 * MS, t0 + 500 * MS, t0 + 2_000 * MS),
                "the lateness noticed before the start does not count, the score does");
    }

    @Test
    void nothingIsLateForAClockATestMoves() {
        LocalHealth none = LocalHealth.NONE;
        none.record(t0, 900 * MS);
        assertEquals(0, none.lagSince(t0, t0 + MS));
        assertEquals(1_000 * MS, none.stretch(1_000 * MS, t0, t0 + MS));
    }
}
