package io.twinline.host;

import static io.twinline.host.Testing.text;
import static io.twinline.host.Testing.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.Channel;
import io.twinline.api.ConnectFailedException;
import io.twinline.api.SessionState;
import io.twinline.api.Tls;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import io.twinline.host.cli.ThrowawayCa;
import io.twinline.transport.Endpoint;
import io.twinline.transport.Frame;
import io.twinline.transport.RejectReason;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS 1.3 on both channels: calls and a recovery over TLS; a client refuses a server whose certificate it does not
 * trust, that has expired, or that names another host; plain TCP to a TLS server and TLS to a plain server fail with
 * a clear error while the server goes on; with mutual TLS, a client without a certificate is refused, and a valid
 * token over a connection with another client's certificate is {@code UNAUTHORIZED} with the session untouched.
 */
class TlsTest {
    private static final char[] PASSWORD = ThrowawayCa.PASSWORD.toCharArray();

    @TempDir
    static Path dir;
    private static ThrowawayCa ca;
    private static Path server;
    private static Path clientOne;
    private static Path clientTwo;

    @BeforeAll
    static void certificates() throws Exception {
        ca = ThrowawayCa.create(dir, "twinline test CA");
        server = ca.issue("server", "localhost", "dns:localhost,ip:127.0.0.1", null, 2);
        clientOne = ca.issue("client-one", "client one", null, null, 2);
        clientTwo = ca.issue("client-two", "client two", null, null, 2);
    }

    private static Tls serverTls() {
        return Tls.keyStore(server, PASSWORD);
    }

    private static Tls clientTls() {
        return Tls.trustingOnly(ca.certificate());
    }

    @Test
    void callsAndARecoveryRunOverTls() {
        TwinlineServer s = Testing.server().tls(serverTls()).start();
        try (TwinlineClient client = Testing.client(s).tls(clientTls()).connect()) {
            assertEquals("over tls", text(client.call("echo", utf8("over tls"))));
            TwinSession clientSide = Testing.twin(client);
            Link a = clientSide.link(Channel.A);
            assertNotNull(a.connection.endpoint().peerCertificate(), "the server's certificate, from the handshake");
            a.connection.endpoint().abort();
            Testing.await(Duration.ofSeconds(10), "channel A re-attached over TLS",
                    () -> clientSide.link(Channel.A) != a && clientSide.state() == SessionState.NORMAL);
            assertNotNull(clientSide.link(Channel.A).connection.endpoint().peerCertificate());
            assertEquals("after", text(client.call("echo", utf8("after"))));
        } finally {
            s.close();
        }
    }

    @Test
    void aClientRefusesAServerItDoesNotTrustOrThatNamesAnotherHost() throws Exception {
        Path stranger = ca.selfSigned("stranger", "localhost", "dns:localhost,ip:127.0.0.1");
        Path expired = ca.issue("expired", "localhost", "dns:localhost,ip:127.0.0.1", "-10d", 1);
        Path elsewhere = ca.issue("elsewhere", "elsewhere", "dns:elsewhere.invalid", null, 2);
        for (Path keys : new Path[] {stranger, expired, elsewhere}) {
            TwinlineServer s = Testing.server().tls(Tls.keyStore(keys, PASSWORD)).start();
            try {
                ConnectFailedException e = assertThrows(ConnectFailedException.class,
                        () -> Testing.client(s).tls(clientTls()).connect().close(), keys.toString());
                assertTrue(e.getMessage().contains("TLS handshake failed"), e.getMessage());
            } finally {
                s.close();
            }
        }
        // The name the client checks can be given: a certificate for elsewhere.invalid is then accepted.
        TwinlineServer s = Testing.server().tls(Tls.keyStore(elsewhere, PASSWORD)).start();
        try (TwinlineClient client = Testing.client(s).tls(clientTls().serverName("elsewhere.invalid")).connect()) {
            assertEquals("named", text(client.call("echo", utf8("named"))));
        } finally {
            s.close();
        }
    }

    @Test
    void plainTcpAndTlsDoNotMixAndTheServerGoesOn() {
        TwinlineServer tls = Testing.server().tls(serverTls()).start();
        TwinlineServer plain = Testing.server().start();
        try {
            ConnectFailedException toTls = assertThrows(ConnectFailedException.class,
                    () -> Testing.client(tls).connect().close());
            assertTrue(toTls.getMessage().contains("answered HELLO with TLS"), toTls.getMessage());
            ConnectFailedException toPlain = assertThrows(ConnectFailedException.class,
                    () -> Testing.client(plain).tls(clientTls()).connect().close());
            assertTrue(toPlain.getMessage().contains("TLS handshake failed"), toPlain.getMessage());
            try (TwinlineClient good = Testing.client(tls).tls(clientTls()).connect()) {
                assertEquals("still here", text(good.call("echo", utf8("still here"))));
            }
        } finally {
            tls.close();
            plain.close();
        }
    }

    @Test
    void withMutualTlsASessionIsBoundToItsClientsCertificate() throws Exception {
        Tls required = serverTls().trusting(ca.certificate()).requireClientCertificates();
        TwinlineServer s = Testing.server().tls(required).start();
        try {
            ConnectFailedException anonymous = assertThrows(ConnectFailedException.class,
                    () -> Testing.client(s).tls(clientTls()).connect().close());
            assertTrue(anonymous.getMessage().contains("client certificate"), anonymous.getMessage());
            try (TwinlineClient one = Testing.client(s).tls(clientTls().withKeyStore(clientOne, PASSWORD))
                    .connect()) {
                assertEquals("one", text(one.call("echo", utf8("one"))));
                TwinSession serverSide = Testing.serverSide(s, one.session());
                X509Certificate shown = (X509Certificate) serverSide.link(Channel.A).connection.endpoint()
                        .peerCertificate();
                assertTrue(shown.getSubjectX500Principal().getName().contains("client one"), shown.toString());
                assertEquals("CN=client one", serverSide.principal().orElseThrow(),
                        "without an authenticator, the certificate's subject is the principal");

                // Client two knows session one's id and token (a stolen token), and has a certificate of the same
                // CA: the server refuses it, and session one goes on.
                Endpoint other = TlsNetwork.client(clientTls().withKeyStore(clientTwo, PASSWORD))
                        .dial(s.address(), Duration.ofSeconds(5));
                try {
                    Frame.Rejected r = assertInstanceOf(Frame.Rejected.class, Testing.attach(other.input(),
                            other.output(), serverSide.numericId, serverSide.token, Channel.A));
                    assertEquals(RejectReason.UNAUTHORIZED, r.reason());
                } finally {
                    other.close();
                }
                assertEquals("one still", text(one.call("echo", utf8("one still"))));
                assertEquals(SessionState.NORMAL, serverSide.state());

                // Its own certificate re-attaches: a reset of A is recovered.
                Link a = Testing.twin(one).link(Channel.A);
                a.connection.endpoint().abort();
                Testing.await(Duration.ofSeconds(10), "channel A re-attached with the same certificate",
                        () -> Testing.twin(one).link(Channel.A) != a
                                && Testing.twin(one).state() == SessionState.NORMAL);
                assertEquals("again", text(one.call("echo", utf8("again"))));
            }
        } finally {
            s.close();
        }
    }

    @Test
    void badKeyMaterialIsAnErrorWhenConfigured() throws Exception {
        IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class,
                () -> Tls.keyStore(server, "not the password".toCharArray()));
        assertTrue(wrong.getMessage().contains(server.toString()), wrong.getMessage());
        Path missing = dir.resolve("missing.pem");
        assertThrows(IllegalArgumentException.class, () -> Tls.trustingOnly(missing));
        Path notPem = Files.writeString(dir.resolve("not.pem"), "hello");
        assertThrows(IllegalArgumentException.class, () -> Tls.trustingOnly(notPem));
        assertThrows(IllegalArgumentException.class,
                () -> Testing.server().tls(Tls.trustingOnly(ca.certificate())));
        // Client certificates checked against the JDK's default anchors (public CAs) would let anyone in.
        IllegalArgumentException noAnchors = assertThrows(IllegalArgumentException.class,
                () -> Testing.server().tls(serverTls().requireClientCertificates()));
        assertTrue(noAnchors.getMessage().contains("no anchors"), noAnchors.getMessage());
    }

    @Test
    void pemKeysWork() throws Exception {
        // A PKCS#8 PEM key and its chain, as openssl or a certificate manager would write them.
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(server)) {
            ks.load(in, PASSWORD);
        }
        java.security.Key key = ks.getKey("host", PASSWORD);
        java.util.Base64.Encoder b64 = java.util.Base64.getMimeEncoder(64, "\n".getBytes());
        Path keyPem = Files.writeString(dir.resolve("server.key"), "-----BEGIN PRIVATE KEY-----\n"
                + b64.encodeToString(key.getEncoded()) + "\n-----END PRIVATE KEY-----\n");
        StringBuilder chain = new StringBuilder();
        for (java.security.cert.Certificate c : ks.getCertificateChain("host")) {
            chain.append("-----BEGIN CERTIFICATE-----\n").append(b64.encodeToString(c.getEncoded()))
                    .append("\n-----END CERTIFICATE-----\n");
        }
        Path chainPem = Files.writeString(dir.resolve("server-chain.pem"), chain);
        TwinlineServer s = Testing.server().tls(Tls.keys(chainPem, keyPem)).start();
        try (TwinlineClient client = Testing.client(s).tls(clientTls()).connect()) {
            assertEquals("pem", text(client.call("echo", utf8("pem"))));
        } finally {
            s.close();
        }
    }

    /**
     * A writer blocked on a peer that stopped reading holds the lock under which the JDK writes TLS's close_notify.
     * Closing must not wait for that writer: it closes the TCP socket underneath, which frees it. Closed the JDK's
     * way alone, this close waits as long as the peer does not read.
     */
    @Test
    void closingATlsConnectionIsNotHeldByAWriterBlockedOnAPeerThatDoesNotRead() throws Exception {
        Network serverSide = Network.TCP.withTls(serverTls(), true);
        Network clientSide = Network.TCP.withTls(clientTls(), false);
        try (Network.Listener listener = serverSide.listen(new InetSocketAddress("127.0.0.1", 0))) {
            java.util.concurrent.atomic.AtomicReference<Endpoint> accepted =
                    new java.util.concurrent.atomic.AtomicReference<>();
            java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.atomic.AtomicReference<Throwable> writerEnd =
                    new java.util.concurrent.atomic.AtomicReference<>();
            Thread writer = Thread.ofVirtual().name("blocked-writer").start(() -> {
                try {
                    Endpoint e = listener.accept();
                    accepted.set(e);
                    byte[] chunk = new byte[64 * 1024];
                    while (true) {
                        e.output().write(chunk); // the first write runs the server's handshake
                        e.output().flush();
                        written.addAndGet(chunk.length);
                    }
                } catch (Throwable t) {
                    writerEnd.set(t);
                }
            });
            Endpoint reader = clientSide.dial(listener.address(), Duration.ofSeconds(10));
            try {
                // The client never reads: once both sides' buffers are full, the writer blocks in a TLS write.
                Testing.await(Duration.ofSeconds(30), "the writer blocked on a full send buffer",
                        () -> written.get() > 0 && writer.getState() == Thread.State.WAITING
                                && writerEnd.get() == null);
                Thread closer = Thread.ofVirtual().name("closer").start(() -> accepted.get().close());
                assertTrue(closer.join(Duration.ofSeconds(20)), "close returned while the writer was blocked");
                assertTrue(writer.join(Duration.ofSeconds(20)), "the blocked writer was freed by the close");
                assertInstanceOf(java.io.IOException.class, writerEnd.get(), String.valueOf(writerEnd.get()));
            } finally {
                reader.close();
            }
        }
    }

    /**
     * Over TLS the server's reset at accept (too many in handshake) comes inside the client's TLS handshake: the
     * client tries again, and gets in once places free.
     */
    @Test
    void aTlsClientShedAtAcceptTriesAgainAndGetsIn() throws Exception {
        TwinlineServer s = Testing.server().tls(serverTls())
                .limits(io.twinline.api.Limits.defaults().withMaxHandshakes(8, 2)
                        .withHandshakeTimeout(Duration.ofSeconds(20)))
                .start();
        java.util.List<java.net.Socket> silent = new java.util.ArrayList<>();
        java.util.concurrent.ExecutorService runner = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
        try (runner) {
            for (int i = 0; i < 2; i++) {
                java.net.Socket socket = new java.net.Socket();
                silent.add(socket);
                socket.connect(s.address(), 5_000);
            }
            Testing.await(Duration.ofSeconds(5), "two in handshake", () -> ((ServerRuntime) s).handshaking() == 2);
            java.util.concurrent.Future<TwinlineClient> client = runner.submit(() -> Testing.client(s).tls(clientTls())
                    .limits(io.twinline.api.Limits.defaults().withHandshakeTimeout(Duration.ofSeconds(30)))
                    .connect());
            Testing.await(Duration.ofSeconds(10), "the client shed at least once",
                    () -> s.metrics().connectionsShed() >= 1);
            for (java.net.Socket socket : silent) {
                socket.close();
            }
            try (TwinlineClient c = client.get(30, java.util.concurrent.TimeUnit.SECONDS)) {
                assertEquals("in", text(c.call("echo", utf8("in"))));
            }
        } finally {
            for (java.net.Socket socket : silent) {
                socket.close();
            }
            s.close();
        }
    }
}
