package io.twinline.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.Channel;
import io.twinline.api.FailureCause;
import io.twinline.api.RecoveryPolicy;
import io.twinline.transport.Connection;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every detection bound of {@link Liveness}, at the nanosecond where it starts to hold, on times the test chooses:
 * a heartbeat is due after 15/16 of an interval of idleness; an unanswered PING fails the send channel just after
 * the probe timeout; a silent receive channel fails just after the idle timeout; the owner's own scheduling lag
 * stretches both; a PONG or a replaced link ends what a PING started. No real time passes in these tests.
 */
class LivenessTest {
    private static final Duration HEARTBEAT = Duration.ofMillis(1000);
    private static final Duration IDLE = Duration.ofMillis(3000);
    private static final Duration PROBE = Duration.ofMillis(800);
    private static final long BOUND = Duration.ofSeconds(10).toNanos();

    private final RecoveryPolicy policy = RecoveryPolicy.defaults().withHeartbeatInterval(HEARTBEAT)
            .withIdleTimeout(IDLE).withProbeTimeout(PROBE);
    private final ManualClock clock = new ManualClock();
    private final ChannelTable table = new ChannelTable();
    private final List<String> actions = new ArrayList<>();
    private final List<Long> nonces = new ArrayList<>();
    private Liveness liveness;
    private long t0;

    @BeforeEach
    void twoLinks() throws IOException {
        t0 = clock.nanoTime();
        table.install(Channel.A, connection());
        table.install(Channel.B, connection());
        liveness = new Liveness(TwinSession.Role.CLIENT, policy, table, new Liveness.Actions() {
            @Override
            public void sendPing(Link link, long nonce) {
                actions.add("ping " + link.channel);
                nonces.add(nonce);
            }

            @Override
            public void failed(Link link, FailureCause cause, IOException why) {
                actions.add("failed " + link.channel + " " + cause);
            }
        });
    }

    private Connection connection() throws IOException {
        SimNetwork net = new SimNetwork();
        var listener = net.listen(new InetSocketAddress("127.0.0.1", 0));
        var near = net.dial(listener.address(), Duration.ofSeconds(1));
        listener.accept();
        return new Connection(near, 1 << 16, 1 << 16, clock::nanoTime);
    }

    private long at(Duration sinceStart) {
        return t0 + sinceStart.toNanos();
    }

    @Test
    void aHeartbeatIsDueAfterFifteenSixteenthsOfAnIntervalIdle() {
        Duration due = HEARTBEAT.minus(HEARTBEAT.dividedBy(16));
        long wait = liveness.tick(at(due.minusNanos(1)), BOUND);
        assertEquals(List.of(), actions);
        assertEquals(1, wait, "the next round is planned for the moment it is due");
        liveness.tick(at(due), BOUND);
        assertEquals(List.of("ping A"), actions);
        liveness.tick(at(due.plusMillis(1)), BOUND);
        assertEquals(List.of("ping A"), actions, "one PING at a time");
    }

    @Test
    void anUnansweredPingFailsTheSendChannelJustAfterTheProbeTimeout() {
        Duration sent = HEARTBEAT;
        liveness.tick(at(sent), BOUND);
        liveness.tick(at(sent.plus(PROBE)), BOUND);
        assertEquals(List.of("ping A"), actions);
        liveness.tick(at(sent.plus(PROBE).plusNanos(1)), BOUND);
        assertEquals(List.of("ping A", "failed A PING_UNANSWERED"), actions);
    }

    @Test
    void bytesArrivingAfterThePingAnswerItLikeAPong() {
        // A slow link delivering one long frame: no PONG gets through, but bytes keep arriving.
        Link send = table.current(Channel.A);
        Duration sent = HEARTBEAT;
        liveness.tick(at(sent), BOUND);
        Duration arrived = sent.plus(PROBE).minusMillis(100);
        clock.advance(arrived);
        send.connection.countSilenceFromNow(); // bytes read at t0 + arrived
        liveness.tick(at(sent.plus(PROBE).plusMillis(1)), BOUND);
        assertEquals(List.of("ping A"), actions, "progress after the PING keeps the link alive");
        liveness.tick(at(arrived.plus(PROBE)), BOUND);
        assertEquals(List.of("ping A"), actions);
        liveness.tick(at(arrived.plus(PROBE).plusNanos(1)), BOUND);
        assertEquals(List.of("ping A", "failed A PING_UNANSWERED"), actions,
                "a probe timeout after the last progress with no PONG, the link has failed");
    }

    @Test
    void bytesReadBeforeThePingDoNotAnswerIt() {
        Link send = table.current(Channel.A);
        clock.advance(HEARTBEAT.minusMillis(1));
        send.connection.countSilenceFromNow(); // progress just before the PING is due
        long pingAt = clock.nanoTime() + HEARTBEAT.toNanos();
        liveness.tick(pingAt, BOUND);
        assertEquals(List.of("ping A"), actions);
        liveness.tick(pingAt + PROBE.toNanos() + 1, BOUND);
        assertEquals(List.of("ping A", "failed A PING_UNANSWERED"), actions);
    }

    @Test
    void aReceiveChannelDeliveringSlowlyIsNotSilent() {
        Link receive = table.current(Channel.B);
        clock.advance(IDLE.minusMillis(10));
        receive.connection.countSilenceFromNow(); // part of a long frame arrives
        liveness.tick(at(IDLE.plusMillis(1)), BOUND);
        assertTrue(actions.stream().noneMatch(a -> a.startsWith("failed B")), actions.toString());
        liveness.tick(at(IDLE.minusMillis(10).plus(IDLE).plusNanos(1)), BOUND);
        assertTrue(actions.contains("failed B SILENT"), actions.toString());
    }

    @Test
    void aPongEndsTheWaitForIt() {
        liveness.tick(at(HEARTBEAT), BOUND);
        liveness.onPong(table.current(Channel.A), nonces.getFirst());
        liveness.tick(at(HEARTBEAT.plus(PROBE).plusMillis(1)), BOUND);
        assertTrue(actions.stream().noneMatch(x -> x.startsWith("failed")), actions.toString());
    }

    @Test
    void aPongForAnotherPingOrLinkEndsNothing() throws IOException {
        liveness.tick(at(HEARTBEAT), BOUND);
        liveness.onPong(table.current(Channel.A), nonces.getFirst() + 1);
        liveness.onPong(table.current(Channel.B), nonces.getFirst());
        liveness.tick(at(HEARTBEAT.plus(PROBE).plusMillis(1)), BOUND);
        assertEquals(List.of("ping A", "failed A PING_UNANSWERED"), actions);
    }

    @Test
    void aPingSentOnALinkSinceReplacedIsForgotten() throws IOException {
        liveness.tick(at(HEARTBEAT), BOUND);
        table.install(Channel.A, connection()); // at t0 on the clock: idle since then
        liveness.tick(at(HEARTBEAT.plus(PROBE).plusMillis(1)), BOUND);
        assertEquals(List.of("ping A", "ping A"), actions, "the new link gets a PING of its own, no failure");
    }

    @Test
    void aSilentReceiveChannelFailsJustAfterTheIdleTimeout() {
        long wait = liveness.tick(at(IDLE.minusMillis(500)), BOUND);
        assertTrue(wait <= Duration.ofMillis(500).toNanos() + 1, "planned for the idle deadline: " + wait);
        actions.clear();
        liveness.tick(at(IDLE), BOUND);
        assertEquals(List.of(), actions.stream().filter(a -> a.startsWith("failed")).toList());
        liveness.tick(at(IDLE.plusNanos(1)), BOUND);
        assertTrue(actions.contains("failed B SILENT"), actions.toString());
    }

    @Test
    void theOwnersOwnLagStretchesEveryBound() {
        Duration lag = Duration.ofMillis(700);
        liveness.noteLateness(lag.toNanos());
        liveness.tick(at(HEARTBEAT), BOUND);
        liveness.tick(at(HEARTBEAT.plus(PROBE).plus(lag)), BOUND);
        assertEquals(List.of("ping A"), actions, "the PING's deadline is stretched by the lag");
        liveness.tick(at(HEARTBEAT.plus(PROBE).plus(lag).plusNanos(1)), BOUND);
        assertEquals(List.of("ping A", "failed A PING_UNANSWERED"), actions);
        actions.clear();
        liveness.tick(at(IDLE.plus(lag)), BOUND);
        assertTrue(actions.stream().noneMatch(a -> a.startsWith("failed B")), actions.toString());
        liveness.tick(at(IDLE.plus(lag).plusNanos(1)), BOUND);
        assertTrue(actions.contains("failed B SILENT"), actions.toString());
    }

    @Test
    void lagDecaysByHalfPerRoundAndAnEarlyRoundSaysNothing() {
        liveness.noteLateness(Duration.ofMillis(700).toNanos());
        liveness.noteLateness(-1); // a round woken early
        assertEquals(Duration.ofMillis(700).toNanos(), liveness.schedulingLagNanos());
        liveness.noteLateness(0);
        assertEquals(Duration.ofMillis(350).toNanos(), liveness.schedulingLagNanos());
        liveness.noteLateness(Duration.ofMillis(400).toNanos());
        assertEquals(Duration.ofMillis(400).toNanos(), liveness.schedulingLagNanos());
    }
}
