package io.twinline.host;

import io.twinline.api.CallInterruptedException;
import io.twinline.api.CallOutcome;
import io.twinline.api.CallTimeoutException;
import io.twinline.api.Channel;
import io.twinline.api.DisconnectedException;
import io.twinline.api.FailureCause;
import io.twinline.api.Handler;
import io.twinline.api.Limits;
import io.twinline.api.MetricsSnapshot;
import io.twinline.api.NoSuchRouteException;
import io.twinline.api.RecoveryPolicy;
import io.twinline.api.RemoteFailureException;
import io.twinline.api.Session;
import io.twinline.api.SessionClosedException;
import io.twinline.api.SessionState;
import io.twinline.api.StateListener;
import io.twinline.recovery.Backoff;
import io.twinline.recovery.Clock;
import io.twinline.recovery.StateMachine;
import io.twinline.transport.Connection;
import io.twinline.transport.Frame;
import io.twinline.transport.MalformedFrameException;
import java.io.IOException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One session, at either end: the {@link Session} its embedder holds, and its lifecycle, from creation to the end
 * of its last thread. The parts it wires together each answer one question:
 * <ul>
 *   <li>{@link ChannelTable}: which link each channel has; the one place links are closed;
 *   <li>{@link Liveness}: whether a channel is silent, and when a heartbeat is due;
 *   <li>{@link RecoveryDriver}: what a failed link sets off (Figs. 5–8);
 *   <li>{@link ChannelReader} and {@link RequestRunner}: what is read, and the peer's requests run;
 *   <li>{@link Requester} and {@link Responder}: the calls both ways, exactly once; a call waits in
 *       {@link Requester#call} through a recovery;
 *   <li>{@link StateMachine}: the Fig. 4 state; a session ends by its terminal transition, handled by
 *       {@link #ended}.
 * </ul>
 *
 * <p>Threads (each named {@code s-<id>@<end>/<what>}), all in the session's {@link TaskGroup}: per attached link a
 * reader, and a writer only while the link has something to write (see {@link Connection}); one virtual thread per
 * incoming request's handler; one per running recovery process; a short {@code /round} for a transition a timer round
 * hands over. A client's session group has an owner thread of its own, which waits untimed between forks; a server's
 * session group is nested in the server's, whose owner forks its threads, so an idle server session parks only its two
 * readers. The periodic round ({@link #round}: call deadlines, acks, liveness) runs on the process's
 * {@link RoundTimer}. Callers of {@link #call} are the embedder's own threads.
 */
final class TwinSession implements Session {

    /** Which end of the session this is. */
    enum Role {
        CLIENT(Channel.A, Channel.B),
        SERVER(Channel.B, Channel.A);

        /** The channel carrying this end's requests. */
        final Channel sendChannel;
        /** The channel carrying the peer's requests. */
        final Channel receiveChannel;

        Role(Channel sendChannel, Channel receiveChannel) {
            this.sendChannel = sendChannel;
            this.receiveChannel = receiveChannel;
        }
    }

    /** The client's way to open a new connection for a channel and ATTACH it (Figs. 5 and 6). */
    interface Dialer {
        Connection attach(TwinSession session, Channel channel, long deadlineNanos) throws Exception;
    }

    /** Told once when the session has ended and every one of its threads is done (or given up on). */
    interface EndListener {
        void onEnded(TwinSession session, SessionState finalState);
    }

    /** The peer's limits, from the handshake. */
    record PeerLimits(int maxMessageBytes, int maxInFlight, int maxInFlightBytes) {
    }

    /** The shortest round: a session's timer round runs at most this often. */
    private static final long MIN_ROUND_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** How many heartbeat intervals without a call make a session quiet. */
    static final int QUIET_AFTER_HEARTBEATS = 2;

    final long numericId;
    final String id;
    /**
     * The start of this session's thread names, one string shared by its parts. Thread names carry the session and
     * the end, so a dump of a process holding both ends stays readable.
     */
    private final String threadPrefix;
    final byte[] token;
    final Role role;
    private final RecoveryPolicy policy;
    private final Limits limits;
    private final PeerLimits peer;
    private final Clock clock;
    private final Metrics metrics;
    private final Metrics.SessionCounts counts;
    private final EndListener endListener;
    private final TaskGroup group;
    private final StateMachine state;
    private final Requester requester;
    private final Responder responder;
    private final ChannelTable table = new ChannelTable();
    private final Liveness liveness;
    private final RecoveryDriver recovery;
    private final RequestRunner requests;
    private final ChannelReader reader;
    private final AtomicBoolean closing = new AtomicBoolean();
    /**
     * Set by the server just before it writes ATTACHED for a B: from then on the client may hold the session as
     * established, so a failure of a channel while still CONNECTING is recovered rather than ended (PROTOCOL §4.6).
     */
    private volatile boolean establishedAtPeer;
    /** Makes the promise and a handshake's failure one step each (see {@link #failHandshake}). */
    private final Object promiseLock = new Object();
    /** The encoded certificate the client showed when it opened the session (mutual TLS), or null. */
    private volatile byte[] clientCertificate;
    /** Who the client opened the session as, on a server (see {@link io.twinline.api.Session#principal()}). */
    private volatile String principal;
    private final long createdNanos;
    /** When the round last found the session busy: see {@link #foundQuiet}. Round's thread only. */
    private long busyNanos;
    /** The session's place on its clock's {@link RoundTimer}, which runs its rounds; set last in the constructor. */
    private volatile RoundTimer.Entry rounds;
    /** When the session entered RECOVERING (clock nanos), for the recovery duration. */
    private volatile long recoveringSinceNanos;
    /** When the session entered its current state, by the clock's wall time, for the status page. */
    private volatile long stateSinceMillis;
    /** Whether the session reached NORMAL once: only then is it counted as opened, and as ended when it ends. */
    private volatile boolean established;

    TwinSession(long numericId, byte[] token, Role role, RecoveryPolicy policy, Limits limits, PeerLimits peer,
                Map<String, Handler> handlers, Clock clock, Metrics metrics, TaskGroup parent, Dialer dialer,
                EndListener endListener) {
        this.numericId = numericId;
        this.id = formatId(numericId);
        this.token = token;
        this.role = role;
        this.threadPrefix = id + (role == Role.CLIENT ? "@client" : "@server");
        this.policy = policy;
        this.limits = limits;
        this.peer = peer;
        this.clock = clock;
        this.metrics = metrics;
        this.counts = new Metrics.SessionCounts(metrics);
        this.endListener = endListener;
        this.stateSinceMillis = clock.wallMillis();
        this.state = new StateMachine(clock);
        this.requester = new Requester(id, Math.min(limits.maxInFlight(), peer.maxInFlight()),
                Math.min(limits.maxInFlightBytes(), peer.maxInFlightBytes()), clock::nanoTime);
        this.responder = new Responder(limits.maxInFlight(), limits.maxInFlightBytes(), limits.maxCachedBytes(),
                () -> counts.add(Metrics.DUPLICATES, 1));
        this.createdNanos = clock.nanoTime();
        this.group = parent == null ? TaskGroup.start(threadPrefix, clock)
                : TaskGroup.startIn(parent, threadPrefix);
        this.liveness = new Liveness(role, policy, table, new Liveness.Actions() {
            @Override
            public void sendPing(Link link, long nonce, boolean drained, int quietMillis) {
                TwinSession.this.sendPing(link, nonce, drained, quietMillis);
            }

            @Override
            public void heartbeatAnswered(long roundTripNanos) {
                counts.heartbeatAnswered(roundTripNanos);
            }

            @Override
            public void wakeRound() {
                RoundTimer.Entry r = rounds;
                if (r != null) {
                    r.wakeAt(clock.nanoTime());
                }
            }

            @Override
            public void failed(Link link, FailureCause cause, IOException why) {
                recovery.linkFailed(link, cause, why);
            }
        }, this::health);
        this.recovery = new RecoveryDriver(this, role, policy, clock, state, table, requester, counts,
                newBackoff(policy), group, threadPrefix, dialer, this::attach, closing::get, this::health);
        this.requests = new RequestRunner(this, role, handlers, peer.maxMessageBytes(), responder, table, counts,
                recovery);
        this.reader = new ChannelReader(id, role, group, threadPrefix, table, requester, responder, liveness,
                recovery, requests, counts, this::peerSaidGoodbye);
        state.addListener(this::onTransition);
        requester.onEarlierDeadline(this::onEarlierDeadline);
        // The group runs a round only when the timer's round asks it to (a transition, whose listeners must not run
        // on the timer's thread); it is a ticker still, so that a session whose group has ended is ended.
        group.startTicker(this::groupRound, TaskGroup.UNTIL_WOKEN, () -> state.transition(SessionState.DISCONNECTED,
                new IOException("the session's threads were stopped")));
        rounds = RoundTimer.register(clock, this::timerRound, createdNanos + roundBound());
        if (state.state().isTerminal()) {
            rounds.cancel(); // ended while it registered (its group had ended already)
        }
    }

    /** The health this session's deadlines are stretched by: its round timer's. */
    private LocalHealth health() {
        RoundTimer.Entry r = rounds;
        return r == null ? LocalHealth.NONE : r.health();
    }

    /**
     * A backoff of its own for each session, whose jitter comes from a generator seeded for this session and safe
     * to use from any thread ({@link java.util.Random}): a session's two recovery processes run on threads of their
     * own, and sessions cut off together, in one process or many, must not pick the same pauses.
     */
    static Backoff newBackoff(RecoveryPolicy policy) {
        return new Backoff(policy, new java.util.Random(SEEDS.nextLong()));
    }

    /** Where sessions' seeds come from: thread-safe, and different in every process. */
    private static final java.security.SecureRandom SEEDS = new java.security.SecureRandom();


    static String formatId(long numericId) {
        return "s-" + Long.toHexString(numericId);
    }

    // ---- Session API ----

    @Override
    public String id() {
        return id;
    }

    @Override
    public SessionState state() {
        return state.state();
    }

    @Override
    public byte[] call(String route, byte[] body) {
        return call(route, body, limits.callTimeout());
    }

    @Override
    public byte[] call(String route, byte[] body, Duration timeout) {
        Objects.requireNonNull(route, "route");
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(timeout, "timeout");
        long start = clock.nanoTime();
        CallOutcome outcome = null; // stays null for a call refused for its arguments, or an Error: not counted
        liveness.onActivity();
        try {
            byte[] answer = requester.call(route, body, timeout, peer.maxMessageBytes());
            outcome = CallOutcome.OK;
            return answer;
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            outcome = outcomeOf(e);
            throw e;
        } finally {
            if (outcome != null) {
                counts.add(Metrics.callSlot(Metrics.CALLS_MADE, outcome), 1);
                counts.observe(Metrics.CALL_DURATION, clock.nanoTime() - start);
            }
        }
    }

    private static CallOutcome outcomeOf(RuntimeException e) {
        return switch (e) {
            case NoSuchRouteException x -> CallOutcome.NO_SUCH_ROUTE;
            case RemoteFailureException x -> CallOutcome.HANDLER_FAILED;
            case CallTimeoutException x -> CallOutcome.TIMEOUT;
            case DisconnectedException x -> CallOutcome.DISCONNECTED;
            case CallInterruptedException x -> CallOutcome.INTERRUPTED;
            default -> CallOutcome.CLOSED; // SessionClosedException, or a call that failed with the session
        };
    }

    @Override
    public MetricsSnapshot metrics() {
        SessionState now = state.state();
        Map<SessionState, Long> held = Metrics.zeros(SessionState.class);
        Map<SessionState, Long> ended = Metrics.zeros(SessionState.class);
        if (!now.isTerminal()) {
            held.put(now, 1L);
        } else if (established) {
            ended.put(now, 1L);
        }
        return Metrics.snapshot(counts::get, established ? 1 : 0, held, ended, table.bytesSent(),
                table.bytesReceived(), Map.of(), i -> 0, 0); // heartbeat round trips and shedding: the runtime's
    }

    /**
     * The state of one channel, as the status page shows it: the session's own state when it is CONNECTING or has
     * ended; RECOVERING while the channel has no working link or a recovery process is mending it; else NORMAL.
     */
    SessionState channelState(Channel channel) {
        SessionState now = state.state();
        if (now.isTerminal() || now == SessionState.CONNECTING) {
            return now;
        }
        return !table.isHealthy(channel) || recovery.isRunning(channel) ? SessionState.RECOVERING
                : SessionState.NORMAL;
    }

    /** The sum of this session's own {@code n} slots from {@code first} (Metrics' layout), without a snapshot. */
    long ownCount(int first, int n) {
        long sum = 0;
        for (int slot = first; slot < first + n; slot++) {
            sum += counts.get(slot);
        }
        return sum;
    }

    /** When the session entered its current state, by the wall clock. */
    long stateSinceMillis() {
        return stateSinceMillis;
    }

    @Override
    public void addStateListener(StateListener listener) {
        Objects.requireNonNull(listener, "listener");
        state.addListener((from, to, cause) -> listener.onTransition(this, from, to, cause));
    }

    // ---- lifecycle ----

    /**
     * Orderly close: refuse new calls, give calls in flight (both ways) up to the close grace, send GOODBYE on both
     * channels, then wait for every thread of the session. Called from one of the session's own threads (a handler,
     * a listener run by a reader), which it would wait for, it starts the close on a thread of its own and returns.
     */
    @Override
    public void close() {
        boolean first = closing.compareAndSet(false, true) && !state.state().isTerminal();
        if (first) {
            requester.failNew(call -> new SessionClosedException(id, "session is closing")); // on the caller's thread
        }
        if (group.isCallerInside()) {
            if (first) {
                Thread.ofVirtual().name(threadPrefix + "/close").start(() -> finishClose(true));
            }
            return;
        }
        finishClose(first);
    }

    /** The rest of {@link #close}, on a thread outside the session: {@code first} for the thread that closes. */
    private void finishClose(boolean first) {
        if (first) {
            long graceEnd = clock.nanoTime() + limits.closeGrace().toNanos();
            try {
                state.awaitUntil(graceEnd, () -> state.state().isTerminal()
                        || (requester.unansweredCount() == 0 && responder.owed() == 0));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            table.closeWithGoodbye(new Frame.Goodbye("closed by " + role.name().toLowerCase(Locale.ROOT)), 500);
            state.transition(SessionState.CLOSED, null);
        } else {
            // Another thread is closing (or the session ended): let it finish before stopping the session's threads;
            // the round timer keeps deadlines and heartbeats going meanwhile.
            try {
                state.awaitUntil(clock.nanoTime() + limits.closeGrace().plusSeconds(2).toNanos(),
                        () -> state.state().isTerminal());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        awaitEnd();
    }

    /** Waits for every thread of the session; interrupts them if they overrun. */
    private void awaitEnd() {
        if (!group.shutdownAndAwait(limits.closeGrace().plusSeconds(2))) {
            Logger.error("[{}] threads did not end after close", id);
        }
    }

    boolean isEnded() {
        return group.isTerminated();
    }

    /** The peer's GOODBYE, read on {@code link} (see {@link ChannelReader}): the session closes. */
    private void peerSaidGoodbye(Link link, boolean sendSide, String reason) {
        Logger.info("[{}/{}] peer closed the session: {}", id, link.channel, reason);
        closing.set(true);
        if (!sendSide) {
            awaitAnswersAfterGoodbye();
        }
        state.transition(SessionState.CLOSED, null);
    }

    /**
     * The peer's GOODBYE came on the receive channel. The peer sent it after answering every call it had of ours, but
     * those answers travel on the send channel, another connection, which this GOODBYE may have overtaken (PROTOCOL
     * §8). New calls fail at once; those waiting get up to {@code closeGrace} for their answers to arrive (or for the
     * send channel's own GOODBYE, or its failure) before the session closes and fails them.
     */
    private void awaitAnswersAfterGoodbye() {
        requester.failNew(call -> new SessionClosedException(id, "the peer closed the session"));
        long until = clock.nanoTime() + limits.closeGrace().toNanos();
        try {
            state.awaitUntil(until, () -> state.state().isTerminal() || requester.unansweredCount() == 0
                    || !table.isHealthy(role.sendChannel));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void onTransition(SessionState from, SessionState to, Throwable cause) {
        liveness.onActivity(); // a quiet session's next round may be far: the new state's deadlines are nearer
        countTransition(from, to, cause);
        String end = role.name().toLowerCase(Locale.ROOT);
        if (to == SessionState.RECOVERING) {
            Logger.info("[{}] {} {} -> {}: {}", id, end, from, to, describe(cause));
        } else if (to == SessionState.DISCONNECTED) {
            Logger.warn("[{}] {} {} -> {}: {}", id, end, from, to, describe(cause));
        } else {
            Logger.info("[{}] {} {} -> {}", id, end, from, to);
        }
        if (to.isTerminal()) {
            ended(to, cause);
        } else if (to == SessionState.NORMAL && from == SessionState.RECOVERING) {
            recovery.recoverBrokenChannels("left behind by a recovery");
        } else if (to == SessionState.NORMAL && from == SessionState.CONNECTING) {
            recovery.recoverBrokenChannels("failed while the session was being established");
        }
    }

    /** Recovery durations and outcomes, and the runtime's log of recent changes, for one transition. */
    private void countTransition(SessionState from, SessionState to, Throwable cause) {
        long now = clock.nanoTime();
        stateSinceMillis = clock.wallMillis();
        if (to == SessionState.RECOVERING) {
            recoveringSinceNanos = now;
        } else if (from == SessionState.RECOVERING && to == SessionState.NORMAL) {
            counts.observe(Metrics.RECOVERY_DURATION, now - recoveringSinceNanos);
        } else if (from == SessionState.RECOVERING && to == SessionState.DISCONNECTED) {
            counts.add(Metrics.RECOVERIES_FAILED, 1);
        }
        if (from == SessionState.CONNECTING && to == SessionState.NORMAL) {
            established = true;
            metrics.sessionOpened();
        } else if (to.isTerminal() && established) {
            metrics.sessionEnded(to); // a handshake that failed is not a session lost
        }
        Channel channel = to == SessionState.RECOVERING || from == SessionState.RECOVERING
                ? recovery.recoveringChannel() : null;
        metrics.recent().add(new Metrics.TransitionLog.Entry(stateSinceMillis, id, channel, from, to,
                cause == null ? null : describe(cause)));
    }

    private static String describe(Throwable cause) {
        if (cause == null) {
            return "no cause";
        }
        String text = cause.getMessage() != null ? cause.getMessage() : cause.toString();
        Throwable root = cause.getCause();
        return root != null && root != cause ? text + " (" + (root.getMessage() != null ? root.getMessage()
                : root.toString()) + ")" : text;
    }

    /**
     * The session reached DISCONNECTED or CLOSED: fail every waiting caller at once, close every link, and let the
     * threads end. Handlers still running get the close grace, then an interrupt, then as long again; one that
     * still runs after that is left behind (and logged), so that the session's end, and the server's session slot,
     * never wait on a handler that ignores interrupts.
     */
    private void ended(SessionState finalState, Throwable cause) {
        closing.set(true);
        if (finalState == SessionState.DISCONNECTED) {
            String why = describe(cause);
            requester.failAll(call -> call.id == Requester.NOT_SENT
                    ? new DisconnectedException(id, "session disconnected (" + why + "); call to '" + call.route
                            + "' not sent", cause)
                    : new DisconnectedException(id, "session disconnected (" + why + "); call " + call.id + " to '"
                            + call.route + "': whether it ran at the peer is unknown", cause));
        } else {
            requester.failAll(call -> call.id == Requester.NOT_SENT
                    ? new SessionClosedException(id, "session is closed; call to '" + call.route + "' not sent")
                    : new SessionClosedException(id, "session closed before call " + call.id + " to '" + call.route
                            + "' was answered; whether it ran at the peer is unknown"));
        }
        table.closeAll();
        group.shutdown();
        RoundTimer.Entry r = rounds;
        if (r != null) {
            r.cancel();
        }
        Thread.ofVirtual().name(threadPrefix + "/ended").start(() -> {
            try {
                if (!group.awaitTermination(limits.closeGrace())) {
                    Logger.debug("[{}] interrupting handlers still running after {}", id, limits.closeGrace());
                    group.cancel();
                    if (!group.awaitTermination(limits.closeGrace().plusSeconds(1))) {
                        Logger.error("[{}] threads still running after an interrupt; the session ends without "
                                + "them (a handler that ignores interrupts?)", id);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (endListener != null) {
                endListener.onEnded(this, finalState);
            }
        });
    }

    /**
     * The server is about to write ATTACHED for channel B: from that moment the session is established at the client,
     * and a failure of either channel is recovered, not the end of a handshake (PROTOCOL §4.6).
     *
     * @return {@code false} if the session has ended (ATTACHED must then not be written)
     */
    boolean promiseEstablished() {
        synchronized (promiseLock) {
            if (state.state().isTerminal()) {
                return false;
            }
            establishedAtPeer = true;
            return true;
        }
    }

    /**
     * Ends a session still CONNECTING for {@code cause}, unless the server has promised it established
     * ({@link #promiseEstablished}): one step with that promise, so that the two never both happen.
     *
     * @return whether the session ended here
     */
    boolean failHandshake(Throwable cause) {
        synchronized (promiseLock) {
            return !establishedAtPeer && state.transition(SessionState.CONNECTING, SessionState.DISCONNECTED, cause);
        }
    }

    /** Sets who the client opened the session as (null: nobody in particular), before the session is listed. */
    void principal(String name) {
        principal = name;
    }

    @Override
    public java.util.Optional<String> principal() {
        return java.util.Optional.ofNullable(principal);
    }

    /** Binds the session to the certificate its client opened it with (null: none, and no binding). */
    void bindClientCertificate(java.security.cert.Certificate certificate) {
        try {
            clientCertificate = certificate == null ? null : certificate.getEncoded();
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException("a verified certificate that cannot be encoded", e);
        }
    }

    /**
     * Whether a connection whose client showed {@code certificate} may attach: any, for a session opened without a
     * certificate; else only the same certificate.
     */
    boolean isClientCertificate(java.security.cert.Certificate certificate) {
        byte[] bound = clientCertificate;
        if (bound == null) {
            return true;
        }
        try {
            return certificate != null && java.security.MessageDigest.isEqual(bound, certificate.getEncoded());
        } catch (java.security.cert.CertificateEncodingException e) {
            return false;
        }
    }


    /** Ends a session still CONNECTING whose handshake failed (its WELCOME could not be sent), at once. */
    void abandon(IOException why) {
        state.transition(SessionState.DISCONNECTED, why);
    }

    // ---- links ----

    /**
     * Attaches {@code connection} as {@code channel}, replacing (and closing) any earlier link of that channel. For
     * the send channel, unanswered calls are re-sent on it at once. The attach that gives a CONNECTING session its
     * second channel makes it NORMAL before that channel's reader starts, so a failure of the new link is recovered
     * like any other (PROTOCOL §4.6).
     *
     * @return {@code false} if the session has ended (the connection is then closed)
     */
    boolean attach(Channel channel, Connection connection) {
        if (state.state().isTerminal() || closing.get()) {
            connection.close();
            return false;
        }
        ChannelTable.Replacement installed = table.install(channel, connection);
        if (installed == null) {
            return false;
        }
        Link fresh = installed.fresh();
        Link old = installed.old();
        connection.countSilenceFromNow(); // not from the accept or dial: its handshake may have taken a while
        liveness.onActivity(); // the new link's deadlines are a heartbeat away, not a quiet interval
        if (old != null) {
            requester.linkDown(old);
            try {
                // No frame of the old connection may be dispatched after the new one starts: a request read there
                // late could otherwise be taken for new once its twin on the new link was answered and acked.
                if (!old.awaitReaderExit(1000)) {
                    Logger.warn("[{}/{}] old reader still busy after 1 s", id, channel);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            metrics.reattached();
        }
        String prefix = threadPrefix + "/" + channel + "#" + fresh.generation;
        try {
            connection.establish(settingsFor(fresh, prefix + "-writer"));
        } catch (IOException e) {
            recovery.linkFailed(fresh, FailureCause.OTHER, e);
            return true; // attached, and failed at once: recovered as any failure
        }
        if (state.state() == SessionState.CONNECTING && table.current(otherThan(channel)) != null) {
            establish();
        }
        if (!group.spawn(prefix + "-reader", () -> reader.run(fresh))) {
            table.fail(fresh, FailureCause.OTHER);
            return false;
        }
        if (channel == role.sendChannel) {
            int replayed = requester.linkUp(fresh);
            if (replayed > 0) {
                counts.add(Metrics.REPLAYED, replayed);
            }
        }
        Logger.info("[{}/{}] {} attached {} to {}", id, channel, role.name().toLowerCase(Locale.ROOT), fresh,
                connection.remoteAddress());
        state.poke();
        return true;
    }

    private static Channel otherThan(Channel channel) {
        return channel == Channel.A ? Channel.B : Channel.A;
    }

    /**
     * How a new link's connection writes. On the receive channel each handler writes its own response when no
     * writer runs and the reader its PONGs, so a writer thread is wanted only for the odd frame queued behind them:
     * it ends as soon as the queue is empty. On the send channel callers hand their requests over: a server's
     * writer stays while the link carries calls and ends after two heartbeat intervals of only heartbeats (a server
     * holds many mostly idle sessions, whose parked writers would be much of their memory); a client keeps its send
     * writer.
     */
    private Connection.Established settingsFor(Link fresh, String writerName) {
        Channel channel = fresh.channel;
        long retireNanos = channel == role.receiveChannel ? 0
                : role == Role.SERVER ? 2 * policy.heartbeatInterval().toNanos() : Long.MAX_VALUE;
        boolean send = channel == role.sendChannel;
        return new Connection.Established(peer.maxMessageBytes(), Duration.ofNanos(retireNanos),
                () -> startWriter(fresh, writerName),
                // Only while this is the current send link: an old link's writer must not take acks to a dead socket.
                send ? () -> table.current(role.sendChannel) == fresh ? requester.pendingAck() : null : null,
                send ? () -> requester.inFlight() > 1 : () -> responder.runningNow() > 0,
                send ? responseBodies : requestBodies,
                // Bodies arriving at once: on the send channel responses to this side's calls, on the receive
                // channel the peer's requests; either way no more than the calls in flight.
                limits.maxInFlight(),
                peer.maxInFlightBytes());
    }

    /**
     * A response's body is kept only for a call still waiting for it, and only within this side's budget of bytes
     * in flight for the bodies arriving in parts at once (PROTOCOL §2.4); a duplicate's is dropped as it arrives.
     */
    private final Connection.Bodies responseBodies = new Connection.Bodies() {
        @Override
        public boolean wanted(long id) {
            return requester.isUnanswered(id);
        }

        @Override
        public void admit(long id, int length, long arrivingBytes) throws MalformedFrameException {
            if (arrivingBytes > 0 && arrivingBytes + length > limits.maxInFlightBytes()) {
                throw new MalformedFrameException("peer exceeded its budget of " + limits.maxInFlightBytes()
                        + " body bytes arriving at once: response " + id + " would make " + (arrivingBytes + length));
            }
        }
    };

    /**
     * A request's body is kept only for a request that will run, and only within this side's budget of request bytes
     * in flight; a re-sent one's is dropped as it arrives.
     */
    private final Connection.Bodies requestBodies = new Connection.Bodies() {
        @Override
        public boolean wanted(long id) {
            return responder.isNew(id);
        }

        @Override
        public void admit(long id, int length, long arrivingBytes) throws MalformedFrameException {
            responder.admit(id, length, arrivingBytes);
        }
    };

    /** Both channels are attached for the first time: silence is counted from now (PROTOCOL §4.1), and NORMAL. */
    private void establish() {
        for (Link l : table.snapshot()) {
            if (l != null) {
                l.connection.countSilenceFromNow();
            }
        }
        state.transition(SessionState.NORMAL, null);
    }

    /** Whether the session is closing or closed, by either end: new calls are refused. */
    boolean closing() {
        return closing.get();
    }

    /** Returns the current link of {@code channel}, or {@code null}. */
    Link link(Channel channel) {
        return table.current(channel);
    }

    /**
     * Starts a writer thread for {@code link}, which has frames queued and no writer (see {@link Connection}). The
     * link's own reader, once it has a scope (re-sending a response), forks it there, without a hand-off; any other
     * thread hands it to the session's group (to the owner that forks its threads).
     */
    private boolean startWriter(Link link, String name) {
        TaskGroup.Children readerScope = link.readerScope();
        Runnable rejected = link.connection::close; // no writer after all: nothing would write on it
        if (readerScope != null) {
            return readerScope.spawn(name, () -> runWriter(link), rejected);
        }
        return group.spawn(name, () -> runWriter(link), rejected);
    }

    private void runWriter(Link link) {
        try {
            link.connection.runWriter();
        } catch (IOException | RuntimeException e) {
            requests.writeFailed(link, e);
        }
    }

    // ---- the rounds ----

    /**
     * A heartbeat PING from a round. Written at once by the round timer's thread when the link's send buffer is known
     * to be empty ({@code drained}, see {@link Liveness}), where the write cannot block (and is watched all the same,
     * {@link RoundTimer.Entry#writeWatched}); otherwise queued for the link's writer.
     */
    private void sendPing(Link link, long nonce, boolean drained, int quietMillis) {
        Frame.Ping ping = new Frame.Ping(nonce, quietMillis);
        RoundTimer.Entry r = rounds;
        if (drained && r != null && r.onTimerThread()) {
            try {
                r.writeWatched(link.connection, () -> link.connection.sendAlone(ping));
            } catch (IOException e) {
                recovery.linkFailed(link, FailureCause.RESET, e);
            }
        } else {
            link.connection.send(ping);
        }
    }

    /**
     * One round on the round timer's thread.
     *
     * @return when to run the next, or {@link RoundTimer#STOP} once the session has ended
     */
    private long timerRound(long now) {
        if (state.state().isTerminal()) {
            return RoundTimer.STOP;
        }
        return now + round(now, false);
    }

    /**
     * The group's round, run on a thread of the session's group only when a timer round asks for it: the CONNECTING
     * deadline, whose transition tells the session's listeners, which run on the thread that changes the state and
     * must not hold up the round timer.
     */
    private long groupRound(long lateNanos) {
        if (state.state().isTerminal()) {
            return -1;
        }
        connectingDeadline(clock.nanoTime(), true);
        return TaskGroup.UNTIL_WOKEN;
    }

    /** A caller's deadline may come before the next round: have the timer run it then. */
    private void onEarlierDeadline(long deadline) {
        RoundTimer.Entry r = rounds;
        if (r != null) {
            r.wakeAt(deadline);
        }
    }

    /** The longest wait between rounds: a heartbeat interval, at least {@link #MIN_ROUND_NANOS}. */
    private long roundBound() {
        return Math.max(MIN_ROUND_NANOS, policy.heartbeatInterval().toNanos());
    }

    /**
     * One round at time {@code now}, with every transition it finds due made at once: for tests, which drive the
     * session's rounds themselves.
     *
     * @return how long until something may be due: at least 10 ms and at most {@link #roundBound()}
     */
    long tick(long now) {
        return round(now, true);
    }

    /**
     * One round at time {@code now}: expired call deadlines, acks nothing else carried, the CONNECTING deadline
     * (channel B attached within one handshake timeout of the session's creation), and {@link Liveness}.
     *
     * @param mayTransition whether the calling thread may change the state (and so run listeners); if not, a
     *     transition found due is handed to the group's round ({@link #groupRound})
     * @return how long until something may be due: at least 10 ms and at most {@link #roundBound()}
     */
    private long round(long now, boolean mayTransition) {
        long bound = roundBound();
        long deadline = requester.expireCalls(now);
        requester.shrinkIfIdle();
        if (deadline != Long.MAX_VALUE) {
            bound = Math.max(1, Math.min(bound, deadline - now));
        }
        if (state.state() == SessionState.CONNECTING) {
            long left = connectingDeadline(now, mayTransition);
            return left < 0 ? Math.max(MIN_ROUND_NANOS, bound)
                    : Math.max(MIN_ROUND_NANOS, Math.min(bound, left + 1));
        }
        boolean quiet = foundQuiet(now);
        Link send = table.current(role.sendChannel);
        if (send != null && send.isHealthy() && requester.hasPendingAcks()) {
            requester.flushAcks(send); // no batch of requests carried them since the last round: send them alone
        }
        // A quiet round may plan the next one a quiet interval away: a quiet session has no call waiting (the bound
        // of call deadlines may be stale until it passes), and a call that starts wakes the round and notes its own.
        long next = liveness.tick(now, quiet ? Math.max(bound, policy.quietInterval().toNanos()) : bound, quiet);
        recovery.recoverBrokenChannels("found by the session's round");
        return Math.max(MIN_ROUND_NANOS, next);
    }

    /**
     * Whether the session is quiet at {@code now}: NORMAL, and for at least {@link #QUIET_AFTER_HEARTBEATS}
     * heartbeat intervals no call of this end was made or outstanding, and no request of the peer's arrived, ran or
     * waited to run. Every call and every request read tells {@link Liveness#onActivity} as it starts, so one that
     * started and ended between two rounds is seen too. Only the round's thread calls this; whether the policy has
     * quiet sessions at all is {@link Liveness}'s to apply.
     */
    private boolean foundQuiet(long now) {
        if (liveness.takeActivity() || requester.inFlight() > 0 || responder.runningNow() > 0
                || responder.waitingCount() > 0 || state.state() != SessionState.NORMAL) {
            busyNanos = now;
            return false;
        }
        return now - busyNanos >= QUIET_AFTER_HEARTBEATS * policy.heartbeatInterval().toNanos();
    }

    /**
     * Ends a session still CONNECTING one handshake timeout after its creation (by the group's round unless
     * {@code mayTransition}).
     *
     * @return nanoseconds left until that deadline, negative once it has passed
     */
    private long connectingDeadline(long now, boolean mayTransition) {
        if (state.state() != SessionState.CONNECTING) {
            return Long.MAX_VALUE;
        }
        // Once ATTACHED for B is being written, the attach that wrote it makes the session NORMAL; it gets one more
        // handshake timeout to do so (an attach whose connection failed meanwhile never will).
        long handshake = limits.handshakeTimeout().toNanos() * (establishedAtPeer ? 2 : 1);
        long left = connectingLeft(createdNanos, handshake, now, health());
        if (left < 0) {
            if (mayTransition) {
                IOException why = new IOException("channel B was not attached within " + limits.handshakeTimeout());
                if (establishedAtPeer) {
                    state.transition(SessionState.CONNECTING, SessionState.DISCONNECTED, why);
                } else {
                    failHandshake(why);
                }
            } else {
                group.wakeTicker();
            }
        }
        return left;
    }

    /**
     * How long after {@code now} a session created at {@code createdNanos} may still wait for its second channel: one
     * handshake timeout, stretched by the process's health once it has passed, as a silence deadline is (the other
     * end's dial may be late for this process's own delay); negative once it has passed, stretched.
     */
    static long connectingLeft(long createdNanos, long handshakeNanos, long now, LocalHealth health) {
        long waited = now - createdNanos;
        if (waited <= handshakeNanos) {
            return handshakeNanos - waited;
        }
        long stretched = health.stretch(handshakeNanos, createdNanos, now);
        return waited > stretched ? -1 : stretched - waited;
    }

    // ---- for the runtimes, the status endpoint and tests ----

    /** Why the session ended, or {@code null} while it lives or when it closed in order. */
    Throwable terminalCause() {
        return state.terminalCause();
    }

    /** Whether the session's last round found it quiet (PROTOCOL §7.2). */
    boolean quiet() {
        return liveness.quietRound();
    }

    /** How long until the session's next round on the round timer; {@link Long#MAX_VALUE} if none is planned. */
    long nextRoundInNanos() {
        RoundTimer.Entry r = rounds;
        long planned = r == null ? Long.MAX_VALUE : r.plannedNanos();
        return planned == Long.MAX_VALUE ? planned : planned - clock.nanoTime();
    }

    RecoveryDriver recovery() {
        return recovery;
    }

    Requester requester() {
        return requester;
    }

    Responder responder() {
        return responder;
    }

    RecoveryPolicy policy() {
        return policy;
    }

    Limits limits() {
        return limits;
    }

    PeerLimits peer() {
        return peer;
    }

    @Override
    public String toString() {
        return id + " (" + role.name().toLowerCase(Locale.ROOT) + ", " + state.state() + ")";
    }
}
