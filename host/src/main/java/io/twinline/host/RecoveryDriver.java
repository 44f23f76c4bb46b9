package io.twinline.host;

import io.twinline.api.Channel;
import io.twinline.api.FailureCause;
import io.twinline.api.RecoveryPolicy;
import io.twinline.api.SessionState;
import io.twinline.recovery.Backoff;
import io.twinline.recovery.ChannelOps;
import io.twinline.recovery.Clock;
import io.twinline.recovery.RecoveryProcesses;
import io.twinline.recovery.StateMachine;
import io.twinline.transport.Connection;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * Where every failure of one session's links is reported ({@link #linkFailed}) and where the recovery processes of
 * Figs. 5–8 are started: at most one per channel, each on a virtual thread of the session's group, each given the
 * link whose failure started it, so that it closes that link and never a newer one attached meanwhile. Runs on the
 * thread that reports a failure (a reader, a writer, a handler writing its response, the round timer's liveness round)
 * and on the recovery threads.
 */
final class RecoveryDriver {

    /** Attaches a freshly dialled connection as a channel of the session; {@code false} once it has ended. */
    interface Attacher {
        boolean attach(Channel channel, Connection connection);
    }

    private final String sessionId;
    private final TwinSession.Role role;
    private final RecoveryPolicy policy;
    private final Clock clock;
    private final StateMachine state;
    private final ChannelTable table;
    private final Requester requester;
    private final Metrics.SessionCounts counts;
    private final Backoff backoff;
    private final TaskGroup group;
    private final String threadPrefix;
    private final TwinSession.Dialer dialer;
    private final TwinSession owner;
    private final Attacher attacher;
    /** Whether the session is closing: failures then start no recovery. */
    private final BooleanSupplier closing;
    /** The process's health, by which a probe's deadline stretches (see {@link Liveness}). */
    private final java.util.function.Supplier<LocalHealth> health;
    private final AtomicBoolean[] running = {new AtomicBoolean(), new AtomicBoolean()};

    RecoveryDriver(TwinSession owner, TwinSession.Role role, RecoveryPolicy policy, Clock clock, StateMachine state,
                   ChannelTable table, Requester requester, Metrics.SessionCounts counts, Backoff backoff,
                   TaskGroup group, String threadPrefix, TwinSession.Dialer dialer, Attacher attacher,
                   BooleanSupplier closing, java.util.function.Supplier<LocalHealth> health) {
        this.owner = owner;
        this.sessionId = owner.id;
        this.role = role;
        this.policy = policy;
        this.clock = clock;
        this.state = state;
        this.table = table;
        this.requester = requester;
        this.counts = counts;
        this.backoff = backoff;
        this.group = group;
        this.threadPrefix = threadPrefix;
        this.dialer = dialer;
        this.attacher = attacher;
        this.closing = closing;
        this.health = health;
    }

    /**
     * {@code link} failed for {@code kind}: it is closed, calls stop using it, and, if it is its channel's current
     * link while the session lives, the failure is counted and the channel's recovery starts (a session still
     * CONNECTING ends instead, unless the server has written ATTACHED for its first B). Only the first report of a link
     * counts; later ones return at once.
     */
    void linkFailed(Link link, FailureCause kind, Throwable cause) {
        if (!table.fail(link, kind)) {
            return;
        }
        requester.linkDown(link);
        SessionState now = state.state();
        if (!table.isCurrent(link) || now.isTerminal() || closing.getAsBoolean()) {
            return;
        }
        counts.add(Metrics.causeSlot(Metrics.CHANNEL_FAILURES, link.channel, kind), 1);
        if (cause instanceof SocketException || cause instanceof EOFException) {
            Logger.debug("[{}/{}] {} failed: {}", sessionId, link.channel, link, cause.toString());
        }
        if (now == SessionState.CONNECTING) {
            if (owner.failHandshake(cause)) {
                return; // a failed handshake (PROTOCOL §4.6)
            }
            // Established at the peer, which read ATTACHED for B: recovered as in NORMAL, here once the session is
            // NORMAL, or by the transition to NORMAL, which finds the failed link (TwinSession.onTransition).
            now = state.state();
            if (now != SessionState.NORMAL && now != SessionState.RECOVERING) {
                return;
            }
        }
        start(link, kind, cause);
    }

    /** Whether a recovery process is mending {@code channel} now. */
    boolean isRunning(Channel channel) {
        return running[channel.code()].get();
    }

    /** The channel a recovery process is mending, or null when none or both are. */
    Channel recoveringChannel() {
        boolean a = isRunning(Channel.A);
        boolean b = isRunning(Channel.B);
        return a == b ? null : a ? Channel.A : Channel.B;
    }

    /**
     * Starts recovery for any channel that is down while the session is NORMAL and no process is mending it. A
     * failure reported while another process held the session can otherwise be left behind once that process
     * ends; the session calls this on every return to NORMAL and on every liveness round.
     */
    void recoverBrokenChannels(String how) {
        if (state.state() != SessionState.NORMAL || closing.getAsBoolean()) {
            return;
        }
        for (Channel channel : Channel.values()) {
            Link l = table.current(channel);
            if (l != null && !l.isHealthy() && !isRunning(channel)) {
                start(l, l.failureCause(), new IOException("channel " + channel + " is down (" + how + ")"));
            }
        }
    }

    private void start(Link failed, FailureCause kind, Throwable cause) {
        Channel channel = failed.channel;
        AtomicBoolean flag = running[channel.code()];
        if (!flag.compareAndSet(false, true)) {
            return; // the running process re-checks the channel before it ends
        }
        boolean spawned = group.spawn(threadPrefix + "/recovery-" + channel, () -> {
            try {
                Link known = failed;
                Throwable problem = cause;
                while (true) {
                    runProcess(known, problem);
                    if (state.state() != SessionState.NORMAL || table.isHealthy(channel)) {
                        break;
                    }
                    known = table.current(channel);
                    problem = new IOException("channel " + channel + " failed again during its recovery");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } finally {
                flag.set(false);
            }
            if (state.state() == SessionState.NORMAL && !table.isHealthy(channel) && !closing.getAsBoolean()) {
                Link now = table.current(channel);
                if (now != null) {
                    start(now, FailureCause.OTHER,
                            new IOException("channel " + channel + " failed as its recovery ended"));
                }
            }
        });
        if (spawned) {
            counts.add(Metrics.causeSlot(Metrics.RECOVERIES, channel, kind), 1);
        } else {
            flag.set(false);
        }
    }

    private void runProcess(Link failed, Throwable problem) throws InterruptedException {
        RecoveryProcesses processes = new RecoveryProcesses(state, new TcpChannelOps(failed), clock, policy, backoff);
        Channel channel = failed.channel;
        if (role == TwinSession.Role.CLIENT) {
            if (channel == Channel.B) {
                processes.clientReceiveChannelFailed(problem);   // Fig. 5
            } else {
                processes.clientSendChannelFailed(problem);      // Fig. 6
            }
        } else {
            if (channel == Channel.A) {
                processes.serverReceiveChannelFailed(problem);   // Fig. 7
            } else {
                processes.serverSendChannelFailed(problem);      // Fig. 8
            }
        }
    }

    /**
     * One recovery process's view of the session's channels, over TCP. It knows one link per channel: the failed
     * link for the channel it recovers, and for the other the link current when it began or when it probed it. It
     * closes a channel's current link only if that is the link it knows (or an older one) or has failed: a link
     * attached meanwhile is the repair, not the fault (the server's Fig. 7 would otherwise close a channel A the
     * client had already re-attached, and make it attach once more).
     */
    private final class TcpChannelOps implements ChannelOps {
        private final Link[] known = new Link[2];

        TcpChannelOps(Link failed) {
            known[failed.channel.code()] = failed;
            Channel other = failed.channel == Channel.A ? Channel.B : Channel.A;
            known[other.code()] = table.current(other);
        }

        @Override
        public boolean probe(Channel channel) throws InterruptedException {
            Link l = table.current(channel);
            known[channel.code()] = l;
            return l != null && l.probe(clock, policy.probeTimeout().toNanos(), health.get());
        }

        @Override
        public void close(Channel channel) {
            Link l = table.current(channel);
            Link k = known[channel.code()];
            if (l != null && (k == null || l.generation <= k.generation || !l.isHealthy())) {
                // A healthy link closed here is given up on a failed probe (Figs. 5 and 7): a failure of its own.
                if (table.fail(l, FailureCause.PING_UNANSWERED) && !state.state().isTerminal()) {
                    counts.add(Metrics.causeSlot(Metrics.CHANNEL_FAILURES, channel, FailureCause.PING_UNANSWERED), 1);
                }
                requester.linkDown(l);
            }
        }

        @Override
        public void reconnect(Channel channel, long deadlineNanos) throws Exception {
            if (dialer == null) {
                throw new IllegalStateException("the server never dials");
            }
            Connection connection = dialer.attach(owner, channel, deadlineNanos);
            if (!attacher.attach(channel, connection)) {
                throw new IOException("session ended while channel " + channel + " was re-attached");
            }
        }

        @Override
        public boolean awaitReattach(Channel channel, long deadlineNanos) throws InterruptedException {
            // A re-attach pokes the state machine (TwinSession.attach), and an end is a transition: nothing to poll.
            state.awaitChange(deadlineNanos, () -> table.isHealthy(channel) || state.state().isTerminal());
            return table.isHealthy(channel) && !state.state().isTerminal();
        }

        @Override
        public boolean isHealthy(Channel channel) {
            return table.isHealthy(channel);
        }
    }
}
