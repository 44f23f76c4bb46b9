package io.twinline.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.Channel;
import io.twinline.api.FailureCause;
import io.twinline.api.Limits;
import io.twinline.api.RecoveryPolicy;
import io.twinline.api.SessionState;
import io.twinline.recovery.Clock;
import io.twinline.transport.Connection;
import io.twinline.transport.Endpoint;
import io.twinline.transport.Frame;
import io.twinline.transport.FrameCodec;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Race 3 of issue #14, forced: a server session's channel A fails, and before its recovery process has started, the
 * client's re-attach of A is handled. The process must close only the link that failed, never the fresh one: with
 * every carrier of the virtual-thread scheduler held busy, the process cannot start until the test has attached the
 * fresh link, which is the order the race needs. (A process that judged links by the generation current when it
 * started closed the fresh link, and then waited for a re-attach that never came.)
 */
class RecoveryOwnLinkTest {

    @Test
    void aRecoveryClosesTheLinkThatFailedNotOneAttachedBeforeItStarted() throws Exception {
        RecoveryPolicy policy = RecoveryPolicy.defaults().withIdleTimeout(Duration.ofSeconds(30))
                .withHeartbeatInterval(Duration.ofSeconds(10)).withProbeTimeout(Duration.ofSeconds(2))
                .withReattachWindow(Duration.ofSeconds(5));
        TwinSession session = new TwinSession(7, new byte[16], TwinSession.Role.SERVER, policy, Limits.defaults(),
                new TwinSession.PeerLimits(1 << 20, 64, 1 << 26), Map.of(), Clock.system(), new Metrics(), null, null, null);
        List<Endpoint> farEnds = new ArrayList<>();
        AtomicBoolean release = new AtomicBoolean();
        try {
            assertTrue(session.attach(Channel.A, connection(farEnds)));
            assertTrue(session.attach(Channel.B, connection(farEnds)));
            answerPings(farEnds.get(1)); // the client's side of B, for the recovery's probe
            assertEquals(SessionState.NORMAL, session.state());
            Link failed = session.link(Channel.A);

            int carriers = Integer.getInteger("jdk.virtualThreadScheduler.parallelism",
                    Runtime.getRuntime().availableProcessors());
            CountDownLatch busy = new CountDownLatch(carriers);
            for (int i = 0; i < carriers; i++) {
                Thread.ofVirtual().start(() -> {
                    busy.countDown();
                    while (!release.get()) {
                        Thread.onSpinWait(); // holds its carrier: virtual threads are not preempted
                    }
                });
            }
            assertTrue(busy.await(10, TimeUnit.SECONDS), "every carrier held");

            // On this platform thread, while no virtual thread can run: A fails, then the client's new A arrives.
            session.recovery().linkFailed(failed, FailureCause.RESET, new IOException("reset (test)"));
            assertTrue(session.attach(Channel.A, connection(farEnds)));
            Link fresh = session.link(Channel.A);
            release.set(true);

            // The process started (it was counted when spawned) and has ended.
            Testing.await(Duration.ofSeconds(10), () -> "the recovery ended in NORMAL (" + session.state() + ")",
                    () -> session.state() == SessionState.NORMAL && !session.recovery().isRunning(Channel.A));
            assertSame(fresh, session.link(Channel.A), "the fresh link is still channel A's");
            assertTrue(fresh.isHealthy(), "and was not closed by the recovery of the one before it");
        } finally {
            release.set(true);
            session.close();
            farEnds.forEach(Endpoint::close);
        }
    }

    /** A connection whose far end the test keeps (a client's side). */
    private static Connection connection(List<Endpoint> farEnds) throws IOException {
        SimNetwork net = new SimNetwork();
        var listener = net.listen(new InetSocketAddress("127.0.0.1", 0));
        var near = net.dial(listener.address(), Duration.ofSeconds(1));
        farEnds.add(listener.accept());
        return new Connection(near, 1 << 20, 1 << 20, System::nanoTime);
    }

    /** Answers every PING read on {@code far} with its PONG, on a platform thread of its own. */
    private static void answerPings(Endpoint far) {
        Thread.ofPlatform().daemon(true).start(() -> {
            FrameCodec codec = new FrameCodec(1 << 20);
            try {
                DataInputStream in = new DataInputStream(far.input());
                DataOutputStream out = new DataOutputStream(far.output());
                while (true) {
                    if (codec.read(in) instanceof Frame.Ping ping) {
                        codec.write(new Frame.Pong(ping.nonce()), out);
                        out.flush();
                    }
                }
            } catch (IOException e) {
                // the test is over
            }
        });
    }
}
