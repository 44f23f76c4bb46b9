package io.twinline.host;

import static io.twinline.host.Testing.await;
import static io.twinline.host.Testing.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.CallOutcome;
import io.twinline.api.CallTimeoutException;
import io.twinline.api.Channel;
import io.twinline.api.FailureCause;
import io.twinline.api.MetricsSnapshot;
import io.twinline.api.NoSuchRouteException;
import io.twinline.api.RemoteFailureException;
import io.twinline.api.Session;
import io.twinline.api.SessionState;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The metrics api: each count follows what happened on a real session over loopback, at the server, the client and
 * the session, and the two ends agree where they must (calls made at one end are calls handled at the other, bytes
 * sent are bytes received).
 */
@Timeout(60)
class MetricsTest {

    @Test
    void heartbeatRoundTripsAreCountedByTheRuntimeInTheirBucketsAndNotByTheSession() throws Exception {
        Metrics metrics = new Metrics();
        metrics.heartbeatAnswered(Duration.ofMillis(3).toNanos()); // (2.5 ms, 5 ms]
        metrics.heartbeatAnswered(Duration.ofMillis(5).toNanos()); // the bound itself: the same bucket
        metrics.heartbeatAnswered(Duration.ofSeconds(20).toNanos()); // past the last bound
        MetricsSnapshot.Histogram h = metrics.snapshot(java.util.List.of()).heartbeatRoundTrip();
        assertEquals(Duration.ofMillis(5), h.upperBounds().get(4));
        assertEquals(0L, h.cumulativeCounts().get(3), "nothing at or below 2.5 ms");
        assertEquals(2L, h.cumulativeCounts().get(4));
        assertEquals(2L, h.cumulativeCounts().get(h.upperBounds().size() - 1), "two within 10 s");
        assertEquals(3, h.count());
        assertEquals(Duration.ofMillis(20_008), h.sum());

        // Over loopback: the client's and the server's heartbeats are answered, and counted by each runtime.
        try (TwinlineServer server = Testing.server().start();
             TwinlineClient client = Testing.client(server).connect()) {
            await(Duration.ofSeconds(30), "heartbeats answered at both ends",
                    () -> server.metrics().heartbeatRoundTrip().count() >= 2
                            && client.metrics().heartbeatRoundTrip().count() >= 2);
            assertEquals(0, client.session().metrics().heartbeatRoundTrip().count(), "the runtime's only");
        }
    }

    @Test
    void callsAreCountedByOutcomeAtBothEndsAndTheirDurationsObserved() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (TwinlineServer server = Testing.server().handle("hold", (s, b) -> {
                release.await(20, TimeUnit.SECONDS);
                return b;
            }).start();
             TwinlineClient client = Testing.client(server).connect()) {
            for (int i = 0; i < 25; i++) {
                client.call("echo", utf8("call-" + i));
            }
            assertThrows(RemoteFailureException.class, () -> client.call("fail", utf8("x")));
            assertThrows(NoSuchRouteException.class, () -> client.call("nowhere", utf8("x")));
            assertThrows(CallTimeoutException.class, () -> client.call("hold", utf8("x"), Duration.ofMillis(50)));
            assertThrows(IllegalArgumentException.class, () -> client.call("", utf8("x"))); // not a call: not counted
            release.countDown();
            Session serverSide = Testing.serverSide(server, client.session());
            for (int i = 0; i < 7; i++) {
                serverSide.call("echo", utf8("back-" + i));
            }
            await(Duration.ofSeconds(10), "the held call answered at the server",
                    () -> server.metrics().callsHandledTotal() == 28);

            MetricsSnapshot c = client.metrics();
            assertEquals(25, c.callsMade().get(CallOutcome.OK));
            assertEquals(1, c.callsMade().get(CallOutcome.HANDLER_FAILED));
            assertEquals(1, c.callsMade().get(CallOutcome.NO_SUCH_ROUTE));
            assertEquals(1, c.callsMade().get(CallOutcome.TIMEOUT));
            assertEquals(28, c.callsMadeTotal());
            assertEquals(28, c.callDuration().count(), "one observation per call made");
            assertEquals(7, c.callsHandled().get(CallOutcome.OK));

            MetricsSnapshot s = server.metrics();
            assertEquals(26, s.callsHandled().get(CallOutcome.OK), "25 echoes and the held call");
            assertEquals(1, s.callsHandled().get(CallOutcome.HANDLER_FAILED));
            assertEquals(1, s.callsHandled().get(CallOutcome.NO_SUCH_ROUTE));
            assertEquals(7, s.callsMade().get(CallOutcome.OK));
            assertEquals(7, s.callDuration().count());
            assertEquals(1, s.sessionsOpened());
            assertEquals(1, s.sessions().get(SessionState.NORMAL));

            MetricsSnapshot own = client.session().metrics();
            assertEquals(c.callsMade(), own.callsMade(), "the client's only session made all its calls");
            assertEquals(1, own.sessions().get(SessionState.NORMAL));
            assertEquals(0, c.channelFailuresTotal());
            assertEquals(0, s.recoveriesTotal());
        }
    }

    @Test
    void bytesSentAtOneEndAreBytesReceivedAtTheOther() throws Exception {
        try (TwinlineServer server = Testing.server().start();
             TwinlineClient client = Testing.client(server).connect()) {
            client.call("echo", new byte[100_000]);
            Testing.serverSide(server, client.session()).call("echo", new byte[50_000]);
            // Heartbeats keep flowing; once neither end has a frame on its way, the counts meet.
            await(Duration.ofSeconds(10), () -> "client sent " + client.metrics().bytesSent() + ", server received "
                            + server.metrics().bytesReceived(),
                    () -> client.metrics().bytesSent() == server.metrics().bytesReceived()
                            && server.metrics().bytesSent() == client.metrics().bytesReceived());
            assertTrue(client.metrics().bytesSent() > 100_000 && server.metrics().bytesSent() > 150_000,
                    "both bodies and both echoes counted");
            assertEquals(client.metrics().bytesSent(), client.session().metrics().bytesSent(),
                    "the session's own count matches its client's");
        }
    }

    /**
     * A reset of channel A: each end counts the failures and the recoveries of A that its state changes show, and
     * a recovery duration for each return to NORMAL. One reset usually takes one recovery at each end; it can take
     * two when the server's recovery closes the client's fresh channel A once more (issue #14, race 3), and none at
     * the server when the client's new A is attached before the server's reader finds the old one reset (the attach
     * replaces it). So the counts are checked against the transitions each end's listener saw, not against a fixed
     * number.
     */
    @Test
    void aResetChannelCountsItsFailuresRecoveriesAndTheirDurationsAsTheTransitionsShow() throws Exception {
        java.util.concurrent.atomic.AtomicInteger clientBackToNormal = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger serverBackToNormal = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger serverRecovering = new java.util.concurrent.atomic.AtomicInteger();
        try (TwinlineServer server = Testing.server()
                .onStateChange((s, from, to, cause) -> {
                    count(serverBackToNormal, from, to);
                    if (to == SessionState.RECOVERING) {
                        serverRecovering.incrementAndGet();
                    }
                }).start();
             TwinlineClient client = Testing.client(server)
                     .onStateChange((s, from, to, cause) -> count(clientBackToNormal, from, to)).connect()) {
            client.call("echo", utf8("before"));
            assertTrue(HostAccess.inject(client.session(), Fault.RESET_A));
            await(Duration.ofSeconds(15), "the client NORMAL after the reset, with a recovery counted",
                    () -> client.session().state() == SessionState.NORMAL
                            && client.metrics().recoveryDuration().count() >= 1);
            client.call("echo", utf8("after"));
            // Listeners are told after a change: wait until both ends' listeners have caught up with the counts.
            await(Duration.ofSeconds(15), () -> "durations counted as the listeners saw: client "
                            + client.metrics().recoveryDuration().count() + " vs " + clientBackToNormal.get()
                            + ", server " + server.metrics().recoveryDuration().count() + " vs "
                            + serverBackToNormal.get(),
                    () -> client.session().state() == SessionState.NORMAL
                            && Testing.serverSide(server, client.session()).state() == SessionState.NORMAL
                            && client.metrics().recoveryDuration().count() == clientBackToNormal.get()
                            && server.metrics().recoveryDuration().count() == serverBackToNormal.get());

            MetricsSnapshot c = client.metrics();
            long clientRecoveriesOfA = c.recoveries().get(Channel.A).values().stream().mapToLong(Long::longValue)
                    .sum();
            assertTrue(clientRecoveriesOfA >= 1, "the client recovered channel A: " + c.recoveries());
            assertEquals(0, c.recoveries().get(Channel.B).values().stream().mapToLong(Long::longValue).sum());
            assertEquals(c.channelFailures().get(Channel.A).get(FailureCause.RESET)
                            + c.channelFailures().get(Channel.A).get(FailureCause.CLOSED_BY_PEER),
                    c.channelFailuresTotal(), "the client's own reset, seen as a reset or a close: "
                            + c.channelFailures());
            assertEquals(0, c.recoveriesFailed());
            MetricsSnapshot s = server.metrics();
            long serverRecoveriesOfA = s.recoveries().get(Channel.A).values().stream().mapToLong(Long::longValue)
                    .sum();
            assertTrue(serverRecoveriesOfA >= serverRecovering.get() && (serverRecoveriesOfA > 0)
                    == (serverRecovering.get() > 0), "the server's recoveries of A, as its transitions show ("
                    + serverRecovering.get() + " to RECOVERING): " + s.recoveries());
            assertEquals(0, s.recoveries().get(Channel.B).values().stream().mapToLong(Long::longValue).sum());
            assertEquals(serverBackToNormal.get() > 0, s.recoveryDuration().sum().compareTo(Duration.ZERO) > 0);
            assertTrue(HostAccess.metrics(server).get("reattaches") >= 1, "channel A attached once more");
        }
    }

    private static void count(java.util.concurrent.atomic.AtomicInteger backToNormal, SessionState from,
                              SessionState to) {
        if (from == SessionState.RECOVERING && to == SessionState.NORMAL) {
            backToNormal.incrementAndGet();
        }
    }

    @Test
    void aServerCountsRejectedHandshakesByReasonAndEndedSessionsByState() throws Exception {
        try (TwinlineServer server = Testing.server().limits(io.twinline.api.Limits.defaults().withMaxSessions(1))
                .start()) {
            TwinlineClient first = Testing.client(server).connect();
            assertThrows(io.twinline.api.ConnectFailedException.class, () -> Testing.client(server).connect());
            assertEquals(1, server.metrics().handshakesRejected().get("server_full"));
            first.close();
            await(Duration.ofSeconds(10), "the closed session counted",
                    () -> server.metrics().sessionsEnded().get(SessionState.CLOSED) == 1);
            assertEquals(0, server.metrics().sessionsEnded().get(SessionState.DISCONNECTED));
            assertEquals(1, first.metrics().sessionsEnded().get(SessionState.CLOSED));
        }
    }
}
