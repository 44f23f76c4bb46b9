package io.twinline.host;

import static io.twinline.host.Testing.text;
import static io.twinline.host.Testing.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.CallTimeoutException;
import io.twinline.api.ConnectFailedException;
import io.twinline.api.Limits;
import io.twinline.api.NoSuchRouteException;
import io.twinline.api.RemoteFailureException;
import io.twinline.api.Session;
import io.twinline.api.SessionState;
import io.twinline.api.Twinline;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import io.twinline.api.spi.ServerSpec;
import io.twinline.recovery.Clock;
import io.twinline.transport.Frame;
import io.twinline.transport.FrameCodec;
import io.twinline.transport.RejectReason;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Calls both ways over real TCP on loopback, one session: bodies empty and large, handler failures and errors
 * answered with {@code HANDLER_FAILED} and the slot freed, an unknown route, bad arguments refused before sending, a
 * handler that calls the peer back, a handler that leaves its interrupt flag set without breaking the link, and every
 * transition seen by a state listener. Also: a slow call times out without failing the session (PINGs and PONGs flow
 * while it runs); an idle session keeps beating while the server's writers come and go; responses are written by
 * their handlers, not by a writer left over from an odd frame; connecting to nothing fails with a clear message; a
 * client whose recovery budget exceeds the server's re-attach window fails at connect ("…exceeds the server's
 * re-attach window…"); the server refuses sessions past {@code maxSessions} with {@code SERVER_FULL} and gives the
 * slot back when a session ends, and HELLOs arriving together never pass the limit.
 */
class CallsTest {
    private TwinlineServer server;
    private TwinlineClient client;

    @BeforeEach
    void start() {
        server = Testing.server().handle("whoami", (session, body) -> utf8(session.id())).start();
        client = Testing.client(server).handle("whoami", (session, body) -> utf8("client " + session.id())).connect();
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    @Test
    void clientCallsServerAndServerCallsClient() {
        assertEquals(SessionState.NORMAL, client.session().state());
        assertEquals("ping", text(client.call("echo", utf8("ping"))));
        assertEquals(client.session().id(), text(client.call("whoami", new byte[0])));
        Testing.await(Duration.ofSeconds(5), "server sees the session as NORMAL",
                () -> server.sessions().size() == 1 && server.sessions().get(0).state() == SessionState.NORMAL);
        assertEquals("pong", text(server.sessions().get(0).call("echo", utf8("pong"))));
        assertEquals("client " + client.session().id(), text(server.sessions().get(0).call("whoami", new byte[0])));
    }

    @Test
    void emptyAndLargeBodiesArriveIntact() {
        assertArrayEquals(new byte[0], client.call("echo", new byte[0]));
        byte[] big = new byte[3 << 20];
        new java.util.Random(1).nextBytes(big);
        assertArrayEquals(big, client.call("echo", big));
    }

    @Test
    void manyLongResponsesBeyondTheClientsBudgetArriveIntactWithoutAFailure() throws Exception {
        int length = 150_000; // over two chunks each
        try (TwinlineServer s = Testing.server().handle("long", (session, body) -> {
                    byte[] answer = new byte[length];
                    java.util.Arrays.fill(answer, body[0]);
                    return answer;
                }).start();
             TwinlineClient c = Testing.client(s)
                     .limits(Limits.defaults().withMaxMessageBytes(256 * 1024).withMaxInFlightBytes(2 * length))
                     .connect()) {
            List<String> states = new java.util.concurrent.CopyOnWriteArrayList<>();
            c.session().addStateListener((session, from, to, cause) -> states.add(to.name()));
            int calls = 32; // at once: the server may begin only two of their responses at a time
            List<java.util.concurrent.Future<byte[]>> answers = new java.util.ArrayList<>();
            try (var callers = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < calls; i++) {
                    byte tag = (byte) i;
                    answers.add(callers.submit(() -> c.call("long", new byte[] {tag})));
                }
                for (int i = 0; i < calls; i++) {
                    byte[] answer = answers.get(i).get();
                    assertEquals(length, answer.length);
                    assertEquals((byte) i, answer[0]);
                    assertEquals((byte) i, answer[length - 1]);
                }
            }
            assertEquals(0, HostAccess.metrics(c).get("malformed_frames"), "the server kept to the client's budget");
            assertEquals(List.of(), states, "the session never left NORMAL");
        }
    }

    @Test
    void handlerFailureReachesCallerAndSessionGoesOn() {
        RemoteFailureException e = assertThrows(RemoteFailureException.class,
                () -> client.call("fail", utf8("bad input")));
        assertTrue(e.remoteMessage().contains("IllegalStateException"), e.remoteMessage());
        assertTrue(e.remoteMessage().contains("boom: bad input"), e.remoteMessage());
        assertEquals("fail", e.route());
        assertEquals("still fine", text(client.call("echo", utf8("still fine"))));
        assertEquals(SessionState.NORMAL, client.session().state());
    }

    @Test
    void aHandlerThrowingAnErrorStillAnswersAndFreesTheSlot() {
        client.close();
        server.close();
        server = Testing.server().handle("assert", (session, body) -> {
            throw new AssertionError("invariant broken");
        }).start();
        // One call in flight at a time: a call left unanswered would keep the only slot, and the second would time out.
        client = Testing.client(server).limits(io.twinline.api.Limits.defaults().withMaxInFlight(1)).connect();
        for (int i = 0; i < 2; i++) {
            RemoteFailureException e = assertThrows(RemoteFailureException.class,
                    () -> client.call("assert", new byte[0], Duration.ofSeconds(10)));
            assertTrue(e.remoteMessage().contains("AssertionError: invariant broken"), e.remoteMessage());
        }
        assertEquals("still fine", text(client.call("echo", utf8("still fine"))));
    }

    @Test
    void unknownRouteGivesAClearError() {
        NoSuchRouteException e = assertThrows(NoSuchRouteException.class, () -> client.call("nope", new byte[0]));
        assertTrue(e.getMessage().contains("no handler for route 'nope'"), e.getMessage());
        assertEquals("x", text(client.call("echo", utf8("x"))));
    }

    @Test
    void badArgumentsAreRefusedBeforeSending() {
        assertThrows(IllegalArgumentException.class, () -> client.call("", new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> client.call("r".repeat(256), new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> client.call("echo", new byte[0], Duration.ZERO));
        assertThrows(IllegalArgumentException.class,
                () -> client.call("echo", new byte[Limits.defaults().maxMessageBytes() + 1]));
        assertThrows(NullPointerException.class, () -> client.call("echo", null));
    }

    @Test
    void slowCallTimesOutAndIsNotAFailureOfTheSession() {
        assertThrows(CallTimeoutException.class, () -> client.call("slow", utf8("1500"), Duration.ofMillis(200)));
        // The handler is slower than the idle timeout (400 ms): heartbeats keep the channels alive meanwhile.
        assertEquals("900", text(client.call("slow", utf8("900"))));
        assertEquals(SessionState.NORMAL, client.session().state());
        assertEquals(0, HostAccess.metrics(client).get("channel_failures"));
    }

    /**
     * The server's writer threads end once a link has carried only heartbeats for two intervals (200 ms here); after
     * that each PING and PONG starts one. Idle for fifteen heartbeats, then calls both ways, then many at once.
     */
    @Test
    void idleSessionKeepsBeatingWhileTheServersWritersComeAndGo() throws Exception {
        assertEquals("warm", text(client.call("echo", utf8("warm"))));
        Testing.awaitHeartbeats(15, server, client); // idle for fifteen heartbeats
        assertEquals(SessionState.NORMAL, client.session().state());
        assertEquals(0, HostAccess.metrics(client).get("channel_failures"));
        assertEquals(0, HostAccess.metrics(server).get("channel_failures"));
        assertEquals("after idle", text(client.call("echo", utf8("after idle"))));
        Session serverSession = server.sessions().get(0);
        assertEquals("reverse", text(serverSession.call("echo", utf8("reverse"))));
        Thread.sleep(500); // writers retire again
        int callers = 32;
        java.util.List<Thread> threads = new java.util.ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int c = 0; c < callers; c++) {
            int caller = c;
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    for (int i = 0; i < 100; i++) {
                        String body = caller + ":" + i;
                        Session from = caller % 2 == 0 ? client.session() : serverSession;
                        assertEquals(body, text(from.call("echo", utf8(body))));
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertNull(failure.get(), () -> "a call failed: " + failure.get());
        assertEquals(0, HostAccess.metrics(client).get("channel_failures"));
    }

    /**
     * On the receive channel each handler writes its own response: a writer thread started there for another frame
     * ends once its queue is empty instead of staying while calls flow, which would make every later response wait
     * for that thread to be woken. Sequential calls right after such a start: most of their handlers find no writer
     * (one still letting go of the right is a race of the scheduler; a writer that stayed would be found by all).
     */
    @Test
    void responsesAreWrittenByTheirHandlersNotByALingeringWriter() throws Exception {
        java.util.concurrent.atomic.AtomicInteger sawWriter = new java.util.concurrent.atomic.AtomicInteger();
        // Heartbeats 5 s apart: the client's PINGs on A (every 100 ms with the fast policy, since it reads nothing
        // else there) would have the server queue PONGs beside the responses, and start writers this test does
        // not count against the handlers, as often as the calls are slow.
        io.twinline.api.RecoveryPolicy slowHeartbeat = Testing.fastPolicy().withIdleTimeout(Duration.ofSeconds(10))
                .withHeartbeatInterval(Duration.ofSeconds(5)).withReattachWindow(Duration.ofSeconds(30));
        try (TwinlineServer s = Testing.server().recoveryPolicy(slowHeartbeat)
                .handle("look", (session, body) -> {
                    Link receive = ((TwinSession) session).link(io.twinline.api.Channel.A);
                    if (receive.connection.writerActive()) {
                        sawWriter.incrementAndGet();
                    }
                    return body;
                }).start();
             TwinlineClient c = Testing.client(s).recoveryPolicy(slowHeartbeat).connect()) {
            assertEquals("warm", text(c.call("look", utf8("warm"))));
            TwinSession serverSession = (TwinSession) s.sessions().get(0);
            // A PONG nobody asked for (the client ignores its nonce) makes the server start a writer on channel A.
            serverSession.link(io.twinline.api.Channel.A).connection.send(new io.twinline.transport.Frame.Pong(7));
            for (int i = 0; i < 10; i++) {
                assertEquals("a" + i, text(c.call("look", utf8("a" + i)))); // the writer may still be on its way out
            }
            sawWriter.set(0);
            for (int i = 0; i < 40; i++) {
                assertEquals("b" + i, text(c.call("look", utf8("b" + i))));
            }
            // One caller, so no other handler holds the right; but the previous handler may not have let go of it
            // yet when the next call arrives: its caller got the response as soon as it was flushed, and on a
            // starved machine the handler's thread may wait a while to run again. A writer that stayed while calls
            // flow would be found by every handler.
            assertTrue(sawWriter.get() < 20, () -> sawWriter.get() + " of 40 handlers found a writer running");
            assertEquals(0, HostAccess.metrics(c).get("channel_failures"));
        }
    }

    /**
     * A handler that returns with its interrupt flag set (it caught an InterruptedException and restored the flag,
     * as it should) writes its response itself when no writer runs: the link must go on serving (a writer that
     * kept the right to write after an interrupt once left every later frame of its link queued for good).
     */
    @Test
    void handlerLeavingItsInterruptFlagSetDoesNotBreakTheLink() throws Exception {
        try (TwinlineServer s = Testing.server()
                .handle("interrupted", (session, body) -> {
                    Thread.currentThread().interrupt();
                    return body;
                }).start();
             TwinlineClient c = Testing.client(s).connect()) {
            for (int i = 0; i < 3; i++) {
                Thread.sleep(400); // the server's writers end after 200 ms of heartbeats only
                assertEquals("x" + i, text(c.call("interrupted", utf8("x" + i))));
            }
            assertEquals(0, HostAccess.metrics(c).get("channel_failures"));
            assertEquals(0, HostAccess.metrics(s).get("channel_failures"));
            assertEquals(SessionState.NORMAL, c.session().state());
        }
    }

    @Test
    void handlerCanCallThePeerBack() {
        try (TwinlineServer s = Testing.server()
                .handle("relay", (session, body) -> session.call("echo", body))
                .start();
             TwinlineClient c = Testing.client(s).connect()) {
            assertEquals("round trip", text(c.call("relay", utf8("round trip"))));
        }
    }

    @Test
    void stateListenerSeesEveryTransition() {
        AtomicReference<String> seen = new AtomicReference<>("");
        try (TwinlineClient c = Testing.client(server)
                .onStateChange((s, from, to, cause) -> seen.updateAndGet(v -> v + from + ">" + to + " "))
                .connect()) {
            assertEquals("CONNECTING>NORMAL ", seen.get());
            c.close();
            assertEquals("CONNECTING>NORMAL NORMAL>CLOSED ", seen.get());
        }
    }

    @Test
    void clientWhoseBudgetExceedsTheServerWindowFailsFast() {
        ConnectFailedException e = assertThrows(ConnectFailedException.class, () -> Twinline.client()
                .server("127.0.0.1", server.address().getPort())
                .recoveryPolicy(Testing.fastPolicy().withRecoveryTimeLimit(Duration.ofSeconds(60)))
                .connect());
        assertTrue(e.getMessage().contains("exceeds the server's re-attach window"), e.getMessage());
    }

    @Test
    void connectToNothingFailsWithAClearMessage() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        int closedPort = port;
        ConnectFailedException e = assertThrows(ConnectFailedException.class,
                () -> Twinline.client().server("127.0.0.1", closedPort).connect());
        assertTrue(e.getMessage().contains("cannot connect"), e.getMessage());
    }

    @Test
    void serverRefusesSessionsPastItsLimit() {
        try (TwinlineServer s = Testing.server().limits(Limits.defaults().withMaxSessions(1)).start();
             TwinlineClient first = Testing.client(s).connect()) {
            ConnectFailedException e = assertThrows(ConnectFailedException.class, () -> Testing.client(s).connect());
            assertTrue(e.getMessage().contains("SERVER_FULL"), e.getMessage());
            assertEquals("ok", text(first.call("echo", utf8("ok"))));
            first.close();
            // The ended session's slot is given back: the next client gets in once the server has seen the end.
            AtomicReference<TwinlineClient> next = new AtomicReference<>();
            Testing.await(Duration.ofSeconds(10), "a new session after the first ended", () -> {
                try {
                    next.set(Testing.client(s).connect());
                    return true;
                } catch (ConnectFailedException full) {
                    return false;
                }
            });
            try (TwinlineClient second = next.get()) {
                assertEquals("ok", text(second.call("echo", utf8("ok"))));
            }
        }
    }

    @Test
    void hellosArrivingTogetherNeverPassTheSessionLimit() throws Exception {
        int limit = 3;
        int dialers = 30;
        // Creating a session takes 20 ms here (its clock is read while it is built), so every HELLO is being handled
        // at once: a check of the count followed by a later insert would let them all in.
        Clock slowToCreate = new Clock() {
            @Override
            public long nanoTime() {
                boolean creating = StackWalker.getInstance().walk(frames -> frames.anyMatch(f ->
                        f.getClassName().equals(TwinSession.class.getName()) && f.getMethodName().equals("<init>")));
                if (creating) {
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return System.nanoTime();
            }

            @Override
            public void sleep(long nanos) throws InterruptedException {
                Clock.system().sleep(nanos);
            }
        };
        ServerRuntime s = ServerRuntime.start(new ServerSpec(new InetSocketAddress("127.0.0.1", 0), Optional.empty(),
                Map.of("echo", Testing.ECHO), Testing.fastPolicy(), Limits.defaults().withMaxSessions(limit),
                List.of(), List.of()), slowToCreate, Network.TCP);
        java.util.List<java.net.Socket> sockets = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < dialers; i++) {
                java.net.Socket socket = new java.net.Socket("127.0.0.1", s.address().getPort());
                socket.setSoTimeout(10_000);
                sockets.add(socket);
            }
            java.io.ByteArrayOutputStream hello = new java.io.ByteArrayOutputStream();
            new FrameCodec(4096).write(new Frame.Hello(FrameCodec.VERSION, 1 << 20, 64, 1 << 26),
                    new java.io.DataOutputStream(hello));
            for (java.net.Socket socket : sockets) {
                socket.getOutputStream().write(hello.toByteArray());
            }
            int welcomed = 0;
            int full = 0;
            for (java.net.Socket socket : sockets) {
                Frame answer = new FrameCodec(4096).read(new java.io.DataInputStream(socket.getInputStream()));
                if (answer instanceof Frame.Welcome) {
                    welcomed++;
                } else if (answer instanceof Frame.Rejected r && r.reason() == RejectReason.SERVER_FULL) {
                    full++;
                }
            }
            assertEquals(limit, welcomed, "sessions created");
            assertEquals(dialers - limit, full, "HELLOs refused SERVER_FULL");
            assertEquals(limit, s.allSessions().size(), "sessions held by the server");
        } finally {
            for (java.net.Socket socket : sockets) {
                socket.close();
            }
            s.close();
        }
    }
}
