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
import io.twinline.recovery.ChannelOps;
import io.twinline.recovery.Clock;
import io.twinline.recovery.RecoveryProcesses;
import io.twinline.recovery.StateMachine;
import io.twinline.transport.Connection;
import io.twinline.transport.Frame;
import io.twinline.transport.MalformedFrameException;
import io.twinline.transport.ResponseStatus;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One session, at either end: its two channels, the Fig. 4 state, the calls in flight both ways, and the threads
 * that serve them, all owned by the session's {@link TaskGroup}.
 *
 * <p>Threads (each named {@code s-<id>/<what>}): the session's owner, which also runs the ticker's rounds
 * (heartbeats, silence detection, call deadlines); per attached link a reader, and a writer only while the link has
 * something to write (see {@link Connection}); one virtual thread per incoming request's handler, which writes its
 * own response when no writer runs; one per running recovery process. Callers of {@link #call} are the embedder's
 * own threads.
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

    /** Told once when the session has ended and every one of its threads is done. */
    interface EndListener {
        void onEnded(TwinSession session, SessionState finalState);
    }

    /** The peer's limits, from the handshake. */
    record PeerLimits(int maxFrameBytes, int maxInFlight) {
    }

    final long numericId;
    final String id;
    final byte[] token;
    final Role role;
    private final RecoveryPolicy policy;
    private final Limits limits;
    private final PeerLimits peer;
    private final Map<String, Handler> handlers;
    private final Clock clock;
    private final Metrics metrics;
    private final Metrics.SessionCounts counts;
    private final Dialer dialer;
    private final EndListener endListener;
    private final TaskGroup group;
    private final StateMachine state;
    private final Backoff backoff;
    private final Requester requester;
    private final Responder responder;
    private final Object linkLock = new Object();
    /** Current link per channel: replaced under {@code linkLock}, read without it (every response reads it). */
    private final java.util.concurrent.atomic.AtomicReferenceArray<Link> links =
            new java.util.concurrent.atomic.AtomicReferenceArray<>(2);
    private final AtomicBoolean[] recoveryRunning = {new AtomicBoolean(), new AtomicBoolean()};
    private final AtomicBoolean closing = new AtomicBoolean();
    private final long createdNanos;
    /** How late the ticker woke recently; see {@link #ownerTick}. */
    private volatile long schedulingLagNanos;
    /** When the ticker plans its next round. */
    private volatile long nextTickNanos;
    private long generation;
    /** Bytes of this session's links that were replaced, under {@code linkLock}; current links count their own. */
    private long retiredBytesSent;
    private long retiredBytesReceived;
    /** When the session entered RECOVERING (clock nanos), for the recovery duration. */
    private volatile long recoveringSinceNanos;
    /** When the session entered its current state, by the wall clock, for the status page. */
    private volatile long stateSinceMillis = System.currentTimeMillis();
    /** Whether the session reached NORMAL once: only then is it counted as opened, and as ended when it ends. */
    private volatile boolean established;

    TwinSession(long numericId, byte[] token, Role role, RecoveryPolicy policy, Limits limits, PeerLimits peer,
                Map<String, Handler> handlers, Clock clock, Metrics metrics, TaskGroup parent, Dialer dialer,
                EndListener endListener) {
        this.numericId = numericId;
        this.id = formatId(numericId);
        this.token = token;
        this.role = role;
        this.policy = policy;
        this.limits = limits;
        this.peer = peer;
        this.handlers = handlers;
        this.clock = clock;
        this.metrics = metrics;
        this.counts = new Metrics.SessionCounts(metrics);
        this.dialer = dialer;
        this.endListener = endListener;
        this.state = new StateMachine(clock);
        this.backoff = new Backoff(policy, ThreadLocalRandom.current());
        this.requester = new Requester(id, Math.min(limits.maxInFlight(), peer.maxInFlight()), peer.maxFrameBytes(),
                clock::nanoTime);
        this.responder = new Responder(limits.maxInFlight(), () -> counts.add(Metrics.DUPLICATES, 1));
        this.createdNanos = clock.nanoTime();
        this.group = parent == null ? TaskGroup.start(threadPrefix()) : TaskGroup.startIn(parent, threadPrefix());
        state.addListener(this::onTransition);
        requester.onEarlierDeadline(this::onEarlierDeadline);
        nextTickNanos = createdNanos + tickBound();
        group.startTicker(this::ownerTick, tickBound(), () -> state.transition(SessionState.DISCONNECTED,
                new IOException("the session's threads were stopped")));
    }

    /** Thread names carry the session and the end, so a dump of a process holding both ends stays readable. */
    private String threadPrefix() {
        return id + (role == Role.CLIENT ? "@client" : "@server");
    }

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
        java.util.Objects.requireNonNull(route, "route");
        java.util.Objects.requireNonNull(body, "body");
        java.util.Objects.requireNonNull(timeout, "timeout");
        long start = clock.nanoTime();
        CallOutcome outcome = null; // stays null for a call refused for its arguments, or an Error: not counted
        try {
            byte[] answer = requester.call(route, body, timeout, peer.maxFrameBytes());
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
        long sent;
        long received;
        synchronized (linkLock) {
            sent = retiredBytesSent;
            received = retiredBytesReceived;
            for (Link l : currentLinks()) {
                if (l != null) {
                    sent += l.connection.bytesSent();
                    received += l.connection.bytesReceived();
                }
            }
        }
        return Metrics.snapshot(counts::get, established ? 1 : 0, held, ended, sent, received, Map.of());
    }

    /**
     * The state of one channel, as the status page shows it: the session's own state when it is CONNECTING or has
     * ended; RECOVERING while the channel has no working link or a recovery process is mending it; else NORMAL.
     */
    SessionState channelState(Channel channel) {
        SessionState now = state.state();
        if (now.isTerminal()) {
            return now;
        }
        Link l = link(channel);
        if (now == SessionState.CONNECTING) {
            return now;
        }
        return l == null || !l.isHealthy() || recoveryRunning[channel.code()].get() ? SessionState.RECOVERING
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
        java.util.Objects.requireNonNull(listener, "listener");
        state.addListener((from, to, cause) -> listener.onTransition(this, from, to, cause));
    }

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
                Thread.ofVirtual().name(threadPrefix() + "/close").start(() -> finishClose(true));
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
            Frame.Goodbye goodbye = new Frame.Goodbye("closed by " + role.name().toLowerCase(java.util.Locale.ROOT));
            Link[] current = currentLinks();
            for (Link l : current) {
                if (l != null && l.isHealthy()) {
                    l.connection.send(goodbye);
                }
            }
            for (Link l : current) {
                if (l != null) {
                    l.markFailed();
                    l.connection.flushAndClose(500);
                }
            }
            state.transition(SessionState.CLOSED, null);
        } else {
            // Another thread is closing (or the session ended): let it finish before stopping the session's threads,
            // whose ticker keeps deadlines and heartbeats going meanwhile.
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
    void awaitEnd() {
        if (!group.shutdownAndAwait(limits.closeGrace().plusSeconds(2))) {
            Logger.error("[{}] threads did not end after close", id);
        }
    }

    boolean isEnded() {
        return group.isTerminated();
    }

    // ---- links ----

    /**
     * Attaches {@code connection} as {@code channel}, replacing (and closing) any earlier link of that channel. For
     * the send channel, unanswered calls are re-sent on it at once.
     *
     * @return {@code false} if the session has ended (the connection is then closed)
     */
    boolean attach(Channel channel, Connection connection) {
        Link fresh;
        Link old;
        synchronized (linkLock) {
            if (state.state().isTerminal() || closing.get()) {
                connection.close();
                return false;
            }
            old = links.get(channel.code());
            fresh = new Link(channel, connection, ++generation);
            links.set(channel.code(), fresh);
            if (old != null) {
                // Counted as the link leaves the table, so the session's byte counts never fall; what the old
                // reader still reads after this is counted by the runtime only.
                retiredBytesSent += old.connection.bytesSent();
                retiredBytesReceived += old.connection.bytesReceived();
            }
        }
        connection.countSilenceFromNow(); // not from the accept or dial: its handshake may have taken a while
        if (old != null) {
            old.markFailed();
            old.close();
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
        String prefix = threadPrefix() + "/" + channel + "#" + fresh.generation;
        if (!group.spawn(prefix + "-reader", () -> runReader(fresh))) {
            connection.close();
            return false;
        }
        connection.moreExpected(channel == role.sendChannel ? () -> requester.inFlight() > 1
                : () -> responder.runningNow() > 0);
        if (channel == role.sendChannel) {
            // Only while this is the current send link: an old link's writer must not take acks to a dead socket.
            connection.piggyback(() -> link(role.sendChannel) == fresh ? requester.pendingAck() : null);
        }
        String writerName = prefix + "-writer";
        // On the receive channel each handler writes its own response when no writer runs (sendAndDrain) and the
        // reader its PONGs (sendAlone), so a writer thread is wanted only for the odd frame queued behind them: it
        // ends as soon as the queue is empty, and a response goes out without waking another thread. On the send
        // channel callers hand their requests over: a server's writer stays while the link carries calls and ends
        // after two heartbeat intervals of only heartbeats (each later PING starts one for its frame), since a
        // server holds thousands of mostly idle sessions whose parked writers would be a fifth of their memory; a
        // client keeps its send writer. (Duration.multipliedBy would go through BigDecimal, whose first use pinned a
        // virtual thread for 19 ms.)
        long retireNanos = channel == role.receiveChannel ? 0
                : role == Role.SERVER ? 2 * policy.heartbeatInterval().toNanos() : Long.MAX_VALUE;
        connection.retireWriterAfter(java.time.Duration.ofNanos(retireNanos));
        connection.writers(() -> startWriter(fresh, writerName));
        if (channel == role.sendChannel) {
            int replayed = requester.linkUp(fresh);
            if (replayed > 0) {
                counts.add(Metrics.REPLAYED, replayed);
            }
        }
        Logger.info("[{}/{}] {} attached {} to {}", id, channel, role.name().toLowerCase(java.util.Locale.ROOT), fresh,
                connection.remoteAddress());
        state.poke();
        return true;
    }

    /**
     * Marks the session NORMAL once both channels are attached for the first time. Silence is counted from now: no
     * end owes the other a frame before NORMAL (PROTOCOL §4.1), however long channel B took to attach.
     */
    void markEstablished() {
        for (Link l : currentLinks()) {
            if (l != null) {
                l.connection.countSilenceFromNow();
            }
        }
        state.transition(SessionState.NORMAL, null);
    }

    private Link[] currentLinks() {
        return new Link[] {links.get(0), links.get(1)};
    }

    /** Whether the session is closing or closed, by either end: new calls are refused. */
    boolean closing() {
        return closing.get();
    }

    /** Returns the current link of {@code channel}, or {@code null}. */
    Link link(Channel channel) {
        return links.get(channel.code());
    }

    private boolean isHealthy(Channel channel) {
        Link l = link(channel);
        return l != null && l.isHealthy();
    }

    // ---- reader, writer, ticker ----

    /**
     * Runs on the link's reader thread. From the first REQUEST on, the reader owns a nested scope for the handlers
     * of the requests it reads; a link that carries none (a send channel, an idle one) never opens it, so an idle
     * session's readers park without a scope and a few frames shallower. The thread outlives its read loop until
     * the handlers are done; {@link Link#readerExited()} marks the end of the loop, which is what {@link #attach}
     * waits for.
     */
    private void runReader(Link link) {
        Frame.Request first = readUntilFailure(link, null, null);
        if (first != null) {
            AtomicBoolean bodyRan = new AtomicBoolean();
            try {
                group.withChildren(threadPrefix() + "/" + link.channel + "#" + link.generation + "-handlers",
                        children -> {
                            bodyRan.set(true);
                            readUntilFailure(link, children, first);
                        });
            } catch (RuntimeException | Error e) {
                if (!bodyRan.get()) {
                    // No scope (out of memory): the request read is dropped with the link; the requester's
                    // replay after the re-attach sends it again, and it runs once.
                    Logger.error(e, "[{}/{}] reader could not open its scope", id, link.channel);
                    channelFailed(link, FailureCause.OTHER,
                            new IOException("reader could not open its scope: " + e, e));
                    link.readerExited();
                } else {
                    throw e;
                }
            }
        }
    }

    /**
     * Reads and dispatches frames until the link fails or the peer says GOODBYE.
     *
     * @param children the scope for handlers, or null while there is none
     * @param pending a request read before the scope was opened, dispatched first
     * @return without a scope, the first REQUEST read (the caller opens the scope and calls again); otherwise null
     */
    private Frame.Request readUntilFailure(Link link, TaskGroup.Children children, Frame.Request pending) {
        if (children != null) {
            link.readerStarted(children);
        }
        boolean loopEnded = true;
        try {
            Frame.Request first = readFrames(link, children, pending);
            if (first != null) {
                loopEnded = false;
                return first;
            }
        } catch (EOFException e) {
            channelFailed(link, FailureCause.CLOSED_BY_PEER, new IOException("connection closed by peer", e));
        } catch (MalformedFrameException e) {
            counts.add(Metrics.MALFORMED, 1);
            Logger.warn("[{}/{}] malformed frame, closing this connection: {}", id, link.channel, e.getMessage());
            channelFailed(link, FailureCause.MALFORMED_FRAME, e);
        } catch (IOException e) {
            channelFailed(link, FailureCause.RESET, e);
        } catch (RuntimeException e) {
            Logger.error(e, "[{}/{}] reader failed", id, link.channel);
            channelFailed(link, FailureCause.OTHER, new IOException("reader failed: " + e, e));
        } finally {
            if (loopEnded) {
                link.readerExited();
            }
        }
        return null;
    }

    private Frame.Request readFrames(Link link, TaskGroup.Children children, Frame.Request pending)
            throws IOException {
        Connection connection = link.connection;
        boolean sendSide = link.channel == role.sendChannel;
        if (pending != null) {
            dispatchRequest(pending, children);
        }
        while (true) {
            Frame frame = connection.read();
            switch (frame) {
                // At once, from this loop (PROTOCOL §7.1). With nothing queued and no writer running (an idle
                // link), the reader writes it itself rather than start a thread for 13 bytes; it never writes
                // anything else, so a backlog of responses cannot keep it from reading.
                case Frame.Ping p -> connection.sendAlone(new Frame.Pong(p.nonce()));
                case Frame.Pong p -> link.onPong(p.nonce());
                case Frame.Response r when sendSide -> requester.onResponse(r);
                case Frame.Request r when !sendSide -> {
                    if (children == null) {
                        return r; // the first request: its handler needs the scope
                    }
                    dispatchRequest(r, children);
                }
                case Frame.Ack a when !sendSide -> responder.onAck(a);
                case Frame.Goodbye g -> {
                    Logger.info("[{}/{}] peer closed the session: {}", id, link.channel, g.reason());
                    closing.set(true);
                    if (!sendSide) {
                        awaitAnswersAfterGoodbye();
                    }
                    state.transition(SessionState.CLOSED, null);
                    return null;
                }
                default -> throw new MalformedFrameException(
                        "unexpected " + frame.type() + " on channel " + link.channel + " of the " + role);
            }
            if (sendSide && link(link.channel) == link) {
                // Acks ride on the writer's next batch of requests; the ticker sends what is left when nothing else
                // goes out. Only a backlog is sent on its own, and only on the current link: an old reader still
                // finishing must not drain acks onto a closed connection after the re-attach has repeated them.
                requester.maybeFlushAcks(link);
            }
        }
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
                    || !isHealthy(role.sendChannel));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void dispatchRequest(Frame.Request request, TaskGroup.Children children) throws IOException {
        responder.onRequest(request, r -> children.spawn(null, () -> runHandler(r), () -> responder.notStarted(r.id())),
                this::sendResponse);
    }

    /**
     * Starts a writer thread for {@code link}, which has frames queued and no writer (see {@link Connection}). The
     * link's own reader, once it has a scope (re-sending a response), forks it there, without a hand-off; any other
     * thread hands it to the session's owner, and the owner's own ticker rounds have it forked right after the
     * round.
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
            writeFailed(link, e);
        }
    }

    /** A write on {@code link} failed (the writer's, or a handler's own): so has the link. */
    private void writeFailed(Link link, Exception e) {
        if (e instanceof IOException io) {
            channelFailed(link, FailureCause.WRITE_FAILED, io);
        } else {
            Logger.error(e, "[{}/{}] writer failed", id, link.channel);
            channelFailed(link, FailureCause.WRITE_FAILED, new IOException("writer failed: " + e, e));
        }
    }

    /**
     * One ticker round, run by the session's owner thread between forks (no thread of its own): heartbeats, silence
     * detection (DESIGN §4) and call deadlines.
     *
     * @return nanoseconds until the next round, or -1 once the session has ended
     */
    private long ownerTick(long lateNanos) {
        if (state.state().isTerminal()) {
            return -1;
        }
        // How late this host itself woke up. Silence measured while we were starved is partly our own: deadlines
        // stretch by the recent lag (halving each planned round), so a starved host does not blame its peers for it
        // and set off recoveries that starve it further. A round woken early says nothing about lag.
        if (lateNanos >= 0) {
            schedulingLagNanos = Math.max(lateNanos, schedulingLagNanos / 2);
        }
        long now = clock.nanoTime();
        long delay = tick(now);
        nextTickNanos = now + delay;
        // A caller may have lowered the earliest deadline during the round and compared it with the previous plan:
        // look again now that the new plan is published (each side writes, then reads the other's value).
        long earliest = requester.earliestDeadline();
        if (earliest - nextTickNanos < 0) {
            delay = Math.max(1, earliest - now);
            nextTickNanos = now + delay;
        }
        return delay;
    }

    /** A caller's deadline comes before the ticker's next round: wake it early. */
    private void onEarlierDeadline(long deadline) {
        if (deadline - nextTickNanos < 0) {
            group.wakeTicker();
        }
    }

    /**
     * The longest the ticker sleeps: a heartbeat interval (at least 10 ms). Within it, the ticker wakes exactly
     * when the next thing is due (a PING to send, an answer or a frame that should have come), so detection is not
     * late by a tick, and an idle session's owner wakes about once per heartbeat.
     */
    private long tickBound() {
        return Math.max(MIN_TICK_NANOS, policy.heartbeatInterval().toNanos());
    }

    private static final long MIN_TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    /**
     * One round of failure detection at time {@code now}: a PING on an idle send channel, a failure for a PING
     * unanswered past the probe timeout, and a failure for a receive channel silent past the idle timeout.
     *
     * @return how long until something may be due: at least 10 ms and at most {@code max(10 ms,
     *     heartbeatInterval)} ({@link #ownerTick} plans an earlier round for a call's deadline)
     */
    long tick(long now) {
        long bound = tickBound();
        long deadline = requester.expireCalls(now);
        requester.shrinkIfIdle();
        if (deadline != Long.MAX_VALUE) {
            bound = Math.max(1, Math.min(bound, deadline - now));
        }
        if (state.state() == SessionState.CONNECTING) {
            if (now - createdNanos > 2 * limits.handshakeTimeout().toNanos()) {
                state.transition(SessionState.DISCONNECTED,
                        new IOException("channel B was not attached within "
                                + limits.handshakeTimeout().multipliedBy(2)));
            }
            return bound;
        }
        long next = bound;
        Link send = link(role.sendChannel);
        if (send != null && send.isHealthy() && requester.hasPendingAcks()) {
            requester.flushAcks(send); // no batch of requests carried them since the last tick: send them alone
        }
        if (send != null && send.isHealthy()) {
            long heartbeatNonce = send.heartbeatNonce;
            long hb = policy.heartbeatInterval().toNanos();
            // The last PING's own flush came a moment after the round that queued it: a PING is due once the link
            // was idle for 15/16 of an interval, so the next round (one interval later) sends it instead of
            // waking again a few milliseconds after.
            long hbDue = hb - hb / 16;
            long lastActivity = Math.min(send.connection.lastReadNanos(), send.connection.lastWriteNanos());
            if (heartbeatNonce != 0) {
                long answerDue = send.heartbeatSentNanos + policy.probeTimeout().toNanos() + schedulingLagNanos;
                if (now > answerDue) {
                    channelFailed(send, FailureCause.PING_UNANSWERED,
                            new IOException("PING not answered within " + policy.probeTimeout()));
                } else {
                    next = Math.min(next, answerDue - now + 1);
                }
            } else if (now - lastActivity >= hbDue) {
                long nonce = Link.newNonce();
                send.heartbeatSentNanos = now;
                send.heartbeatNonce = nonce;
                send.connection.send(new Frame.Ping(nonce));
                next = Math.min(next, policy.probeTimeout().toNanos());
            } else {
                next = Math.min(next, lastActivity + hbDue - now);
            }
        }
        Link receive = link(role.receiveChannel);
        if (receive != null && receive.isHealthy()) {
            long silentUntil = receive.connection.lastReadNanos() + policy.idleTimeout().toNanos() + schedulingLagNanos;
            if (now > silentUntil) {
                channelFailed(receive, FailureCause.SILENT,
                        new IOException("nothing read for more than " + policy.idleTimeout()));
            } else {
                next = Math.min(next, silentUntil - now + 1);
            }
        }
        recoverBrokenChannels("found by the ticker");
        return Math.max(MIN_TICK_NANOS, next);
    }

    /**
     * Starts recovery for any channel that is down while the session is NORMAL and no process is mending it. A
     * failure reported while another process held the session can otherwise be left behind once that process
     * ends; this runs on every return to NORMAL and on every tick, as a safety net.
     */
    private void recoverBrokenChannels(String how) {
        if (state.state() != SessionState.NORMAL || closing.get()) {
            return;
        }
        for (Channel channel : Channel.values()) {
            Link l = link(channel);
            if (l != null && !l.isHealthy() && !recoveryRunning[channel.code()].get()) {
                startRecovery(channel, l.failureCause(),
                        new IOException("channel " + channel + " is down (" + how + ")"));
            }
        }
    }

    // ---- requests from the peer ----

    private void runHandler(Frame.Request request) {
        try {
            handleAndRespond(request);
        } finally {
            responder.responseQueued(); // queued, or no link to queue it on: a close may send its GOODBYE now
        }
    }

    private void handleAndRespond(Frame.Request request) {
        Handler handler = handlers.get(request.route());
        ResponseStatus status;
        byte[] body;
        if (handler == null) {
            status = ResponseStatus.NO_SUCH_ROUTE;
            body = ("no handler for route '" + request.route() + "'").getBytes(StandardCharsets.UTF_8);
        } else {
            try {
                byte[] result = handler.handle(this, request.body());
                if (result == null) {
                    status = ResponseStatus.HANDLER_FAILED;
                    body = "handler returned null".getBytes(StandardCharsets.UTF_8);
                } else if (result.length + 1 + 8 + 1 > peer.maxFrameBytes()) {
                    status = ResponseStatus.HANDLER_FAILED;
                    body = ("response of " + result.length + " bytes exceeds the peer's frame limit")
                            .getBytes(StandardCharsets.UTF_8);
                } else {
                    status = ResponseStatus.OK;
                    body = result;
                }
            } catch (Exception | Error e) {
                // An Error too (a failed assertion, a stack overflow): the caller gets HANDLER_FAILED rather than
                // a timeout, and its slot back.
                status = ResponseStatus.HANDLER_FAILED;
                body = failureBody(e, request.route());
            }
        }
        counts.add(Metrics.callSlot(Metrics.CALLS_HANDLED, switch (status) {
            case OK -> CallOutcome.OK;
            case NO_SUCH_ROUTE -> CallOutcome.NO_SUCH_ROUTE;
            default -> CallOutcome.HANDLER_FAILED;
        }), 1);
        Frame.Response response = responder.complete(request.id(), status, body);
        Link l = link(role.receiveChannel);
        if (l != null && l.isHealthy()) {
            // This thread is done with the request: if no writer runs, it writes the response itself rather than
            // start one. If there is no healthy link, the requester's replay fetches the response later. An
            // interrupt the handler left set must not reach the write: one that has to wait for a full socket
            // would be cut off and the socket closed.
            Thread.interrupted();
            try {
                l.connection.sendAndDrain(response);
            } catch (IOException | RuntimeException e) {
                writeFailed(l, e);
            }
        }
    }

    /**
     * The body of a HANDLER_FAILED response for {@code e}, logged. Never throws: after an OutOfMemoryError building
     * the message may fail again, and the caller must still be answered, so it falls back to a fixed body.
     */
    private byte[] failureBody(Throwable e, String route) {
        try {
            String message = e.getClass().getSimpleName() + ": " + e.getMessage();
            if (e instanceof Error) {
                Logger.warn(e, "[{}] handler for '{}' threw an Error", id, route);
            } else {
                Logger.debug("[{}] handler for '{}' failed: {}", id, route, message);
            }
            // The message must fit the peer's frame with the RESPONSE header (type, id, status).
            return truncateUtf8(message, Math.min(4096, peer.maxFrameBytes() - 10));
        } catch (Throwable again) {
            return HANDLER_FAILED_BODY;
        }
    }

    private static final byte[] HANDLER_FAILED_BODY = "the handler failed".getBytes(StandardCharsets.UTF_8);

    private static byte[] truncateUtf8(String s, int max) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return b.length <= max ? b : java.util.Arrays.copyOf(b, max);
    }

    /**
     * Re-sends a finished request's response (the reader, for a request sent again) on the current receive link;
     * if there is none, the requester's replay fetches it.
     */
    private void sendResponse(Frame.Response response) {
        Link l = link(role.receiveChannel);
        if (l != null && l.isHealthy()) {
            l.connection.send(response);
        }
    }

    // ---- failures and recovery ----

    /** A link failed (reported by its reader, writer or the ticker): start the channel's recovery process. */
    void channelFailed(Link link, FailureCause kind, Throwable cause) {
        if (!link.markFailed(kind)) {
            return;
        }
        link.close();
        requester.linkDown(link);
        SessionState now = state.state();
        if (link(link.channel) != link || now.isTerminal() || closing.get()) {
            return;
        }
        counts.add(Metrics.causeSlot(Metrics.CHANNEL_FAILURES, link.channel, kind), 1);
        if (cause instanceof SocketException || cause instanceof EOFException) {
            Logger.debug("[{}/{}] {} failed: {}", id, link.channel, link, cause.toString());
        }
        if (now == SessionState.CONNECTING) {
            state.transition(SessionState.DISCONNECTED, cause);
            return;
        }
        startRecovery(link.channel, kind, cause);
    }

    private void startRecovery(Channel channel, FailureCause kind, Throwable cause) {
        AtomicBoolean running = recoveryRunning[channel.code()];
        if (!running.compareAndSet(false, true)) {
            return; // the running process re-checks the channel before it ends
        }
        boolean spawned = group.spawn(threadPrefix() + "/recovery-" + channel, () -> {
            try {
                Throwable problem = cause;
                while (true) {
                    runProcess(channel, problem);
                    if (state.state() != SessionState.NORMAL || isHealthy(channel)) {
                        break;
                    }
                    problem = new IOException("channel " + channel + " failed again during its recovery");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } finally {
                running.set(false);
            }
            if (state.state() == SessionState.NORMAL && !isHealthy(channel) && !closing.get()) {
                startRecovery(channel, FailureCause.OTHER,
                        new IOException("channel " + channel + " failed as its recovery ended"));
            }
        });
        if (spawned) {
            counts.add(Metrics.causeSlot(Metrics.RECOVERIES, channel, kind), 1);
        } else {
            running.set(false);
        }
    }

    private void runProcess(Channel channel, Throwable problem) throws InterruptedException {
        long startGeneration;
        synchronized (linkLock) {
            startGeneration = generation;
        }
        RecoveryProcesses processes = new RecoveryProcesses(state, new TcpChannelOps(startGeneration), clock, policy,
                backoff);
        if (role == Role.CLIENT) {
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

    private void onTransition(SessionState from, SessionState to, Throwable cause) {
        countTransition(from, to, cause);
        String end = role.name().toLowerCase(java.util.Locale.ROOT);
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
            recoverBrokenChannels("left behind by a recovery");
        }
    }

    /** Recovery durations and outcomes, and the runtime's log of recent changes, for one transition. */
    private void countTransition(SessionState from, SessionState to, Throwable cause) {
        long now = clock.nanoTime();
        stateSinceMillis = System.currentTimeMillis();
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
        Channel channel = to == SessionState.RECOVERING || from == SessionState.RECOVERING ? recoveringChannel() : null;
        metrics.recent().add(new Metrics.TransitionLog.Entry(stateSinceMillis, id, channel, from, to,
                cause == null ? null : describe(cause)));
    }

    /** The channel a recovery process is mending, or null when none or both are. */
    private Channel recoveringChannel() {
        boolean a = recoveryRunning[Channel.A.code()].get();
        boolean b = recoveryRunning[Channel.B.code()].get();
        return a == b ? null : a ? Channel.A : Channel.B;
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

    /** The session reached DISCONNECTED or CLOSED: fail every waiting caller at once, close, let threads end. */
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
        for (Link l : currentLinks()) {
            if (l != null) {
                l.markFailed();
                l.close();
            }
        }
        group.shutdown();
        Thread.ofVirtual().name(threadPrefix() + "/ended").start(() -> {
            try {
                // Handlers still running cannot deliver their answers any more; they get the close grace to finish,
                // then they are interrupted.
                if (!group.awaitTermination(limits.closeGrace())) {
                    Logger.debug("[{}] interrupting handlers still running after {}", id, limits.closeGrace());
                    group.cancel();
                }
                group.awaitTermination();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (endListener != null) {
                endListener.onEnded(this, finalState);
            }
        });
    }

    /** Test hook for {@link ServerRuntime#crash()}: reset both connections and end without telling the peer. */
    void crash() {
        closing.set(true);
        for (Link l : currentLinks()) {
            if (l != null) {
                l.markFailed();
                l.connection.abort();
            }
        }
        state.transition(SessionState.DISCONNECTED, new IOException("process crashed (test hook)"));
        awaitEnd();
    }

    /** Test hook: the replay of unanswered calls after a re-attach (DESIGN §5). */
    void replayEnabled(boolean on) {
        requester.replayEnabled = on;
    }

    /** Test hook: the de-duplication of re-sent requests (DESIGN §5). */
    void dedupEnabled(boolean on) {
        responder.dedupEnabled = on;
    }

    /** Why the session ended, or {@code null} while it lives or when it closed in order. */
    Throwable terminalCause() {
        return state.terminalCause();
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
        return id + " (" + role.name().toLowerCase(java.util.Locale.ROOT) + ", " + state.state() + ")";
    }

    /**
     * One recovery process's view of this session's channels, over TCP. It closes only links attached before the
     * process began: a link the client attached meanwhile is the repair, not the fault (the server's Fig. 7 would
     * otherwise close a fresh channel A the client had already re-attached, and make it attach once more).
     */
    private final class TcpChannelOps implements ChannelOps {
        private final long startGeneration;

        TcpChannelOps(long startGeneration) {
            this.startGeneration = startGeneration;
        }

        @Override
        public boolean probe(Channel channel) throws InterruptedException {
            Link l = link(channel);
            return l != null && l.probe(clock.nanoTime(), policy.probeTimeout().toNanos() + schedulingLagNanos);
        }

        @Override
        public void close(Channel channel) {
            Link l = link(channel);
            if (l != null && (l.generation <= startGeneration || !l.isHealthy())) {
                // A healthy link closed here is given up on a failed probe (Figs. 5 and 7): a failure of its own.
                if (l.markFailed(FailureCause.PING_UNANSWERED) && !state.state().isTerminal()) {
                    counts.add(Metrics.causeSlot(Metrics.CHANNEL_FAILURES, channel, FailureCause.PING_UNANSWERED), 1);
                }
                l.close();
                requester.linkDown(l);
            }
        }

        @Override
        public void reconnect(Channel channel, long deadlineNanos) throws Exception {
            if (dialer == null) {
                throw new IllegalStateException("the server never dials");
            }
            Connection connection = dialer.attach(TwinSession.this, channel, deadlineNanos);
            if (!attach(channel, connection)) {
                throw new IOException("session ended while channel " + channel + " was re-attached");
            }
        }

        @Override
        public boolean awaitReattach(Channel channel, long deadlineNanos) throws InterruptedException {
            state.awaitUntil(deadlineNanos, () -> isHealthy(channel) || state.state().isTerminal());
            return isHealthy(channel) && !state.state().isTerminal();
        }

        @Override
        public boolean isHealthy(Channel channel) {
            return TwinSession.this.isHealthy(channel);
        }
    }
}
