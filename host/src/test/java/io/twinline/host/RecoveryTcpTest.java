package io.twinline.host;

import static io.twinline.host.Testing.text;
import static io.twinline.host.Testing.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.Channel;
import io.twinline.api.DisconnectedException;
import io.twinline.api.SessionState;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineException;
import io.twinline.api.TwinlineServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

/**
 * Real TCP on loopback, mid-traffic in both directions, with {@code Testing.fastPolicy}: each fault of DESIGN §3–4 is
 * injected and both hosts must end NORMAL with every call answered exactly once, or (where recovery is impossible)
 * DISCONNECTED with every caller told at once.
 * <ul>
 *   <li>{@code channelAResetMidTrafficRecovers}: the client resets A ({@code RESET_A}): Fig. 6 at the client, Fig. 7
 *       at the server.
 *   <li>{@code channelBResetByTheServerRecovers}: the server resets B: Fig. 8 at the server, Fig. 5 at the client.
 *   <li>{@code silentChannelAIsDetectedByHeartbeatsAndRecovers} ({@code SILENT_A}): the client's unanswered PING →
 *       Fig. 6; the server's idle timeout → Fig. 7.
 *   <li>{@code silentChannelBIsDetectedByTheIdleTimeoutAndRecovers} ({@code SILENT_B}): the client's idle timeout →
 *       Fig. 5; the server's unanswered PING → Fig. 8.
 *   <li>{@code halfOpenChannelAIsClosedByTheServerAndTheClientReattaches} ({@code HALF_OPEN_A}): Fig. 7 closes A
 *       (the half-open reading), then Fig. 6.
 *   <li>{@code bothChannelsResetAtOnceRecoverAtBothEnds}: the client resets A and B together. Whichever process
 *       wins RECOVERING, both channels are re-attached and both ends are {@code NORMAL} again (a probe that finds
 *       the other channel failed, not silent, recovers it too; see {@code RecoveryProcesses}).
 *   <li>{@code secondFaultDuringRecoveryEndsInAgreement}: the client resets A, then the server resets B during that
 *       recovery: the 615/620 and 815/820 deferral, or both {@code DISCONNECTED}.
 *   <li>{@code serverGoneEndsTheClientInDisconnectedWithEveryCallerTold}: the server's network crashes it (listener
 *       closed, both connections reset,
 *       no GOODBYE); the client's Figs. 5/6 give up (probe fails, or reconnects refused) and every caller gets
 *       {@code DisconnectedException}.
 *   <li>{@code optInReconnectStartsAFreshSessionAfterDisconnect}: a crash, then a new server on the same port:
 *       {@code reconnectAfterDisconnect} opens a new session.
 * </ul>
 */
class RecoveryTcpTest {
    private final Testing.RunCounter serverRuns = new Testing.RunCounter();
    private final Testing.RunCounter clientRuns = new Testing.RunCounter();
    private final List<String> clientTransitions = new CopyOnWriteArrayList<>();
    private TwinlineServer server;
    private TwinlineClient client;
    private TwinSession clientSide;
    private TwinSession serverSide;
    private Traffic forward;
    private Traffic reverse;

    @BeforeEach
    void start() {
        server = Testing.server().handle("count", serverRuns.handler).start();
        client = Testing.client(server).handle("count", clientRuns.handler)
                .onStateChange((s, from, to, cause) -> clientTransitions.add(from + ">" + to))
                .connect();
        clientSide = Testing.twin(client);
        serverSide = Testing.serverSide(server, client.session());
        forward = Traffic.start("c", client::session, 8);
        reverse = Traffic.start("s", () -> serverSide, 8);
        Testing.await(Duration.ofSeconds(5), "traffic flowing both ways",
                () -> forward.answered.get() > 200 && reverse.answered.get() > 200);
    }

    @AfterEach
    void stop() throws InterruptedException {
        forward.stopAndJoin();
        reverse.stopAndJoin();
        client.close();
        server.close();
    }

    /** Waits for recovery, lets traffic run on, and checks the promise: all answered, each exactly once. */
    private void assertRecoveredExactlyOnce() throws InterruptedException {
        Testing.await(Duration.ofSeconds(15), () -> "both ends NORMAL with healthy channels (client "
                + clientSide.state() + " " + links(clientSide) + ", server " + serverSide.state() + " "
                + links(serverSide) + ")", () -> clientTransitions.contains("RECOVERING>NORMAL")
                && clientSide.state() == SessionState.NORMAL
                && healthy(clientSide) && healthy(serverSide));
        long f = forward.answered.get();
        long r = reverse.answered.get();
        Testing.await(Duration.ofSeconds(10), "traffic flows again after recovery",
                () -> forward.answered.get() > f + 100 && reverse.answered.get() > r + 100);
        forward.stopAndJoin();
        reverse.stopAndJoin();
        assertEquals(List.of(), List.copyOf(forward.failures), "client callers all answered");
        assertEquals(List.of(), List.copyOf(reverse.failures), "server callers all answered");
        assertEquals(List.of(), List.copyOf(forward.wrongAnswers));
        assertEquals(List.of(), List.copyOf(reverse.wrongAnswers));
        assertNull(serverRuns.firstDuplicate(), "no client call ran twice");
        assertNull(clientRuns.firstDuplicate(), "no server call ran twice");
        for (String body : forward.answeredBodies) {
            assertEquals(1, serverRuns.runs(body), body);
        }
        for (String body : reverse.answeredBodies) {
            assertEquals(1, clientRuns.runs(body), body);
        }
        assertTrue(clientTransitions.contains("NORMAL>RECOVERING"), clientTransitions.toString());
    }

    /** NORMAL with both channels up, and neither side still holding a failed link. */
    private static boolean healthy(TwinSession s) {
        return s.state() == SessionState.NORMAL && s.link(Channel.A).isHealthy() && s.link(Channel.B).isHealthy();
    }

    private static String links(TwinSession s) {
        Link a = s.link(Channel.A);
        Link b = s.link(Channel.B);
        return "A=" + a + (a.isHealthy() ? " up" : " down") + " B=" + b + (b.isHealthy() ? " up" : " down");
    }

    /**
     * For a second fault during a recovery two endings are allowed: the deferral mends both channels, or a process
     * gives up (a probe unanswered on an open channel, blocks 525/725, or a budget overrun) and the session is
     * DISCONNECTED. Either way both hosts must agree and no caller may hang.
     */
    private void assertRecoveredOrBothDisconnected() throws InterruptedException {
        Testing.await(Duration.ofSeconds(15), () -> "both ends settle in agreement (client " + clientSide.state()
                + " " + links(clientSide) + ", server " + serverSide.state() + " " + links(serverSide) + ")",
                () -> (healthy(clientSide) && healthy(serverSide))
                        || (clientSide.state() == SessionState.DISCONNECTED
                        && serverSide.state() == SessionState.DISCONNECTED));
        if (clientSide.state() == SessionState.NORMAL) {
            assertRecoveredExactlyOnce();
            return;
        }
        forward.stopAndJoin();
        reverse.stopAndJoin();
        for (TwinlineException e : forward.failures) {
            assertInstanceOf(DisconnectedException.class, e);
        }
        for (TwinlineException e : reverse.failures) {
            assertInstanceOf(DisconnectedException.class, e);
        }
        assertNull(serverRuns.firstDuplicate(), "no client call ran twice");
        assertNull(clientRuns.firstDuplicate(), "no server call ran twice");
        assertThrows(DisconnectedException.class, () -> client.call("echo", utf8("late")));
    }

    @Test
    void channelAResetMidTrafficRecovers() throws Exception {
        Link before = clientSide.link(Channel.A);
        assertTrue(HostAccess.inject(clientSide, Fault.RESET_A));
        assertRecoveredExactlyOnce();
        assertNotSame(before, clientSide.link(Channel.A));
    }

    @Test
    void channelBResetByTheServerRecovers() throws Exception {
        Link before = serverSide.link(Channel.B);
        assertTrue(HostAccess.inject(serverSide, Fault.RESET_B));
        assertRecoveredExactlyOnce();
        assertNotSame(before, serverSide.link(Channel.B));
    }

    @RepeatedTest(3)
    void bothChannelsResetAtOnceRecoverAtBothEnds() throws Exception {
        assertTrue(HostAccess.inject(clientSide, Fault.RESET_A));
        assertTrue(HostAccess.inject(clientSide, Fault.RESET_B));
        Testing.await(Duration.ofSeconds(15), () -> "both ends NORMAL with both channels up (client "
                + clientSide.state() + " " + links(clientSide) + ", server " + serverSide.state() + " "
                + links(serverSide) + ")", () -> healthy(clientSide) && healthy(serverSide));
        assertRecoveredExactlyOnce();
    }

    @Test
    void silentChannelAIsDetectedByHeartbeatsAndRecovers() throws Exception {
        Link a = clientSide.link(Channel.A);
        assertTrue(HostAccess.inject(clientSide, Fault.SILENT_A));
        assertRecoveredExactlyOnce();
        assertNotSame(a, clientSide.link(Channel.A));
    }

    @Test
    void silentChannelBIsDetectedByTheIdleTimeoutAndRecovers() throws Exception {
        Link b = clientSide.link(Channel.B);
        assertTrue(HostAccess.inject(clientSide, Fault.SILENT_B));
        assertRecoveredExactlyOnce();
        assertNotSame(b, clientSide.link(Channel.B));
    }

    @Test
    void halfOpenChannelAIsClosedByTheServerAndTheClientReattaches() throws Exception {
        // The client's side of A looks healthy (it still reads), but nothing it writes arrives: the server sees
        // silence, runs Fig. 7 (probe B, close A), and the client sees A fail and runs Fig. 6.
        Link a = clientSide.link(Channel.A);
        assertTrue(HostAccess.inject(clientSide, Fault.HALF_OPEN_A));
        assertRecoveredExactlyOnce();
        assertNotSame(a, clientSide.link(Channel.A));
    }

    @Test
    void secondFaultDuringRecoveryEndsInAgreement() throws Exception {
        assertTrue(HostAccess.inject(clientSide, Fault.RESET_A));
        Testing.await(Duration.ofSeconds(5), "client recovering or already back", () -> clientTransitions
                .contains("NORMAL>RECOVERING"));
        HostAccess.inject(serverSide, Fault.RESET_B); // unless B is already down
        assertRecoveredOrBothDisconnected();
    }

    @Test
    void serverGoneEndsTheClientInDisconnectedWithEveryCallerTold() throws Exception {
        Testing.NETWORK.crashServers();
        // Bound: detection is immediate for a reset; then at most the recovery time limit (3 s) of reconnect tries.
        Testing.await(Duration.ofSeconds(10), "client DISCONNECTED",
                () -> clientSide.state() == SessionState.DISCONNECTED);
        forward.stopAndJoin();
        for (TwinlineException e : forward.failures) {
            DisconnectedException d = assertInstanceOf(DisconnectedException.class, e);
            assertTrue(d.outcomeUnknown());
            assertTrue(d.getMessage().contains("disconnected"), d.getMessage());
        }
        DisconnectedException later = assertThrows(DisconnectedException.class,
                () -> client.call("echo", utf8("late")));
        assertTrue(later.getMessage().contains(client.session().id()), later.getMessage());
    }

    @Test
    void optInReconnectStartsAFreshSessionAfterDisconnect() throws Exception {
        int port = server.address().getPort();
        try (TwinlineClient riding = Testing.client(server).reconnectAfterDisconnect(true).connect()) {
            String first = riding.session().id();
            Testing.NETWORK.crashServers();
            Testing.await(Duration.ofSeconds(10), "first session DISCONNECTED",
                    () -> riding.session().state() == SessionState.DISCONNECTED);
            try (TwinlineServer restarted = Testing.server().bind("127.0.0.1", port).start()) {
                Testing.await(Duration.ofSeconds(15), "a fresh session", () -> !riding.session().id().equals(first)
                        || riding.session().state() == SessionState.NORMAL);
                Testing.await(Duration.ofSeconds(15), "fresh session NORMAL",
                        () -> riding.session().state() == SessionState.NORMAL);
                assertEquals("again", text(riding.call("echo", utf8("again"))));
            }
        }
    }
}
