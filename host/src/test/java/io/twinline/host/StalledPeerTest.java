package io.twinline.host;

import static io.twinline.host.Testing.text;
import static io.twinline.host.Testing.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.Channel;
import io.twinline.api.Limits;
import io.twinline.api.Session;
import io.twinline.api.SessionState;
import io.twinline.api.spi.ClientSpec;
import io.twinline.api.spi.ServerSpec;
import io.twinline.recovery.Clock;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A peer that stops reading one channel while it still sends on it (its window full, as when its process is frozen
 * or starved). A reader answers each PING with a PONG written on its own thread when nothing else is queued
 * ({@code Connection.sendAlone}); against such a peer that write waits, and the reader with it. The stuck link must
 * still be found dead and the channel recovered, with every call answered exactly once.
 *
 * <p>Run for each channel over {@link SimNetwork}, stalling the PONG direction: on A the client's PING goes
 * unanswered (Fig. 6) and the server recovers A (Fig. 7); on B, Fig. 8 at the server and Fig. 5 at the client. The
 * owner's heartbeat never writes, so a reader stuck in a write cannot stop detection.
 */
class StalledPeerTest {

    /**
     * Stalls the direction that carries the PONGs of {@code channel}: from the server to the client on channel A
     * (the client PINGs there), from the client to the server on channel B (the server PINGs there).
     */
    @ParameterizedTest
    @EnumSource(Channel.class)
    void readerStuckWritingAPongToAStalledPeerDoesNotStopRecovery(Channel channel) throws Exception {
        SimNetwork network = new SimNetwork();
        Testing.RunCounter atServer = new Testing.RunCounter();
        Testing.RunCounter atClient = new Testing.RunCounter();
        Limits limits = Limits.defaults().withCloseGrace(Duration.ofMillis(200))
                .withHandshakeTimeout(Duration.ofMillis(500));
        ServerRuntime server = ServerRuntime.start(new ServerSpec(new InetSocketAddress("127.0.0.1", 0),
                Optional.empty(), Map.of("count", atServer.handler), Testing.fastPolicy(), limits, List.of(),
                List.of()), Clock.system(), network);
        ClientRuntime client = null;
        try {
            client = ClientRuntime.connect(new ClientSpec(server.address(), Map.of("count", atClient.handler),
                    Testing.fastPolicy(), limits, List.of(), false), Clock.system(), network);
            TwinSession clientSide = client.twinSession();
            TwinSession serverSide = (TwinSession) server.session(clientSide.id).orElseThrow();
            assertEquals("warm", text(clientSide.call("count", utf8("warm"))));
            assertEquals("warm back", text(serverSide.call("count", utf8("warm back"))));

            // The side that answers PINGs on this channel, and the side whose reading end stops.
            TwinSession answering = channel == Channel.A ? serverSide : clientSide;
            TwinSession stalling = channel == Channel.A ? clientSide : serverSide;
            // With no calls running, the only frames on that direction are PONGs, written by the reader itself. If
            // the stall catches a PONG already sent but not yet read, no PING follows it (the pinging side waits for
            // that answer): the link then fails by its probe with no write stuck, and the next link is stalled.
            Link stuck = null;
            SimNetwork.Pipe pongs = null;
            for (int attempt = 0; attempt < 3 && (pongs == null || pongs.stalledWriter() == null); attempt++) {
                Testing.await(Duration.ofSeconds(10), "channel " + channel + " up at both ends",
                        () -> healthy(answering, channel) && healthy(stalling, channel));
                Link link = answering.link(channel);
                SimNetwork.Pipe pipe = ((SimNetwork.SimEndpoint) stalling.link(channel).connection.endpoint()).in;
                pipe.stall(true);
                Testing.await(Duration.ofSeconds(5), "a PONG waits for the stalled peer, or the link fails",
                        () -> pipe.stalledWriter() != null || link.connection.isClosed());
                stuck = link;
                pongs = pipe;
            }
            String writer = pongs.stalledWriter();
            assertNotNull(writer, "no PONG met the stall in three tries");
            assertTrue(writer.endsWith("-reader"), "the PONG was written by the reader itself, not by " + writer);
            Link stuckLink = stuck;

            // Calls both ways meanwhile: those on the stuck channel wait for its recovery.
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            List<Thread> callers = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                String body = "call " + i;
                Session from = i % 2 == 0 ? clientSide : serverSide;
                callers.add(Thread.ofVirtual().start(() -> {
                    try {
                        assertEquals(body, text(from.call("count", utf8(body), Duration.ofSeconds(20))));
                    } catch (Throwable t) {
                        failures.add(t);
                    }
                }));
            }
            Testing.await(Duration.ofSeconds(10), "channel " + channel + " re-attached at both ends",
                    () -> answering.link(channel) != stuckLink && healthy(answering, channel)
                            && healthy(stalling, channel));
            for (Thread t : callers) {
                t.join(Duration.ofSeconds(30));
            }
            assertNull(failures.peek(), () -> "a call failed: " + failures.peek());
            assertNull(atServer.firstDuplicate(), "a request ran twice at the server");
            assertNull(atClient.firstDuplicate(), "a request ran twice at the client");
            for (int i = 0; i < 20; i++) {
                Testing.RunCounter handledBy = i % 2 == 0 ? atServer : atClient;
                assertEquals(1, handledBy.runs("call " + i), "runs of call " + i);
            }
            assertTrue(stuckLink.connection.isClosed(), "the stuck connection was closed");
            assertNotSame(stuckLink, answering.link(channel));
            // Each side marks itself NORMAL when its recovery process sees the new link, a moment after calls flow.
            Testing.await(Duration.ofSeconds(5), "both sides NORMAL",
                    () -> clientSide.state() == SessionState.NORMAL && serverSide.state() == SessionState.NORMAL);
            assertTrue(HostAccess.metrics(server).get("channel_failures") + HostAccess.metrics(client)
                    .get("channel_failures") >= 1, "the stuck link counted as a failure");
        } finally {
            if (client != null) {
                client.close();
            }
            server.close();
        }
    }

    private static boolean healthy(TwinSession session, Channel channel) {
        Link link = session.link(channel);
        return link != null && link.isHealthy();
    }
}
