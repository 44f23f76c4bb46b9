package io.twinline.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
 * a heartbeat goes at the first 50 ms step after 15/16 of an interval less a step of idleness, never after 15/16; an
 * unanswered PING fails the send channel just after the probe timeout; a silent receive channel fails just after the
 * idle timeout; the process's own lateness since the deadline's start stretches both, and its health score
 * multiplies them; a PONG or a replaced link ends what a PING started; a PING is marked for a direct write only when
 * the link's send buffer is known to be empty. No real time passes in these tests.
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
    private final List<Boolean> drained = new ArrayList<>();
    private final List<Long> roundTrips = new ArrayList<>();
    /** What the process's health says; a test sets it. */
    private LocalHealth health = LocalHealth.NONE;
    /** Whether sendPing writes the PING on the link, as the session does. */
    private boolean writePings;
    private Liveness liveness;
    private long t0;

    @BeforeEach
    void twoLinks() throws IOException {
        t0 = clock.nanoTime();
        table.install(Channel.A, connection());
        table.install(Channel.B, connection());
        liveness = liveness(policy);
    }

    private Liveness liveness(RecoveryPolicy with) {
        return new Liveness(TwinSession.Role.CLIENT, with, table, new Liveness.Actions() {
            @Override
            public void sendPing(Link link, long nonce, boolean drainedNow, int quietMillis) {
                actions.add("ping " + link.channel + (quietMillis > 0 ? " quiet " + quietMillis : ""));
                nonces.add(nonce);
                drained.add(drainedNow);
                if (writePings) {
                    try {
                        link.connection.sendAlone(new io.twinline.transport.Frame.Ping(nonce));
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
            }

            @Override
            public void failed(Link link, FailureCause cause, IOException why) {
                actions.add("failed " + link.channel + " " + cause);
            }

            @Override
            public void wakeRound() {
                actions.add("wake");
            }

            @Override
            public void heartbeatAnswered(long roundTripNanos) {
                roundTrips.add(roundTripNanos);
            }
        }, () -> health);
    }

    private List<String> pings() {
        return actions.stream().filter(a -> a.startsWith("ping")).toList();
    }

    @Test
    void aPongReportsItsHeartbeatsRoundTripFromTheSendingRoundToTheReadThatBroughtIt() {
        liveness.tick(at(Duration.ofMillis(900)), BOUND);
        Link send = table.current(Channel.A);
        clock.advance(Duration.ofMillis(937));
        send.connection.countSilenceFromNow(); // the PONG's bytes, read at 937 ms
        liveness.onPong(send, nonces.getFirst() + 1);
        assertEquals(List.of(), roundTrips, "another nonce answers nothing");
        liveness.onPong(send, nonces.getFirst());
        liveness.onPong(send, nonces.getFirst());
        assertEquals(List.of(Duration.ofMillis(37).toNanos()), roundTrips, "once, 37 ms");
    }

    // ---- quiet sessions ----

    @Test
    void aSessionFoundQuietAnnouncesItAtOnceThenPingsOnlyAfterTheQuietInterval() {
        assertEquals(Duration.ofSeconds(10), policy.quietInterval());
        writePings = true;
        clock.advance(Duration.ofMillis(500));
        liveness.tick(at(Duration.ofMillis(500)), BOUND, true);
        assertEquals(List.of("ping A quiet 10000"), pings(), "the peer must learn of the longer silence first");
        Link send = table.current(Channel.A);
        liveness.onPong(send, nonces.getFirst());
        send.connection.countSilenceFromNow(); // the PONG's bytes, at 500 ms
        // Idle from 500 ms: 15/16 of 10 s less a 50 ms step later is 9,825 ms, and the first step after it 9,850 ms.
        liveness.tick(at(Duration.ofMillis(1500)), BOUND, true);
        assertEquals(1, pings().size(), "no PING at the usual heartbeat");
        long wait = liveness.tick(at(Duration.ofMillis(9850).minusNanos(1)), BOUND, true);
        assertEquals(1, pings().size());
        assertEquals(1, wait, "the next round is planned for the step");
        liveness.tick(at(Duration.ofMillis(9850)), BOUND, true);
        assertEquals(List.of("ping A quiet 10000", "ping A quiet 10000"), pings());
    }

    @Test
    void aRoundNoLongerQuietPingsALinkIdleForMoreThanAHeartbeatAtOnce() {
        writePings = true;
        clock.advance(Duration.ofMillis(9350));
        liveness.tick(at(Duration.ofMillis(9350)), BOUND, true);
        Link send = table.current(Channel.A);
        liveness.onPong(send, nonces.getFirst());
        clock.advance(Duration.ofMillis(1));
        send.connection.countSilenceFromNow(); // the PONG's bytes
        liveness.tick(at(Duration.ofMillis(11_000)), BOUND, true);
        assertEquals(List.of("ping A quiet 10000"), pings(), "still quiet: the next PING is 10 s away");
        liveness.tick(at(Duration.ofMillis(11_000)), BOUND, false);
        assertEquals(List.of("ping A quiet 10000", "ping A"), pings(), "a call started: a plain PING at once");
    }

    @Test
    void withoutAQuietIntervalAQuietRoundKeepsTheHeartbeat() {
        liveness = liveness(policy.withQuietInterval(Duration.ZERO));
        liveness.tick(at(Duration.ofMillis(900)), BOUND, true);
        assertEquals(List.of("ping A"), pings());
    }

    @Test
    void aQuietPingReadLengthensTheReceiveChannelsIdleTimeoutByItsInterval() {
        liveness.onPing(table.current(Channel.B), 10_000); // read at t0, nothing after it
        liveness.tick(at(IDLE.plusSeconds(10)), BOUND);
        assertEquals(List.of(), actions.stream().filter(a -> a.startsWith("failed")).toList());
        liveness.tick(at(IDLE.plusSeconds(10).plusNanos(1)), BOUND);
        assertTrue(actions.contains("failed B SILENT"), actions.toString());
    }

    @Test
    void anyByteReadAfterAQuietPingEndsItsPromise() {
        Link receive = table.current(Channel.B);
        liveness.onPing(receive, 10_000);
        clock.advance(Duration.ofSeconds(1));
        receive.connection.countSilenceFromNow(); // the peer's call, say: it is no longer quiet
        liveness.tick(at(IDLE.plusSeconds(1)), BOUND);
        assertTrue(actions.stream().noneMatch(a -> a.startsWith("failed")), actions.toString());
        liveness.tick(at(IDLE.plusSeconds(1).plusNanos(1)), BOUND);
        assertTrue(actions.contains("failed B SILENT"), actions.toString());
    }

    @Test
    void aPlainPingOrAReplacedLinkEndsAQuietPromise() throws IOException {
        liveness.onPing(table.current(Channel.B), 10_000);
        liveness.onPing(table.current(Channel.B), 0);
        liveness.tick(at(IDLE.plusNanos(1)), BOUND);
        assertTrue(actions.contains("failed B SILENT"), actions.toString());

        actions.clear();
        liveness.onPing(table.current(Channel.B), 10_000);
        table.install(Channel.B, connection()); // idle since t0 as well
        liveness.tick(at(IDLE.plusNanos(1)), BOUND);
        assertTrue(actions.contains("failed B SILENT"), actions.toString());
    }

    @Test
    void activityWakesTheRoundOnlyAfterAQuietRoundAndIsTakenOnce() {
        liveness.onActivity();
        assertEquals(List.of(), actions, "the last round was not quiet: nothing to wake");
        assertTrue(liveness.takeActivity());
        assertFalse(liveness.takeActivity(), "taken once");
        liveness.tick(at(Duration.ofMillis(100)), BOUND, true);
        liveness.onActivity();
        liveness.onActivity();
        assertEquals(List.of("wake"), actions.stream().filter("wake"::equals).toList(), "woken once");
        assertTrue(liveness.takeActivity());
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
    void aHeartbeatGoesAtTheFirstStepOfTheGridOnceIdleForFifteenSixteenthsLessAStep() {
        // t0 is a multiple of 50 ms: the links were idle from there, and 15/16 of 1 s less 50 ms is 887.5 ms, so the
        // first step at or after it is 900 ms.
        assertEquals(0, Math.floorMod(t0, Duration.ofMillis(50).toNanos()));
        Duration step = Duration.ofMillis(900);
        long wait = liveness.tick(at(step.minusNanos(1)), BOUND);
        assertEquals(List.of(), actions);
        assertEquals(1, wait, "the next round is planned for the step");
        liveness.tick(at(step), BOUND);
        assertEquals(List.of("ping A"), actions);
        liveness.tick(at(step.plusMillis(1)), BOUND);
        assertEquals(List.of("ping A"), actions, "one PING at a time");
    }

    @Test
    void aHeartbeatIsNeverLaterThanFifteenSixteenthsOfAnIntervalIdle() throws IOException {
        // Links idle from 37.5 ms past a step: 15/16 of 1 s later is 975 ms, and the step before it, 950 ms, is the
        // first at or after 975 - 50 = 925 ms.
        clock.advance(Duration.ofNanos(37_500_000));
        table.install(Channel.A, connection());
        table.install(Channel.B, connection());
        liveness.tick(at(Duration.ofMillis(950).minusNanos(1)), BOUND);
        assertEquals(List.of(), actions);
        liveness.tick(at(Duration.ofMillis(950)), BOUND);
        assertEquals(List.of("ping A"), actions, "sent within the last step before 15/16 of the interval");
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
    void theProcesssOwnLatenessStretchesEveryBound() {
        Duration lag = Duration.ofMillis(700);
        LocalHealth measured = new LocalHealth(clock::nanoTime);
        measured.record(at(HEARTBEAT.plusMillis(200)), lag.toNanos()); // noticed during both waits below
        health = measured;
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
    void latenessNoticedBeforeADeadlinesStartDoesNotStretchIt() {
        LocalHealth measured = new LocalHealth(clock::nanoTime);
        measured.record(at(Duration.ofMillis(100)), Duration.ofMillis(700).toNanos()); // a stall long past
        health = measured;
        liveness.tick(at(HEARTBEAT), BOUND);
        liveness.tick(at(HEARTBEAT.plus(PROBE).plusNanos(1)), BOUND);
        assertEquals(List.of("ping A", "failed A PING_UNANSWERED"), actions,
                "the PING went out 900 ms after the stall ended: its deadline is the policy's");
    }

    @Test
    void theHealthScoreMultipliesTheDeadlinesThatWaitOnThePeer() {
        health = new LocalHealth(clock::nanoTime) {
            @Override
            int score() {
                return 2;
            }
        };
        liveness.tick(at(HEARTBEAT), BOUND);
        liveness.tick(at(HEARTBEAT.plus(PROBE.multipliedBy(3))), BOUND);
        assertEquals(List.of("ping A"), actions, "three probe timeouts at score 2");
        liveness.tick(at(HEARTBEAT.plus(PROBE.multipliedBy(3)).plusNanos(1)), BOUND);
        assertEquals(List.of("ping A", "failed A PING_UNANSWERED"), actions);
        actions.clear();
        liveness.tick(at(IDLE.multipliedBy(3)), BOUND);
        assertTrue(actions.stream().noneMatch(a -> a.startsWith("failed B")), actions.toString());
        liveness.tick(at(IDLE.multipliedBy(3).plusNanos(1)), BOUND);
        assertTrue(actions.contains("failed B SILENT"), actions.toString());
    }

    /** Each deadline that passes unstretched is reported to the health once, however many rounds look at it. */
    @Test
    void aDeadlinePassedIsReportedToTheHealthOnce() {
        List<Long> overdue = new ArrayList<>();
        health = new LocalHealth(clock::nanoTime) {
            @Override
            void overdue(long nowNanos) {
                overdue.add(nowNanos);
            }

            @Override
            int score() {
                return 3; // patient: the rounds below look at deadlines that have not failed yet
            }
        };
        liveness.tick(at(HEARTBEAT), BOUND);
        liveness.tick(at(HEARTBEAT.plus(PROBE)), BOUND);
        assertEquals(List.of(), overdue, "not yet overdue");
        liveness.tick(at(HEARTBEAT.plus(PROBE).plusNanos(1)), BOUND);
        liveness.tick(at(HEARTBEAT.plus(PROBE).plusMillis(10)), BOUND);
        assertEquals(List.of(at(HEARTBEAT.plus(PROBE).plusNanos(1))), overdue, "the PONG's deadline, once");
        liveness.tick(at(IDLE.plusNanos(1)), BOUND);
        liveness.tick(at(IDLE.plusMillis(10)), BOUND);
        assertEquals(List.of(at(HEARTBEAT.plus(PROBE).plusNanos(1)), at(IDLE.plusNanos(1))), overdue,
                "and the receive channel's, once");
        assertEquals(List.of("ping A"), actions, "nothing failed: the score stretched both");
    }

    @Test
    void aPingIsMarkedDrainedOnlyWhenNothingButTheLastAnsweredPingWasWrittenSince() throws IOException {
        writePings = true;
        Link send = table.current(Channel.A);
        liveness.tick(at(HEARTBEAT), BOUND);
        liveness.onPong(send, nonces.getLast());
        liveness.tick(at(HEARTBEAT.multipliedBy(2)), BOUND);
        liveness.onPong(send, nonces.getLast());
        assertEquals(List.of(false, true), drained, "the first PING of a link proves nothing yet; the second may go");
        send.connection.sendAlone(new io.twinline.transport.Frame.Ping(12345)); // anything else written meanwhile
        liveness.tick(at(HEARTBEAT.multipliedBy(3)), BOUND);
        assertEquals(List.of(false, true, false), drained, "bytes written after the answered PING may still wait");
        liveness.onPong(send, nonces.getLast());
        liveness.tick(at(HEARTBEAT.multipliedBy(4)), BOUND);
        assertEquals(List.of(false, true, false, true), drained,
                "its answer covers what was written before it: the buffer is empty again");
    }
}
