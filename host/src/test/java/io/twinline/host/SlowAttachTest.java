package io.twinline.host;

import static io.twinline.host.Testing.text;
import static io.twinline.host.Testing.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.Channel;
import io.twinline.api.Limits;
import io.twinline.api.SessionState;
import io.twinline.api.spi.ClientSpec;
import io.twinline.api.spi.ServerSpec;
import io.twinline.recovery.Clock;
import io.twinline.transport.Endpoint;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A client slow to attach channel B (its dial took seconds: a lost SYN is retried after 1 s, then 3 s). Nothing is
 * owed on channel A meanwhile (PROTOCOL §4.1), so once the session is NORMAL the server must count A's silence
 * from then, not from the HELLO.
 */
class SlowAttachTest {

    @Test
    void aChannelBAttachedLaterThanTheIdleTimeoutCostsChannelANothing() throws Exception {
        SimNetwork sim = new SimNetwork();
        Duration idle = Testing.fastPolicy().idleTimeout();
        AtomicInteger dials = new AtomicInteger();
        Network slowSecondDial = new Network() {
            @Override
            public Endpoint dial(InetSocketAddress address, Duration timeout) throws IOException {
                if (dials.incrementAndGet() == 2) {
                    try {
                        Thread.sleep(idle.multipliedBy(2).toMillis()); // the injected fault: B's dial is slow
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted", e);
                    }
                }
                return sim.dial(address, timeout);
            }

            @Override
            public Listener listen(InetSocketAddress address) throws IOException {
                return sim.listen(address);
            }
        };
        Limits limits = Limits.defaults().withCloseGrace(Duration.ofMillis(200));
        ServerRuntime server = ServerRuntime.start(new ServerSpec(new InetSocketAddress("127.0.0.1", 0),
                Optional.empty(), Map.of("echo", Testing.ECHO), Testing.fastPolicy(), limits, List.of(), List.of()),
                Clock.system(), sim);
        ClientRuntime client = null;
        try {
            client = ClientRuntime.connect(new ClientSpec(server.address(), Map.of(), Testing.fastPolicy(), limits,
                    List.of(), false), Clock.system(), slowSecondDial);
            TwinSession clientSide = client.twinSession();
            TwinSession serverSide = (TwinSession) server.session(clientSide.id).orElseThrow();
            Testing.await(Duration.ofSeconds(5), "the server's side NORMAL",
                    () -> serverSide.state() == SessionState.NORMAL);
            Link a = serverSide.link(Channel.A);
            // The server's next ticker round, run now: A was last heard at the HELLO, twice the idle timeout ago.
            serverSide.tick(System.nanoTime());
            assertTrue(a.isHealthy(), "channel A was not failed for the silence before the session was NORMAL");
            assertSame(a, serverSide.link(Channel.A), "and was not replaced by a recovery");
            assertEquals("hello", text(clientSide.call("echo", utf8("hello"))));
            assertSame(a, serverSide.link(Channel.A), "the call went over the first A");
            assertEquals(2, dials.get(), "no re-attach dial");
        } finally {
            if (client != null) {
                client.close();
            }
            server.close();
        }
    }
}
