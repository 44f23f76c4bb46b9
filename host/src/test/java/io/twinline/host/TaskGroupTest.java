package io.twinline.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The owner thread's ticker rounds, which carry every session's heartbeats and call deadlines: rounds run when due
 * until the ticker stops, a wake runs the next round at once, and a stream of spawns cannot starve the rounds. A task
 * the group no longer takes runs its {@code rejected} callback; a nested group whose owner its parent never starts
 * has ended and tells everyone waiting (so a session made on a closing server goes {@code DISCONNECTED} instead of
 * staying {@code CONNECTING}); and a group whose owner has gone tells a later ticker at once.
 */
class TaskGroupTest {

    @Test
    void roundsRunWhenDueUntilTheTickerStops() throws InterruptedException {
        TaskGroup group = TaskGroup.start("test-rounds", io.twinline.recovery.Clock.system());
        AtomicInteger rounds = new AtomicInteger();
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicInteger abandoned = new AtomicInteger();
        group.startTicker(late -> {
            if (rounds.incrementAndGet() == 5) {
                stopped.countDown();
                return -1;
            }
            return 0; // due again at once: an owner that ignored the -1 would run rounds and never end
        }, 0, abandoned::incrementAndGet);
        assertTrue(stopped.await(10, TimeUnit.SECONDS), "five rounds ran");
        // The owner runs rounds and the shutdown in one queue: once the group has ended, every round it would have
        // run is counted.
        assertTrue(group.shutdownAndAwait(Duration.ofSeconds(5)));
        assertEquals(5, rounds.get(), "no round after the ticker asked to stop");
        assertEquals(0, abandoned.get(), "a ticker that stopped itself was not abandoned");
    }

    @Test
    void aWakeRunsTheNextRoundAtOnceInsteadOfWhenPlanned() throws InterruptedException {
        TaskGroup group = TaskGroup.start("test-wake", io.twinline.recovery.Clock.system());
        AtomicInteger rounds = new AtomicInteger();
        CountDownLatch second = new CountDownLatch(1);
        group.startTicker(late -> {
            if (rounds.incrementAndGet() == 2) {
                second.countDown();
            }
            return TimeUnit.HOURS.toNanos(1); // planned far away: only a wake can bring the next round
        }, 0, () -> { });
        while (rounds.get() < 1) {
            Thread.sleep(1);
        }
        group.wakeTicker();
        assertTrue(second.await(10, TimeUnit.SECONDS), "the wake brought the second round");
        assertTrue(group.shutdownAndAwait(Duration.ofSeconds(5)));
    }

    /**
     * A ticker that plans no round ({@code UNTIL_WOKEN}, as a session's owner does: its periodic rounds run on the
     * round timer) runs only when woken, whatever time passes: its owner waits with no timer at all. The ticker's
     * clock here is moved by an hour before each look, so a round planned at any time within hours would run. (That
     * the wait has no timeout is not visible here: a delay of Long.MAX_VALUE added to the clock, as before
     * UNTIL_WOKEN, overflowed into a wait of centuries, which this test does not tell apart.)
     */
    @Test
    void aTickerThatPlansNoRoundRunsOnlyWhenWoken() throws InterruptedException {
        ManualClock clock = new ManualClock();
        TaskGroup group = TaskGroup.start("test-until-woken", clock);
        AtomicInteger rounds = new AtomicInteger();
        CountDownLatch woken = new CountDownLatch(1);
        group.startTicker(late -> {
            rounds.incrementAndGet();
            woken.countDown();
            return TaskGroup.UNTIL_WOKEN;
        }, TaskGroup.UNTIL_WOKEN, () -> { });
        CountDownLatch spawned = new CountDownLatch(1);
        for (int i = 0; i < 5; i++) {
            clock.advance(Duration.ofHours(1));
            group.spawn("task", () -> { }); // the owner handles it and looks at its ticker again
        }
        group.spawn("last", spawned::countDown);
        assertTrue(spawned.await(10, TimeUnit.SECONDS));
        assertEquals(0, rounds.get(), "no round before a wake");
        group.wakeTicker();
        assertTrue(woken.await(10, TimeUnit.SECONDS), "the wake ran a round");
        clock.advance(Duration.ofHours(1));
        CountDownLatch again = new CountDownLatch(1);
        group.spawn("after", again::countDown);
        assertTrue(again.await(10, TimeUnit.SECONDS));
        assertEquals(1, rounds.get(), "and it planned none after it");
        assertTrue(group.shutdownAndAwait(Duration.ofSeconds(5)));
    }

    @Test
    void aStreamOfSpawnsDoesNotStarveTheRounds() throws InterruptedException {
        TaskGroup group = TaskGroup.start("test-starve", io.twinline.recovery.Clock.system());
        AtomicInteger rounds = new AtomicInteger();
        AtomicInteger abandoned = new AtomicInteger();
        group.startTicker(late -> {
            rounds.incrementAndGet();
            return TimeUnit.MILLISECONDS.toNanos(1);
        }, 0, abandoned::incrementAndGet);
        AtomicInteger ran = new AtomicInteger();
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
        while (System.nanoTime() < end) {
            for (int i = 0; i < 100; i++) {
                group.spawn("task", ran::incrementAndGet);
            }
            Thread.onSpinWait();
        }
        int before = rounds.get();
        assertTrue(before > 10, "rounds kept running while tasks poured in: " + before);
        assertTrue(ran.get() > 0);
        assertTrue(group.shutdownAndAwait(Duration.ofSeconds(10)));
        assertEquals(1, abandoned.get(), "shut down while ticking: whoever relied on the rounds is told, once");
    }

    @Test
    void aTaskTheGroupNoLongerTakesRunsItsRejectedInstead() throws InterruptedException {
        TaskGroup group = TaskGroup.start("test-rejected", io.twinline.recovery.Clock.system());
        assertTrue(group.shutdownAndAwait(Duration.ofSeconds(5)));
        AtomicInteger ran = new AtomicInteger();
        AtomicInteger rejected = new AtomicInteger();
        assertFalse(group.spawn("late", ran::incrementAndGet, rejected::incrementAndGet), "refused");
        assertEquals(0, ran.get(), "the body did not run");
        assertEquals(1, rejected.get(), "whoever waited for it is told, once");
    }

    @Test
    void aNestedGroupWhoseOwnerNeverStartsEndsAndTellsEveryoneWaiting() throws InterruptedException {
        TaskGroup parent = TaskGroup.start("test-parent", io.twinline.recovery.Clock.system());
        CountDownLatch roundStarted = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        // The parent's owner is held in a ticker round, so the nested owner's task waits in its queue...
        parent.startTicker(late -> {
            roundStarted.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return -1;
        }, 0, () -> { });
        assertTrue(roundStarted.await(10, TimeUnit.SECONDS));
        TaskGroup nested = TaskGroup.startIn(parent, "test-nested");
        AtomicInteger abandoned = new AtomicInteger();
        nested.startTicker(late -> 1_000_000L, 0, abandoned::incrementAndGet);
        // ...and the parent is cancelled before it forks it: the task then runs its rejected, not the owner.
        parent.cancel();
        release.countDown();
        assertTrue(nested.awaitTermination(Duration.ofSeconds(10)), "the nested group ended without an owner");
        assertEquals(1, abandoned.get(), "the ticker queued before was abandoned, once");
        AtomicInteger lateTicker = new AtomicInteger();
        nested.startTicker(late -> 1_000_000L, 0, lateTicker::incrementAndGet);
        assertEquals(1, lateTicker.get(), "a ticker started afterwards is abandoned at once");
        AtomicInteger rejected = new AtomicInteger();
        assertFalse(nested.spawn("late", () -> { }, rejected::incrementAndGet));
        assertEquals(1, rejected.get());
        assertTrue(parent.awaitTermination(Duration.ofSeconds(10)));
    }

    @Test
    void aGroupWhoseOwnerHasGoneTellsALaterTickerAtOnce() throws InterruptedException {
        // Ended by its own shutdown, or never started by a closing parent: either way nobody reads its queue.
        TaskGroup ended = TaskGroup.start("test-ended", io.twinline.recovery.Clock.system());
        assertTrue(ended.shutdownAndAwait(Duration.ofSeconds(5)));
        TaskGroup parent = TaskGroup.start("test-closing-parent", io.twinline.recovery.Clock.system());
        assertTrue(parent.shutdownAndAwait(Duration.ofSeconds(5)));
        TaskGroup neverStarted = TaskGroup.startIn(parent, "test-never-started");
        assertTrue(neverStarted.isTerminated(), "refused by its parent, it has ended before it began");
        for (TaskGroup group : new TaskGroup[] {ended, neverStarted}) {
            AtomicInteger abandoned = new AtomicInteger();
            group.startTicker(late -> 1_000_000L, 0, abandoned::incrementAndGet);
            assertEquals(1, abandoned.get(), "the ticker's abandoned ran at once");
        }
    }
}
