package io.twinline.host;

import static io.twinline.host.Testing.text;
import static io.twinline.host.Testing.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.ConnectFailedException;
import io.twinline.api.RecoveryPolicy;
import io.twinline.api.SessionState;
import io.twinline.api.Twinline;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A client fits its heartbeat and idle timeout to the server's (WELCOME), so mismatched ends do not flap. */
class HeartbeatMatchTest {

    private static Duration ms(long millis) {
        return Duration.ofMillis(millis);
    }

    @Test
    void matchingSettingsAreLeftAlone() {
        RecoveryPolicy own = RecoveryPolicy.defaults();
        assertSame(own, ClientRuntime.matchServer(own, ms(1000), ms(3000), "s-1"));
        RecoveryPolicy twice = own.withIdleTimeout(ms(2000));
        assertSame(twice, ClientRuntime.matchServer(twice, ms(1000), ms(2000), "s-1"), "a factor of 2 is enough");
        assertSame(own, ClientRuntime.matchServer(own, ms(0), ms(0), "s-1"), "nothing announced, nothing changed");
    }

    @Test
    void aHeartbeatTooSlowForTheServersIdleTimeoutIsLowered() {
        RecoveryPolicy matched = ClientRuntime.matchServer(RecoveryPolicy.defaults(), ms(150), ms(600), "s-1");
        assertEquals(ms(300), matched.heartbeatInterval());
        assertEquals(ms(3000), matched.idleTimeout(), "the server's 150 ms heartbeat fits the 3 s idle timeout");
    }

    @Test
    void anIdleTimeoutTooShortForTheServersHeartbeatIsRaised() {
        RecoveryPolicy own = RecoveryPolicy.defaults().withHeartbeatInterval(ms(100)).withIdleTimeout(ms(500));
        RecoveryPolicy matched = ClientRuntime.matchServer(own, ms(1000), ms(3000), "s-1");
        assertEquals(ms(2000), matched.idleTimeout());
        assertEquals(ms(100), matched.heartbeatInterval());
        assertEquals(own.probeTimeout(), matched.probeTimeout());
        assertEquals(own.reattachWindow(), matched.reattachWindow());
    }

    @Test
    void noHeartbeatIsLoweredBelowATickerRound() {
        RecoveryPolicy matched = ClientRuntime.matchServer(RecoveryPolicy.defaults(), ms(1), ms(4), "s-1");
        assertEquals(ms(10), matched.heartbeatInterval());
    }

    @Test
    void aClientWithASlowHeartbeatStaysUpOnAServerWithAShortIdleTimeout() throws InterruptedException {
        // Unmatched, the client's 2.5 s heartbeat would leave the server's channel A silent past 1.2 s, again and
        // again; fitted, it is 600 ms.
        RecoveryPolicy server = RecoveryPolicy.defaults().withHeartbeatInterval(ms(300)).withIdleTimeout(ms(1200));
        RecoveryPolicy client = RecoveryPolicy.defaults().withIdleTimeout(ms(5000)).withHeartbeatInterval(ms(2500));
        assertStaysUp(server, client);
    }

    @Test
    void aBudgetBrokenOnlyByTheRaisedIdleTimeoutSaysSo() {
        // The server's 5 s heartbeat raises a default client's idle timeout to 10 s: 10 + 1 + 10 s > a 20 s window.
        RecoveryPolicy server = RecoveryPolicy.defaults().withIdleTimeout(ms(15_000)).withHeartbeatInterval(ms(5000));
        try (TwinlineServer s = Twinline.server().bind("127.0.0.1", 0).recoveryPolicy(server)
                .handle("echo", Testing.ECHO).start()) {
            ConnectFailedException e = assertThrows(ConnectFailedException.class, () -> Twinline.client()
                    .server("127.0.0.1", s.address().getPort()).recoveryPolicy(RecoveryPolicy.defaults()).connect());
            assertTrue(e.getMessage().contains("idle timeout raised from PT3S to PT10S"), e.getMessage());
        }
    }

    @Test
    void aClientWithAShortIdleTimeoutStaysUpOnAServerWithTheDefaults() throws InterruptedException {
        // Unmatched, the server's 1 s heartbeat would leave the client's channel B silent past 500 ms.
        RecoveryPolicy client = RecoveryPolicy.defaults().withHeartbeatInterval(ms(100)).withIdleTimeout(ms(500));
        assertStaysUp(RecoveryPolicy.defaults(), client);
    }

    /** Connects, stays idle for several of both ends' idle timeouts, and checks no channel failed on either end. */
    private static void assertStaysUp(RecoveryPolicy serverPolicy, RecoveryPolicy clientPolicy)
            throws InterruptedException {
        try (TwinlineServer server = Twinline.server().bind("127.0.0.1", 0).recoveryPolicy(serverPolicy)
                .handle("echo", Testing.ECHO).start();
             TwinlineClient client = Twinline.client().server("127.0.0.1", server.address().getPort())
                     .recoveryPolicy(clientPolicy).connect()) {
            assertEquals("up", text(client.call("echo", utf8("up"))));
            // Long enough for either end's idle timeout to have run out twice over, had the heartbeats not fitted.
            long shortestHeartbeat = Math.min(serverPolicy.heartbeatInterval().toMillis(),
                    clientPolicy.heartbeatInterval().toMillis());
            long shortestIdle = Math.min(serverPolicy.idleTimeout().toMillis(), clientPolicy.idleTimeout().toMillis());
            Testing.awaitHeartbeats((int) (2 * Math.ceil((double) shortestIdle / shortestHeartbeat)), server, client);
            assertEquals(0L, HostAccess.metrics(server).get("channel_failures"), "server-side channel failures");
            assertEquals(0L, HostAccess.metrics(client).get("channel_failures"), "client-side channel failures");
            assertEquals(SessionState.NORMAL, client.session().state());
            assertEquals("still up", text(client.call("echo", utf8("still up"))));
        }
    }
}
