package io.twinline.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The command line's usage errors: reported as such (exit 2), before anything is started. */
class TwinlineCommandTest {

    @Test
    void aMalformedStatusAddressIsAUsageErrorAndNoServerIsLeftListening() throws IOException {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort(); // free a moment ago; the command must leave it free
        }
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        int exit = TwinlineCommand.run(List.of("server", "--port", Integer.toString(port), "--status", "nowhere",
                "--log-level", "warn"), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, exit, "a usage error");
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--status must be HOST:PORT: nowhere"),
                err.toString(StandardCharsets.UTF_8));
        assertFalse(out.toString(StandardCharsets.UTF_8).contains("listening"), out.toString(StandardCharsets.UTF_8));
        try (ServerSocket again = new ServerSocket()) {
            again.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)); // fails if a server kept it
        }
    }
}
