package io.twinline.host;

import io.twinline.api.Authenticator;
import io.twinline.api.Channel;
import io.twinline.api.Limits;
import io.twinline.api.Session;
import io.twinline.api.SessionState;
import io.twinline.api.StateListener;
import io.twinline.api.TwinlineServer;
import io.twinline.api.spi.ServerSpec;
import io.twinline.recovery.Clock;
import io.twinline.transport.Connection;
import io.twinline.transport.Frame;
import io.twinline.transport.FrameCodec;
import io.twinline.transport.MalformedFrameException;
import io.twinline.transport.RejectReason;
import io.twinline.transport.Endpoint;
import io.twinline.transport.UnsupportedVersionException;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A running server: the accept loop and every session live in the server's {@link TaskGroup}; each accepted
 * connection's handshake runs in its own subtask, bounded by the handshake timeout (a watchdog closes the
 * connection when the whole handshake overruns it, and each read has it as its socket timeout).
 *
 * <p>The server only accepts: HELLO on a new connection creates a session whose channel A it is; ATTACH adds
 * channel B, or replaces a failed channel of a live session during recovery.
 */
final class ServerRuntime implements TwinlineServer {
    private final ServerSpec spec;
    private final Clock clock;
    /**
     * The clock as each connection reads it, made once here, on the starting thread: a method reference is linked
     * the first time it is evaluated, under a class loader lock, and a virtual thread waiting on that lock is
     * pinned to its carrier.
     */
    private final java.util.function.LongSupplier nanoClock;
    private final Metrics metrics;
    private final Network.Listener listener;
    private final TaskGroup group;
    /** How long, and for how many bytes, a rejected connection is drained before it is closed (see reject). */
    private static final Duration REJECT_LINGER = Duration.ofSeconds(1);
    private static final int REJECT_LINGER_BYTES = 64 * 1024;

    private final ConcurrentHashMap<Long, TwinSession> sessions = new ConcurrentHashMap<>();
    /**
     * Sessions counted against {@code maxSessions}: taken before a session is created, given back when it leaves
     * {@link #sessions}, so that HELLOs handshaking at once cannot together pass the limit.
     */
    private final AtomicInteger held = new AtomicInteger();
    /** Connections not yet part of an established session, bounded (see {@link HandshakeTable}). */
    private final HandshakeTable pending;
    private final java.util.concurrent.atomic.AtomicLong shedSinceLog = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong lastShedLogNanos =
            new java.util.concurrent.atomic.AtomicLong(Long.MIN_VALUE / 2);
    private final SecureRandom random = new SecureRandom();
    // Ids start at a random point, so a client of an earlier run of this server, re-attaching after a restart,
    // is told its session is unknown rather than meeting a new session under the same id.
    private final AtomicLong lastSessionId = new AtomicLong(random.nextInt() & 0x7FFF_FFFFL);
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean draining;
    private final Thread keepAlive;

    private ServerRuntime(ServerSpec spec, Clock clock, Network.Listener listener) {
        this.spec = spec;
        this.clock = clock;
        this.nanoClock = clock::nanoTime;
        this.pending = new HandshakeTable(spec.limits().maxHandshakes(), spec.limits().maxHandshakesPerAddress());
        this.metrics = new Metrics(clock);
        this.listener = listener;
        InetSocketAddress bound = listener.address();
        this.group = TaskGroup.start("server-" + bound.getPort(), clock);
        // Virtual threads are daemons: one platform thread, parked until close, keeps a server-only JVM alive.
        this.keepAlive = Thread.ofPlatform().daemon(false).name("twinline-server-" + bound.getPort() + "-alive")
                .start(this::parkUntilTerminated);
        group.spawn("server-" + bound.getPort() + "/accept", this::runAcceptLoop);
    }

    static ServerRuntime start(ServerSpec spec, Clock clock, Network network) {
        Preload.sessionClasses();
        try {
            Network.Listener listener = spec.tls().map(tls -> network.withTls(tls, true)).orElse(network)
                    .listen(spec.bindAddress());
            ServerRuntime server = new ServerRuntime(spec, clock, listener);
            Logger.info("[server] listening on {}", server.address());
            return server;
        } catch (IOException e) {
            InetSocketAddress at = spec.bindAddress();
            String why = at.isUnresolved() ? "unknown host " + at.getHostString() : Network.inWords(e);
            throw new UncheckedIOException("cannot listen on " + Network.hostPort(at) + ": " + why, e);
        }
    }

    @Override
    public InetSocketAddress address() {
        return listener.address();
    }

    @Override
    public List<Session> sessions() {
        List<Session> live = new ArrayList<>();
        for (TwinSession s : sessions.values()) {
            if (!s.state().isTerminal()) {
                live.add(s);
            }
        }
        return live;
    }

    @Override
    public Optional<Session> session(String id) {
        for (TwinSession s : sessions.values()) {
            if (s.id.equals(id) && !s.state().isTerminal()) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /** Returns every session object still held (live or ending), for tests and the status endpoint. */
    List<TwinSession> allSessions() {
        return new ArrayList<>(sessions.values());
    }

    /** The runtime's counters, for the status endpoint. */
    Metrics counters() {
        return metrics;
    }

    @Override
    public io.twinline.api.MetricsSnapshot metrics() {
        return metrics.snapshot(allSessions());
    }

    /** The clock the server and its sessions run on. */
    Clock clock() {
        return clock;
    }

    /** Whether the server's threads still run: false once it has closed (or crashed). */
    boolean isServing() {
        return !group.isTerminated();
    }

    /**
     * Whether the server is ready for new sessions, as {@code /ready} says: false from the moment a drain begins
     * ({@link #beginDrain()}) or {@link #close()} does.
     */
    boolean isAcceptingSessions() {
        return !closed.get() && !draining;
    }

    /**
     * Begins a drain: {@code /ready} turns false, so a balancer stops sending new sessions, while the server still
     * accepts those already on their way and serves every session. {@link #close()} follows.
     */
    void beginDrain() {
        if (!draining) {
            draining = true;
            Logger.info("[server] draining: not ready for new sessions");
        }
    }

    ServerSpec spec() {
        return spec;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            awaitGroup();
            return;
        }
        Logger.info("[server] closing {} sessions", sessions.size());
        listener.close();
        List<Thread> closers = new ArrayList<>();
        for (TwinSession s : sessions.values()) {
            closers.add(Thread.ofVirtual().name(s.id + "/close").start(s::close));
        }
        for (Thread t : closers) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        awaitGroup();
        Logger.info("[server] closed");
    }

    private void awaitGroup() {
        if (!group.shutdownAndAwait(spec.limits().closeGrace().plusSeconds(3))) {
            Logger.error("[server] threads did not end after close");
        }
        keepAlive.interrupt();
    }

    private void parkUntilTerminated() {
        try {
            group.awaitTermination();
        } catch (InterruptedException e) {
            // close() ends the keep-alive
        }
    }

    // ---- accept and handshake ----

    private void runAcceptLoop() {
        int failuresInARow = 0;
        while (!closed.get()) {
            Endpoint socket;
            try {
                socket = listener.accept();
                failuresInARow = 0;
            } catch (IOException e) {
                if (closed.get()) {
                    return;
                }
                // Out of file descriptors and the like pass; keep accepting, pausing so as not to spin.
                failuresInARow++;
                Logger.error("[server] accept failed ({} in a row): {}", failuresInARow, e.toString());
                try {
                    clock.sleep(TimeUnit.MILLISECONDS.toNanos(Math.min(1000, 10L << Math.min(failuresInARow, 6))));
                } catch (InterruptedException ie) {
                    return;
                }
                continue;
            }
            java.net.InetAddress from = socket.remoteSocketAddress() == null ? null
                    : socket.remoteSocketAddress().getAddress();
            HandshakeTable.Admission admission = pending.admit(from, socket);
            if (admission.evicted() != null) {
                shed(admission.evicted(), "the oldest connection of the address holding the most", from);
            }
            HandshakeTable.Ticket ticket = admission.ticket();
            if (ticket == null) {
                shed(socket, "a new connection", from);
                continue;
            }
            boolean spawned = group.spawn("server/handshake-" + socket.remote(), () -> handshake(socket, ticket));
            if (!spawned) {
                pending.done(ticket);
                socket.close();
                return;
            }
        }
    }

    /**
     * Resets a connection when too many are in handshake: no REJECTED (which a flood would not read). Counted;
     * logged at most once per {@link #SHED_LOG_EVERY_NANOS} with the count since.
     */
    private void shed(Endpoint socket, String which, java.net.InetAddress from) {
        metrics.connectionShed(); // before the reset, which the peer may see at once
        socket.abort();
        long shedNow = shedSinceLog.incrementAndGet();
        long now = nanoClock.getAsLong();
        long last = lastShedLogNanos.get();
        if (now - last >= SHED_LOG_EVERY_NANOS && lastShedLogNanos.compareAndSet(last, now)) {
            shedSinceLog.addAndGet(-shedNow);
            Logger.warn("[server] {} connection(s) reset at accept, the latest {}: {} in handshake (limit {}, {} from "
                    + "one address), the latest newcomer from {}", shedNow, which, pending.size(),
                    spec.limits().maxHandshakes(), spec.limits().maxHandshakesPerAddress(),
                    from == null ? socket.remote() : from.getHostAddress());
        }
    }

    private static final long SHED_LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** Connections not yet part of an established session (see {@link HandshakeTable}). */
    int handshaking() {
        return pending.size();
    }

    private void handshake(Endpoint socket, HandshakeTable.Ticket ticket) {
        // The socket read timeout bounds each read; this bounds the whole handshake, so a peer trickling a byte at
        // a time cannot hold the connection.
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        long deadline = clock.nanoTime() + spec.limits().handshakeTimeout().toNanos();
        Thread watchdog = Thread.ofVirtual().name("server/handshake-deadline").start(() -> {
            try {
                // On the server's clock, looked at every 100 ms at most, so a clock a test moves is seen.
                long left;
                while ((left = deadline - clock.nanoTime()) > 0) {
                    TimeUnit.NANOSECONDS.sleep(Math.min(left, WATCHDOG_SLICE_NANOS));
                }
                if (done.compareAndSet(false, true)) {
                    Logger.info("[server] handshake with {} not done within {}, closing", socket.remote(),
                            spec.limits().handshakeTimeout());
                    socket.close();
                }
            } catch (InterruptedException e) {
                // the handshake finished first
            }
        });
        try {
            handshakeSteps(socket, done, ticket);
        } finally {
            watchdog.interrupt();
            if (!ticket.heldBySession) {
                pending.done(ticket);
            }
        }
    }

    private static final long WATCHDOG_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private void handshakeSteps(Endpoint socket, java.util.concurrent.atomic.AtomicBoolean done,
                                HandshakeTable.Ticket ticket) {
        Connection connection = null;
        try {
            connection = new Connection(socket, spec.limits().maxMessageBytes(), Connection.HANDSHAKE_FRAME_LIMIT,
                    nanoClock, metrics);
            connection.readTimeout(spec.limits().handshakeTimeout());
            socket.sendBufferBytes(spec.limits().sendBufferBytes());
            Frame first = connection.readHandshake();
            if (!done.compareAndSet(false, true)) {
                return; // the deadline passed and closed the connection
            }
            switch (first) {
                case Frame.Hello hello -> hello(connection, hello, ticket);
                case Frame.Attach attach -> attach(connection, attach, ticket);
                default -> throw new MalformedFrameException("expected HELLO or ATTACH, got " + first.type());
            }
        } catch (UnsupportedVersionException e) {
            reject(connection, RejectReason.UNSUPPORTED_VERSION, e.getMessage());
        } catch (MalformedFrameException e) {
            metrics.add(Metrics.MALFORMED, 1);
            Logger.warn("[server] malformed handshake from {}, closing: {}", socket.remote(),
                    e.getMessage());
            socket.close();
        } catch (SocketTimeoutException e) {
            Logger.info("[server] no handshake from {} within {}, closing", socket.remote(),
                    spec.limits().handshakeTimeout());
            socket.close();
        } catch (EOFException | SocketException e) {
            Logger.debug("[server] connection from {} ended during handshake: {}", socket.remote(),
                    e.toString());
            socket.close();
        } catch (IOException e) {
            Logger.info("[server] handshake with {} failed: {}", socket.remote(), e.toString());
            socket.close();
        } catch (RuntimeException e) {
            Logger.error(e, "[server] handshake with {} failed", socket.remote()); // a bug: never a peer's doing
            socket.close();
        }
    }

    private void hello(Connection connection, Frame.Hello hello, HandshakeTable.Ticket ticket) throws IOException {
        if (closed.get()) {
            reject(connection, RejectReason.SHUTTING_DOWN, "server is shutting down");
            return;
        }
        if (hello.maxMessageBytes() < Limits.MIN_MESSAGE_BYTES || hello.maxInFlight() < 1
                || hello.maxInFlightBytes() < hello.maxMessageBytes()) {
            reject(connection, RejectReason.OTHER, "message limit " + hello.maxMessageBytes() + " below the minimum "
                    + Limits.MIN_MESSAGE_BYTES + ", no calls in flight allowed (" + hello.maxInFlight() + "), or a "
                    + "budget of bytes in flight (" + hello.maxInFlightBytes() + ") below the message limit");
            return;
        }
        Optional<String> principal = authenticate(connection, hello);
        if (principal == null) {
            return; // refused, and told so
        }
        if (!takeSessionSlot()) {
            reject(connection, RejectReason.SERVER_FULL,
                    "server holds its maximum of " + spec.limits().maxSessions() + " sessions");
            return;
        }
        TwinSession session;
        try {
            byte[] token = new byte[FrameCodec.TOKEN_BYTES];
            random.nextBytes(token);
            long numericId = lastSessionId.incrementAndGet();
            session = new TwinSession(numericId, token, TwinSession.Role.SERVER, spec.policy(), spec.limits(),
                    new TwinSession.PeerLimits(hello.maxMessageBytes(), hello.maxInFlight(),
                            hello.maxInFlightBytes()), spec.handlers(), clock,
                    metrics, group, null, this::sessionEnded);
        } catch (RuntimeException | Error e) {
            held.decrementAndGet();
            throw e;
        }
        // Until it leaves CONNECTING, the session's channel A stays in the table of handshakes: a HELLO that never
        // attaches B counts there, and may be displaced by a newcomer when the table is full.
        ticket.heldBySession = true;
        session.addStateListener((s, from, to, cause) -> {
            if (from == SessionState.CONNECTING) {
                pending.done(ticket);
            }
        });
        if (session.state() != SessionState.CONNECTING) {
            pending.done(ticket);
        }
        session.bindClientCertificate(connection.endpoint().peerCertificate());
        session.principal(principal.orElse(null));
        for (StateListener l : spec.stateListeners()) {
            session.addStateListener(l);
        }
        sessions.put(session.numericId, session);
        if (session.state().isTerminal()) { // ended at once: the server's group did not start the session's
            sessionEnded(session, session.state());
            reject(connection, RejectReason.SHUTTING_DOWN, "server is shutting down");
            return;
        }
        String advertisedHost = spec.advertisedAddress().map(InetSocketAddress::getHostString).orElse("");
        int advertisedPort = spec.advertisedAddress().map(InetSocketAddress::getPort).orElse(0);
        // Channel A is attached before WELCOME tells the client the session's id, so the client's ATTACH of B,
        // which may be handled on another thread the moment WELCOME is out, always finds A attached and makes the
        // session NORMAL there.
        if (!session.attach(Channel.A, connection)) {
            return; // ended meanwhile (the server is closing); the connection is closed
        }
        try {
            connection.writeHandshake(new Frame.Welcome(session.numericId, session.token,
                    millis(spec.policy().reattachWindow()), millis(spec.policy().heartbeatInterval()),
                    millis(spec.policy().idleTimeout()), spec.limits().maxMessageBytes(), spec.limits().maxInFlight(),
                    spec.limits().maxInFlightBytes(), advertisedHost, advertisedPort));
        } catch (IOException e) {
            // The client never learns of the session: it ends now and gives its slot back.
            session.abandon(new IOException("WELCOME could not be sent: " + e.getMessage(), e));
            throw e;
        }
        Logger.info("[{}] new session from {}", session.id, connection.remoteAddress());
    }

    /**
     * Who the client of {@code hello} opens its session as: the authenticator's answer, or without one the subject
     * of its verified certificate, or nobody in particular (empty).
     *
     * @return the principal, or null if the client was refused (REJECTED {@code UNAUTHORIZED} was sent)
     */
    private Optional<String> authenticate(Connection connection, Frame.Hello hello) {
        java.security.cert.Certificate shown = connection.endpoint().peerCertificate();
        java.security.cert.X509Certificate certificate = shown instanceof java.security.cert.X509Certificate x
                ? x : null;
        if (spec.authenticator().isEmpty()) {
            return Optional.ofNullable(certificate == null ? null
                    : certificate.getSubjectX500Principal().getName());
        }
        InetSocketAddress from = connection.endpoint().remoteSocketAddress();
        Authenticator.Attempt attempt = new Authenticator.Attempt(
                from != null ? from : InetSocketAddress.createUnresolved(connection.remoteAddress(), 0),
                Optional.ofNullable(certificate), hello.credential());
        String name;
        try {
            name = spec.authenticator().get().authenticate(attempt);
        } catch (Authenticator.Refused e) {
            reject(connection, RejectReason.UNAUTHORIZED, "refused: " + e.getMessage());
            return null;
        } catch (RuntimeException e) {
            Logger.error(e, "[server] the authenticator failed for {}; refused", connection.remoteAddress());
            reject(connection, RejectReason.UNAUTHORIZED, "refused: the server could not decide");
            return null;
        }
        if (name == null || name.isBlank()) {
            Logger.error("[server] the authenticator named no principal for {}; refused", connection.remoteAddress());
            reject(connection, RejectReason.UNAUTHORIZED, "refused: the server could not decide");
            return null;
        }
        return Optional.of(name);
    }

    private void attach(Connection connection, Frame.Attach attach, HandshakeTable.Ticket ticket) throws IOException {
        Channel channel = Channel.ofCode(attach.channel());
        if (closed.get()) {
            reject(connection, RejectReason.SHUTTING_DOWN, "server is shutting down");
            return;
        }
        TwinSession session = sessions.get(attach.sessionId());
        String sid = TwinSession.formatId(attach.sessionId());
        if (session == null) {
            reject(connection, RejectReason.UNKNOWN_SESSION, "no session " + sid);
            return;
        }
        // Constant time, so the token cannot be guessed byte by byte from response times.
        if (!MessageDigest.isEqual(session.token, attach.token())) {
            Logger.warn("[{}/{}] ATTACH with a wrong token from {}; rejected, session untouched", sid, channel,
                    connection.remoteAddress());
            reject(connection, RejectReason.BAD_TOKEN, "wrong token for " + sid);
            return;
        }
        if (!session.isClientCertificate(connection.endpoint().peerCertificate())) {
            Logger.warn("[{}/{}] ATTACH with the right token over a connection with another client certificate "
                    + "from {}; rejected, session untouched", sid, channel, connection.remoteAddress());
            reject(connection, RejectReason.UNAUTHORIZED, "the session was opened with another client certificate");
            return;
        }
        if (attach.maxMessageBytes() < Limits.MIN_MESSAGE_BYTES) {
            reject(connection, RejectReason.OTHER, "message limit " + attach.maxMessageBytes() + " below the minimum "
                    + Limits.MIN_MESSAGE_BYTES);
            return;
        }
        if (session.state().isTerminal()) {
            reject(connection, RejectReason.SESSION_ENDED, sid + " has ended");
            return;
        }
        boolean establishing = session.state() == SessionState.CONNECTING;
        if (channel == Channel.B && !session.promiseEstablished()) { // before the client can read ATTACHED
            reject(connection, RejectReason.SESSION_ENDED, sid + " has ended");
            return;
        }
        connection.writeHandshake(new Frame.Attached(channel.code()));
        pending.done(ticket); // answered: no longer in handshake, whatever the attach below takes
        if (!session.attach(channel, connection)) {
            return; // ended meanwhile; the client sees the connection close and gives up on it
        }
        if (establishing && session.state() != SessionState.CONNECTING) {
            for (Consumer<Session> l : spec.sessionListeners()) {
                try {
                    l.accept(session);
                } catch (RuntimeException e) {
                    Logger.error(e, "[{}] session listener failed", session.id);
                }
            }
        }
    }

    /** The longest REJECTED detail sent: a refusal's reason is the embedder's text, of any length. */
    private static final int MAX_REJECT_DETAIL_CHARS = 1000;

    private void reject(Connection connection, RejectReason reason, String detail) {
        if (detail.length() > MAX_REJECT_DETAIL_CHARS) {
            int end = MAX_REJECT_DETAIL_CHARS;
            if (Character.isHighSurrogate(detail.charAt(end - 1))) {
                end--;
            }
            detail = detail.substring(0, end) + "…";
        }
        metrics.rejected(reason);
        Logger.info("[server] rejected {} from {}: {}", reason, connection == null ? "?" : connection.remoteAddress(),
                detail);
        if (connection == null) {
            return;
        }
        try {
            connection.writeHandshake(new Frame.Rejected(reason, detail));
        } catch (IOException e) {
            Logger.debug("[server] could not send REJECTED: {}", e.toString());
            connection.close();
            return;
        }
        // A client reads REJECTED and closes; until it does, what it sent meanwhile is read and dropped, so the close
        // is a FIN after REJECTED and not a reset that could destroy it.
        connection.lingeringClose(REJECT_LINGER, REJECT_LINGER_BYTES);
    }

    /** Takes one of the {@code maxSessions} slots, or returns {@code false} if all are held. */
    private boolean takeSessionSlot() {
        int max = spec.limits().maxSessions();
        while (true) {
            int now = held.get();
            if (now >= max) {
                return false;
            }
            if (held.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    /** Unlists an ended session and gives its slot back; runs once per session however often it is called. */
    private void sessionEnded(TwinSession session, SessionState finalState) {
        if (sessions.remove(session.numericId, session)) {
            held.decrementAndGet();
        }
    }

    private static int millis(Duration d) {
        return (int) Math.min(Integer.MAX_VALUE, d.toMillis());
    }
}
