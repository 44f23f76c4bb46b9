package io.twinline.host;

import static io.twinline.host.Testing.text;
import static io.twinline.host.Testing.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.RecoveryPolicy;
import io.twinline.api.SessionState;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Quiet sessions (PROTOCOL §7.2) over real TCP on loopback, with {@code Testing.fastPolicy}'s 100 ms heartbeat,
 * 400 ms idle timeout and 300 ms probe timeout, and a quiet interval of its own:
 * <ul>
 *   <li>an idle session goes quiet at both ends and stays up on quiet heartbeats alone;
 *   <li>a call on a quiet session whose channel (A for the client's call, B for the server's) died silently is
 *       answered, exactly once: the call wakes the session's round, whose PING behind it finds the dead channel
 *       within a probe timeout. With a 60 s quiet interval, nothing else would find it before the call's 20 s
 *       timeout;
 *   <li>a quiet session whose channel dies silently while nobody calls is still found and recovered, later (the
 *       quiet interval plus the idle timeout);
 *   <li>a quiet session recovered from a reset has both ends' rounds back at the usual heartbeat at once, though
 *       they had been planned a minute away, so its new links are watched as closely as any.
 * </ul>
 */
class QuietSessionTest {
    private final Testing.RunCounter serverRuns = new Testing.RunCounter();
    private final Testing.RunCounter clientRuns = new Testing.RunCounter();
    private final List<String> clientTransitions = new CopyOnWriteArrayList<>();
    private TwinlineServer server;
    private TwinlineClient client;
    private TwinSession clientSide;
    private TwinSession serverSide;

    private void start(Duration quiet) {
        RecoveryPolicy policy = Testing.fastPolicy().withQuietInterval(quiet);
        server = Testing.server().recoveryPolicy(policy).handle("count", serverRuns.handler).start();
        client = Testing.client(server).recoveryPolicy(policy).handle("count", clientRuns.handler)
                .onStateChange((s, from, to, cause) -> clientTransitions.add(from + ">" + to))
                .connect();
        clientSide = Testing.twin(client);
        serverSide = Testing.serverSide(server, client.session());
        assertEquals("a", text(client.session().call("count", utf8("a"))), "a call before the session goes quiet");
        Testing.await(Duration.ofSeconds(30), "both ends quiet", () -> clientSide.quiet() && serverSide.quiet());
    }

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void anIdleSessionGoesQuietAtBothEndsAndStaysUpOnQuietHeartbeats() {
        start(Duration.ofMillis(1000));
        // Three quiet heartbeats each way: each end reads the other's PINGs and the answers to its own.
        Testing.awaitHeartbeats(6, server, client);
        assertEquals(SessionState.NORMAL, clientSide.state());
        assertEquals(SessionState.NORMAL, serverSide.state());
        assertEquals(List.of("CONNECTING>NORMAL"), List.copyOf(clientTransitions),
                "no recovery: the quiet PINGs kept both ends content");
        try (StatusEndpoint http = StatusEndpointTest.endpoint(server)) {
            String status = StatusEndpointTest.request("GET", http.address(), "/status").body();
            assertTrue(status.contains("\"quiet\":true,"), "the status shows the session quiet: " + status);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        assertEquals("b", text(client.session().call("count", utf8("b"))));
        assertEquals("c", text(serverSide.call("count", utf8("c"))));
    }

    /** Until both ends' next rounds are planned far away: only a call's wake-up can bring them sooner. */
    private void awaitRoundsPlannedLater() {
        long far = Duration.ofSeconds(10).toNanos();
        Testing.await(Duration.ofSeconds(60), () -> "next rounds planned past 10 s: client in "
                + clientSide.nextRoundInNanos() + " ns, quiet " + clientSide.quiet() + "; server in "
                + serverSide.nextRoundInNanos() + " ns, quiet " + serverSide.quiet(),
                () -> clientSide.quiet() && serverSide.quiet() && clientSide.nextRoundInNanos() > far
                        && serverSide.nextRoundInNanos() > far);
    }

    @Test
    void aClientCallOnAQuietSessionWhoseChannelADiedSilentlyIsAnsweredOnce() {
        callOnAQuietSessionWithASilentChannel(() -> clientSide, Fault.SILENT_A, () -> client.session(), serverRuns);
    }

    @Test
    void aServerCallOnAQuietSessionWhoseChannelBDiedSilentlyIsAnsweredOnce() {
        callOnAQuietSessionWithASilentChannel(() -> serverSide, Fault.SILENT_B, () -> serverSide, clientRuns);
    }

    /** The caller's send channel goes silent on a quiet session; its call must be answered, and run once. */
    private void callOnAQuietSessionWithASilentChannel(java.util.function.Supplier<TwinSession> faulty, Fault fault,
                                                        java.util.function.Supplier<io.twinline.api.Session> caller,
                                                        Testing.RunCounter runs) {
        start(RecoveryPolicy.MAX_QUIET_INTERVAL);
        awaitRoundsPlannedLater();
        assertTrue(HostAccess.inject(faulty.get(), fault));
        assertEquals("late", text(caller.get().call("count", utf8("late"), Duration.ofSeconds(20))));
        assertEquals(1, runs.runs("late"));
        assertTrue(clientTransitions.contains("NORMAL>RECOVERING"), clientTransitions.toString());
    }

    @Test
    void aQuietSessionRecoveredFromAResetWatchesItsNewLinksAtTheUsualHeartbeat() {
        // The server's next round is planned almost a minute away. The reset is seen at once by the readers; the
        // recovery's transitions and the new link must bring both ends' rounds back to the usual heartbeat, or a
        // silence of a new link would go unnoticed until the round planned before the reset.
        start(RecoveryPolicy.MAX_QUIET_INTERVAL);
        awaitRoundsPlannedLater();
        assertTrue(HostAccess.inject(clientSide, Fault.RESET_A));
        long heartbeat = Testing.fastPolicy().heartbeatInterval().toNanos();
        Testing.await(Duration.ofSeconds(20), () -> "recovered, with both ends' next rounds within a heartbeat: "
                + clientTransitions + ", client in " + clientSide.nextRoundInNanos() + " ns, server in "
                + serverSide.nextRoundInNanos() + " ns",
                () -> clientTransitions.contains("RECOVERING>NORMAL") && clientSide.state() == SessionState.NORMAL
                        && serverSide.state() == SessionState.NORMAL
                        && clientSide.nextRoundInNanos() <= heartbeat && serverSide.nextRoundInNanos() <= heartbeat);
        assertEquals("e", text(client.session().call("count", utf8("e"))));
    }

    @Test
    void aQuietSessionWhoseChannelDiesSilentlyWithoutCallsIsStillRecovered() {
        start(Duration.ofMillis(1000));
        assertTrue(HostAccess.inject(clientSide, Fault.SILENT_B));
        Testing.await(Duration.ofSeconds(30), () -> "recovered: " + clientTransitions,
                () -> clientTransitions.contains("RECOVERING>NORMAL") && clientSide.state() == SessionState.NORMAL);
        assertEquals("d", text(client.session().call("count", utf8("d"))));
        assertEquals(1, serverRuns.runs("d"));
    }
}
