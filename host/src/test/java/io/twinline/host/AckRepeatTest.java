package io.twinline.host;

import static io.twinline.host.Testing.text;
import static io.twinline.host.Testing.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.Channel;
import io.twinline.api.RecoveryPolicy;
import io.twinline.api.SessionState;
import io.twinline.api.Twinline;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Acks lost with a failed send link are repeated on the new one: while a long call holds the floor, the responder
 * would otherwise keep the acknowledged responses until that call ends (PROTOCOL §6.3).
 */
class AckRepeatTest {

    @Test
    void acksLostWithAFailedLinkAreRepeatedAfterTheReattach() throws Exception {
        RecoveryPolicy policy = RecoveryPolicy.defaults().withIdleTimeout(Duration.ofSeconds(6))
                .withHeartbeatInterval(Duration.ofSeconds(2));
        CountDownLatch releaseHeld = new CountDownLatch(1);
        CountDownLatch releaseEchoes = new CountDownLatch(1);
        try (TwinlineServer server = Twinline.server().bind("127.0.0.1", 0).recoveryPolicy(policy)
                .handle("echo", (session, body) -> {
                    releaseEchoes.await();
                    return body;
                })
                .handle("hold", (session, body) -> {
                    releaseHeld.await();
                    return body;
                }).start();
             TwinlineClient client = Twinline.client().server("127.0.0.1", server.address().getPort())
                     .recoveryPolicy(policy).connect()) {
            TwinSession clientSide = Testing.twin(client);
            TwinSession serverSide = Testing.serverSide(server, client.session());
            try {
                // A long call holds the floor: every later id stays above it.
                CompletableFuture<byte[]> held = callAsync(client, "hold", "held");
                List<CompletableFuture<byte[]>> echoes = new ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    echoes.add(callAsync(client, "echo", "echo " + i));
                }
                Testing.await(Duration.ofSeconds(10), "all eleven handlers running at the server",
                        () -> serverSide.responder().running() == 11);
                // From now on the client's writes on A vanish while its reads still work: the ten responses arrive,
                // and every ack of them is lost. The server keeps all ten.
                assertTrue(HostAccess.inject(client.session(), Fault.HALF_OPEN_A));
                releaseEchoes.countDown();
                for (int i = 0; i < 10; i++) {
                    assertEquals("echo " + i, text(echoes.get(i).get(10, TimeUnit.SECONDS)));
                }
                clientSide.tick(System.nanoTime()); // the ticker's flush of the gathered acks, into nothing
                Testing.await(Duration.ofSeconds(10), "the ten responses kept at the server",
                        () -> serverSide.responder().cachedResponses() == 10);
                // A fails (reset here, unless the client's own PING, which vanished too, failed it first); the
                // client re-attaches it.
                long generation = serverSide.link(Channel.A).generation;
                HostAccess.inject(client.session(), Fault.RESET_A);
                Testing.await(Duration.ofSeconds(10), "channel A re-attached at both ends",
                        () -> clientSide.state() == SessionState.NORMAL && serverSide.link(Channel.A) != null
                                && serverSide.link(Channel.A).generation != generation
                                && serverSide.link(Channel.A).isHealthy());
                Testing.await(Duration.ofSeconds(10),
                        () -> "the server dropped the responses whose acks were lost (kept "
                                + serverSide.responder().cachedResponses() + ")",
                        () -> serverSide.responder().cachedResponses() == 0);
                assertEquals(1, serverSide.responder().running(), "the long call still runs, once");
                releaseHeld.countDown();
                assertEquals("held", text(held.get(10, TimeUnit.SECONDS)));
            } finally {
                releaseHeld.countDown();
                releaseEchoes.countDown();
            }
        }
    }

    private static CompletableFuture<byte[]> callAsync(TwinlineClient client, String route, String body) {
        CompletableFuture<byte[]> answer = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                answer.complete(client.call(route, utf8(body)));
            } catch (Throwable t) {
                answer.completeExceptionally(t);
            }
        });
        return answer;
    }
}
