package io.twinline.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.SessionState;
import io.twinline.api.Twinline;
import io.twinline.api.TwinlineClient;
import java.io.IOException;
import java.io.PrintStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code twinline server}'s orderly stop: on a signal {@code /ready} turns 503 at once, the server goes on taking
 * sessions for {@code --drain-ms} (ten minutes here, cut short by the test, so nothing depends on how long a step
 * takes), its endpoint answers until it has closed, and its sessions get GOODBYE.
 */
@Timeout(60)
class ServerRunTest {
    private static final Pattern LISTENING = Pattern.compile(
            "listening on 127\\.0\\.0\\.1:(\\d+), status on http://127\\.0\\.0\\.1:(\\d+)/");

    private static int status(int port, String path) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + path).toURL()
                .openConnection();
        c.setConnectTimeout(2000);
        c.setReadTimeout(5000);
        try {
            return c.getResponseCode();
        } finally {
            c.disconnect();
        }
    }

    @Test
    void aSignalTurnsReadinessOffThenDrainsThenSaysGoodbye() throws Exception {
        ClientRunTest.LiveOutput out = new ClientRunTest.LiveOutput();
        ClientRunTest.TestSignals signals = new ClientRunTest.TestSignals();
        PrintStream printer = new PrintStream(out, true, StandardCharsets.UTF_8);
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> TwinlineCommand.run(List.of("server",
                        "--port", "0", "--status", "127.0.0.1:0", "--drain-ms", "600000", "--log-level", "off"),
                printer, printer, signals), r -> Thread.ofVirtual().name("test/server").start(r));
        assertTrue(out.await(t -> LISTENING.matcher(t).find(), Duration.ofSeconds(20)), out.text());
        Matcher m = LISTENING.matcher(out.text());
        assertTrue(m.find());
        int port = Integer.parseInt(m.group(1));
        int statusPort = Integer.parseInt(m.group(2));
        assertEquals(200, status(statusPort, "/ready"));
        try (TwinlineClient before = Twinline.client().server("127.0.0.1", port).connect()) {
            Thread hook = signals.raise();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (status(statusPort, "/ready") != 503) {
                assertTrue(System.nanoTime() < deadline, "/ready never turned 503");
                Thread.sleep(20);
            }
            assertEquals(200, status(statusPort, "/health"), "alive while draining");
            assertEquals(SessionState.NORMAL, before.session().state(), "no GOODBYE during the drain");
            // Still serving: a session that was on its way when readiness dropped is taken.
            try (TwinlineClient during = Twinline.client().server("127.0.0.1", port).connect()) {
                assertEquals(SessionState.NORMAL, during.session().state());
            }
            hook.interrupt(); // ends the ten-minute drain now; the close follows as after a drain that ran out
            assertEquals(0, exit.get(30, TimeUnit.SECONDS));
            assertEquals(SessionState.CLOSED, before.session().state(), "GOODBYE after the drain");
        }
        assertThrows(IOException.class, () -> status(statusPort, "/ready"), "the endpoint stops with the server");
    }
}
