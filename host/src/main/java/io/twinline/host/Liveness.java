package io.twinline.host;

import io.twinline.api.FailureCause;
import io.twinline.api.RecoveryPolicy;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Decides when a channel of one session is silent and when a heartbeat is due (DESIGN §4, PROTOCOL §7). One round
 * per {@link #tick}, run by the session's {@link RoundTimer}, which gives it the time and is told how long until the
 * next thing may be due; the send channel's reader tells it of each PONG ({@link #onPong}). Nothing here reads a
 * clock or sleeps: every detection bound is a function of the times it is given and of the process's
 * {@link LocalHealth}.
 *
 * <p>The rules, with {@code stretch(t, since)} the deadline {@code t} measured from {@code since} as the process's
 * health stretches it ({@link LocalHealth#stretch}: {@code t} itself on a process that keeps up):
 * <ul>
 *   <li>a PING goes out on the send channel once it has been idle (nothing read or written) for at least 15/16 of the
 *       heartbeat interval less one {@link #pingGrid} step, at the first multiple of that step on the clock, so never
 *       later than after 15/16 of the interval; one at a time. Every session with the same interval sends on the same
 *       steps, so a process's heartbeats go out, and their answers come back, in a few bursts per interval;
 *   <li>the send channel fails ({@link FailureCause#PING_UNANSWERED}) when that PING is unanswered and no byte has
 *       been read on it for {@code stretch(probeTimeout)} since the PING was sent (or since the last byte read after
 *       it);
 *   <li>the receive channel fails ({@link FailureCause#SILENT}) when no byte was read on it for
 *       {@code stretch(idleTimeout)} since the last one.
 * </ul>
 * The moment either deadline passes unstretched, the health is told ({@link LocalHealth#overdue}), once per deadline:
 * many sessions of a process going quiet together is evidence of a common cause, which raises the score that
 * stretches theirs.
 * "Read" counts bytes as they arrive, not whole frames ({@link io.twinline.transport.Connection#lastReadNanos()}):
 * a link delivering a long frame slowly is making progress, and is alive.
 *
 * <p>A PING may be written by the round's own thread only where that cannot block: {@link Actions#sendPing} is told
 * {@code drained} when the previous heartbeat on the link was answered and nothing but that PING has been written
 * on it since it went out. The answer proves that the peer read, so its kernel acknowledged, every byte up to that
 * PING: the link's send buffer is empty.
 */
final class Liveness {

    /** What a round does about what it finds; called on the round's thread, during {@link #tick}. */
    interface Actions {
        /**
         * Sends a heartbeat PING with {@code nonce} on {@code link}; {@code drained} if the link's send buffer is
         * known to be empty, so a write of the PING cannot block.
         */
        void sendPing(Link link, long nonce, boolean drained);

        /** {@code link} is found failed for {@code cause}. */
        void failed(Link link, FailureCause cause, IOException why);
    }

    /** The step on which heartbeats are sent: at most 50 ms, at most 1/16 of the interval. */
    static long pingGrid(long intervalNanos) {
        return Math.max(1, Math.min(PING_GRID_NANOS, intervalNanos / 16));
    }

    private static final long PING_GRID_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(50);

    /** The bytes of a PING frame on the wire. */
    static final int PING_BYTES = pingBytes();

    private static int pingBytes() {
        var counted = new java.io.ByteArrayOutputStream();
        try {
            new io.twinline.transport.FrameCodec(1024).write(new io.twinline.transport.Frame.Ping(0),
                    new java.io.DataOutputStream(counted));
        } catch (IOException e) {
            throw new IllegalStateException(e); // cannot happen: written to memory
        }
        return counted.size();
    }

    /** A heartbeat PING: the link it was sent on, its nonce, when, and the bytes written on the link before it. */
    private record Heartbeat(Link link, long nonce, long sentNanos, long bytesBefore) {
    }

    private final TwinSession.Role role;
    private final RecoveryPolicy policy;
    private final ChannelTable table;
    private final Actions actions;
    private final Supplier<LocalHealth> health;
    private final AtomicReference<Heartbeat> outstanding = new AtomicReference<>();
    /** The last heartbeat answered by its PONG. */
    private volatile Heartbeat answered;
    /**
     * The moments from which the last overdue deadlines were measured, on the send and the receive channel: each
     * deadline is reported overdue to the health once ({@link LocalHealth#overdue}). Only the round's thread writes.
     */
    private long overdueSend = Long.MIN_VALUE;
    private long overdueReceive = Long.MIN_VALUE;

    Liveness(TwinSession.Role role, RecoveryPolicy policy, ChannelTable table, Actions actions,
             Supplier<LocalHealth> health) {
        this.role = role;
        this.policy = policy;
        this.table = table;
        this.actions = actions;
        this.health = health;
    }

    /** A PONG with {@code nonce} was read on {@code link}: the heartbeat it answers is no longer outstanding. */
    void onPong(Link link, long nonce) {
        Heartbeat hb = outstanding.get();
        if (hb != null && hb.link() == link && hb.nonce() == nonce && outstanding.compareAndSet(hb, null)) {
            answered = hb;
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
            long lastRead = receive.connection.lastReadNanos();
            long idle = policy.idleTimeout().toNanos();
            if (nowNanos - lastRead > idle && overdueReceive != lastRead) {
                overdueReceive = lastRead;
                health.get().overdue(nowNanos);
            }
            long left = deadline(idle, lastRead, nowNanos);
            if (left < 0) {
                actions.failed(receive, FailureCause.SILENT,
                        new IOException("nothing read for more than " + policy.idleTimeout() + stretched(idle,
                                nowNanos - lastRead)));
            } else {
                next = Math.min(next, left + 1);
            }
        }
        return next;
    }

    /**
     * How long after {@code nowNanos} a deadline of {@code timeoutNanos} from {@code sinceNanos} falls, stretched by
     * the process's health once the plain deadline has passed; negative once it has passed, stretched.
     */
    private long deadline(long timeoutNanos, long sinceNanos, long nowNanos) {
        long waited = nowNanos - sinceNanos;
        if (waited <= timeoutNanos) {
            return timeoutNanos - waited;
        }
        long stretched = health.get().stretch(timeoutNanos, sinceNanos, nowNanos);
        return waited > stretched ? -1 : stretched - waited;
    }

    /** For a failure's message: how far past the policy's deadline it was declared, if the health stretched it. */
    private static String stretched(long timeoutNanos, long waitedNanos) {
        long over = waitedNanos - timeoutNanos;
        return over > java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(50)
                ? " (waited " + java.time.Duration.ofMillis(waitedNanos / 1_000_000)
                        + ": the deadline was stretched by this process's local health)" : "";
    }

    /** The send channel's heartbeat; returns how long until it next needs a look. */
    private long heartbeat(Link send, long nowNanos) {
        Heartbeat hb = outstanding.get();
        if (hb != null && hb.link() != send) {
            outstanding.compareAndSet(hb, null); // sent on a link since replaced: that link's failure was reported
            hb = null;
        }
        long interval = policy.heartbeatInterval().toNanos();
        long probe = policy.probeTimeout().toNanos();
        if (hb != null) {
            // Bytes read after the PING went out answer it as well as its PONG would: the peer is there and sending,
            // and on a slow link its PONG may wait behind the bytes that prove it.
            long lastRead = send.connection.lastReadNanos();
            long since = lastRead - hb.sentNanos() > 0 ? lastRead : hb.sentNanos();
            if (nowNanos - since > probe && overdueSend != since) {
                overdueSend = since;
                health.get().overdue(nowNanos);
            }
            long left = deadline(probe, since, nowNanos);
            if (left < 0) {
                actions.failed(send, FailureCause.PING_UNANSWERED,
                        new IOException("PING not answered and nothing read within " + policy.probeTimeout()
                                + stretched(probe, nowNanos - since)));
                return Long.MAX_VALUE;
            }
            return left + 1;
        }
        // Due after 15/16 of an interval at the latest: the last PING's own flush came a moment after the round that
        // queued it, so the round one interval later sends the next one rather than waking again just after. Sent at
        // the first step of the grid at or after one step earlier, so that the sessions of a process send together.
        long due = interval - interval / 16;
        long grid = pingGrid(interval);
        long lastActivity = Math.min(send.connection.lastReadNanos(), send.connection.lastWriteNanos());
        long sendFrom = firstStepFrom(lastActivity + due - grid, grid);
        if (nowNanos - sendFrom >= 0) {
            Heartbeat last = answered;
            long bytesBefore = send.connection.bytesSent();
            boolean drained = last != null && last.link() == send && bytesBefore == last.bytesBefore() + PING_BYTES;
            long nonce = Link.newNonce();
            outstanding.set(new Heartbeat(send, nonce, nowNanos, bytesBefore));
            actions.sendPing(send, nonce, drained);
            // Next look: when this PING's answer is due, or when the next PING may go if its answer comes at once.
            return Math.min(probe + 1, Math.max(1, firstStepFrom(nowNanos + due - grid, grid) - nowNanos));
        }
        return sendFrom - nowNanos;
    }

    /** The first multiple of {@code grid} at or after {@code t}. */
    private static long firstStepFrom(long t, long grid) {
        return Math.floorDiv(t + grid - 1, grid) * grid;
    }
}
