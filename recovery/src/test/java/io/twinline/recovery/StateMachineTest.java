package io.twinline.recovery;

import static io.twinline.api.SessionState.CLOSED;
import static io.twinline.api.SessionState.CONNECTING;
import static io.twinline.api.SessionState.DISCONNECTED;
import static io.twinline.api.SessionState.NORMAL;
import static io.twinline.api.SessionState.RECOVERING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.twinline.api.Channel;
import io.twinline.api.SessionState;
import io.twinline.recovery.StateMachine.Begin;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The Fig. 4 state machine: transitions (terminal states are never left; a change to the current state tells no
 * one), {@code tryBeginRecovery} ({@code STARTED} only from {@code NORMAL}, {@code BUSY} while recovering,
 * {@code NOT_APPLICABLE} otherwise), listeners (each change told once to each listener, in the order the changes
 * happened, also when they come at once from several threads or from a listener; a listener that throws does not stop
 * the others and is reported), and the waits: {@code awaitNotRecovering} is true at once when not recovering, false
 * once its deadline is reached on the fake clock ({@code remaining <= 0}), and true when the state changes or the
 * session ends; {@code awaitTerminal} waits through non-terminal changes.
 */
// A backstop only: every wait below is bounded itself. A hang must fail the test, not stall the build.
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class StateMachineTest {

    record Transition(SessionState from, SessionState to, Throwable cause) {
    }

    /** Something that waits on the state machine, as a recovery process does. */
    @FunctionalInterface
    interface Wait {
        boolean await() throws InterruptedException;
    }

    private static final Duration WAIT = Duration.ofSeconds(5); // real-time bound; never reached when green

    private final FakeClock clock = new FakeClock();
    private final StateMachine state = new StateMachine(clock);
    private final List<Transition> seen = new CopyOnWriteArrayList<>();
    private final Map<CompletableFuture<Boolean>, Thread> waiters = new ConcurrentHashMap<>();
    private final IOException problem = new IOException("connection reset");

    @BeforeEach
    void listen() {
        state.addListener((from, to, cause) -> seen.add(new Transition(from, to, cause)));
    }

    @Test
    void startsConnecting() {
        assertEquals(CONNECTING, state.state());
        assertNull(state.terminalCause());
        assertEquals(List.of(), seen);
    }

    @ParameterizedTest
    @EnumSource(value = SessionState.class, names = {"DISCONNECTED", "CLOSED"})
    void terminalStatesAreNeverLeft(SessionState terminal) {
        state.transition(NORMAL, null);
        RecoveryFailedException cause = new RecoveryFailedException(Channel.A, "gave up", problem);
        assertTrue(state.transition(terminal, cause));
        for (SessionState to : SessionState.values()) {
            assertFalse(state.transition(to, new IOException("late")), "left " + terminal + " for " + to);
        }
        assertEquals(Begin.NOT_APPLICABLE, state.tryBeginRecovery(problem));
        assertEquals(terminal, state.state());
        assertSame(cause, state.terminalCause());
        assertEquals(List.of(new Transition(CONNECTING, NORMAL, null), new Transition(NORMAL, terminal, cause)),
                seen);
    }

    @Test
    void transitionToTheCurrentState_changesNothingAndTellsNoOne() {
        state.transition(NORMAL, null);
        assertFalse(state.transition(NORMAL, problem));
        assertEquals(List.of(new Transition(CONNECTING, NORMAL, null)), seen);
    }

    @Test
    void transitionFromAStateReadEarlier_appliesOnlyWhileTheSessionIsStillThere() {
        state.transition(NORMAL, null);
        assertFalse(state.transition(CONNECTING, DISCONNECTED, problem), "the session moved on to NORMAL");
        assertEquals(NORMAL, state.state());
        assertTrue(state.transition(NORMAL, DISCONNECTED, problem));
        assertEquals(DISCONNECTED, state.state());
        assertEquals(List.of(new Transition(CONNECTING, NORMAL, null), new Transition(NORMAL, DISCONNECTED, problem)),
                seen);
    }

    @Test
    void tryBeginRecovery_fromNormal_startsAndTellsListenersTheCause() {
        state.transition(NORMAL, null);
        assertEquals(Begin.STARTED, state.tryBeginRecovery(problem));
        assertEquals(RECOVERING, state.state());
        assertEquals(List.of(new Transition(CONNECTING, NORMAL, null), new Transition(NORMAL, RECOVERING, problem)),
                seen);
    }

    @Test
    void tryBeginRecovery_whileRecovering_isBusyAndChangesNothing() {
        state.transition(NORMAL, null);
        state.tryBeginRecovery(problem);
        assertEquals(Begin.BUSY, state.tryBeginRecovery(new IOException("second")));
        assertEquals(RECOVERING, state.state());
        assertEquals(2, seen.size());
    }

    @ParameterizedTest
    @EnumSource(value = SessionState.class, names = {"CONNECTING", "DISCONNECTED", "CLOSED"})
    void tryBeginRecovery_whenNotNormal_isNotApplicable(SessionState current) {
        state.transition(current, null);
        seen.clear();
        assertEquals(Begin.NOT_APPLICABLE, state.tryBeginRecovery(problem));
        assertEquals(current, state.state());
        assertEquals(List.of(), seen);
    }

    /**
     * Two changes made at once on two threads reach every listener one at a time, in the order they happened: here
     * the second change is made while a listener is still being told of the first (PROTOCOL's state listeners, and
     * the session's own bookkeeping, must never see a session end before it started recovering).
     */
    @Test
    void listenersSeeChangesInTheOrderTheyHappenedWhenTheyComeAtOnce() throws Exception {
        state.transition(NORMAL, null);
        java.util.concurrent.CountDownLatch tellingFirst = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch secondMade = new java.util.concurrent.CountDownLatch(1);
        List<Transition> order = new CopyOnWriteArrayList<>();
        state.addListener((from, to, cause) -> {
            if (to == RECOVERING) {
                tellingFirst.countDown();
                try {
                    // Held until the second change is made; bounded, so a fixed machine cannot hang here.
                    secondMade.await(WAIT.toSeconds(), TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            order.add(new Transition(from, to, cause));
        });
        Thread first = Thread.ofVirtual().start(() -> state.tryBeginRecovery(problem));
        assertTrue(tellingFirst.await(WAIT.toSeconds(), TimeUnit.SECONDS), "the first change reached the listener");
        Thread second = Thread.ofVirtual().start(() -> {
            state.transition(DISCONNECTED, problem);
            secondMade.countDown();
        });
        assertTrue(second.join(WAIT), "the second change returned");
        assertTrue(first.join(WAIT), "the first change's listeners returned");
        assertEquals(List.of(new Transition(NORMAL, RECOVERING, problem), new Transition(RECOVERING, DISCONNECTED,
                problem)), order);
        assertEquals(List.of(new Transition(CONNECTING, NORMAL, null), new Transition(NORMAL, RECOVERING, problem),
                new Transition(RECOVERING, DISCONNECTED, problem)), seen, "every listener, in order");
    }

    /** A listener that changes the state itself: every listener hears of its change after the one it is told of. */
    @Test
    void aChangeMadeByAListenerReachesEveryListenerAfterTheChangeItWasToldOf() {
        List<Transition> first = new CopyOnWriteArrayList<>();
        List<Transition> last = new CopyOnWriteArrayList<>();
        state.addListener((from, to, cause) -> {
            first.add(new Transition(from, to, cause));
            if (to == RECOVERING) {
                state.transition(DISCONNECTED, problem);
            }
        });
        state.addListener((from, to, cause) -> last.add(new Transition(from, to, cause)));
        state.transition(NORMAL, null);
        state.tryBeginRecovery(problem);
        List<Transition> expected = List.of(new Transition(CONNECTING, NORMAL, null),
                new Transition(NORMAL, RECOVERING, problem), new Transition(RECOVERING, DISCONNECTED, problem));
        assertEquals(expected, first);
        assertEquals(expected, last);
        assertEquals(expected, seen);
    }

    @Test
    void everyListenerIsToldOfEachChangeOnce() {
        List<Transition> second = new CopyOnWriteArrayList<>();
        state.addListener((from, to, cause) -> second.add(new Transition(from, to, cause)));
        state.transition(NORMAL, null);
        state.tryBeginRecovery(problem);
        state.tryBeginRecovery(problem); // BUSY: no change
        state.transition(RECOVERING, problem); // already there: no change
        state.transition(NORMAL, null);
        state.transition(CLOSED, null);
        state.transition(NORMAL, null); // terminal: no change
        List<Transition> expected = List.of(new Transition(CONNECTING, NORMAL, null),
                new Transition(NORMAL, RECOVERING, problem), new Transition(RECOVERING, NORMAL, null),
                new Transition(NORMAL, CLOSED, null));
        assertEquals(expected, seen);
        assertEquals(expected, second);
    }

    @Test
    void aListenerThatThrows_doesNotStopOthers_andIsReported() throws Exception {
        List<Transition> after = new CopyOnWriteArrayList<>();
        RuntimeException bug = new IllegalStateException("listener bug");
        state.addListener((from, to, cause) -> {
            throw bug;
        });
        state.addListener((from, to, cause) -> after.add(new Transition(from, to, cause)));
        CompletableFuture<Throwable> reported = new CompletableFuture<>();
        CompletableFuture<Boolean> changed = new CompletableFuture<>();
        Thread.ofVirtual().uncaughtExceptionHandler((t, e) -> reported.complete(e))
                .start(() -> changed.complete(state.transition(NORMAL, null)));
        assertTrue(changed.get(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertSame(bug, reported.get(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertEquals(NORMAL, state.state());
        assertEquals(List.of(new Transition(CONNECTING, NORMAL, null)), seen);
        assertEquals(List.of(new Transition(CONNECTING, NORMAL, null)), after);
    }

    @Test
    void awaitNotRecovering_whenNotRecovering_isTrueEvenPastTheDeadline() throws Exception {
        state.transition(NORMAL, null);
        long deadline = clock.now() - 1;
        assertTrue(result(startWaiting(() -> state.awaitNotRecovering(deadline), 0)));
    }

    @Test
    void awaitNotRecovering_deadlinePassed_isFalseAtOnce() throws Exception {
        recovering();
        long deadline = clock.now();
        assertFalse(result(startWaiting(() -> state.awaitNotRecovering(deadline), 0)));
    }

    @Test
    void awaitNotRecovering_isFalseAtTheFakeDeadline() throws Exception {
        recovering();
        long deadline = clock.now() + Duration.ofSeconds(1).toNanos();
        CompletableFuture<Boolean> result = startWaiting(() -> state.awaitNotRecovering(deadline));
        clock.advance(Duration.ofSeconds(1));
        assertFalse(result(result));
        assertEquals(RECOVERING, state.state());
    }

    @Test
    void awaitNotRecovering_isTrueWhenTheStateChanges() throws Exception {
        recovering();
        CompletableFuture<Boolean> result = startWaiting(
                () -> state.awaitNotRecovering(clock.now() + Duration.ofSeconds(1).toNanos()));
        assertFalse(result.isDone());
        state.transition(NORMAL, null);
        assertTrue(result(result));
    }

    @Test
    void awaitNotRecovering_isTrueWhenTheSessionEnds() throws Exception {
        recovering();
        CompletableFuture<Boolean> result = startWaiting(
                () -> state.awaitNotRecovering(clock.now() + Duration.ofSeconds(1).toNanos()));
        state.transition(DISCONNECTED, problem);
        assertTrue(result(result));
    }

    @Test
    void awaitTerminal_waitsThroughNonTerminalChanges() throws Exception {
        recovering();
        CompletableFuture<Boolean> result = startWaiting(
                () -> state.awaitTerminal(clock.now() + Duration.ofSeconds(1).toNanos()));
        state.transition(NORMAL, null);
        assertFalse(result.isDone());
        state.transition(CLOSED, null);
        assertTrue(result(result));
    }

    /**
     * A recovery waiting on the real clock does not poll: it reads the clock when it begins and when it is woken, and
     * sleeps in between, however long its deadline (a server holds thousands of sessions through 20 s windows after
     * a mass failure, and a wake-up of each every 20 ms was load of its own). The fake clock here asks waiters to
     * sleep as long as the real clock does; the waiter is watched for a fifth of a second with nothing to wake it.
     */
    @Test
    void awaitNotRecovering_onAClockThatNeedsNoPolling_readsItOnlyWhenWoken() throws Exception {
        clock.waitSlice(Long.MAX_VALUE);
        recovering();
        CompletableFuture<Boolean> result = startWaiting(
                () -> state.awaitNotRecovering(clock.now() + Duration.ofSeconds(20).toNanos()));
        int reads = clock.reads();
        assertFalse(clock.awaitReads(reads + 1, Duration.ofMillis(200)), "read the clock with nothing to wake it");
        state.poke();
        assertTrue(clock.awaitReads(reads + 1, WAIT), "woken by a poke, it looks again");
        assertFalse(result.isDone());
        state.transition(NORMAL, null);
        assertTrue(result(result));
    }

    private void recovering() {
        state.transition(NORMAL, null);
        assertEquals(Begin.STARTED, state.tryBeginRecovery(problem));
    }

    private CompletableFuture<Boolean> startWaiting(Wait wait) throws InterruptedException {
        return startWaiting(wait, 1);
    }

    /**
     * Runs {@code wait} on a virtual thread; returns once it read the clock {@code reads} times (it reads the clock
     * only after finding its condition false, so after one read it is waiting). On failure to finish in time,
     * {@link #result} interrupts it.
     */
    private CompletableFuture<Boolean> startWaiting(Wait wait, int reads) throws InterruptedException {
        int before = clock.reads();
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        Thread waiter = Thread.ofVirtual().start(() -> {
            try {
                result.complete(wait.await());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        waiters.put(result, waiter);
        if (!clock.awaitReads(before + reads, WAIT)) {
            waiter.interrupt();
            fail("the waiter did not read the clock");
        }
        return result;
    }

    /** Returns the waiter's answer, failing (and interrupting it) if it does not come within {@link #WAIT}. */
    private boolean result(CompletableFuture<Boolean> result) throws Exception {
        try {
            return result.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            waiters.get(result).interrupt();
            throw new AssertionError("the waiter did not return within " + WAIT, e);
        }
    }
}
