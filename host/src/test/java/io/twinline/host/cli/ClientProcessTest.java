package io.twinline.host.cli;

import static io.twinline.host.cli.LedgerServer.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.SessionState;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code twinline client} in a JVM of its own, stopped by a real SIGTERM ({@link ProcessHandle#destroy()}): the
 * JVM's shutdown hook, not a test double, must end it in order.
 */
class ClientProcessTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void sigtermEndsTheClientWithGoodbyeTheSummaryAndExit143() throws Exception {
        try (LedgerServer server = new LedgerServer()) {
            Process client = new ProcessBuilder(command("client", "--connect", "127.0.0.1:" + server.port(),
                    "--seconds", "600", "--concurrency", "4", "--log-level", "off"))
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            StringBuffer out = new StringBuffer();
            Thread reader = Thread.ofVirtual().start(() -> copyLines(client, out));
            try {
                assertTrue(await(() -> server.adds(0) >= 100, WAIT), "calls flow: " + out);

                // SIGTERM; through the handle, because Process.destroy() also closes our end of its output.
                assertTrue(client.toHandle().destroy(), "SIGTERM sent");

                assertTrue(client.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "the client ended: " + out);
                reader.join();
                assertEquals(143, client.exitValue(), out.toString());
                String text = out.toString();
                assertTrue(text.contains("signal received"), text);
                assertTrue(text.lines().anyMatch(l -> l.startsWith("calls=") && l.contains(" failed=0 ")
                        && l.contains("ledger=match")), text);
                assertTrue(await(() -> server.end(0) != null, WAIT), "the server's session ended: " + text);
                assertEquals(SessionState.CLOSED, server.end(0), "the server got GOODBYE");
            } finally {
                client.destroyForcibly();
            }
        }
    }

    /** The test JVM's own java, with its module path, running the twinline command. */
    private static List<String> command(String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--enable-preview");
        String modulePath = System.getProperty("jdk.module.path");
        if (modulePath != null) {
            command.addAll(List.of("-p", modulePath, "-m", "io.twinline.host/" + TwinlineCommand.class.getName()));
        } else {
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), TwinlineCommand.class.getName()));
        }
        command.addAll(List.of(args));
        return command;
    }

    private static void copyLines(Process process, StringBuffer out) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                out.append(line).append('\n');
            }
        } catch (IOException e) {
            out.append("(reading the output failed: ").append(e).append(")\n");
        }
    }
}
