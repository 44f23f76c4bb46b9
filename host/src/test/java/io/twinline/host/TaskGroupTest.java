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
 * the group no longer takes runs its {@code rejected} callback; a nested group (a server's session) runs its tasks in
 * its host's scope as its own, ends once shut down and its last task has returned, runs its ticker only when woken,
 * and ends with its host; a nested task its host never starts is told, and its group ends and tells everyone waiting
 * (so a session made on a closing server goes {@code DISCONNECTED} instead of staying {@code CONNECTING}); and a group
 * that has ended tells a later ticker at once.
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

    /**
     * A cancelled host's scope drops a fork without running it or saying so: the nested task queued before the
     * cancel must still be told, or its group would never end. The host's task that ends on the interrupt is what
     * cancels the scope before the owner reaches the queued task.
     */
    @Test
    void aNestedGroupWhoseTaskItsHostNeverStartsEndsAndTellsEveryoneWaiting() throws InterruptedException {
        TaskGroup host = TaskGroup.start("test-host", io.twinline.recovery.Clock.system());
        CountDownLatch blocking = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicReference<Thread> blocker = new java.util.concurrent.atomic.AtomicReference<>();
        assertTrue(host.spawn("blocker", () -> {
            blocker.set(Thread.currentThread());
            blocking.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                // ends: its completion cancels the host's scope
            }
        }));
        assertTrue(blocking.await(10, TimeUnit.SECONDS));
        CountDownLatch roundStarted = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        // The host's owner is held in a ticker round, so the nested group's task waits in its queue...
        host.startTicker(late -> {
            roundStarted.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return -1;
        }, 0, () -> { });
        assertTrue(roundStarted.await(10, TimeUnit.SECONDS));
        TaskGroup nested = TaskGroup.startIn(host, "test-nested");
        AtomicInteger abandoned = new AtomicInteger();
        nested.startTicker(late -> TaskGroup.UNTIL_WOKEN, TaskGroup.UNTIL_WOKEN, abandoned::incrementAndGet);
        AtomicInteger ran = new AtomicInteger();
        AtomicInteger rejected = new AtomicInteger();
        assertTrue(nested.spawn("queued", ran::incrementAndGet, rejected::incrementAndGet), "taken");
        // ...and the host is cancelled before it forks it: the task then runs its rejected, not its body.
        host.cancel();
        blocker.get().join(); // its completion has been handled: the host's scope is cancelled
        release.countDown();
        assertTrue(nested.awaitTermination(Duration.ofSeconds(10)), "the nested group ended");
        assertEquals(0, ran.get());
        assertEquals(1, rejected.get(), "whoever waited for the task is told, once");
        assertEquals(1, abandoned.get(), "the ticker was abandoned, once");
        AtomicInteger lateTicker = new AtomicInteger();
        nested.startTicker(late -> TaskGroup.UNTIL_WOKEN, TaskGroup.UNTIL_WOKEN, lateTicker::incrementAndGet);
        assertEquals(1, lateTicker.get(), "a ticker started afterwards is abandoned at once");
        AtomicInteger lateRejected = new AtomicInteger();
        assertFalse(nested.spawn("late", () -> { }, lateRejected::incrementAndGet));
        assertEquals(1, lateRejected.get());
        assertTrue(host.awaitTermination(Duration.ofSeconds(10)));
    }

    /**
     * A server's session is a nested group: it has no owner thread, its tasks run in the host's scope and count as
     * the nested group's, and so do the children they fork (a session's close asks whether it is called from
     * inside); it ends only once it is shut down and its last task has returned, so a session's end still waits for
     * its threads.
     */
    @Test
    void aNestedGroupEndsOnceShutDownAndItsLastTaskHasReturned() throws InterruptedException {
        TaskGroup host = TaskGroup.start("test-host", io.twinline.recovery.Clock.system());
        TaskGroup nested = TaskGroup.startIn(host, "test-nested");
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger insideNested = new AtomicInteger();
        AtomicInteger insideHost = new AtomicInteger();
        AtomicInteger childInside = new AtomicInteger();
        assertTrue(nested.spawn("test-nested/task", () -> {
            if (nested.isCallerInside()) {
                insideNested.incrementAndGet();
            }
            if (host.isCallerInside()) {
                insideHost.incrementAndGet();
            }
            nested.withChildren("test-nested/children", children -> children.spawn(null, () -> {
                if (nested.isCallerInside()) {
                    childInside.incrementAndGet();
                }
            }, null));
            running.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, null));
        assertTrue(running.await(10, TimeUnit.SECONDS));
        assertEquals(1, insideNested.get(), "the task runs as the nested group's");
        assertEquals(1, insideHost.get(), "inside its host's scope as well");
        assertEquals(1, childInside.get(), "and so does a child it forks");
        nested.shutdown();
        AtomicInteger refused = new AtomicInteger();
        assertFalse(nested.spawn("late", () -> { }, refused::incrementAndGet), "no task after the shutdown");
        assertEquals(1, refused.get());
        assertFalse(nested.isTerminated(), "a task still runs: the group has not ended");
        release.countDown();
        assertTrue(nested.awaitTermination(Duration.ofSeconds(10)), "ended with its last task");
        assertTrue(host.shutdownAndAwait(Duration.ofSeconds(5)));
    }

    /**
     * A nested group's ticker has no owner to plan rounds on: a wake runs one round on a task of the group, rounds
     * never overlap, wakes while a round is queued add none, and a round that returns a negative delay stops it.
     */
    @Test
    void aNestedGroupsTickerRunsOneRoundAtATimeWhenWokenUntilItStops() throws InterruptedException {
        TaskGroup host = TaskGroup.start("test-host", io.twinline.recovery.Clock.system());
        TaskGroup nested = TaskGroup.startIn(host, "test-nested");
        AtomicInteger rounds = new AtomicInteger();
        AtomicInteger inRound = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger outside = new AtomicInteger();
        AtomicInteger abandoned = new AtomicInteger();
        CountDownLatch stopped = new CountDownLatch(1);
        nested.startTicker(late -> {
            if (inRound.incrementAndGet() > 1) {
                overlaps.incrementAndGet();
            }
            if (!nested.isCallerInside()) {
                outside.incrementAndGet();
            }
            Thread.yield();
            inRound.decrementAndGet();
            if (rounds.incrementAndGet() == 3) {
                stopped.countDown();
                return -1;
            }
            return TaskGroup.UNTIL_WOKEN;
        }, TaskGroup.UNTIL_WOKEN, abandoned::incrementAndGet);
        Thread[] wakers = new Thread[4];
        for (int i = 0; i < wakers.length; i++) {
            wakers[i] = Thread.ofVirtual().start(() -> {
                while (stopped.getCount() > 0) {
                    nested.wakeTicker();
                    Thread.yield();
                }
            });
        }
        assertTrue(stopped.await(10, TimeUnit.SECONDS), "wakes ran rounds until the ticker stopped");
        for (Thread t : wakers) {
            t.join();
        }
        nested.wakeTicker();
        assertTrue(nested.shutdownAndAwait(Duration.ofSeconds(5)));
        assertEquals(3, rounds.get(), "no round after the ticker asked to stop");
        assertEquals(0, overlaps.get(), "rounds never overlapped");
        assertEquals(0, outside.get(), "every round ran on a task of the group");
        assertEquals(0, abandoned.get(), "a ticker that stopped itself was not abandoned");
        assertTrue(host.shutdownAndAwait(Duration.ofSeconds(5)));
    }

    /**
     * A server that ends ends its idle sessions' groups: their tickers are told, so the sessions end too, as their
     * own threads (on the server's owner here): a listener that closes the session then returns at once instead of
     * waiting for its own group's end.
     */
    @Test
    void aNestedGroupEndsWithItsHost() throws InterruptedException {
        TaskGroup host = TaskGroup.start("test-host", io.twinline.recovery.Clock.system());
        TaskGroup nested = TaskGroup.startIn(host, "test-nested");
        AtomicInteger abandoned = new AtomicInteger();
        AtomicInteger abandonedInside = new AtomicInteger();
        nested.startTicker(late -> TaskGroup.UNTIL_WOKEN, TaskGroup.UNTIL_WOKEN, () -> {
            abandoned.incrementAndGet();
            if (nested.isCallerInside()) {
                abandonedInside.incrementAndGet();
            }
        });
        CountDownLatch ran = new CountDownLatch(1);
        assertTrue(nested.spawn("task", ran::countDown));
        assertTrue(ran.await(10, TimeUnit.SECONDS));
        assertTrue(host.shutdownAndAwait(Duration.ofSeconds(5)));
        assertTrue(nested.awaitTermination(Duration.ofSeconds(5)), "ended with its host, never shut down itself");
        assertEquals(1, abandoned.get(), "its ticker was told, once");
        assertEquals(1, abandonedInside.get(), "as the nested group's own thread");
    }

    @Test
    void aGroupWhoseOwnerHasGoneTellsALaterTickerAtOnce() throws InterruptedException {
        // Ended by its own shutdown, or made on a host that has ended: either way no round will ever run.
        TaskGroup ended = TaskGroup.start("test-ended", io.twinline.recovery.Clock.system());
        assertTrue(ended.shutdownAndAwait(Duration.ofSeconds(5)));
        TaskGroup host = TaskGroup.start("test-closing-host", io.twinline.recovery.Clock.system());
        assertTrue(host.shutdownAndAwait(Duration.ofSeconds(5)));
        TaskGroup neverStarted = TaskGroup.startIn(host, "test-never-started");
        assertTrue(neverStarted.isTerminated(), "made on a host that has ended, it has ended before it began");
        for (TaskGroup group : new TaskGroup[] {ended, neverStarted}) {
            AtomicInteger abandoned = new AtomicInteger();
            group.startTicker(late -> 1_000_000L, TaskGroup.UNTIL_WOKEN, abandoned::incrementAndGet);
            assertEquals(1, abandoned.get(), "the ticker's abandoned ran at once");
        }
    }
}
