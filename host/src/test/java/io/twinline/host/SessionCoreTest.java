package io.twinline.host;

import static io.twinline.host.Testing.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.Channel;
import io.twinline.api.ConnectFailedException;
import io.twinline.api.Handler;
import io.twinline.api.Limits;
import io.twinline.api.RecoveryPolicy;
import io.twinline.api.SessionClosedException;
import io.twinline.api.SessionState;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import io.twinline.api.spi.ClientSpec;
import io.twinline.api.spi.ServerSpec;
import io.twinline.recovery.Clock;
import io.twinline.transport.Connection;
import io.twinline.transport.Endpoint;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The session core's lifecycle bounds and the races issue #14 found, each driven to the point where it used to
 * go wrong: a table closed with the session refuses a late link (race 2; race 6 is {@link BackoffSpreadTest}); a
 * handler that ignores interrupts does not hold its session's end (race 7); a session whose WELCOME
 * cannot be written, or whose channel B never comes, gives its slot back within one handshake timeout (race 8);
 * channel B failing at once after it was attached is recovered, not the end of a session (race 9).
 */
class SessionCoreTest {

    @Test
    void aTableClosedWithItsSessionRefusesALateLinkAndClosesIt() throws IOException {
        ChannelTable table = new ChannelTable();
        Connection early = connection();
        assertTrue(table.install(Channel.A, early) != null);
        table.closeAll();
        assertTrue(early.isClosed(), "the installed link was closed with the table");
        Connection late = connection();
        assertNull(table.install(Channel.B, late), "an install after the end is refused");
        assertTrue(late.isClosed(), "and its connection closed, not left to nobody");
        assertNull(table.current(Channel.B));
    }

    @Test
    void aSessionStillConnectingEndsOneHandshakeTimeoutAfterItBegan() {
        ManualClock clock = new ManualClock();
        Limits limits = Limits.defaults().withHandshakeTimeout(Duration.ofSeconds(4));
        long created = clock.nanoTime();
        TwinSession session = new TwinSession(1, new byte[16], TwinSession.Role.SERVER, RecoveryPolicy.defaults(),
                limits, new TwinSession.PeerLimits(1 << 20, 64, 1 << 26), Map.of(), clock, new Metrics(), null, null, null);
        try {
            session.tick(created + Duration.ofSeconds(4).toNanos());
            assertEquals(SessionState.CONNECTING, session.state(), "still within the handshake timeout");
            session.tick(created + Duration.ofSeconds(4).toNanos() + 1);
            assertEquals(SessionState.DISCONNECTED, session.state());
            assertTrue(session.terminalCause().getMessage().contains("not attached within PT4S"),
                    session.terminalCause().getMessage());
        } finally {
            session.close();
        }
    }

    /**
     * The handshake deadline of a session still CONNECTING waits on the other end's dial of channel B, so a process that
     * is late stretches it as it stretches a silence deadline: by its lateness since the session began, times one more
     * than its score. A healthy process keeps it exact.
     */
    @Test
    void theConnectingDeadlineStretchesWithTheProcesssHealth() {
        long created = 1_000_000_000L;
        long handshake = Duration.ofSeconds(5).toNanos();
        assertEquals(0, TwinSession.connectingLeft(created, handshake, created + handshake, LocalHealth.NONE));
        assertEquals(-1, TwinSession.connectingLeft(created, handshake, created + handshake + 1, LocalHealth.NONE));
        LocalHealth late = new LocalHealth(() -> created);
        late.record(created + Duration.ofSeconds(2).toNanos(), Duration.ofMillis(1500).toNanos());
        long stretched = handshake + Duration.ofMillis(1500).toNanos();
        assertEquals(1, TwinSession.connectingLeft(created, handshake, created + stretched - 1, late));
        assertEquals(-1, TwinSession.connectingLeft(created, handshake, created + stretched + 1, late),
                "a process 1.5 s late waits 1.5 s longer, no more");
    }

    @Test
    void aWelcomeThatCannotBeWrittenGivesTheSlotBackAtOnce() throws Exception {
        // The first connection the server accepts cannot be written to; the second is a normal one.
        AtomicInteger accepted = new AtomicInteger();
        Network network = new EndpointDecorator(Network.TCP, (n, e) -> n == 1 ? new UnwritableEndpoint(e) : e,
                accepted);
        Limits limits = Limits.defaults().withMaxSessions(1).withHandshakeTimeout(Duration.ofSeconds(10));
        ServerRuntime server = ServerRuntime.start(new ServerSpec(new InetSocketAddress("127.0.0.1", 0),
                Optional.empty(), Map.of("echo", Testing.ECHO), Testing.fastPolicy(), limits, List.of(), List.of()),
                Clock.system(), network);
        try {
            assertThrows(ConnectFailedException.class, () -> connect(server, limits).close());
            // Within the handshake timeout (well before the 2 x 10 s a stranded session used to hold it), the one
            // slot is free again and a client gets in.
            TwinlineClient client = null;
            long until = System.nanoTime() + Duration.ofSeconds(8).toNanos();
            while (client == null && System.nanoTime() < until) {
                try {
                    client = connect(server, limits);
                } catch (ConnectFailedException e) {
                    assertTrue(e.getMessage().contains("SERVER_FULL"), e.getMessage());
                    Thread.sleep(50);
                }
            }
            assertTrue(client != null, "the slot of the session whose WELCOME failed was given back");
            assertEquals("hi", Testing.text(client.call("echo", utf8("hi"))));
            client.close();
        } finally {
            server.close();
        }
    }

    private static TwinlineClient connect(ServerRuntime server, Limits limits) {
        return ClientRuntime.connect(new ClientSpec(server.address(), Map.of(), Testing.fastPolicy(), limits,
                List.of(), false), Clock.system(), Network.TCP);
    }

    @Test
    void aHandlerThatIgnoresInterruptsDoesNotHoldItsSessionsEnd() throws Exception {
        AtomicBoolean release = new AtomicBoolean();
        CountDownLatch running = new CountDownLatch(1);
        Handler stubborn = (session, body) -> {
            running.countDown();
            while (!release.get()) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException ignored) {
                    // the point of this handler: interrupts do not stop it
                }
            }
            return body;
        };
        Limits limits = Limits.defaults().withCloseGrace(Duration.ofMillis(200));
        TwinlineServer server = Testing.server().limits(limits).handle("stubborn", stubborn).start();
        try {
            TwinlineClient client = Testing.client(server).limits(limits).connect();
            CompletableFuture<byte[]> call = CompletableFuture.supplyAsync(
                    () -> client.call("stubborn", utf8("x")), r -> Thread.ofVirtual().start(r));
            assertTrue(running.await(5, TimeUnit.SECONDS));
            client.close();
            assertThrows(Exception.class, () -> call.get(5, TimeUnit.SECONDS));
            Testing.await(Duration.ofSeconds(10), "the server let the session go while its handler still runs",
                    () -> ((ServerRuntime) server).allSessions().isEmpty());
            assertFalse(release.get());
        } finally {
            release.set(true);
            server.close();
        }
    }

    /**
     * A server whose second accepted connection (a client's channel B) is wrapped by {@code wrap}, and whose
     * sessions' transitions are written to {@code transitions} as {@code FROM>TO}.
     */
    private static ServerRuntime serverWithSecondConnection(java.util.function.UnaryOperator<Endpoint> wrap,
                                                            List<String> transitions) {
        Network network = new EndpointDecorator(Network.TCP, (n, e) -> n == 2 ? wrap.apply(e) : e,
                new AtomicInteger());
        return ServerRuntime.start(new ServerSpec(new InetSocketAddress("127.0.0.1", 0), Optional.empty(),
                Map.of("echo", Testing.ECHO), Testing.fastPolicy(), Limits.defaults(),
                List.of((s, from, to, cause) -> transitions.add(from + ">" + to)), List.of()), Clock.system(), network);
    }

    @Test
    void channelBFailingRightAfterItWasAttachedIsRecoveredNotTheEnd() throws Exception {
        // The second connection the server accepts is channel B: its first read after the handshake is reset.
        CountDownLatch connected = new CountDownLatch(1);
        List<String> serverTransitions = new java.util.concurrent.CopyOnWriteArrayList<>();
        ServerRuntime server = serverWithSecondConnection(e -> new ResetOnSecondRead(e, connected),
                serverTransitions);
        try (TwinlineClient client = connect(server, Limits.defaults())) {
            connected.countDown();
            // The client re-attaches B. The server recovers B (RECOVERING, then NORMAL) if it was NORMAL when B
            // failed; if it was still finishing the first attach, the re-attach replaces B before it is NORMAL.
            TwinSession clientSide = Testing.twin(client);
            Testing.await(Duration.ofSeconds(10), () -> "B re-attached, both ends NORMAL: " + serverTransitions,
                    () -> HostAccess.metrics(client).get("recoveries") >= 1
                            && clientSide.state() == SessionState.NORMAL
                            && server.allSessions().getFirst().state() == SessionState.NORMAL
                            && server.allSessions().getFirst().link(Channel.B).isHealthy());
            assertEquals("hi", Testing.text(client.call("echo", utf8("hi"))));
            // The client has no routes: an answer of NO_SUCH_ROUTE is a round trip over the new B.
            assertThrows(io.twinline.api.NoSuchRouteException.class,
                    () -> server.allSessions().getFirst().call("echo", utf8("to client")));
            assertFalse(serverTransitions.toString().contains("DISCONNECTED"), serverTransitions.toString());
        } finally {
            server.close();
        }
    }

    @Test
    void channelAFailingAfterTheServerWroteAttachedForBIsRecoveredNotTheEnd() throws Exception {
        // The second connection the server accepts is channel B: the server's write of ATTACHED reaches the client,
        // then holds the server's thread until channel A has failed at the server (PROTOCOL §4.6: the session is
        // established at the server from the moment that ATTACHED is written).
        CountDownLatch aFailed = new CountDownLatch(1);
        List<String> serverTransitions = new java.util.concurrent.CopyOnWriteArrayList<>();
        ServerRuntime server = serverWithSecondConnection(e -> new HeldAfterFirstWrite(e, aFailed),
                serverTransitions);
        try (TwinlineClient client = connect(server, Limits.defaults())) {
            TwinSession serverSide = (TwinSession) server.allSessions().getFirst();
            Link a = serverSide.link(Channel.A);
            Testing.twin(client).link(Channel.A).connection.endpoint().abort();
            Testing.await(Duration.ofSeconds(10), "the server saw channel A fail", () -> !a.isHealthy());
            aFailed.countDown();
            Testing.await(Duration.ofSeconds(10), () -> "recovered at the server: " + serverTransitions,
                    () -> serverSide.state() == SessionState.NORMAL && serverSide.link(Channel.A) != a
                            && serverSide.link(Channel.A).isHealthy());
            assertEquals("hi", Testing.text(client.call("echo", utf8("hi"))));
            assertFalse(serverTransitions.contains("CONNECTING>DISCONNECTED"), serverTransitions.toString());
            assertEquals(SessionState.NORMAL, client.session().state());
        } finally {
            aFailed.countDown();
            server.close();
        }
    }

    /**
     * The server's re-attach window runs on the server's clock: with that clock standing still the server waits for
     * channel B however long the client takes to give up, and it ends the session once the clock is moved past
     * the window (and the allowance of a recovery that another process waits for).
     */
    @Test
    void theReattachWindowIsKeptOnTheServersClock() throws Exception {
        ManualClock clock = new ManualClock();
        Duration window = Duration.ofSeconds(2);
        RecoveryPolicy serverPolicy = Testing.fastPolicy().withReattachWindow(window);
        RecoveryPolicy clientPolicy = Testing.fastPolicy().withRecoveryTimeLimit(Duration.ofSeconds(1));
        ServerRuntime server = ServerRuntime.start(new ServerSpec(new InetSocketAddress("127.0.0.1", 0),
                Optional.empty(), Map.of("echo", Testing.ECHO), serverPolicy, Limits.defaults(), List.of(), List.of()),
                clock, Network.TCP);
        AtomicBoolean refuse = new AtomicBoolean();
        FaultyNetwork faults = new FaultyNetwork(Network.TCP);
        Network clientNetwork = new Network() {
            @Override
            public Endpoint dial(InetSocketAddress address, Duration timeout) throws IOException {
                if (refuse.get()) {
                    throw new java.net.ConnectException("simulated: no route");
                }
                return faults.dial(address, timeout);
            }

            @Override
            public Listener listen(InetSocketAddress address) {
                throw new UnsupportedOperationException();
            }
        };
        try (ClientRuntime client = ClientRuntime.connect(new ClientSpec(server.address(), Map.of(), clientPolicy,
                Limits.defaults(), List.of(), false), Clock.system(), clientNetwork)) {
            TwinSession serverSide = server.allSessions().getFirst();
            refuse.set(true);
            assertTrue(HostAccess.inject(client.session(), io.twinline.host.Fault.RESET_B));
            Testing.await(Duration.ofSeconds(10), "the client gave up", () -> client.session().state()
                    == SessionState.DISCONNECTED);
            Testing.await(Duration.ofSeconds(10), "the server saw both channels go",
                    () -> !serverSide.link(Channel.A).isHealthy() && !serverSide.link(Channel.B).isHealthy());
            assertEquals(SessionState.RECOVERING, serverSide.state(), "the window has not passed on its clock");
            clock.advance(window.plusNanos(RecoveryProcessesAllowance.NANOS).plusMillis(1));
            Testing.await(Duration.ofSeconds(10), "the server ended the session after the window",
                    () -> serverSide.state() == SessionState.DISCONNECTED);
            assertTrue(serverSide.terminalCause().getMessage().contains("did not re-attach within PT2S")
                    || serverSide.terminalCause().getMessage().contains("did not finish within its bound"),
                    serverSide.terminalCause().getMessage());
        } finally {
            server.close();
        }
    }

    /** The allowance a waiting recovery gives its owner, from the recovery module. */
    private static final class RecoveryProcessesAllowance {
        static final long NANOS = io.twinline.recovery.RecoveryProcesses.OVERRUN_ALLOWANCE_NANOS;
    }

    /**
     * The attach that gives a session its second channel makes it NORMAL before that channel's reader runs, so a
     * channel B that is reset at once is recovered (the server waits for the client to re-attach it) instead of
     * ending a session still CONNECTING. The previous order (attach B, start its reader, then mark the session
     * established) ended it whenever the reader saw the reset first, which this test waits for.
     */
    @Test
    void aSessionIsEstablishedBeforeItsSecondChannelIsRead() throws Exception {
        TwinSession session = new TwinSession(9, new byte[16], TwinSession.Role.SERVER, Testing.fastPolicy(),
                Limits.defaults(), new TwinSession.PeerLimits(1 << 20, 64, 1 << 26), Map.of(), Clock.system(), new Metrics(),
                null, null, null);
        try {
            assertTrue(session.attach(Channel.A, connection()));
            SimNetwork net = new SimNetwork();
            var listener = net.listen(new InetSocketAddress("127.0.0.1", 0));
            var near = net.dial(listener.address(), Duration.ofSeconds(1));
            listener.accept().abort(); // the client's side of B is reset before the server reads a byte of it
            assertTrue(session.attach(Channel.B, new Connection(near, 1 << 16, 1 << 16, System::nanoTime)));
            Link b = session.link(Channel.B);
            Testing.await(Duration.ofSeconds(5), "B's reader saw the reset", () -> !b.isHealthy());
            assertNotEquals(SessionState.DISCONNECTED, session.state(), String.valueOf(session.terminalCause()));
            assertNotEquals(SessionState.CONNECTING, session.state());
        } finally {
            session.close();
        }
    }

    /**
     * The server tells its session listeners of every session established. Channel A is attached before WELCOME
     * goes out, so the client's ATTACH of B, handled on another thread as soon as WELCOME is out, always finds A
     * there and establishes the session where the listeners are told (it could once find A not yet attached, and
     * the session became NORMAL with no listener told).
     */
    @Test
    void theServerTellsItsListenersOfEverySession() throws Exception {
        List<String> told = new java.util.concurrent.CopyOnWriteArrayList<>();
        TwinlineServer server = Testing.server().onSession(s -> told.add(s.id())).start();
        try {
            for (int i = 0; i < 50; i++) {
                try (TwinlineClient client = Testing.client(server).connect()) {
                    String id = client.session().id();
                    Testing.await(Duration.ofSeconds(5), "the server told of " + id, () -> told.contains(id));
                }
            }
            assertEquals(50, told.size());
        } finally {
            server.close();
        }
    }

    @Test
    void aSessionClosedMeanwhileRefusesNewCallsClearly() {
        TwinlineServer server = Testing.server().start();
        try (TwinlineClient client = Testing.client(server).connect()) {
            client.close();
            assertThrows(SessionClosedException.class, () -> client.call("echo", utf8("late")));
        } finally {
            server.close();
        }
    }

    private static Connection connection() throws IOException {
        SimNetwork net = new SimNetwork();
        var listener = net.listen(new InetSocketAddress("127.0.0.1", 0));
        var near = net.dial(listener.address(), Duration.ofSeconds(1));
        listener.accept();
        return new Connection(near, 1 << 16, 1 << 16, System::nanoTime);
    }

    /** Wraps the endpoints a server accepts, numbered from 1. */
    private record EndpointDecorator(Network inner, java.util.function.BiFunction<Integer, Endpoint, Endpoint> wrap,
                                     AtomicInteger accepted) implements Network {
        @Override
        public Endpoint dial(InetSocketAddress address, Duration timeout) throws IOException {
            return inner.dial(address, timeout);
        }

        @Override
        public Listener listen(InetSocketAddress address) throws IOException {
            Listener l = inner.listen(address);
            return new Listener() {
                @Override
                public Endpoint accept() throws IOException {
                    return wrap.apply(accepted.incrementAndGet(), l.accept());
                }

                @Override
                public InetSocketAddress address() {
                    return l.address();
                }

                @Override
                public void close() {
                    l.close();
                }
            };
        }
    }

    /** Every write fails, as on a connection reset before the server answers. */
    private static final class UnwritableEndpoint extends ForwardingEndpoint {
        UnwritableEndpoint(Endpoint inner) {
            super(inner);
        }

        @Override
        public OutputStream output() {
            return new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    throw new SocketException("simulated: broken pipe");
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    throw new SocketException("simulated: broken pipe");
                }
            };
        }
    }

    /** Writes pass; the first (the handshake's answer) reaches the peer, then waits for {@code release}. */
    private static final class HeldAfterFirstWrite extends ForwardingEndpoint {
        private final CountDownLatch release;
        private final AtomicBoolean written = new AtomicBoolean();

        HeldAfterFirstWrite(Endpoint inner, CountDownLatch release) {
            super(inner);
            this.release = release;
        }

        @Override
        public OutputStream output() throws IOException {
            OutputStream out = inner.output();
            return new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    out.write(b);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    out.write(b, off, len);
                    if (written.compareAndSet(false, true)) {
                        try {
                            release.await(10, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }
            };
        }
    }

    /** The first read (the handshake) passes; the next, once the client is connected, is reset. */
    private static final class ResetOnSecondRead extends ForwardingEndpoint {
        private final CountDownLatch connected;
        private final AtomicInteger reads = new AtomicInteger();

        ResetOnSecondRead(Endpoint inner, CountDownLatch connected) {
            super(inner);
            this.connected = connected;
        }

        @Override
        public InputStream input() throws IOException {
            InputStream in = inner.input();
            return new ChunkInput() {
                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (reads.incrementAndGet() > 1) {
                        try {
                            connected.await(10, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        inner.abort();
                        throw new SocketException("simulated: connection reset");
                    }
                    return in.read(b, off, len);
                }
            };
        }
    }
}
