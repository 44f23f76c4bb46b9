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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Acks lost with a failed send link are repeated on the new one: while a long call holds the floor, the responder
 * would otherwise keep the acknowledged responses until that call ends (PROTOCOL §6.3).
 */
class AckRepeatTest {

    @Test
    void acksLostWithAFailedLinkAreRepeatedAfterTheReattach() throws Exception {
        // Heartbeats every 2 s: no ticker round flushes the acks before the test does.
        RecoveryPolicy policy = RecoveryPolicy.defaults().withIdleTimeout(Duration.ofSeconds(6))
                .withHeartbeatInterval(Duration.ofSeconds(2));
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch holding = new CountDownLatch(1);
        try (TwinlineServer server = Twinline.server().bind("127.0.0.1", 0).recoveryPolicy(policy)
                .handle("echo", Testing.ECHO)
                .handle("hold", (session, body) -> {
                    holding.countDown();
                    release.await();
                    return body;
                }).start();
             TwinlineClient client = Twinline.client().server("127.0.0.1", server.address().getPort())
                     .recoveryPolicy(policy).connect()) {
            TwinSession clientSide = Testing.twin(client);
            TwinSession serverSide = Testing.serverSide(server, client.session());
            // A long call holds the floor: every later id stays above it.
            AtomicReference<String> held = new AtomicReference<>();
            Thread holder = Thread.ofVirtual().start(() -> held.set(text(client.call("hold", utf8("held")))));
            assertTrue(holding.await(10, java.util.concurrent.TimeUnit.SECONDS));
            List<Thread> callers = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                String body = "echo " + i;
                callers.add(Thread.ofVirtual().start(() -> assertEquals(body, text(client.call("echo", utf8(body))))));
            }
            for (Thread t : callers) {
                t.join();
            }
            // The client's acks of the last responses are still gathered; its writes on A now vanish, so the ticker
            // round run here sends them into nothing, and the server keeps those responses.
            assertTrue(HostAccess.inject(client.session(), Fault.HALF_OPEN_A));
            clientSide.tick(System.nanoTime());
            int kept = serverSide.responder().cachedResponses();
            assertTrue(kept >= 1, "the server kept a response whose ack was lost: " + kept);
            // A fails; the client re-attaches it.
            long generation = serverSide.link(Channel.A).generation;
            assertTrue(HostAccess.inject(client.session(), Fault.RESET_A));
            Testing.await(Duration.ofSeconds(10), "channel A re-attached at both ends",
                    () -> clientSide.state() == SessionState.NORMAL && serverSide.link(Channel.A) != null
                            && serverSide.link(Channel.A).generation != generation
                            && serverSide.link(Channel.A).isHealthy());
            Testing.await(Duration.ofSeconds(10),
                    () -> "the server dropped the responses whose acks were lost (kept "
                            + serverSide.responder().cachedResponses() + ")",
                    () -> serverSide.responder().cachedResponses() == 0);
            assertEquals(1, serverSide.responder().running(), "the long call still runs, once");
            release.countDown();
            holder.join();
            assertEquals("held", held.get());
        }
    }
}
