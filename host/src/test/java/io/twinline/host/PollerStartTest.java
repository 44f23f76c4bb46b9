package io.twinline.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link PollerStart#runAlone}: the fence that keeps the JDK poller's sub-pollers from running before its
 * initializer has returned. The pinned event it prevents is counted by the benchmarks' JFR run, not here.
 */
class PollerStartTest {
    private static final int CARRIERS = PollerStart.schedulerCarriers();

    /**
     * The property the poller start relies on. The task busy-works (never parks) after starting a thread; that
     * thread must not run before the task has returned. The scheduler may add a carrier to make up for one pinned
     * elsewhere in this JVM, or be slow to run a holder, so one attempt in three is enough; without the holders
     * every attempt fails.
     */
    @Test
    void threadsTheTaskStartsRunOnlyAfterItHasReturned() throws InterruptedException {
        int fenced = 0;
        for (int attempt = 0; attempt < 3 && fenced == 0; attempt++) {
            var returned = new AtomicBoolean();
            var sawReturned = new AtomicBoolean();
            var childRan = new CountDownLatch(1);
            boolean held = PollerStart.runAlone(() -> {
                Thread.ofVirtual().start(() -> {
                    sawReturned.set(returned.get());
                    childRan.countDown();
                });
                busyFor(TimeUnit.MILLISECONDS.toNanos(30));
                returned.set(true);
            }, CARRIERS, PollerStart.HOLD_WAIT_NANOS, PollerStart.HOLD_LIMIT_NANOS);
            assertTrue(childRan.await(10, TimeUnit.SECONDS), "the task's thread ran in the end");
            if (held && sawReturned.get()) {
                fenced++;
            }
        }
        assertTrue(fenced > 0, "the thread started by the task ran only after the task had returned");
    }

    @Test
    void withFewerCarriersThanExpectedTheTaskStillRunsAndNoHolderStaysOn() throws InterruptedException {
        var ran = new AtomicInteger();
        // The holders' own limit is an hour: only letting them go when they cannot all run ends this call.
        boolean held = assertTimeoutPreemptively(Duration.ofMinutes(1), () -> PollerStart.runAlone(
                ran::incrementAndGet, CARRIERS + 8, TimeUnit.MILLISECONDS.toNanos(20), TimeUnit.HOURS.toNanos(1)),
                "the call returned without waiting for the holders' limit");
        assertFalse(held, "not every carrier the call asked for exists");
        assertEquals(1, ran.get(), "the task ran once");
        // The holders are gone: as many threads as there are carriers can all run at once again.
        var together = new CountDownLatch(CARRIERS);
        var go = new CountDownLatch(1);
        for (int i = 0; i < CARRIERS; i++) {
            Thread.ofVirtual().start(() -> {
                together.countDown();
                while (go.getCount() > 0) {
                    Thread.onSpinWait();
                }
            });
        }
        try {
            assertTrue(together.await(10, TimeUnit.SECONDS), "every carrier is free again");
        } finally {
            go.countDown();
        }
    }

    private static void busyFor(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() - end < 0) {
            Thread.onSpinWait();
        }
    }
}
