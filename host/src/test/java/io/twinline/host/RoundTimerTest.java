package io.twinline.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.recovery.Clock;
import io.twinline.transport.Connection;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * {@link RoundTimer}: a round runs at the first tick at or after the moment it asked for, never before, and rounds due
 * by the same moment run in one pass; a wake-up asked for earlier moves it, a later one does not delay it, and one
 * asked for while it runs is kept; a round that stops or is cancelled runs no more, one that throws runs again a
 * little later. Driven by hand on a clock the test moves ({@link RoundTimer#manual}), except the last test: a round's
 * write that hangs has its connection closed by the timer's watchdog, on a timer thread of its own.
 */
class RoundTimerTest {
    private static final long TICK = RoundTimer.TICK_NANOS;

    private final ManualClock clock = new ManualClock();
    private final RoundTimer timer = RoundTimer.manual(clock, LocalHealth.NONE);
    private final long t0 = clock.nanoTime();
    private final List<String> ran = new ArrayList<>();

    /** A round that logs when it runs and asks to run next after {@code every}. */
    private RoundTimer.Round every(String name, long every) {
        return now -> {
            ran.add(name + "@" + (now - t0) / 1_000_000);
            return now + every;
        };
    }

    @Test
    void aRoundRunsAtTheFirstTickAtOrAfterItsMomentNeverBefore() {
        timer.add(every("a", TICK * 50), t0 + TICK * 3 + 1); // just past the third tick: due at the fourth
        assertEquals(0, timer.runDue(t0 + TICK * 3));
        assertEquals(0, timer.runDue(t0 + TICK * 4 - 1));
        assertEquals(1, timer.runDue(t0 + TICK * 4));
        assertEquals(List.of("a@40"), ran);
        assertEquals(0, timer.runDue(t0 + TICK * 53), "next asked for 500 ms after its run");
        assertEquals(1, timer.runDue(t0 + TICK * 54));
    }

    @Test
    void roundsDueByTheSameMomentRunInOnePass() {
        timer.add(every("a", Duration.ofSeconds(1).toNanos()), t0 + TICK);
        timer.add(every("b", Duration.ofSeconds(1).toNanos()), t0 + TICK * 2);
        timer.add(every("c", Duration.ofSeconds(1).toNanos()), t0 + TICK * 7);
        assertEquals(2, timer.runDue(t0 + TICK * 5), "a stalled timer catches up on every tick it missed");
        assertEquals(List.of("a@50", "b@50"), ran);
    }

    @Test
    void anEarlierWakeUpMovesTheRoundALaterOneDoesNotDelayIt() {
        RoundTimer.Entry e = timer.add(every("a", Duration.ofSeconds(5).toNanos()), t0 + Duration.ofSeconds(1).toNanos());
        e.wakeAt(t0 + Duration.ofSeconds(3).toNanos());
        e.wakeAt(t0 + TICK * 2);
        assertEquals(1, timer.runDue(t0 + TICK * 2));
        assertEquals(0, timer.runDue(t0 + Duration.ofSeconds(3).toNanos()), "the later wake-up was not kept");
    }

    @Test
    void aWakeUpAskedForWhileTheRoundRunsIsKept() {
        AtomicReference<RoundTimer.Entry> self = new AtomicReference<>();
        List<Long> runs = new ArrayList<>();
        self.set(timer.add(now -> {
            runs.add(now);
            if (runs.size() == 1) {
                self.get().wakeAt(now + TICK); // as a caller with an earlier deadline would, from another thread
            }
            return now + Duration.ofSeconds(1).toNanos();
        }, t0 + TICK));
        timer.runDue(t0 + TICK);
        timer.runDue(t0 + TICK * 2);
        assertEquals(List.of(t0 + TICK, t0 + TICK * 2), runs);
    }

    @Test
    void aRoundThatStopsOrIsCancelledRunsNoMore() {
        timer.add(now -> {
            ran.add("once");
            return RoundTimer.STOP;
        }, t0 + TICK);
        RoundTimer.Entry cancelled = timer.add(every("c", TICK), t0 + TICK);
        cancelled.cancel();
        cancelled.wakeAt(t0 + TICK);
        timer.runDue(t0 + Duration.ofSeconds(30).toNanos());
        assertEquals(List.of("once"), ran);
    }

    @Test
    void aRoundThatThrowsRunsAgainALittleLater() {
        List<Long> runs = new ArrayList<>();
        timer.add(now -> {
            runs.add(now);
            throw new IllegalStateException("a bug in a round (expected by this test)");
        }, t0 + TICK);
        timer.runDue(t0 + TICK);
        timer.runDue(t0 + TICK + RoundTimer.RETRY_NANOS - 1);
        assertEquals(1, runs.size());
        timer.runDue(t0 + TICK + RoundTimer.RETRY_NANOS);
        assertEquals(2, runs.size());
    }

    /**
     * A round's write that does not return has its connection closed, which ends the write: one link cannot hold up
     * every session's rounds. The write here waits for its connection to close, as a write on a full socket would.
     */
    @Test
    void aRoundsWriteThatHangsHasItsConnectionClosed() throws Exception {
        Clock ownClock = new Clock() { // a timer of its own: its thread is this test's alone
            @Override
            public long nanoTime() {
                return System.nanoTime();
            }

            @Override
            public void sleep(long nanos) throws InterruptedException {
                TimeUnit.NANOSECONDS.sleep(nanos);
            }
        };
        Connection connection = connection();
        CompletableFuture<Boolean> wrote = new CompletableFuture<>();
        AtomicReference<RoundTimer.Entry> self = new AtomicReference<>();
        self.set(RoundTimer.register(ownClock, now -> {
            try {
                self.get().writeWatched(connection, () -> {
                    while (!connection.isClosed()) {
                        Thread.onSpinWait();
                    }
                });
                wrote.complete(true);
            } catch (IOException e) {
                wrote.completeExceptionally(e);
            }
            return RoundTimer.STOP;
        }, ownClock.nanoTime()));
        assertTrue(wrote.get(10, TimeUnit.SECONDS));
        assertTrue(connection.isClosed(), "the watchdog closed the connection the write hung on");
    }

    private Connection connection() throws IOException {
        SimNetwork net = new SimNetwork();
        var listener = net.listen(new InetSocketAddress("127.0.0.1", 0));
        var near = net.dial(listener.address(), Duration.ofSeconds(1));
        listener.accept();
        return new Connection(near, 1 << 16, 1 << 16, System::nanoTime);
    }
}
