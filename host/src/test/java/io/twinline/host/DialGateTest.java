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
 * {@link DialGate}: at most its number of dials run at once, the others get their turns in the order they came (seen
 * with one turn: with more, dials given turns together run side by side, in no order), and one whose deadline has
 * passed before its turn fails at once like a dial that timed out, without dialling.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DialGateTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void atMostItsNumberOfDialsRunAtOnce() throws Exception {
        DialGate gate = new DialGate(2);
        Clock clock = Clock.system();
        long deadline = clock.nanoTime() + Duration.ofMinutes(1).toNanos();
        CountDownLatch release = new CountDownLatch(1);
        List<String> order = new CopyOnWriteArrayList<>();
        List<Thread> holders = hold(gate, clock, deadline, List.of("a", "b"), order, release);
        CountDownLatch done = new CountDownLatch(1);
        queue(gate, clock, deadline, "c", order, done);
        assertEquals(2, gate.running());
        assertEquals(java.util.Set.of("a", "b"), java.util.Set.copyOf(order), "no third dial while two run");
        release.countDown();
        assertTrue(done.await(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertEquals("c", order.getLast());
        for (Thread t : holders) {
            t.join();
        }
        assertEquals(1, gate.waitedTotal());
    }

    @Test
    void dialsThatWaitGetTheirTurnsInTheOrderTheyCame() throws Exception {
        // One turn, so that a dial runs alone and the order they run in is the order of their turns.
        DialGate gate = new DialGate(1);
        Clock clock = Clock.system();
        long deadline = clock.nanoTime() + Duration.ofMinutes(1).toNanos();
        CountDownLatch release = new CountDownLatch(1);
        List<String> order = new CopyOnWriteArrayList<>();
        hold(gate, clock, deadline, List.of("a"), order, release);
        CountDownLatch allDone = new CountDownLatch(3);
        for (String later : List.of("c", "d", "e")) {
            queue(gate, clock, deadline, later, order, allDone); // each waits before the next comes
        }
        assertEquals(3, gate.queued());
        release.countDown();
        assertTrue(allDone.await(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertEquals(List.of("a", "c", "d", "e"), order, "in the order they came");
        assertEquals(3, gate.waitedTotal());
        assertEquals(0, gate.refusedTotal());
    }

    /**
     * Starts a dial that records {@code name} once it has its turn, and returns once it waits for one; {@code done}
     * is counted down when it has run (or failed).
     */
    private static void queue(DialGate gate, Clock clock, long deadline, String name, List<String> order,
                              CountDownLatch done) {
        int queuedBefore = gate.queued();
        Thread.ofVirtual().start(() -> {
            try {
                gate.through(clock, deadline, () -> order.add(name));
            } catch (Exception e) {
                order.add("failed " + name);
            } finally {
                done.countDown();
            }
        });
        while (gate.queued() == queuedBefore) {
            Thread.onSpinWait();
        }
    }

    /** Starts a dial for each name that takes its turn, records its name and holds the turn until released. */
    private static List<Thread> hold(DialGate gate, Clock clock, long deadline, List<String> names, List<String> order,
                                     CountDownLatch release) throws InterruptedException {
        CountDownLatch in = new CountDownLatch(names.size());
        List<Thread> threads = new java.util.ArrayList<>();
        for (String name : names) {
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    gate.through(clock, deadline, () -> {
                        order.add(name);
                        in.countDown();
                        release.await();
                        return null;
                    });
                } catch (Exception e) {
                    order.add("failed " + name);
                }
            }));
        }
        assertTrue(in.await(WAIT.toSeconds(), TimeUnit.SECONDS));
        return threads;
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
