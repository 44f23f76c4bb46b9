package io.twinline.host;

import static io.twinline.host.Testing.text;
import static io.twinline.host.Testing.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.Channel;
import io.twinline.api.Handler;
import io.twinline.api.Limits;
import io.twinline.api.RecoveryPolicy;
import io.twinline.api.SessionState;
import io.twinline.api.spi.ClientSpec;
import io.twinline.api.spi.ServerSpec;
import io.twinline.recovery.Clock;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * An orderly close by the peer whose GOODBYE on one channel overtakes, on the other channel, the answers it sent
 * before it: those answers still reach their callers (PROTOCOL §8).
 */
class GoodbyeTest {

    @Test
    void anAnswerSentBeforeTheGoodbyeReachesItsCallerEvenWhenTheGoodbyeOnTheOtherChannelArrivesFirst()
            throws Exception {
        SimNetwork network = new SimNetwork();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Handler held = (session, body) -> {
            started.countDown();
            release.await();
            return body;
        };
        // Default heartbeats (1 s): nothing times out while the answer is held up for a moment.
        Limits limits = Limits.defaults().withCloseGrace(Duration.ofSeconds(5));
        ServerRuntime server = ServerRuntime.start(new ServerSpec(new InetSocketAddress("127.0.0.1", 0),
                Optional.empty(), Map.of("held", held), RecoveryPolicy.defaults(), limits, List.of(), List.of()),
                Clock.system(), network);
        ClientRuntime client = null;
        try (var callers = Executors.newVirtualThreadPerTaskExecutor()) {
            client = ClientRuntime.connect(new ClientSpec(server.address(), Map.of(), RecoveryPolicy.defaults(),
                    limits, List.of(), false), Clock.system(), network);
            TwinSession clientSide = client.twinSession();
            TwinSession serverSide = (TwinSession) server.session(clientSide.id).orElseThrow();
            SimNetwork.SimEndpoint clientA = (SimNetwork.SimEndpoint) clientSide.link(Channel.A).connection.endpoint();

            CompletableFuture<String> call = CompletableFuture.supplyAsync(
                    () -> text(clientSide.call("held", utf8("answered"))), callers);
            assertTrue(started.await(10, TimeUnit.SECONDS), "the handler runs");
            clientA.in.hold(true); // what the server sends on A is delayed on the way
            release.countDown(); // the answer goes out on A, and waits on the way
            Thread closer = Thread.ofVirtual().start(serverSide::close); // GOODBYE on A (held) and on B
            Testing.await(Duration.ofSeconds(10), "the client read the GOODBYE on B", clientSide::closing);
            clientA.in.hold(false);

            assertEquals("answered", call.get(10, TimeUnit.SECONDS), "answered, not failed by the close");
            assertTrue(closer.join(Duration.ofSeconds(20)), "the server's close returned");
            Testing.await(Duration.ofSeconds(10), "the client's side CLOSED",
                    () -> clientSide.state() == SessionState.CLOSED);
        } finally {
            if (client != null) {
                client.close();
            }
            server.close();
        }
    }
}
