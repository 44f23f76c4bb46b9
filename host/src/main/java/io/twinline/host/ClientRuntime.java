package io.twinline.host;

import io.twinline.api.Channel;
import io.twinline.api.ConnectFailedException;
import io.twinline.api.RecoveryPolicy;
import io.twinline.api.Session;
import io.twinline.api.SessionState;
import io.twinline.api.StateListener;
import io.twinline.api.TwinlineClient;
import io.twinline.api.spi.ClientSpec;
import io.twinline.recovery.Backoff;
import io.twinline.recovery.Clock;
import io.twinline.recovery.PermanentFailureException;
import io.twinline.transport.Connection;
import io.twinline.transport.Frame;
import io.twinline.transport.FrameCodec;
import io.twinline.transport.MalformedFrameException;
import io.twinline.transport.RejectReason;
import io.twinline.transport.Endpoint;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A client: dials channel A with HELLO, then channel B with ATTACH, and re-dials a failed channel for the
 * recovery processes (Figs. 5 and 6). With {@code reconnectAfterDisconnect}, a session that ends in
 * DISCONNECTED is replaced by a new one, dialled with backoff on a virtual thread.
 */
final class ClientRuntime implements TwinlineClient {
    private final ClientSpec spec;
    private final Clock clock;
    /** The clock as each connection reads it, made once here (see ServerRuntime's). */
    private final java.util.function.LongSupplier nanoClock;
    private final Network network;
    private final Metrics metrics;
    private volatile TwinSession session;
    private volatile boolean closed;

    private ClientRuntime(ClientSpec spec, Clock clock, Network network) {
        this.spec = spec;
        this.clock = clock;
        this.nanoClock = clock::nanoTime;
        this.metrics = new Metrics(clock);
        this.network = spec.tls().map(tls -> network.withTls(tls, false)).orElse(network);
    }

    static ClientRuntime connect(ClientSpec spec, Clock clock, Network network) {
        Preload.sessionClasses();
        ClientRuntime client = new ClientRuntime(spec, clock, network);
        client.session = client.openFirstSession();
        return client;
    }

    /** The first pause before trying again a connection the server shed; it doubles up to {@link #SHED_PAUSE_MAX}. */
    static final long SHED_PAUSE_FIRST = TimeUnit.MILLISECONDS.toNanos(10);
    static final long SHED_PAUSE_MAX = TimeUnit.MILLISECONDS.toNanos(500);

    /**
     * A connection reset before the server sent anything on it: a server with as many connections in handshake as it
     * allows resets a newcomer at accept, without a word (PROTOCOL §4.6): a reset while the dial connects, and over
     * plain TCP on the HELLO or ATTACH written or on the read of its answer; over TLS, inside the TLS handshake of the
     * dial (a reset after it, say for a missing client certificate, is not this).
     */
    static final class ResetBeforeAnswer extends java.net.SocketException {
        private static final long serialVersionUID = 1L;

        ResetBeforeAnswer(IOException reset) {
            super(reset.getMessage(), reset);
        }
    }

    /** Whether {@code e} is a connection reset (or a write into one): not a refusal, a timeout or a close. */
    static boolean isReset(IOException e) {
        if (!(e instanceof java.net.SocketException) || e instanceof java.net.ConnectException
                || e instanceof java.net.NoRouteToHostException || e instanceof ResetBeforeAnswer) {
            return false;
        }
        String m = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
        return m.contains("reset") || m.contains("broken pipe");
    }

    /** Whether {@code e}, or what caused it, is a {@link ResetBeforeAnswer}. */
    static boolean lookedShed(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ResetBeforeAnswer) {
                return true;
            }
        }
        return false;
    }

    /** Writes a HELLO or ATTACH and reads its answer; over plain TCP a reset here is a {@link ResetBeforeAnswer}. */
    private Frame exchange(Connection c, Frame first, java.util.concurrent.Callable<Frame> answer) throws Exception {
        try {
            c.writeHandshake(first);
            return answer.call();
        } catch (IOException e) {
            throw spec.tls().isEmpty() && isReset(e) ? new ResetBeforeAnswer(e) : e;
        }
    }

    /**
     * Opens the first session, and opens it again, from HELLO, while the server resets A's or B's connection before it
     * answers ({@link ResetBeforeAnswer}), after a jittered pause that doubles, until {@code handshakeTimeout} has
     * passed since the first try. Any other failure (refused, unknown host, a close, a timeout, a rejection, a TLS
     * failure, an answer that is not twinline's) is final at once; so is the last one if the thread is interrupted
     * while it pauses (its flag set again).
     */
    private TwinSession openFirstSession() {
        long deadline = clock.nanoTime() + spec.limits().handshakeTimeout().toNanos();
        long pause = SHED_PAUSE_FIRST;
        while (true) {
            try {
                return openSession();
            } catch (ConnectFailedException e) {
                long wait = pause / 2 + java.util.concurrent.ThreadLocalRandom.current().nextLong(pause / 2 + 1);
                if (!lookedShed(e) || clock.nanoTime() + wait >= deadline) {
                    throw e;
                }
                Logger.debug("[client] the server reset the connection before it answered (too many in handshake?); "
                        + "trying again in {} ms", TimeUnit.NANOSECONDS.toMillis(wait));
                try {
                    clock.sleep(wait);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                pause = Math.min(2 * pause, SHED_PAUSE_MAX);
            }
        }
    }

    @Override
    public Session session() {
        return session;
    }

    TwinSession twinSession() {
        return session;
    }

    /** The runtime's counters. */
    Metrics counters() {
        return metrics;
    }

    @Override
    public io.twinline.api.MetricsSnapshot metrics() {
        TwinSession current = session;
        return metrics.snapshot(current == null || current.state().isTerminal() ? java.util.List.of()
                : java.util.List.of(current));
    }

    @Override
    public void close() {
        closed = true;
        TwinSession s = session;
        if (s != null) {
            s.close();
        }
    }

    /** The shortest heartbeat worth setting: the session's ticker runs at most once per 10 ms. */
    private static final Duration FASTEST_HEARTBEAT = Duration.ofMillis(10);

    /**
     * Fits this client's heartbeat settings to the server's, as announced in WELCOME (PROTOCOL §7.6), so that
     * neither end's idle timeout runs out between the other's heartbeats, which would fail and recover a channel
     * over and over: the heartbeat is lowered to half the server's idle timeout, and the idle timeout raised to
     * two server heartbeats, where they are not already. A peer's frames are at most about 1.25 heartbeats apart
     * (a PING is due after 15/16 of an interval and the ticker may run late), so a factor of 2 leaves room for
     * the one-way delay and a pause; the defaults (1 s and 3 s on both ends) need no change. Each change is logged
     * at WARN. A value of 0 (not announced) changes nothing. No heartbeat is lowered below 10 ms, a ticker round.
     */
    static RecoveryPolicy matchServer(RecoveryPolicy own, Duration serverHeartbeat, Duration serverIdleTimeout,
                                      String sessionId) {
        RecoveryPolicy matched = own;
        // In nanoseconds: Duration's multipliedBy and dividedBy go through BigDecimal, which nothing else loads.
        Duration fastEnough = Duration.ofNanos(serverIdleTimeout.toNanos() / 2);
        if (fastEnough.isPositive() && fastEnough.compareTo(FASTEST_HEARTBEAT) < 0) {
            Logger.warn("[{}] the server's idle timeout of {} is too short for any heartbeat (the ticker's round is "
                    + "{}): expect its channel A to fail when idle", sessionId, serverIdleTimeout, FASTEST_HEARTBEAT);
            fastEnough = FASTEST_HEARTBEAT;
        }
        if (fastEnough.isPositive() && own.heartbeatInterval().compareTo(fastEnough) > 0) {
            Logger.warn("[{}] the server's idle timeout is {}: this session's heartbeat lowered from {} to {}",
                    sessionId, serverIdleTimeout, own.heartbeatInterval(), fastEnough);
            matched = matched.withHeartbeatInterval(fastEnough);
        }
        Duration patientEnough = Duration.ofNanos(serverHeartbeat.toNanos() * 2);
        if (patientEnough.isPositive() && own.idleTimeout().compareTo(patientEnough) < 0) {
            Logger.warn("[{}] the server's heartbeat is {}: this session's idle timeout raised from {} to {}",
                    sessionId, serverHeartbeat, own.idleTimeout(), patientEnough);
            matched = matched.withIdleTimeout(patientEnough);
        }
        return matched;
    }

    /**
     * Opens a session: HELLO on a new channel A, then ATTACH on a new channel B.
     *
     * @throws ConnectFailedException if either step fails or the server's window is too short for this policy
     */
    private TwinSession openSession() {
        Duration handshake = spec.limits().handshakeTimeout();
        Connection a = null;
        TwinSession fresh = null;
        try {
            a = dial(spec.server(), handshake);
            Connection hello = a;
            Frame reply = exchange(a, new Frame.Hello(FrameCodec.VERSION, spec.limits().maxMessageBytes(),
                    spec.limits().maxInFlight(), spec.limits().maxInFlightBytes(), spec.credential()),
                    () -> answerToHello(hello, handshake));
            if (reply instanceof Frame.Rejected r) {
                throw new ConnectFailedException("server " + Network.hostPort(spec.server()) + " rejected the session: "
                        + r.reason() + " (" + r.detail() + ")", null);
            }
            if (!(reply instanceof Frame.Welcome welcome)) {
                throw new ConnectFailedException("server " + Network.hostPort(spec.server()) + " answered HELLO with "
                        + reply.type() + ", not WELCOME or REJECTED", null);
            }
            RecoveryPolicy policy = matchServer(spec.policy(), Duration.ofMillis(welcome.heartbeatMs()),
                    Duration.ofMillis(welcome.idleTimeoutMs()), TwinSession.formatId(welcome.sessionId()));
            Duration window = Duration.ofMillis(welcome.reattachWindowMs());
            if (policy.clientBudget().compareTo(window) > 0) {
                String raised = policy.idleTimeout().equals(spec.policy().idleTimeout()) ? ""
                        : " (its idle timeout raised from " + spec.policy().idleTimeout() + " to "
                        + policy.idleTimeout() + ", twice the server's heartbeat: or lower the server's heartbeat)";
                throw new ConnectFailedException("this client's recovery budget (idle timeout + probe timeout + "
                        + "recovery time limit = " + policy.clientBudget() + ") exceeds the server's re-attach "
                        + "window of " + window + "; lower the client's budget or raise the server's window" + raised,
                        null);
            }
            InetSocketAddress reattachTo = welcome.advertised().isPresent()
                    ? InetSocketAddress.createUnresolved(welcome.advertisedHost(), welcome.advertisedPort())
                    : spec.server();
            fresh = new TwinSession(welcome.sessionId(), welcome.token(), TwinSession.Role.CLIENT, policy,
                    spec.limits(), new TwinSession.PeerLimits(welcome.maxMessageBytes(), welcome.maxInFlight(),
                            welcome.maxInFlightBytes()),
                    spec.handlers(), clock, metrics, null,
                    (session, channel, deadline) -> DialGate.REATTACHES.through(clock, deadline,
                            () -> attachChannel(reattachTo, session, channel, deadline)),
                    this::sessionEnded);
            for (StateListener l : spec.stateListeners()) {
                fresh.addStateListener(l);
            }
            if (!fresh.attach(Channel.A, a)) {
                throw new ConnectFailedException("session ended while channel A was attached", null);
            }
            // B's connection may be shed as A's was: the session is then given up, which frees the place its HELLO
            // held at the server, and opened again (openFirstSession). Retrying B alone could starve: an address's
            // HELLOs can hold all of its places while their Bs wait for one.
            Connection b = attachChannel(reattachTo, fresh, Channel.B, clock.nanoTime() + handshake.toNanos());
            if (!fresh.attach(Channel.B, b)) {
                throw new ConnectFailedException("session ended while channel B was attached", null);
            }
            Logger.info("[{}] connected to {}:{}", fresh.id, spec.server().getHostString(), spec.server().getPort());
            return fresh;
        } catch (ConnectFailedException e) {
            abandon(a, fresh);
            throw e;
        } catch (Exception e) {
            abandon(a, fresh);
            String hint = "";
            if (String.valueOf(e.getMessage()).contains("certificate_required")) {
                hint = " (the server requires a client certificate, and this client has none)";
            } else if (e instanceof java.net.SocketException && !(e instanceof java.net.ConnectException)
                    && !(e instanceof ResetBeforeAnswer)
                    && !(e instanceof java.net.NoRouteToHostException) && spec.tls().isPresent()
                    && !spec.tls().get().hasKeys()) {
                // With TLS 1.3 a server that wants a certificate finds it missing after the client's handshake
                // ended, and its alert may be lost to the reset that follows it.
                hint = " (if the server requires client certificates: this client has none)";
            }
            throw new ConnectFailedException("cannot connect to " + Network.hostPort(spec.server()) + ": "
                    + (e instanceof IOException io ? Network.inWords(io) : e.getMessage()) + hint, e);
        }
    }

    /**
     * Reads the server's answer to HELLO. Bytes that are not a twinline frame, no answer at all, or a connection
     * closed without one mean that something other than a twinline server listens there (an HTTP server, say), and
     * the message says so rather than show a frame decoder's complaint.
     */
    private Frame answerToHello(Connection a, Duration handshake) throws IOException {
        String server = Network.hostPort(spec.server());
        try {
            return a.readHandshake();
        } catch (MalformedFrameException e) {
            if (spec.tls().isEmpty() && looksLikeTls(e.getMessage())) {
                throw new ConnectFailedException(server + " answered HELLO with TLS: it runs TLS, and this client "
                        + "plain TCP (give the client TLS settings, --tls-trust on the command line)", e);
            }
            throw new ConnectFailedException(server + " is not a twinline server: it answered HELLO with something "
                    + "else (" + e.getMessage() + ")", e);
        } catch (EOFException e) {
            throw new ConnectFailedException(server + " closed the connection without answering HELLO; is it a "
                    + "twinline server?", e);
        } catch (SocketTimeoutException e) {
            throw new ConnectFailedException(server + " did not answer HELLO within " + handshake + "; is it a "
                    + "twinline server?", e);
        }
    }

    /**
     * Whether the frame length a decoder refused is the start of a TLS record: content type 21 (alert) or 22
     * (handshake), then major version 3.
     */
    static boolean looksLikeTls(String decoderMessage) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("frame length (\\d+)").matcher(
                String.valueOf(decoderMessage));
        if (!m.find()) {
            return false;
        }
        long length = Long.parseLong(m.group(1));
        long type = length >>> 24;
        return (type == 21 || type == 22) && ((length >>> 16) & 0xFF) == 3;
    }

    private static void abandon(Connection a, TwinSession fresh) {
        if (fresh != null) {
            fresh.close();
        } else if (a != null) {
            a.close();
        }
    }

    private Connection dial(InetSocketAddress address, Duration timeout) throws IOException {
        Endpoint endpoint;
        try {
            endpoint = network.dial(address, timeout);
        } catch (IOException e) {
            // A reset while connecting (the server took the connection and reset it before this end saw it
            // established), or inside the TLS handshake, is the server shedding the connection.
            throw isReset(e) ? new ResetBeforeAnswer(e) : e;
        }
        try {
            Connection c = new Connection(endpoint, spec.limits().maxMessageBytes(), Connection.HANDSHAKE_FRAME_LIMIT,
                    nanoClock, metrics);
            c.readTimeout(timeout);
            endpoint.sendBufferBytes(spec.limits().sendBufferBytes());
            return c;
        } catch (IOException e) {
            endpoint.close();
            throw isReset(e) ? new ResetBeforeAnswer(e) : e; // the socket options of a socket reset already
        } catch (RuntimeException e) {
            endpoint.close();
            throw e;
        }
    }

    /**
     * One try to open a connection and ATTACH it as {@code channel} of {@code session}, within the deadline.
     *
     * @throws PermanentFailureException if the server no longer knows the session or refuses its token
     */
    private Connection attachChannel(InetSocketAddress target, TwinSession session, Channel channel,
                                     long deadlineNanos) throws Exception {
        long remaining = deadlineNanos - clock.nanoTime();
        if (remaining <= 0) {
            throw new IOException("no time left to re-attach channel " + channel);
        }
        Duration timeout = Duration.ofNanos(Math.min(remaining, spec.limits().handshakeTimeout().toNanos()));
        Connection c = dial(target, timeout);
        try {
            Frame reply = exchange(c, new Frame.Attach(FrameCodec.VERSION, session.numericId, session.token,
                    channel.code(), spec.limits().maxMessageBytes()), c::readHandshake);
            if (reply instanceof Frame.Attached) {
                return c;
            }
            c.close();
            if (reply instanceof Frame.Rejected r) {
                String why = "server rejected ATTACH of channel " + channel + ": " + r.reason() + " (" + r.detail()
                        + ")";
                if (r.reason() == RejectReason.UNKNOWN_SESSION || r.reason() == RejectReason.BAD_TOKEN
                        || r.reason() == RejectReason.SESSION_ENDED || r.reason() == RejectReason.UNAUTHORIZED) {
                    throw new PermanentFailureException(why);
                }
                throw new IOException(why);
            }
            throw new IOException("server answered ATTACH with " + reply.type());
        } catch (Exception e) {
            c.close();
            throw e;
        }
    }

    private void sessionEnded(TwinSession ended, SessionState finalState) {
        if (finalState == SessionState.DISCONNECTED && spec.reconnectAfterDisconnect() && !closed
                && ended == session) {
            Thread.ofVirtual().name("client/new-session").start(this::replaceSession);
        }
    }

    /** Opens a new session after a disconnect, with backoff, until it works or the client is closed. */
    private void replaceSession() {
        Backoff backoff = TwinSession.newBackoff(spec.policy());
        int failures = 0;
        while (!closed) {
            try {
                TwinSession fresh = openSession();
                if (closed) {
                    fresh.close();
                    return;
                }
                session = fresh;
                if (closed) {
                    fresh.close(); // close() ran while we dialled and closed the old session only
                    return;
                }
                Logger.info("[{}] replaced the disconnected session", fresh.id);
                return;
            } catch (ConnectFailedException e) {
                failures++;
                Logger.info("[client] new session failed (try {}): {}", failures, e.getMessage());
                try {
                    clock.sleep(backoff.pauseNanos(Math.min(failures, 30)));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
