package io.twinline.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.recovery.Clock;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link DialGate}: at most its number of dials run at once, the others get their turn in the order they came, and
 * one whose deadline has passed before its turn fails at once like a dial that timed out, without dialling.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DialGateTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void atMostItsNumberOfDialsRunAtOnceAndTheOthersGoInTheOrderTheyCame() throws Exception {
        DialGate gate = new DialGate(2);
        Clock clock = Clock.system();
        long deadline = clock.nanoTime() + Duration.ofMinutes(1).toNanos();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch twoIn = new CountDownLatch(2);
        List<String> order = new CopyOnWriteArrayList<>();
        for (String first : List.of("a", "b")) {
            Thread.ofVirtual().start(() -> {
                try {
                    gate.through(clock, deadline, () -> {
                        order.add(first);
                        twoIn.countDown();
                        release.await();
                        return null;
                    });
                } catch (Exception e) {
                    order.add("failed " + first);
                }
            });
        }
        assertTrue(twoIn.await(WAIT.toSeconds(), TimeUnit.SECONDS));
        CountDownLatch allDone = new CountDownLatch(3);
        for (String later : List.of("c", "d", "e")) {
            int queuedBefore = gate.queued();
            Thread.ofVirtual().start(() -> {
                try {
                    gate.through(clock, deadline, () -> order.add(later));
                } catch (Exception e) {
                    order.add("failed " + later);
                } finally {
                    allDone.countDown();
                }
            });
            while (gate.queued() == queuedBefore) { // each waits before the next comes
                Thread.onSpinWait();
            }
        }
        assertEquals(2, gate.running());
        assertEquals(3, gate.queued());
        assertEquals(java.util.Set.of("a", "b"), java.util.Set.copyOf(order), "no third dial while two run");
        release.countDown();
        assertTrue(allDone.await(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertEquals(List.of("c", "d", "e"), order.subList(2, 5), "in the order they came");
        assertEquals(3, gate.waitedTotal());
        assertEquals(0, gate.refusedTotal());
    }

    @Test
    void aDialWhoseDeadlineComesBeforeItsTurnFailsWithoutDialling() throws Exception {
        DialGate gate = new DialGate(1);
        ManualClock clock = new ManualClock();
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = Thread.ofVirtual().start(() -> {
            try {
                gate.through(clock, clock.nanoTime() + Duration.ofMinutes(1).toNanos(), () -> {
                    holding.countDown();
                    release.await();
                    return null;
                });
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertTrue(holding.await(WAIT.toSeconds(), TimeUnit.SECONDS));
        List<String> dialled = new CopyOnWriteArrayList<>();
        IOException refused = assertThrows(IOException.class,
                () -> gate.through(clock, clock.nanoTime(), () -> dialled.add("dialled")));
        assertTrue(refused.getMessage().contains("no turn to dial"), refused.getMessage());
        assertEquals(List.of(), dialled);
        assertEquals(1, gate.refusedTotal());
        release.countDown();
        holder.join();
        assertEquals("ok", gate.through(clock, clock.nanoTime(), () -> "ok"), "a free turn is taken at once");
    }
}
