package io.twinline.host.cli;

import static io.twinline.host.cli.LedgerServer.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.SessionState;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code twinline client} when its session ends, with and without {@code --reconnect}, and when a signal asks it to
 * stop. Every run is given {@code --seconds 600}: a client that does not end by itself fails the bounded wait.
 */
class ClientRunTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int CONCURRENCY = 4;

    private final LedgerServer server = new LedgerServer();
    private final LiveOutput out = new LiveOutput();
    private final TestSignals signals = new TestSignals();
    private Relay relay;

    @AfterEach
    void stop() {
        if (relay != null) {
            relay.close();
        }
        server.close();
    }

    /** Starts {@code twinline client} against {@code port}; completes with its exit code. */
    private CompletableFuture<Integer> client(int port, String... more) {
        List<String> args = new ArrayList<>(List.of("client", "--connect", "127.0.0.1:" + port, "--seconds", "600",
                "--concurrency", Integer.toString(CONCURRENCY), "--recovery-time-limit-ms", "500",
                "--log-level", "off"));
        args.addAll(List.of(more));
        PrintStream printer = new PrintStream(out, true, StandardCharsets.UTF_8);
        return CompletableFuture.supplyAsync(() -> TwinlineCommand.run(args, printer, printer, signals),
                r -> Thread.ofVirtual().name("test/client").start(r));
    }

    private void awaitCalls(int sessionIndex) throws InterruptedException {
        assertTrue(await(() -> server.adds(sessionIndex) >= 100, WAIT), "calls flow on session " + sessionIndex
                + ": " + out.text());
    }

    private static long field(String summary, String name) {
        Matcher m = Pattern.compile("\\b" + name + "=(\\d+)").matcher(summary);
        assertTrue(m.find(), name + " in " + summary);
        return Long.parseLong(m.group(1));
    }

    private String summary() {
        return out.text().lines().filter(l -> l.startsWith("calls=")).findFirst().orElse("");
    }

    @Test
    void aLostSessionEndsTheRunWithTheSummaryAndExit1() throws Exception {
        relay = new Relay(new InetSocketAddress("127.0.0.1", server.port()));
        CompletableFuture<Integer> run = client(relay.port());
        awaitCalls(0);
        relay.refuse(true);
        relay.cut();

        int exit = run.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(1, exit, out.text());
        assertTrue(out.text().contains("-> DISCONNECTED"), out.text());
        assertTrue(out.text().contains("session lost: no more calls"), out.text());
        assertTrue(field(summary(), "failed") <= CONCURRENCY, "only the calls in flight failed: " + summary());
        assertTrue(summary().contains("ledger=mismatch"), "the lost session's ledger cannot be read: " + summary());
    }

    @Test
    void aSessionClosedByTheServerEndsTheRunWithTheSummaryAndExit1() throws Exception {
        CompletableFuture<Integer> run = client(server.port(), "--reconnect");
        awaitCalls(0);
        server.close();

        int exit = run.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(1, exit, out.text());
        assertTrue(out.text().contains("session closed by the server: no more calls"), out.text());
        assertTrue(field(summary(), "failed") <= CONCURRENCY, "only the calls in flight failed: " + summary());
    }

    @Test
    void withReconnectTheCallsGoOnOnANewSessionWhoseLedgersAreChecked() throws Exception {
        relay = new Relay(new InetSocketAddress("127.0.0.1", server.port()));
        CompletableFuture<Integer> run = client(relay.port(), "--reconnect");
        awaitCalls(0);
        relay.refuse(true);
        relay.cut();
        assertTrue(out.await(t -> t.contains("session lost: calls wait for a new session"), WAIT), out.text());
        relay.refuse(false);
        awaitCalls(1);
        signals.raise();

        int exit = run.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(TwinlineCommand.INTERRUPTED, exit, out.text());
        String summary = summary();
        assertEquals(2, field(summary, "sessions"), summary);
        assertTrue(field(summary, "failed") <= CONCURRENCY, "only the calls in flight failed: " + summary);
        assertTrue(summary.contains("ledger=match"), "the last session's ledgers: " + out.text());
    }

    @Test
    void aSignalLetsCallsInFlightFinishThenSaysGoodbyeThenPrintsTheSummary() throws Exception {
        CompletableFuture<Integer> run = client(server.port());
        awaitCalls(0);
        signals.raise();

        int exit = run.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(TwinlineCommand.INTERRUPTED, exit, out.text());
        String text = out.text();
        String summary = summary();
        assertEquals(0, field(summary, "failed"), text);
        assertTrue(summary.contains("ledger=match"), text);
        int signal = text.indexOf("signal received");
        int closed = text.indexOf("-> CLOSED");
        int line = text.indexOf("calls=");
        assertTrue(signal >= 0 && signal < closed && closed < line, "signal, then GOODBYE, then the summary: " + text);
        assertTrue(await(() -> server.end(0) != null, WAIT), "the server's session ended");
        assertEquals(SessionState.CLOSED, server.end(0), "the server got GOODBYE");
    }

    @Test
    void withMetricsTheClientServesItsCountersWhileItRunsAndSaysWhere() throws Exception {
        CompletableFuture<Integer> run = client(server.port(), "--metrics", "127.0.0.1:0");
        Pattern where = Pattern.compile("metrics on http://127\\.0\\.0\\.1:(\\d+)/metrics");
        assertTrue(out.await(t -> where.matcher(t).find(), WAIT), out.text());
        awaitCalls(0);
        Matcher m = where.matcher(out.text());
        assertTrue(m.find());
        java.net.HttpURLConnection c = (java.net.HttpURLConnection) java.net.URI.create(
                "http://127.0.0.1:" + m.group(1) + "/metrics").toURL().openConnection();
        String body = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        Matcher made = Pattern.compile("\ntwinline_calls_total\\{direction=\"made\",outcome=\"ok\"} (\\d+)\n")
                .matcher(body);
        assertTrue(made.find(), body);
        assertTrue(Long.parseLong(made.group(1)) >= 100, "the calls made so far are counted: " + made.group(1));
        assertTrue(body.contains("twinline_info{role=\"client\""), body);
        signals.raise();
        assertEquals(TwinlineCommand.INTERRUPTED, run.get(WAIT.toSeconds(), TimeUnit.SECONDS), out.text());
    }

    /** Signals raised by the test, on a thread of their own as the JVM's hook would run. */
    static final class TestSignals implements Signals {
        private volatile Runnable action;

        @Override
        public Registration onSignal(String name, Runnable onSignal) {
            action = onSignal;
            return () -> action = null;
        }

        /** Runs the action as the JVM's hook would; returns its thread. */
        Thread raise() {
            Runnable a = action;
            assertNotNull(a, "the command listens for signals");
            return Thread.ofPlatform().name("test/signal").start(a);
        }
    }

    /** A command's output as it is written, for waiting on a line. */
    static final class LiveOutput extends OutputStream {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public synchronized void write(int b) {
            bytes.write(b);
            notifyAll();
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            bytes.write(b, off, len);
            notifyAll();
        }

        synchronized String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }

        synchronized boolean await(java.util.function.Predicate<String> condition, Duration timeout)
                throws InterruptedException {
            long end = System.nanoTime() + timeout.toNanos();
            while (!condition.test(text())) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            return true;
        }
    }
}
