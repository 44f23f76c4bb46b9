package io.twinline.recovery;

import static io.twinline.api.Channel.A;
import static io.twinline.api.Channel.B;
import static io.twinline.api.SessionState.CLOSED;
import static io.twinline.api.SessionState.DISCONNECTED;
import static io.twinline.api.SessionState.NORMAL;
import static io.twinline.api.SessionState.RECOVERING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.twinline.api.Channel;
import io.twinline.api.RecoveryPolicy;
import io.twinline.api.SessionState;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every branch of Figs. 5–8, driven through {@link RecoveryProcesses} with a scripted {@link FakeOps} and a
 * {@link FakeClock}. Fig. 5: client, B failed; Fig. 6: client, A failed; Fig. 7: server, A failed; Fig. 8:
 * server, B failed. Each test's name says its figure and branch:
 * <ul>
 *   <li>Fig. 5: block 520 fails → 525, 530 ({@code fig5_probeFails_…}); 520 → 532 → 540/535, at once or after failed
 *       tries with pauses of 100 ms and 200 ms ({@code fig5_probeSucceeds_…}); 532 fails every try → 525, 530
 *       ({@code fig5_reconnectFailsEveryTry_…}); the deferral twinline adds to Fig. 5
 *       ({@code fig5_alreadyRecovering_…}).
 *   <li>Fig. 6: 635 → 640/655; 635 fails → 645, 650; the limits on 635 (a permanent failure stops the tries at once,
 *       {@code maxReconnectTries}, {@code recoveryTimeLimit}, a session closed during the reconnect); 615/620
 *       ({@code fig6_alreadyRecovering_…}, including another process that disconnects).
 *   <li>Fig. 7: 720 fails → 725, 730; 720 → close A → 745 → 735; the window ends → 725, 730; the deferral
 *       ({@code fig7_alreadyRecovering_…}).
 *   <li>Fig. 8: 835/840 → 855; the window ends → 845, 850; 815/820.
 *   <li>All four: {@code alreadyRecovering_otherProcessMendsChannel_doesNothing} (parameterized, once per figure), and
 *       nothing to recover while the session is {@code CONNECTING}, {@code DISCONNECTED} or {@code CLOSED}
 *       ({@code anyFig_…}).
 * </ul>
 * A deferral waits at most its bound (the client's {@code recoveryTimeLimit}, the server's {@code reattachWindow});
 * past it a process still running ends the session ({@code …_otherProcessOverruns…_disconnects}), and a session back
 * to {@code NORMAL} with this channel still down is recovered now ({@code …_defersThenRecoversIfStillUnhealthy}).
 */
// A backstop only: the waits below are bounded themselves. A hang must fail the test, not stall the build.
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RecoveryProcessesTest {

    record Transition(SessionState from, SessionState to, Throwable cause) {
    }

    /** One of the four processes. */
    @FunctionalInterface
    interface Process {
        void run(RecoveryProcesses processes, Throwable problem) throws InterruptedException;
    }

    enum Fig {
        FIG5(RecoveryProcesses::clientReceiveChannelFailed, B),
        FIG6(RecoveryProcesses::clientSendChannelFailed, A),
        FIG7(RecoveryProcesses::serverReceiveChannelFailed, A),
        FIG8(RecoveryProcesses::serverSendChannelFailed, B);

        final Process process;
        /** The channel whose failure the figure handles. */
        final Channel channel;

        Fig(Process process, Channel channel) {
            this.process = process;
            this.channel = channel;
        }
    }

    private static final Duration LIMIT = Duration.ofSeconds(10);
    private static final Duration WINDOW = Duration.ofSeconds(20);
    private static final Duration WAIT = Duration.ofSeconds(5); // real-time bound on joins; never reached when green
    private static final Duration ALLOWANCE = Duration.ofNanos(RecoveryProcesses.OVERRUN_ALLOWANCE_NANOS);

    private final FakeClock clock = new FakeClock();
    private final FakeOps ops = new FakeOps(clock);
    private final StateMachine state = new StateMachine(clock);
    private final List<Transition> transitions = new CopyOnWriteArrayList<>();
    private final IOException problem = new IOException("connection reset");
    private final IOException otherProblem = new IOException("other channel reset");
    private RecoveryPolicy policy = RecoveryPolicy.defaults()
            .withRecoveryTimeLimit(LIMIT)
            .withMaxReconnectTries(5)
            .withBackoff(ms(100), ms(400), 0)
            .withReattachWindow(WINDOW);

    @BeforeEach
    void sessionIsNormal() {
        state.addListener((from, to, cause) -> transitions.add(new Transition(from, to, cause)));
        state.transition(NORMAL, null);
        transitions.clear();
    }

    // ---- Fig. 5: client, receive channel B -------------------------------------------------------------

    @Test
    void fig5_probeFails_closesSendChannelAndDisconnects() throws Exception {
        ops.probeAnswers(A, false).healthy(A, true);
        processes().clientReceiveChannelFailed(problem);
        assertEquals(List.of("probe A", "isHealthy A", "close A"), ops.calls());
        assertDisconnected(B);
        assertPauses();
    }

    @Test
    void fig5_probeSucceeds_reconnectSucceeds_normal() throws Exception {
        ops.probeAnswers(A, true).reconnectSucceeds();
        processes().clientReceiveChannelFailed(problem);
        assertEquals(List.of("probe A", "close B", "reconnect B"), ops.calls());
        assertRecovered();
        assertPauses();
    }

    @Test
    void fig5_probeSucceeds_reconnectSucceedsAfterFailedTries_normal() throws Exception {
        ops.probeAnswers(A, true).reconnectFails(new IOException("1")).reconnectFails(new IOException("2"))
                .reconnectSucceeds();
        processes().clientReceiveChannelFailed(problem);
        assertEquals(List.of("probe A", "close B", "reconnect B", "reconnect B", "reconnect B"), ops.calls());
        assertRecovered();
        assertPauses(ms(100), ms(200));
    }

    @Test
    void fig5_reconnectFailsEveryTry_closesSendChannelAndDisconnects() throws Exception {
        Exception[] failures = ioExceptions(5);
        ops.probeAnswers(A, true);
        Arrays.stream(failures).forEach(ops::reconnectFails);
        processes().clientReceiveChannelFailed(problem);
        assertEquals(List.of("probe A", "close B", "reconnect B", "reconnect B", "reconnect B", "reconnect B",
                "reconnect B", "close A"), ops.calls());
        assertDisconnected(B, failures);
        assertPauses(ms(100), ms(200), ms(400), ms(400));
    }

    @Test
    void fig5_alreadyRecovering_defersThenRecoversIfStillUnhealthy() throws Exception {
        ops.healthy(B, false).probeAnswers(A, true).reconnectSucceeds();
        Thread process = startDeferring(Fig.FIG5);
        otherProcessSucceeds();
        assertFinished(process);
        assertEquals(List.of("isHealthy B", "probe A", "close B", "reconnect B"), ops.calls());
        assertRecoveredAfterOtherProcess();
    }

    @Test
    void fig5_alreadyRecovering_otherProcessOverrunsBound_disconnects() throws Exception {
        Thread process = startDeferring(Fig.FIG5);
        clock.advance(LIMIT.plus(ALLOWANCE).plusMillis(1));
        assertFinished(process);
        assertEquals(List.of(), ops.calls());
        assertDisconnectedWhileDeferring(B);
    }

    /** Both channels reset at once: B's process finds A failed too, not silent, and reconnects A, then B. */
    @Test
    void fig5_sendChannelFailedToo_reconnectsBoth_normal() throws Exception {
        ops.probeAnswers(A, false).healthy(A, false).reconnectSucceeds().reconnectSucceeds();
        processes().clientReceiveChannelFailed(problem);
        assertEquals(List.of("probe A", "isHealthy A", "close A", "reconnect A", "close B", "reconnect B"),
                ops.calls());
        assertRecovered();
    }

    @Test
    void fig5_sendChannelFailedToo_itsReconnectFails_disconnects() throws Exception {
        ops.probeAnswers(A, false).healthy(A, false).reconnectFails(new PermanentFailureException("unknown session"));
        processes().clientReceiveChannelFailed(problem);
        assertEquals(List.of("probe A", "isHealthy A", "close A", "reconnect A", "close B"), ops.calls());
        assertEquals(DISCONNECTED, state.state());
    }

    /**
     * The owner (here Fig. 5, whose budget is the probe timeout and the recovery time limit) began before this
     * waiter; the waiter's own bound from its start passes while the owner is still inside its budget. The waiter
     * keeps waiting, and the owner's success ends the recovery in NORMAL.
     */
    @Test
    void fig6_waiterDoesNotDeclareAnOwnerOverdueWithinTheOwnersBudget() throws Exception {
        Duration ownerBudget = policy.probeTimeout().plus(LIMIT);
        ops.healthy(A, true);
        Thread process = startDeferring(Fig.FIG6, ownerBudget);
        int reads = clock.reads();
        clock.advance(LIMIT.plusMillis(1)); // past start + LIMIT, within the owner's deadline
        assertTrue(clock.awaitReads(reads + 2, WAIT), "the waiter looked at the clock again");
        assertEquals(RECOVERING, state.state(), "the waiter did not declare the owner overdue");
        otherProcessSucceeds();
        assertFinished(process);
        assertEquals(NORMAL, state.state());
        assertEquals(List.of("isHealthy A"), ops.calls());
    }

    // ---- Fig. 6: client, send channel A ----------------------------------------------------------------

    @Test
    void fig6_reconnectSucceeds_normal() throws Exception {
        ops.reconnectSucceeds();
        processes().clientSendChannelFailed(problem);
        assertEquals(List.of("close A", "reconnect A"), ops.calls());
        assertRecovered();
        assertPauses();
        assertEquals(List.of(clock.now() + LIMIT.toNanos()), ops.reconnectDeadlines());
    }

    @Test
    void fig6_reconnectFails_closesReceiveChannelAndDisconnects() throws Exception {
        Exception[] failures = ioExceptions(5);
        Arrays.stream(failures).forEach(ops::reconnectFails);
        processes().clientSendChannelFailed(problem);
        assertEquals(List.of("close A", "reconnect A", "reconnect A", "reconnect A", "reconnect A", "reconnect A",
                "close B"), ops.calls());
        assertDisconnected(A, failures);
        assertPauses(ms(100), ms(200), ms(400), ms(400));
    }

    @Test
    void fig6_permanentFailure_stopsRetryingAtOnce() throws Exception {
        IOException first = new IOException("refused");
        PermanentFailureException permanent = new PermanentFailureException("unknown session");
        ops.reconnectFails(first).reconnectFails(permanent);
        processes().clientSendChannelFailed(problem);
        assertEquals(List.of("close A", "reconnect A", "reconnect A", "close B"), ops.calls());
        RecoveryFailedException failure = assertDisconnected(A, first, permanent);
        assertTrue(failure.getMessage().contains("unknown session"), failure.getMessage());
        assertPauses(ms(100));
    }

    @Test
    void fig6_triesLimitedByMaxReconnectTries() throws Exception {
        policy = policy.withMaxReconnectTries(3);
        Exception[] failures = ioExceptions(3);
        Arrays.stream(failures).forEach(ops::reconnectFails); // a fourth try would be unscripted and fail
        processes().clientSendChannelFailed(problem);
        assertEquals(List.of("close A", "reconnect A", "reconnect A", "reconnect A", "close B"), ops.calls());
        RecoveryFailedException failure = assertDisconnected(A, failures);
        assertTrue(failure.getMessage().contains("3 tries"), failure.getMessage());
        assertPauses(ms(100), ms(200));
    }

    @Test
    void fig6_triesLimitedByRecoveryTimeLimit() throws Exception {
        policy = policy.withRecoveryTimeLimit(Duration.ofSeconds(1)).withMaxReconnectTries(100);
        long start = clock.now();
        // Each try takes 50 ms: tries end at 50, 200, 450, 900 ms; the pause after the 4th (400 ms) would end
        // past the 1 s limit, so there is no 5th try.
        Exception[] failures = ioExceptions(4);
        for (Exception f : failures) {
            ops.reconnect(new FakeOps.Try(f, ms(50), () -> { }));
        }
        processes().clientSendChannelFailed(problem);
        assertEquals(List.of("close A", "reconnect A", "reconnect A", "reconnect A", "reconnect A", "close B"),
                ops.calls());
        RecoveryFailedException failure = assertDisconnected(A, failures);
        assertTrue(failure.getMessage().contains("within"), failure.getMessage());
        assertPauses(ms(100), ms(200), ms(400));
        long deadline = start + Duration.ofSeconds(1).toNanos();
        assertEquals(List.of(deadline, deadline, deadline, deadline), ops.reconnectDeadlines());
    }

    @Test
    void fig6_sessionClosedDuringReconnect_stopsTryingAndStaysClosed() throws Exception {
        ops.reconnect(new FakeOps.Try(new IOException("refused"), Duration.ZERO,
                () -> state.transition(CLOSED, null)));
        processes().clientSendChannelFailed(problem);
        assertEquals(List.of("close A", "reconnect A", "close B"), ops.calls());
        assertEquals(CLOSED, state.state());
        assertEquals(List.of(new Transition(NORMAL, RECOVERING, problem), new Transition(RECOVERING, CLOSED, null)),
                transitions);
        assertNull(state.terminalCause());
    }

    @Test
    void fig6_alreadyRecovering_defersThenRecoversIfStillUnhealthy() throws Exception {
        ops.healthy(A, false).reconnectSucceeds();
        Thread process = startDeferring(Fig.FIG6);
        otherProcessSucceeds();
        assertFinished(process);
        assertEquals(List.of("isHealthy A", "close A", "reconnect A"), ops.calls());
        assertRecoveredAfterOtherProcess();
    }

    @Test
    void fig6_alreadyRecovering_otherProcessDisconnects_doesNothing() throws Exception {
        Thread process = startDeferring(Fig.FIG6);
        RecoveryFailedException others = new RecoveryFailedException(B, "gave up", otherProblem);
        state.transition(DISCONNECTED, others);
        assertFinished(process);
        assertEquals(List.of(), ops.calls());
        assertSame(others, state.terminalCause());
        assertEquals(List.of(new Transition(RECOVERING, DISCONNECTED, others)), transitions);
    }

    @Test
    void fig6_alreadyRecovering_otherProcessOverrunsBound_disconnects() throws Exception {
        Thread process = startDeferring(Fig.FIG6);
        clock.advance(LIMIT.plus(ALLOWANCE).plusMillis(1));
        assertFinished(process);
        assertEquals(List.of(), ops.calls());
        assertDisconnectedWhileDeferring(A);
    }

    // ---- Fig. 7: server, receive channel A -------------------------------------------------------------

    @Test
    void fig7_probeFails_closesSendChannelAndDisconnects() throws Exception {
        ops.probeAnswers(B, false).healthy(B, true);
        processes().serverReceiveChannelFailed(problem);
        assertEquals(List.of("probe B", "isHealthy B", "close B"), ops.calls());
        assertDisconnected(A);
    }

    @Test
    void fig7_probeSucceeds_clientReattaches_normal() throws Exception {
        ops.probeAnswers(B, true).reattach(A, true, false);
        processes().serverReceiveChannelFailed(problem);
        assertEquals(List.of("probe B", "close A", "awaitReattach A"), ops.calls());
        assertRecovered();
        assertEquals(List.of(clock.now() + WINDOW.toNanos()), ops.reattachDeadlines());
    }

    @Test
    void fig7_probeSucceeds_clientNeverReattaches_disconnects() throws Exception {
        long start = clock.now();
        ops.probeAnswers(B, true).reattach(A, false, true);
        processes().serverReceiveChannelFailed(problem);
        assertEquals(List.of("probe B", "close A", "awaitReattach A", "close B"), ops.calls());
        RecoveryFailedException failure = assertDisconnected(A);
        assertTrue(failure.getMessage().contains(WINDOW.toString()), failure.getMessage());
        assertEquals(List.of(start + WINDOW.toNanos()), ops.reattachDeadlines());
    }

    @Test
    void fig7_alreadyRecovering_defersThenRecoversIfStillUnhealthy() throws Exception {
        ops.healthy(A, false).probeAnswers(B, true).reattach(A, true, false);
        Thread process = startDeferring(Fig.FIG7);
        otherProcessSucceeds();
        assertFinished(process);
        assertEquals(List.of("isHealthy A", "probe B", "close A", "awaitReattach A"), ops.calls());
        assertRecoveredAfterOtherProcess();
    }

    @Test
    void fig7_alreadyRecovering_otherProcessOverrunsWindow_disconnects() throws Exception {
        Thread process = startDeferring(Fig.FIG7);
        clock.advance(WINDOW.plus(ALLOWANCE).plusMillis(1));
        assertFinished(process);
        assertEquals(List.of(), ops.calls());
        assertDisconnectedWhileDeferring(A);
    }

    /** Both channels reset at once: A's process finds B failed too and waits for the client to re-attach both. */
    @Test
    void fig7_sendChannelFailedToo_waitsForBothReattaches_normal() throws Exception {
        ops.probeAnswers(B, false).healthy(B, false).reattach(A, true, false).reattach(B, true, false);
        processes().serverReceiveChannelFailed(problem);
        assertEquals(List.of("probe B", "isHealthy B", "close B", "close A", "awaitReattach A", "awaitReattach B"),
                ops.calls());
        assertRecovered();
    }

    // ---- Fig. 8: server, send channel B ----------------------------------------------------------------

    @Test
    void fig8_clientReattachesInWindow_normal_855() throws Exception {
        ops.reattach(B, true, false);
        processes().serverSendChannelFailed(problem);
        assertEquals(List.of("close B", "awaitReattach B"), ops.calls());
        assertRecovered();
        assertEquals(List.of(clock.now() + WINDOW.toNanos()), ops.reattachDeadlines());
    }

    @Test
    void fig8_windowEnds_closesReceiveChannelAndDisconnects_845_850() throws Exception {
        long start = clock.now();
        ops.reattach(B, false, true);
        processes().serverSendChannelFailed(problem);
        assertEquals(List.of("close B", "awaitReattach B", "close A"), ops.calls());
        RecoveryFailedException failure = assertDisconnected(B);
        assertTrue(failure.getMessage().contains(WINDOW.toString()), failure.getMessage());
        assertEquals(List.of(start + WINDOW.toNanos()), ops.reattachDeadlines());
    }

    @Test
    void fig8_alreadyRecovering_defersThenRecoversIfStillUnhealthy_815_820() throws Exception {
        ops.healthy(B, false).reattach(B, true, false);
        Thread process = startDeferring(Fig.FIG8);
        otherProcessSucceeds();
        assertFinished(process);
        assertEquals(List.of("isHealthy B", "close B", "awaitReattach B"), ops.calls());
        assertRecoveredAfterOtherProcess();
    }

    @Test
    void fig8_alreadyRecovering_otherProcessOverrunsWindow_disconnects_815_820() throws Exception {
        Thread process = startDeferring(Fig.FIG8);
        clock.advance(WINDOW.plus(ALLOWANCE).plusMillis(1));
        assertFinished(process);
        assertEquals(List.of(), ops.calls());
        assertDisconnectedWhileDeferring(B);
    }

    // ---- sessions with nothing to recover --------------------------------------------------------------

    /** Blocks 615/620, 815/820 (and twinline's deferral in Figs. 5 and 7): the other process mended the channel. */
    @ParameterizedTest(name = "{0}_alreadyRecovering_otherProcessMendsChannel_doesNothing")
    @EnumSource(Fig.class)
    void alreadyRecovering_otherProcessMendsChannel_doesNothing(Fig fig) throws Exception {
        ops.healthy(fig.channel, true);
        Thread process = startDeferring(fig);
        otherProcessSucceeds();
        assertFinished(process);
        assertEquals(List.of("isHealthy " + fig.channel), ops.calls());
        assertEquals(NORMAL, state.state());
        assertEquals(List.of(new Transition(RECOVERING, NORMAL, null)), transitions);
    }

    @ParameterizedTest
    @EnumSource(Fig.class)
    void anyFig_sessionConnecting_doesNothing(Fig fig) throws Exception {
        StateMachine connecting = new StateMachine(clock);
        connecting.addListener((from, to, cause) -> transitions.add(new Transition(from, to, cause)));
        fig.process.run(new RecoveryProcesses(connecting, ops, clock, policy, backoff()), problem);
        assertEquals(SessionState.CONNECTING, connecting.state());
        assertNothingDone();
    }

    @ParameterizedTest
    @EnumSource(Fig.class)
    void anyFig_sessionDisconnected_doesNothing(Fig fig) throws Exception {
        RecoveryFailedException earlier = new RecoveryFailedException(A, "earlier", otherProblem);
        state.transition(DISCONNECTED, earlier);
        transitions.clear();
        fig.process.run(processes(), problem);
        assertEquals(DISCONNECTED, state.state());
        assertSame(earlier, state.terminalCause());
        assertNothingDone();
    }

    @ParameterizedTest
    @EnumSource(Fig.class)
    void anyFig_sessionClosed_doesNothing(Fig fig) throws Exception {
        state.transition(CLOSED, null);
        transitions.clear();
        fig.process.run(processes(), problem);
        assertEquals(CLOSED, state.state());
        assertNothingDone();
    }

    // ---- helpers ---------------------------------------------------------------------------------------

    private RecoveryProcesses processes() {
        return new RecoveryProcesses(state, ops, clock, policy, backoff());
    }

    private Backoff backoff() {
        return new Backoff(policy, new SplittableRandom(1));
    }

    private static Duration ms(long millis) {
        return Duration.ofMillis(millis);
    }

    private static Exception[] ioExceptions(int n) {
        Exception[] failures = new Exception[n];
        for (int i = 0; i < n; i++) {
            failures[i] = new IOException("try " + (i + 1) + " refused");
        }
        return failures;
    }

    private final AtomicReference<Throwable> processThrew = new AtomicReference<>();

    /**
     * Puts the session in RECOVERING, as another process would, and starts {@code fig} on a virtual thread; returns
     * once that process waits for the other one (blocks 615/620, 815/820). It reads the clock once for its bound,
     * then again inside the state machine's wait.
     */
    private Thread startDeferring(Fig fig) throws InterruptedException {
        // The other process is the owner, with the deadline a process of the same end would name.
        Duration ownerBudget = fig == Fig.FIG5 || fig == Fig.FIG6 ? LIMIT : WINDOW;
        return startDeferring(fig, ownerBudget);
    }

    private Thread startDeferring(Fig fig, Duration ownerBudget) throws InterruptedException {
        assertEquals(StateMachine.Begin.STARTED,
                state.tryBeginRecovery(otherProblem, clock.now() + ownerBudget.toNanos()));
        transitions.clear();
        ops.holdHealthChecks();
        int reads = clock.reads();
        RecoveryProcesses processes = processes();
        Thread thread = Thread.ofVirtual().name(fig.name()).start(() -> {
            try {
                fig.process.run(processes, problem);
            } catch (Throwable t) {
                processThrew.set(t);
            }
        });
        if (!clock.awaitReads(reads + 2, WAIT)) {
            thread.interrupt();
            fail(fig + " did not start waiting for the other recovery");
        }
        return thread;
    }

    /** The other process recovered the session; the deferring process checks health only after this. */
    private void otherProcessSucceeds() {
        assertTrue(state.transition(NORMAL, null));
        ops.releaseHealthChecks();
    }

    private void assertFinished(Thread thread) throws InterruptedException {
        if (!thread.join(WAIT)) {
            thread.interrupt();
            fail(thread.getName() + " did not finish within " + WAIT);
        }
        assertNull(processThrew.get(), () -> "process threw " + processThrew.get());
    }

    private void assertRecovered() {
        assertEquals(NORMAL, state.state());
        assertEquals(List.of(new Transition(NORMAL, RECOVERING, problem), new Transition(RECOVERING, NORMAL, null)),
                transitions);
    }

    private void assertRecoveredAfterOtherProcess() {
        assertEquals(NORMAL, state.state());
        assertEquals(List.of(new Transition(RECOVERING, NORMAL, null), new Transition(NORMAL, RECOVERING, problem),
                new Transition(RECOVERING, NORMAL, null)), transitions);
    }

    /** Asserts that this process moved the session NORMAL → RECOVERING → DISCONNECTED, and the failure it gave. */
    private RecoveryFailedException assertDisconnected(Channel channel, Throwable... failedTries) {
        assertEquals(DISCONNECTED, state.state());
        assertEquals(2, transitions.size(), transitions::toString);
        assertEquals(new Transition(NORMAL, RECOVERING, problem), transitions.get(0));
        return assertFailure(transitions.get(1), channel, failedTries);
    }

    /** Asserts that the deferring process gave up on the other one: RECOVERING → DISCONNECTED, no tries. */
    private void assertDisconnectedWhileDeferring(Channel channel) {
        assertEquals(DISCONNECTED, state.state());
        assertEquals(1, transitions.size(), transitions::toString);
        RecoveryFailedException failure = assertFailure(transitions.get(0), channel);
        assertTrue(failure.getMessage().contains("did not finish"), failure.getMessage());
    }

    private RecoveryFailedException assertFailure(Transition last, Channel channel, Throwable... failedTries) {
        assertEquals(RECOVERING, last.from());
        assertEquals(DISCONNECTED, last.to());
        RecoveryFailedException failure = assertInstanceOf(RecoveryFailedException.class, last.cause());
        assertSame(failure, state.terminalCause());
        assertEquals(channel, failure.channel());
        assertTrue(failure.getMessage().startsWith("channel " + channel + ": "), failure.getMessage());
        assertSame(problem, failure.getCause());
        assertEquals(List.of(failedTries), List.of(failure.getSuppressed()));
        return failure;
    }

    private void assertPauses(Duration... pauses) {
        assertEquals(List.of(pauses), clock.pauses());
    }

    private void assertNothingDone() {
        assertEquals(List.of(), ops.calls());
        assertEquals(List.of(), transitions);
        assertPauses();
    }
}
