package io.twinline.recovery;

import io.twinline.api.Channel;
import io.twinline.api.RecoveryPolicy;
import io.twinline.api.SessionState;

/**
 * The four recovery processes of the patent's Figs. 5–8, one method each, with the figure's block numbers in
 * comments. Each runs on its own virtual thread, started by the host when a channel fails; a channel has at most
 * one process at a time, and the state machine makes sure only one process recovers the session at once.
 *
 * <p>Readings of the patent that are twinline's own, documented in docs/ARCHITECTURE.md:
 * <ul>
 *   <li>Blocks 615/620 and 815/820 ("stop and let the other process attempt the recovery") are bounded by the
 *       other process's own deadline (it names one when it begins and moves it as it learns how long its next
 *       step may take) plus {@link #OVERRUN_ALLOWANCE_NANOS}. Afterwards, if the session is {@code NORMAL} and this
 *       process's channel is still unhealthy, it recovers that channel now; if the other process is still running
 *       past the bound, the session is {@code DISCONNECTED}.
 *   <li>The same deferral is applied to Figs. 5 and 7, whose text has no block for it: without it, two
 *       connections failing together would always end the session, because the probe of block 520/720 would hit
 *       the channel another process is rebuilding.
 *   <li>A probe at block 520/720 that fails because the other channel has itself failed (its connection reset
 *       or closed, not merely unanswered) means both channels are down, not that the peer is gone: Fig. 5
 *       reconnects A and then B, Fig. 7 waits for the client to re-attach both within one window. So both
 *       channels reset at once end in NORMAL at both ends whenever the peer still holds the session, whichever
 *       process wins the race to RECOVERING. A probe unanswered on an open channel still disconnects.
 *   <li>Fig. 8's text names "socket 172" as the one the client reconnects; the channel that failed is the one
 *       the client re-attaches, so Fig. 8 waits for channel B.
 *   <li>The client opens every connection; "waits for the client host to reconnect" (Figs. 7, 8) is a wait for
 *       an ATTACH of that channel within the server's re-attach window.
 * </ul>
 */
public final class RecoveryProcesses {
    private final StateMachine state;
    private final ChannelOps ops;
    private final Clock clock;
    private final RecoveryPolicy policy;
    private final Backoff backoff;

    public RecoveryProcesses(StateMachine state, ChannelOps ops, Clock clock, RecoveryPolicy policy,
                             Backoff backoff) {
        this.state = state;
        this.ops = ops;
        this.clock = clock;
        this.policy = policy;
        this.backoff = backoff;
    }

    /** Fig. 5: the client's receive channel (B) failed while listening (block 510). */
    public void clientReceiveChannelFailed(Throwable problem) throws InterruptedException {
        // Fig. 5, block 515: set the state to RECOVERING (or defer to a process already recovering)
        if (!enterRecovering(Channel.B, problem,
                policy.probeTimeout().toNanos() + policy.recoveryTimeLimit().toNanos())) {
            return;
        }
        // Fig. 5, block 520: probe the send channel A
        if (!ops.probe(Channel.A)) {
            if (ops.isHealthy(Channel.A)) {
                // Fig. 5, blocks 525, 530: A is open but does not answer; close it and disconnect
                ops.close(Channel.A);
                disconnect(Channel.B, "probe of channel A failed during recovery of B", problem, null);
                return;
            }
            // A has failed too (both channels down at once): reconnect it first, as Fig. 6 would, then B
            ops.close(Channel.A);
            RecoveryFailedException failure = reconnect(Channel.A, problem);
            if (failure != null) {
                ops.close(Channel.B);
                state.transition(SessionState.DISCONNECTED, failure);
                return;
            }
        }
        // Fig. 5, block 532: close the receive channel, then reconnect it
        ops.close(Channel.B);
        RecoveryFailedException failure = reconnect(Channel.B, problem);
        if (failure == null) {
            // Fig. 5, blocks 540, 535: reconnected; normal operation resumes
            state.transition(SessionState.NORMAL, null);
            return;
        }
        // Fig. 5, blocks 525, 530: reconnect failed; close the send channel and disconnect
        ops.close(Channel.A);
        state.transition(SessionState.DISCONNECTED, failure);
    }

    /** Fig. 6: the client's send channel (A) failed while sending or awaiting a response (block 610). */
    public void clientSendChannelFailed(Throwable problem) throws InterruptedException {
        // Fig. 6, blocks 615, 620, 625: defer to a running process (bounded), else set RECOVERING
        if (!enterRecovering(Channel.A, problem, policy.recoveryTimeLimit().toNanos())) {
            return;
        }
        ops.close(Channel.A);
        // Fig. 6, block 635: reconnect the send channel
        RecoveryFailedException failure = reconnect(Channel.A, problem);
        if (failure == null) {
            // Fig. 6, blocks 640, 655: reconnected; normal operation resumes
            state.transition(SessionState.NORMAL, null);
            return;
        }
        // Fig. 6, blocks 645, 650: close the receive channel and disconnect
        ops.close(Channel.B);
        state.transition(SessionState.DISCONNECTED, failure);
    }

    /** Fig. 7: the server's receive channel (A) failed while listening (block 710). */
    public void serverReceiveChannelFailed(Throwable problem) throws InterruptedException {
        long window = policy.reattachWindow().toNanos();
        // Fig. 7, block 715: set the state to RECOVERING (or defer to a process already recovering)
        if (!enterRecovering(Channel.A, problem, policy.probeTimeout().toNanos() + window)) {
            return;
        }
        // Fig. 7, block 720: probe the send channel B
        boolean bothDown = false;
        if (!ops.probe(Channel.B)) {
            if (ops.isHealthy(Channel.B)) {
                // Fig. 7, blocks 725, 730: B is open but does not answer; close it and disconnect
                ops.close(Channel.B);
                disconnect(Channel.A, "probe of channel B failed during recovery of A", problem, null);
                return;
            }
            // B has failed too (both channels down at once): the client re-attaches both, within one window
            ops.close(Channel.B);
            bothDown = true;
        }
        // Fig. 7: close the receive channel (a half-open client now sees the error and runs Fig. 6) and wait for
        // the client to re-attach it within the window
        ops.close(Channel.A);
        long deadline = clock.nanoTime() + window;
        state.extendRecoveryDeadline(deadline);
        if (ops.awaitReattach(Channel.A, deadline) && (!bothDown || ops.awaitReattach(Channel.B, deadline))) {
            // Fig. 7, blocks 745, 735: re-attached in time; normal operation resumes
            state.transition(SessionState.NORMAL, null);
            return;
        }
        // Fig. 7, blocks 725, 730: the window ended; close the send channel and disconnect
        ops.close(Channel.B);
        disconnect(Channel.A, "client did not re-attach within " + policy.reattachWindow(), problem, null);
    }

    /** Fig. 8: the server's send channel (B) failed while sending or awaiting a response (block 810). */
    public void serverSendChannelFailed(Throwable problem) throws InterruptedException {
        long window = policy.reattachWindow().toNanos();
        // Fig. 8, blocks 815, 820, 825: defer to a running process (bounded), else set RECOVERING
        if (!enterRecovering(Channel.B, problem, window)) {
            return;
        }
        ops.close(Channel.B);
        // Fig. 8, blocks 835, 840: wait for the client to re-attach the failed channel (B; see the class javadoc)
        long deadline = clock.nanoTime() + window;
        state.extendRecoveryDeadline(deadline);
        if (ops.awaitReattach(Channel.B, deadline)) {
            // Fig. 8, block 855: normal operation resumes
            state.transition(SessionState.NORMAL, null);
            return;
        }
        // Fig. 8, blocks 845, 850: close the receive channel and disconnect
        ops.close(Channel.A);
        disconnect(Channel.B, "client did not re-attach within " + policy.reattachWindow(), problem, null);
    }

    /**
     * How long past its own deadline the owner of a recovery may take for its last step (closing, the state change,
     * an attach waiting for the old connection's reader) before a process waiting for it declares it overdue.
     */
    public static final long OVERRUN_ALLOWANCE_NANOS = 1_000_000_000L;

    /**
     * Sets {@code RECOVERING} for {@code channel}, or, when another process already holds it, waits for that
     * process (blocks 615/620, 815/820) until its own deadline ({@link StateMachine#recoveryDeadlineNanos}, kept up
     * to date by the owner) plus {@link #OVERRUN_ALLOWANCE_NANOS}, and then takes over if the session is
     * {@code NORMAL} and the channel is still unhealthy. So a waiter never declares the owner overdue while the
     * owner is within its own budget, whichever began first.
     *
     * @param budgetNanos how long the caller expects its own recovery to take, should it become the owner
     * @return whether the caller now owns the recovery of {@code channel}
     */
    private boolean enterRecovering(Channel channel, Throwable problem, long budgetNanos)
            throws InterruptedException {
        while (true) {
            switch (state.tryBeginRecovery(problem, clock.nanoTime() + budgetNanos)) {
                case STARTED -> {
                    return true;
                }
                case NOT_APPLICABLE -> {
                    return false;
                }
                case BUSY -> {
                    if (!awaitOwner()) {
                        disconnect(channel, "another recovery did not finish within its bound", problem, null);
                        return false;
                    }
                    if (state.state() != SessionState.NORMAL || ops.isHealthy(channel)) {
                        return false;
                    }
                    // The other process is done and this channel is still broken: recover it now.
                }
            }
        }
    }

    /** Waits while another process recovers, until its deadline and the allowance; returns whether it ended. */
    private boolean awaitOwner() throws InterruptedException {
        while (true) {
            long ownerDone = state.recoveryDeadlineNanos();
            long bound = ownerDone == Long.MAX_VALUE ? Long.MAX_VALUE : ownerDone + OVERRUN_ALLOWANCE_NANOS;
            if (state.awaitNotRecovering(bound)) {
                return true;
            }
            if (state.recoveryDeadlineNanos() == ownerDone) {
                return false; // not moved while we waited: the owner is overdue
            }
        }
    }

    /**
     * The client's reconnect loop for blocks 532 and 635: up to {@code maxReconnectTries} tries within the recovery
     * time limit, with backoff between them; the first try is immediate.
     *
     * @return {@code null} on success, else why it gave up, with each try's failure suppressed
     */
    private RecoveryFailedException reconnect(Channel channel, Throwable problem) throws InterruptedException {
        long deadline = clock.nanoTime() + policy.recoveryTimeLimit().toNanos();
        state.extendRecoveryDeadline(deadline);
        RecoveryFailedException failure = null;
        Exception lastTry = null;
        int tries = 0;
        while (true) {
            if (state.state().isTerminal()) {
                return new RecoveryFailedException(channel, "session ended during reconnect", problem);
            }
            tries++;
            try {
                ops.reconnect(channel, deadline);
                return null;
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                if (failure == null) {
                    failure = new RecoveryFailedException(channel, "reconnect failed", problem);
                }
                failure.addSuppressed(e);
                lastTry = e;
                if (e instanceof PermanentFailureException) {
                    return new RecoveryFailedException(channel, "reconnect refused: " + e.getMessage(), problem,
                            failure);
                }
            }
            if (tries >= policy.maxReconnectTries()) {
                return new RecoveryFailedException(channel, "reconnect failed after " + tries + " tries"
                        + lastTryText(lastTry), problem,
                        failure);
            }
            long pause = backoff.pauseNanos(tries);
            if (clock.nanoTime() + pause >= deadline) {
                return new RecoveryFailedException(channel, "reconnect failed within " + policy.recoveryTimeLimit()
                        + " (" + tries + " tries)" + lastTryText(lastTry), problem, failure);
            }
            clock.sleep(pause);
        }
    }

    /** The last try's failure, for the message that ends the loop (each try's is suppressed into it as well). */
    private static String lastTryText(Exception lastTry) {
        return lastTry == null ? "" : "; the last: " + (lastTry.getMessage() != null ? lastTry.getMessage()
                : lastTry.toString());
    }

    private void disconnect(Channel channel, String why, Throwable problem, Throwable suppressed) {
        RecoveryFailedException failure = new RecoveryFailedException(channel, why, problem);
        if (suppressed != null) {
            failure.addSuppressed(suppressed);
        }
        state.transition(SessionState.DISCONNECTED, failure);
    }
}
