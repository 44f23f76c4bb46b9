package io.twinline.host;

import static org.junit.jupiter.api.Assertions.fail;

import io.twinline.api.ClientBuilder;
import io.twinline.api.Handler;
import io.twinline.api.RecoveryPolicy;
import io.twinline.api.ServerBuilder;
import io.twinline.api.Session;
import io.twinline.api.Twinline;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/** Shared pieces of the host tests: a fast policy, standard handlers, bounded waits. */
final class Testing {
    /**
     * Every runtime the tests make through the api opens its connections here, so faults come from the network's
     * side ({@link HostAccess#inject}, {@link FaultyNetwork#crashServers}); bytes pass straight through otherwise.
     */
    static final FaultyNetwork NETWORK = new FaultyNetwork(Network.TCP);

    static {
        TwinlineProviderImpl.useNetwork(NETWORK);
    }

    private Testing() {
    }

    /**
     * Detection in a few hundred milliseconds, so fault tests finish quickly: heartbeat 100 ms, idle 400 ms,
     * probe 300 ms, 3 s to reconnect, 8 s re-attach window, and never quiet (a fault test's idle session keeps its
     * 100 ms heartbeat; {@code QuietSessionTest} tests quiet sessions).
     */
    static RecoveryPolicy fastPolicy() {
        return RecoveryPolicy.defaults()
                .withHeartbeatInterval(Duration.ofMillis(100))
                .withIdleTimeout(Duration.ofMillis(400))
                .withProbeTimeout(Duration.ofMillis(300))
                .withRecoveryTimeLimit(Duration.ofSeconds(3))
                .withBackoff(Duration.ofMillis(10), Duration.ofMillis(200), 0.5)
                .withReattachWindow(Duration.ofSeconds(8))
                .withQuietInterval(Duration.ZERO);
    }

    /** Counts how often each distinct body was handled, to prove exactly-once. */
    static final class RunCounter {
        final ConcurrentHashMap<String, AtomicInteger> runs = new ConcurrentHashMap<>();

        final Handler handler = (session, body) -> {
            runs.computeIfAbsent(new String(body, StandardCharsets.UTF_8), k -> new AtomicInteger())
                    .incrementAndGet();
            return body;
        };

        int runs(String body) {
            AtomicInteger n = runs.get(body);
            return n == null ? 0 : n.get();
        }

        /** Returns the first body handled more than once, or {@code null}. */
        String firstDuplicate() {
            for (Map.Entry<String, AtomicInteger> e : runs.entrySet()) {
                if (e.getValue().get() > 1) {
                    return e.getKey() + " x" + e.getValue().get();
                }
            }
            return null;
        }
    }

    static final Handler ECHO = (session, body) -> body;

    static final Handler FAIL = (session, body) -> {
        throw new IllegalStateException("boom: " + new String(body, StandardCharsets.UTF_8));
    };

    /** Sleeps for the number of milliseconds in the body (decimal text), then echoes it. */
    static final Handler SLOW = (session, body) -> {
        Thread.sleep(Long.parseLong(new String(body, StandardCharsets.UTF_8)));
        return body;
    };

    static ServerBuilder server() {
        return Twinline.server().bind("127.0.0.1", 0).recoveryPolicy(fastPolicy())
                .handle("echo", ECHO).handle("fail", FAIL).handle("slow", SLOW);
    }

    static ClientBuilder client(TwinlineServer server) {
        return Twinline.client().server("127.0.0.1", server.address().getPort()).recoveryPolicy(fastPolicy())
                .handle("echo", ECHO).handle("fail", FAIL).handle("slow", SLOW);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    /** Waits up to {@code timeout} for {@code condition}, failing the test with {@code what} if it never holds. */
    static void await(Duration timeout, String what, BooleanSupplier condition) {
        await(timeout, () -> what, condition);
    }

    /** As {@link #await(Duration, String, BooleanSupplier)}, describing the failure when it happens. */
    static void await(Duration timeout, java.util.function.Supplier<String> what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within " + timeout + ": " + what.get());
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted while waiting for: " + what);
            }
        }
    }

    /** The bytes of the smaller heartbeat frame, a PONG, on the wire: length, type and nonce (a PING has 4 more). */
    static final int HEARTBEAT_FRAME_BYTES = 4 + 1 + 8;

    /**
     * Waits until each runtime has received at least {@code frames} more heartbeat frames' worth of bytes than it
     * had when this was called: instead of sleeping for a while and then finding that nothing failed (which passes
     * on a machine too slow to have run a heartbeat in the meantime), a test waits for the heartbeats themselves.
     */
    static void awaitHeartbeats(int frames, Object... runtimes) {
        long[] before = new long[runtimes.length];
        for (int i = 0; i < runtimes.length; i++) {
            before[i] = HostAccess.metrics(runtimes[i]).get("bytes_received");
        }
        await(Duration.ofSeconds(60), frames + " heartbeats received at each end", () -> {
            for (int i = 0; i < runtimes.length; i++) {
                if (HostAccess.metrics(runtimes[i]).get("bytes_received") - before[i]
                        < (long) frames * HEARTBEAT_FRAME_BYTES) {
                    return false;
                }
            }
            return true;
        });
    }

    /** The server-side twin of a client's session. */
    static TwinSession serverSide(TwinlineServer server, Session clientSession) {
        return (TwinSession) server.session(clientSession.id()).orElseThrow(
                () -> new AssertionError("server has no session " + clientSession.id()));
    }

    /**
     * Writes an ATTACH of {@code channel} for session {@code sessionId} with {@code token} on a raw connection and
     * returns the server's answer (ATTACHED or REJECTED).
     */
    static io.twinline.transport.Frame attach(java.io.InputStream in, java.io.OutputStream out, long sessionId,
                                              byte[] token, io.twinline.api.Channel channel) throws java.io.IOException {
        io.twinline.transport.FrameCodec codec = new io.twinline.transport.FrameCodec(4096);
        java.io.DataOutputStream data = new java.io.DataOutputStream(out);
        codec.write(new io.twinline.transport.Frame.Attach(io.twinline.transport.FrameCodec.VERSION, sessionId, token,
                channel.code(), 1 << 20), data);
        data.flush();
        return codec.read(new java.io.DataInputStream(in));
    }

    static TwinSession twin(TwinlineClient client) {
        return (TwinSession) client.session();
    }

    /** Open file descriptors of this process (Linux). */
    static int openFiles() {
        String[] fds = new File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }
}
