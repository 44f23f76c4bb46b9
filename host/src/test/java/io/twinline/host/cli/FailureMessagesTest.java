package io.twinline.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.host.cli.TwinlineCommandTest.Run;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Failures a first try meets, said in words that name what failed: exit 1 and one line on stderr. */
class FailureMessagesTest {

    @Test
    void aBusyListeningPortIsNamed() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            Run r = TwinlineCommandTest.run("server", "--port", Integer.toString(port), "--status", "off",
                    "--log-level", "off");
            assertEquals(1, r.exit(), r.err());
            assertEquals("twinline: cannot listen on 127.0.0.1:" + port + ": address already in use", r.err().strip());
        }
    }

    @Test
    void aBusyStatusPortIsNamedAndTheServerIsClosed() throws IOException {
        int port = freePort();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int statusPort = taken.getLocalPort();
            Run r = TwinlineCommandTest.run("server", "--port", Integer.toString(port), "--status",
                    "127.0.0.1:" + statusPort, "--log-level", "off");
            assertEquals(1, r.exit(), r.err());
            assertEquals("twinline: cannot listen on 127.0.0.1:" + statusPort
                    + " for the status endpoint: address already in use", r.err().strip());
        }
        try (ServerSocket again = new ServerSocket()) {
            again.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)); // fails if the server kept it
        }
    }

    @Test
    void anUnknownHostIsSaidToBeUnknown() {
        Run r = TwinlineCommandTest.run("client", "--connect", "nosuchhost.invalid:7420", "--log-level", "off");
        assertEquals(1, r.exit(), r.err());
        assertEquals("twinline: cannot connect to nosuchhost.invalid:7420: unknown host nosuchhost.invalid",
                r.err().strip());
    }

    @Test
    void anHttpServerIsSaidNotToBeATwinlineServer() throws Exception {
        try (ServerSocket http = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread server = Thread.ofVirtual().start(() -> answerOnce(http,
                    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
            Run r = TwinlineCommandTest.run("client", "--connect", "127.0.0.1:" + http.getLocalPort(),
                    "--log-level", "off");
            server.join();
            assertEquals(1, r.exit(), r.err());
            assertEquals("twinline: 127.0.0.1:" + http.getLocalPort() + " is not a twinline server: it answered "
                    + "HELLO with something else (frame length 1213486160 outside 1..4096, as text \"HTTP\")",
                    r.err().strip());
        }
    }

    @Test
    void aServerThatClosesAtOnceIsSaidToHaveClosed() throws Exception {
        try (ServerSocket closer = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread server = Thread.ofVirtual().start(() -> answerOnce(closer, ""));
            Run r = TwinlineCommandTest.run("client", "--connect", "127.0.0.1:" + closer.getLocalPort(),
                    "--log-level", "off");
            server.join();
            assertEquals(1, r.exit(), r.err());
            assertTrue(r.err().contains("closed the connection without answering HELLO"), r.err());
        }
    }

    /** Accepts one connection, reads what came first, writes {@code answer} and closes. */
    private static void answerOnce(ServerSocket listener, String answer) {
        try (Socket s = listener.accept();
             InputStream in = s.getInputStream();
             OutputStream out = s.getOutputStream()) {
            in.read(new byte[4096]);
            out.write(answer.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            s.shutdownOutput();
            in.readAllBytes(); // until the client closes, so it reads our answer rather than a reset
        } catch (IOException e) {
            // the client went away first: its message is what the test checks
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }
}
