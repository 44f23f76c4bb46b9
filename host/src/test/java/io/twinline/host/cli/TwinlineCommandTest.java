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
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The command line's usage errors: reported as such (exit 2), before anything is started. */
class TwinlineCommandTest {

    /** What a run printed and how it ended. */
    record Run(int exit, String out, String err) {
    }

    /** No signal ever comes. */
    static final Signals NO_SIGNALS = (name, onSignal) -> () -> {
    };

    static Run run(String... args) {
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        int exit = TwinlineCommand.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), NO_SIGNALS);
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aFlagAcceptsABooleanAfterAnEqualsSign() throws UsageException {
        for (String yes : List.of("--faults", "--faults=yes", "--faults=TRUE", "--faults=on")) {
            assertTrue(new Args(List.of(yes), Set.of(), Set.of("faults")).flag("faults"), yes);
        }
        for (String no : List.of("--faults=no", "--faults=false", "--faults=Off")) {
            assertFalse(new Args(List.of(no), Set.of(), Set.of("faults")).flag("faults"), no);
        }
        assertFalse(new Args(List.of("--faults", "--faults=no"), Set.of(), Set.of("faults")).flag("faults"),
                "the last one counts");
    }

    @Test
    void tlsFlagsThatDoNotFitAreUsageErrorsNamingTheFlag() {
        Run half = run("server", "--port", "0", "--status", "off", "--tls-cert", "server.pem");
        assertEquals(2, half.exit(), half.err());
        assertTrue(half.err().contains("--tls-cert and --tls-key go together"), half.err());
        Run caAlone = run("server", "--port", "0", "--status", "off", "--tls-client-ca", "ca.pem");
        assertEquals(2, caAlone.exit(), caAlone.err());
        assertTrue(caAlone.err().contains("--tls-client-ca needs"), caAlone.err());
        Run missing = run("client", "--connect", "127.0.0.1:1", "--tls-trust", "/nonexistent/ca.pem");
        assertEquals(2, missing.exit(), missing.err());
        assertTrue(missing.err().contains("/nonexistent/ca.pem"), missing.err());
        Run noDir = run("certs");
        assertEquals(2, noDir.exit(), noDir.err());
        assertTrue(noDir.err().contains("--dir"), noDir.err());
    }

    @Test
    void certsMakesACaAndCertificatesAServerAndClientUse(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        Run made = run("certs", "--dir", dir.toString());
        assertEquals(0, made.exit(), made.err());
        assertTrue(made.out().contains("twinline server --tls-keystore"), made.out());
        char[] password = ThrowawayCa.PASSWORD.toCharArray();
        io.twinline.api.TwinlineServer server = io.twinline.api.Twinline.server().bind("127.0.0.1", 0)
                .handle("echo", (session, body) -> body)
                .tls(io.twinline.api.Tls.keyStore(dir.resolve("server.p12"), password)
                        .trusting(dir.resolve("ca.pem")).requireClientCertificates())
                .start();
        try (io.twinline.api.TwinlineClient client = io.twinline.api.Twinline.client()
                .server("localhost", server.address().getPort())
                .tls(io.twinline.api.Tls.trustingOnly(dir.resolve("ca.pem"))
                        .withKeyStore(dir.resolve("client.p12"), password))
                .connect()) {
            assertEquals("hi", new String(client.call("echo", "hi".getBytes(StandardCharsets.UTF_8)),
                    StandardCharsets.UTF_8));
        } finally {
            server.close();
        }
        assertEquals(2, run("certs", "--dir", dir.toString()).exit(), "a directory that holds a CA is not reused");
    }

    @Test
    void aFlagWithAValueThatIsNotABooleanIsAUsageErrorNamingTheValue() {
        Run r = run("client", "--connect", "127.0.0.1:1", "--faults=maybe");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("--faults") && r.err().contains(": maybe"), r.err());
    }

    @Test
    void versionIsTheProjectVersionAtTopLevelAndAfterEachCommand() {
        String expected = "twinline " + System.getProperty("twinline.test.projectVersion");
        assertFalse(expected.endsWith("null"), "surefire passes the project version");
        for (List<String> args : List.of(List.of("--version"), List.of("server", "--version"),
                List.of("client", "--version"), List.of("demo", "--version"))) {
            Run r = run(args.toArray(String[]::new));
            assertEquals(0, r.exit(), args + ": " + r.err());
            assertEquals(expected, r.out().strip(), args.toString());
        }
    }

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
                new PrintStream(err, true, StandardCharsets.UTF_8), NO_SIGNALS);
        assertEquals(2, exit, "a usage error");
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--status must be HOST:PORT: nowhere"),
                err.toString(StandardCharsets.UTF_8));
        assertFalse(out.toString(StandardCharsets.UTF_8).contains("listening"), out.toString(StandardCharsets.UTF_8));
        try (ServerSocket again = new ServerSocket()) {
            again.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)); // fails if a server kept it
        }
    }

    @Test
    void aBudgetOfBytesInFlightBelowTheMessageLimitIsAUsageError() throws Exception {
        Run r = run("client", "--connect", "127.0.0.1:1", "--max-message-bytes", "2048", "--max-in-flight-bytes",
                "1024");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("--max-in-flight-bytes must be at least --max-message-bytes (2048): 1024"),
                r.err());
        assertEquals(new io.twinline.api.Limits(2048, 1024, 2048, 64L << 20, 128 << 10, 10_000, Duration.ofSeconds(5),
                Duration.ofSeconds(30), Duration.ofSeconds(2)), TwinlineCommand.limits(new Args(List.of(
                "--max-message-bytes", "2048", "--max-in-flight-bytes", "2048"),
                java.util.Set.of("max-message-bytes", "max-in-flight-bytes", "send-buffer-bytes"),
                java.util.Set.of())));
    }
}
