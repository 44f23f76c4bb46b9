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
 *       {@code stretch(idleTimeout)} since the last one, or for {@code stretch(quiet + idleTimeout)} when the last
 *       bytes read were a PING announcing a quiet interval {@code quiet} ({@link #onPing}).
 * </ul>
 * A round the session finds quiet ({@link #tick}'s {@code quiet}: no call at either end for a while) uses the
 * policy's quiet interval in place of the heartbeat interval above, and its PING announces it, so the peer allows the
 * longer silence. The session leaves quiet when a call starts; {@link #onActivity} then has the next round run at
 * once, which sends a PING behind the call, the link having been idle for longer than a heartbeat interval.
 * The moment either deadline passes unstretched, the health is told ({@link LocalHealth#overdue}), once per deadline:
 * many sessions of a process falling silent together is evidence of a common cause, which raises the score that
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
        void sendPing(Link link, long nonce, boolean drained, int quietMillis);

        /** {@code link} is found failed for {@code cause}. */
        void failed(Link link, FailureCause cause, IOException why);

        /**
         * A heartbeat PING was answered by its PONG {@code roundTripNanos} after the round that sent it. Called by
         * the link's reader.
         */
        default void heartbeatAnswered(long roundTripNanos) {
        }

        /** Runs the session's next round now rather than when it was planned. Called on any thread. */
        default void wakeRound() {
        }
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

    /**
     * A heartbeat PING: the link it was sent on, its nonce, when, the bytes written on the link before it, and the
     * quiet interval it announced (0: none).
     */
    private record Heartbeat(Link link, long nonce, long sentNanos, long bytesBefore, int quietMillis) {
    }

    /**
     * The peer's promise in a PING read on {@code link}: its next bytes come within {@code quietNanos}. Holds while
     * nothing was read on the link after that PING ({@code readNanos} is the link's last read then).
     */
    private record Quiet(Link link, long quietNanos, long readNanos) {
    }

    private final TwinSession.Role role;
    private final RecoveryPolicy policy;
    private final ChannelTable table;
    private final Actions actions;
    private final Supplier<LocalHealth> health;
    private final AtomicReference<Heartbeat> outstanding = new AtomicReference<>();
    /** The last quiet PING read, or {@code null} since one that announced none. Written by the reader. */
    private volatile Quiet peerQuiet;
    /** Whether the last round was quiet, and so planned the next one up to a quiet interval away. */
    private volatile boolean quietRound;
    /** Set by {@link #onActivity}, taken by the round ({@link #takeActivity}). */
    private volatile boolean activity;
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
            actions.heartbeatAnswered(link.connection.lastReadNanos() - hb.sentNanos());
        }
    }

    /**
     * A PING announcing {@code quietMillis} (0: none) was read on {@code link}, and nothing after it yet. Called by
     * the link's reader.
     */
    void onPing(Link link, int quietMillis) {
        if (quietMillis > 0) {
            peerQuiet = new Quiet(link, java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(quietMillis),
                    link.connection.lastReadNanos());
        } else if (peerQuiet != null) {
            peerQuiet = null;
        }
    }

    /**
     * A call started at this end, or a request arrived from the peer: if the last round was quiet, the next one runs
     * now (it finds the session busy, and sends the PING a call on a quiet link needs). Called on any thread.
     */
    void onActivity() {
        if (!activity) {
            activity = true; // written once per round at most while calls flow: read first
        }
        if (quietRound) {
            quietRound = false;
            actions.wakeRound();
        }
    }

    /**
     * Whether {@link #onActivity} was called since the last time this was asked: a call that started between two
     * rounds, or is starting while the round runs, keeps the session from being found quiet.
     */
    boolean takeActivity() {
        if (activity) {
            activity = false;
            return true;
        }
        return false;
    }

    /** Whether the last round was quiet (and no activity has woken the next one since). */
    boolean quietRound() {
        return quietRound;
    }

    /** {@link #tick(long, long, boolean)} of a session that is not quiet. */
    long tick(long nowNanos, long boundNanos) {
        return tick(nowNanos, boundNanos, false);
    }

    /**
     * One round at time {@code nowNanos}: sends a heartbeat that is due, and reports a channel that failed.
     *
     * @param boundNanos the longest the caller will wait for the next round
     * @param quiet whether the session is quiet, so that its heartbeat is the policy's quiet interval (if that is
     *     longer than its heartbeat interval)
     * @return nanoseconds until something may next be due, at most {@code boundNanos}
     */
    long tick(long nowNanos, long boundNanos, boolean quiet) {
        boolean quietNow = quiet && policy.quietEnabled();
        quietRound = quietNow;
        long next = boundNanos;
        Link send = table.current(role.sendChannel);
        if (send != null && send.isHealthy()) {
            next = Math.min(next, heartbeat(send, nowNanos, quietNow));
        }
        Link receive = table.current(role.receiveChannel);
        if (receive != null && receive.isHealthy()) {
            long lastRead = receive.connection.lastReadNanos();
            long idle = policy.idleTimeout().toNanos();
            Quiet promised = peerQuiet;
            if (promised != null && promised.link() == receive && promised.readNanos() == lastRead) {
                idle += promised.quietNanos();
            }
            if (nowNanos - lastRead > idle && overdueReceive != lastRead) {
                overdueReceive = lastRead;
                health.get().overdue(nowNanos);
            }
            long left = deadline(idle, lastRead, nowNanos);
            if (left < 0) {
                actions.failed(receive, FailureCause.SILENT,
                        new IOException("nothing read for more than " + java.time.Duration.ofNanos(idle)
                                + stretched(idle, nowNanos - lastRead)));
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
    private long heartbeat(Link send, long nowNanos, boolean quiet) {
        Heartbeat hb = outstanding.get();
        if (hb != null && hb.link() != send) {
            outstanding.compareAndSet(hb, null); // sent on a link since replaced: that link's failure was reported
            hb = null;
        }
        long interval = (quiet ? policy.quietInterval() : policy.heartbeatInterval()).toNanos();
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
        int quietMillis = quiet ? (int) policy.quietInterval().toMillis() : 0;
        Heartbeat last = answered;
        // The peer allows a quiet interval's silence only once a PING has announced it: the round that finds the
        // session quiet first sends one at once.
        boolean announce = quiet && (last == null || last.link() != send || last.quietMillis() != quietMillis);
        long lastActivity = Math.min(send.connection.lastReadNanos(), send.connection.lastWriteNanos());
        long sendFrom = announce ? nowNanos : firstStepFrom(lastActivity + due - grid, grid);
        if (nowNanos - sendFrom >= 0) {
            long bytesBefore = send.connection.bytesSent();
            boolean drained = last != null && last.link() == send && bytesBefore == last.bytesBefore() + PING_BYTES;
            long nonce = Link.newNonce();
            outstanding.set(new Heartbeat(send, nonce, nowNanos, bytesBefore, quietMillis));
            actions.sendPing(send, nonce, drained, quietMillis);
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
