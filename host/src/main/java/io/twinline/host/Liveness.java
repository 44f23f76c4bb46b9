package io.twinline.host;

import io.twinline.api.FailureCause;
import io.twinline.api.RecoveryPolicy;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Decides when a channel of one session is silent and when a heartbeat is due (DESIGN §4, PROTOCOL §7). One round
 * per {@link #tick}, run by the session's owner thread, which gives it the time and is told how long until the
 * next thing may be due; the send channel's reader tells it of each PONG ({@link #onPong}). Nothing here reads a
 * clock or sleeps: every detection bound is a function of the times it is given.
 *
 * <p>The rules, with {@code lag} the owner's recent scheduling lag ({@link #noteLateness}):
 * <ul>
 *   <li>a PING goes out on the send channel once it has been idle (nothing read or written) for 15/16 of the
 *       heartbeat interval, and one at a time;
 *   <li>the send channel fails ({@link FailureCause#PING_UNANSWERED}) when that PING is unanswered and no byte
 *       has been read on it for {@code probeTimeout + lag} since the PING was sent;
 *   <li>the receive channel fails ({@link FailureCause#SILENT}) when no byte was read on it for
 *       {@code idleTimeout + lag}.
 * </ul>
 * "Read" counts bytes as they arrive, not whole frames ({@link io.twinline.transport.Connection#lastReadNanos()}):
 * a link delivering a long frame slowly is making progress, and is alive.
 * Stretching the bounds by the owner's own lag keeps a starved process from blaming its peer for its own delay.
 */
final class Liveness {

    /** What a round does about what it finds; called on the owner thread, during {@link #tick}. */
    interface Actions {
        /** Sends a heartbeat PING with {@code nonce} on {@code link}. */
        void sendPing(Link link, long nonce);

        /** {@code link} is found failed for {@code cause}. */
        void failed(Link link, FailureCause cause, IOException why);
    }

    /** The heartbeat PING awaiting its PONG, on the link it was sent on. */
    private record Heartbeat(Link link, long nonce, long sentNanos) {
    }

    private final TwinSession.Role role;
    private final RecoveryPolicy policy;
    private final ChannelTable table;
    private final Actions actions;
    private final AtomicReference<Heartbeat> outstanding = new AtomicReference<>();
    private volatile long schedulingLagNanos;

    Liveness(TwinSession.Role role, RecoveryPolicy policy, ChannelTable table, Actions actions) {
        this.role = role;
        this.policy = policy;
        this.table = table;
        this.actions = actions;
    }

    /**
     * Records how late the owner's round started ({@code -1} for a round woken early, which says nothing about lag).
     * The lag decays by half per round, so one long pause stretches only the next few bounds.
     */
    void noteLateness(long lateNanos) {
        if (lateNanos >= 0) {
            schedulingLagNanos = Math.max(lateNanos, schedulingLagNanos / 2);
        }
    }

    /** The owner's recent scheduling lag, by which silence and answer deadlines stretch. */
    long schedulingLagNanos() {
        return schedulingLagNanos;
    }

    /** A PONG with {@code nonce} was read on {@code link}: the heartbeat it answers is no longer outstanding. */
    void onPong(Link link, long nonce) {
        Heartbeat hb = outstanding.get();
        if (hb != null && hb.link() == link && hb.nonce() == nonce) {
            outstanding.compareAndSet(hb, null);
        }
    }

    /**
     * One round at time {@code nowNanos}: sends a heartbeat that is due, and reports a channel that failed.
     *
     * @param boundNanos the longest the caller will wait for the next round
     * @return nanoseconds until something may next be due, at most {@code boundNanos}
     */
    long tick(long nowNanos, long boundNanos) {
        long next = boundNanos;
        Link send = table.current(role.sendChannel);
        if (send != null && send.isHealthy()) {
            next = Math.min(next, heartbeat(send, nowNanos));
        }
        Link receive = table.current(role.receiveChannel);
        if (receive != null && receive.isHealthy()) {
            long silentUntil = receive.connection.lastReadNanos() + policy.idleTimeout().toNanos() + schedulingLagNanos;
            if (nowNanos > silentUntil) {
                actions.failed(receive, FailureCause.SILENT,
                        new IOException("nothing read for more than " + policy.idleTimeout()));
            } else {
                next = Math.min(next, silentUntil - nowNanos + 1);
            }
        }
        return next;
    }

    /** The send channel's heartbeat; returns how long until it next needs a look. */
    private long heartbeat(Link send, long nowNanos) {
        Heartbeat hb = outstanding.get();
        if (hb != null && hb.link() != send) {
            outstanding.compareAndSet(hb, null); // sent on a link since replaced: that link's failure was reported
            hb = null;
        }
        long interval = policy.heartbeatInterval().toNanos();
        // Due after 15/16 of an interval: the last PING's own flush came a moment after the round that queued it,
        // so the round one interval later sends the next one rather than waking again just after.
        long due = interval - interval / 16;
        if (hb != null) {
            // Bytes read after the PING went out answer it as well as its PONG would: the peer is there and sending,
            // and on a slow link its PONG may wait behind the bytes that prove it.
            long lastRead = send.connection.lastReadNanos();
            long since = lastRead - hb.sentNanos() > 0 ? lastRead : hb.sentNanos();
            long answerDue = since + policy.probeTimeout().toNanos() + schedulingLagNanos;
            if (nowNanos > answerDue) {
                actions.failed(send, FailureCause.PING_UNANSWERED,
                        new IOException("PING not answered and nothing read within " + policy.probeTimeout()));
                return Long.MAX_VALUE;
            }
            return answerDue - nowNanos + 1;
        }
        long lastActivity = Math.min(send.connection.lastReadNanos(), send.connection.lastWriteNanos());
        if (nowNanos - lastActivity >= due) {
            long nonce = Link.newNonce();
            outstanding.set(new Heartbeat(send, nonce, nowNanos));
            actions.sendPing(send, nonce);
            return policy.probeTimeout().toNanos();
        }
        return lastActivity + due - nowNanos;
    }
}
