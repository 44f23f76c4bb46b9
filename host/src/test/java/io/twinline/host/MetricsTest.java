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

    @Test
    void aResetChannelCountsOneFailureOneRecoveryAndItsDuration() throws Exception {
        try (TwinlineServer server = Testing.server().start();
             TwinlineClient client = Testing.client(server).connect()) {
            client.call("echo", utf8("before"));
            assertTrue(HostAccess.inject(client.session(), Fault.RESET_A));
            await(Duration.ofSeconds(15), "both ends NORMAL after the reset, with a recovery counted at each",
                    () -> client.session().state() == SessionState.NORMAL
                            && client.metrics().recoveryDuration().count() >= 1
                            && server.metrics().recoveryDuration().count() >= 1);
            client.call("echo", utf8("after"));

            MetricsSnapshot c = client.metrics();
            assertEquals(1, c.recoveries().get(Channel.A).values().stream().mapToLong(Long::longValue).sum(),
                    "one recovery of channel A at the client: " + c.recoveries());
            assertEquals(0, c.recoveries().get(Channel.B).values().stream().mapToLong(Long::longValue).sum());
            assertEquals(c.channelFailures().get(Channel.A).get(FailureCause.RESET)
                            + c.channelFailures().get(Channel.A).get(FailureCause.CLOSED_BY_PEER),
                    c.channelFailuresTotal(), "the client's own reset, seen as a reset or a close: "
                            + c.channelFailures());
            assertEquals(0, c.recoveriesFailed());
            MetricsSnapshot s = server.metrics();
            assertEquals(1, s.recoveries().get(Channel.A).values().stream().mapToLong(Long::longValue).sum(),
                    "the server saw channel A fail once: " + s.recoveries());
            assertTrue(s.recoveryDuration().sum().compareTo(Duration.ZERO) > 0);
            long reattaches = HostAccess.metrics(server).get("reattaches");
            assertEquals(1, reattaches, "channel A attached once more");
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
