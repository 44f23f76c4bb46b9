package io.twinline.host;

import static io.twinline.host.Testing.text;
import static io.twinline.host.Testing.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.twinline.api.Limits;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import io.twinline.transport.Frame;
import io.twinline.transport.FrameCodec;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Connections in handshake are bounded in all and per address: past either bound a new connection is reset at
 * accept and counted ({@code connectionsShed}), while other addresses still get in, the sessions already open go
 * on, and the count falls back as the silent connections go.
 */
class HandshakeLimitTest {

    private static Socket from(String localAddress, InetSocketAddress server) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(localAddress, 0));
        s.connect(server, 5000);
        s.setSoTimeout(10_000);
        return s;
    }

    /** Whether the server resets (or closes) a new connection from {@code localAddress} without a word. */
    private static boolean shedFrom(String localAddress, InetSocketAddress server) throws IOException {
        Socket s = new Socket();
        try (s) {
            s.bind(new InetSocketAddress(localAddress, 0));
            s.connect(server, 5000);
            s.setSoTimeout(10_000);
            return s.getInputStream().read() == -1;
        } catch (SocketException e) {
            return true; // reset, while connecting or reading
        }
    }

    /** Sends HELLO on a new connection from {@code localAddress} and returns the answer. */
    private static Frame hello(String localAddress, InetSocketAddress server) throws IOException {
        try (Socket s = from(localAddress, server)) {
            FrameCodec codec = new FrameCodec(4096);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            codec.write(new Frame.Hello(FrameCodec.VERSION, 1 << 20, 64, 1 << 20), out);
            out.flush();
            return codec.read(new DataInputStream(s.getInputStream()));
        }
    }

    @Test
    void pastEitherBoundConnectionsAreResetAndAClientFromAnotherAddressStillGetsIn() throws Exception {
        TwinlineServer server = Testing.server()
                .limits(Limits.defaults().withMaxHandshakes(6, 4).withHandshakeTimeout(Duration.ofSeconds(20)))
                .start();
        ServerRuntime runtime = (ServerRuntime) server;
        InetSocketAddress at = server.address();
        List<Socket> silent = new ArrayList<>();
        try (TwinlineClient bystander = Testing.client(server).connect()) {
            for (int i = 0; i < 4; i++) {
                silent.add(from("127.0.0.1", at));
            }
            Testing.await(Duration.ofSeconds(5), "four in handshake", () -> runtime.handshaking() == 4);
            assertEquals(true, shedFrom("127.0.0.1", at), "a fifth from one address is reset");
            assertEquals(1, server.metrics().connectionsShed());

            // A HELLO that never attaches B holds its place until its session leaves CONNECTING.
            try (Socket a = from("127.0.0.2", at)) {
                FrameCodec codec = new FrameCodec(4096);
                DataOutputStream out = new DataOutputStream(a.getOutputStream());
                codec.write(new Frame.Hello(FrameCodec.VERSION, 1 << 20, 64, 1 << 20), out);
                out.flush();
                assertInstanceOf(Frame.Welcome.class, codec.read(new DataInputStream(a.getInputStream())));
                silent.add(from("127.0.0.2", at));
                Testing.await(Duration.ofSeconds(5), "six in handshake", () -> runtime.handshaking() == 6);

                // Full: a client from a third address displaces the oldest silent connection of 127.0.0.1.
                assertInstanceOf(Frame.Welcome.class, hello("127.0.0.3", at));
                assertEquals(true, wasReset(silent.getFirst()), "the oldest of the heaviest address gave way");
                assertEquals(2, server.metrics().connectionsShed());
                assertEquals("still here", text(bystander.call("echo", utf8("still here"))));
            }
            // The HELLO's connection closed: its session ends, and its place is free.
            Testing.await(Duration.ofSeconds(5), "the HELLO's place given back", () -> runtime.handshaking() == 4);
        } finally {
            for (Socket s : silent) {
                s.close();
            }
            server.close();
        }
        Testing.await(Duration.ofSeconds(5), "none in handshake", () -> runtime.handshaking() == 0);
    }

    /**
     * A client whose connection is shed at accept (its address holds as many connections in handshake as allowed)
     * tries again, and gets in once places free, within its handshake timeout. Connecting once only, it failed
     * with "connection reset".
     */
    @Test
    void aClientShedAtAcceptTriesAgainAndGetsInWhenPlacesFree() throws Exception {
        TwinlineServer server = Testing.server()
                .limits(Limits.defaults().withMaxHandshakes(8, 2).withHandshakeTimeout(Duration.ofSeconds(20)))
                .start();
        ServerRuntime runtime = (ServerRuntime) server;
        InetSocketAddress at = server.address();
        List<Socket> silent = new ArrayList<>();
        java.util.concurrent.ExecutorService runner = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
        try (runner) {
            silent.add(from("127.0.0.1", at));
            silent.add(from("127.0.0.1", at));
            Testing.await(Duration.ofSeconds(5), "two in handshake", () -> runtime.handshaking() == 2);
            java.util.concurrent.CompletableFuture<TwinlineClient> client =
                    java.util.concurrent.CompletableFuture.supplyAsync(() -> Testing.client(server)
                            .limits(Limits.defaults().withHandshakeTimeout(Duration.ofSeconds(30))).connect(),
                            runner);
            Testing.await(Duration.ofSeconds(10), "the client shed at least once",
                    () -> server.metrics().connectionsShed() >= 1);
            // Places free (the client's HELLO holds one until its B is attached, which takes another): it gets in.
            for (Socket s : silent) {
                s.close();
            }
            try (TwinlineClient c = client.get(30, java.util.concurrent.TimeUnit.SECONDS)) {
                assertEquals("in", text(c.call("echo", utf8("in"))));
            }
        } finally {
            for (Socket s : silent) {
                s.close();
            }
            server.close();
        }
    }

    @Test
    void onlyAResetIsTakenForShedding() {
        assertEquals(true, ClientRuntime.isReset(new SocketException("Connection reset")));
        assertEquals(true, ClientRuntime.isReset(new SocketException("Connection reset by peer")));
        assertEquals(true, ClientRuntime.isReset(new SocketException("Broken pipe")));
        assertEquals(false, ClientRuntime.isReset(new java.net.ConnectException("Connection refused")));
        assertEquals(false, ClientRuntime.isReset(new java.io.EOFException()));
        assertEquals(false, ClientRuntime.isReset(new java.net.SocketTimeoutException("Read timed out")));
        assertEquals(false, ClientRuntime.isReset(new javax.net.ssl.SSLHandshakeException("Connection reset")));
        // Only a reset marked as one before any answer (by the stage it came in) is tried again.
        assertEquals(true, ClientRuntime.lookedShed(new io.twinline.api.ConnectFailedException("x",
                new ClientRuntime.ResetBeforeAnswer(new SocketException("Connection reset")))));
        assertEquals(false, ClientRuntime.lookedShed(new io.twinline.api.ConnectFailedException("x",
                new SocketException("Connection reset"))));
        assertEquals(false, ClientRuntime.lookedShed(new io.twinline.api.ConnectFailedException("rejected", null)));
    }

    /** Whether the server reset (or closed) {@code s}. */
    private static boolean wasReset(Socket s) {
        try {
            return s.getInputStream().read() == -1;
        } catch (SocketException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
