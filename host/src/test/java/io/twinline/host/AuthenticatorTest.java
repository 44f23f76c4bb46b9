package io.twinline.host;

import static io.twinline.host.Testing.text;
import static io.twinline.host.Testing.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.Authenticator;
import io.twinline.api.Channel;
import io.twinline.api.ConnectFailedException;
import io.twinline.api.SessionState;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import io.twinline.transport.Frame;
import io.twinline.transport.RejectReason;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Who may open a session: the server's {@link Authenticator} sees each HELLO's credential and address, names the
 * session's principal (which handlers see) or refuses with a reason the client reports ({@code UNAUTHORIZED}); a
 * refused client takes no session slot; an authenticator that fails refuses too; a re-attach is not authenticated
 * again, and another session's token does not attach (BAD_TOKEN). The real session goes on through all of it.
 */
class AuthenticatorTest {
    private static final Map<String, String> USERS = Map.of("alice", "alice-secret", "bob", "bob-secret");

    private final List<Authenticator.Attempt> attempts = new CopyOnWriteArrayList<>();
    private TwinlineServer server;

    @BeforeEach
    void start() {
        server = Testing.server()
                .authenticator(attempt -> {
                    attempts.add(attempt);
                    String presented = new String(attempt.credential(), StandardCharsets.UTF_8);
                    if (presented.equals("crash")) {
                        throw new IllegalStateException("an authenticator with a bug");
                    }
                    if (presented.equals("verbose")) {
                        throw new Authenticator.Refused("no ".repeat(30_000));
                    }
                    for (var user : USERS.entrySet()) {
                        if (MessageDigest.isEqual(user.getValue().getBytes(StandardCharsets.UTF_8),
                                attempt.credential())) {
                            return user.getKey();
                        }
                    }
                    throw new Authenticator.Refused("unknown credential");
                })
                .handle("whoami", (session, body) -> utf8(session.principal().orElse("nobody")))
                .start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private TwinlineClient as(String credential) {
        return Testing.client(server).credential(utf8(credential)).connect();
    }

    @Test
    void theAuthenticatorNamesThePrincipalHandlersSee() {
        try (TwinlineClient alice = as("alice-secret"); TwinlineClient bob = as("bob-secret")) {
            assertEquals("alice", text(alice.call("whoami", new byte[0])));
            assertEquals("bob", text(bob.call("whoami", new byte[0])));
            assertEquals("alice", Testing.serverSide(server, alice.session()).principal().orElseThrow());
            assertTrue(alice.session().principal().isEmpty(), "a client's own side names no principal");
            Authenticator.Attempt first = attempts.getFirst();
            assertEquals("127.0.0.1", first.address().getAddress().getHostAddress());
            assertTrue(first.certificate().isEmpty(), "plain TCP: no certificate");
        }
    }

    @Test
    void aRefusedClientIsToldWhyAndTakesNoSlot() {
        try (TwinlineClient alice = as("alice-secret")) {
            for (String wrong : List.of("mallory", "", "crash")) {
                ConnectFailedException e = assertThrows(ConnectFailedException.class, () -> as(wrong).close(),
                        "credential '" + wrong + "'");
                assertTrue(e.getMessage().contains("UNAUTHORIZED"), e.getMessage());
                assertTrue(e.getMessage().contains(wrong.equals("crash") ? "could not decide" : "unknown credential"),
                        e.getMessage());
            }
            // A refusal of any length reaches the client, cut to fit a handshake frame.
            ConnectFailedException verbose = assertThrows(ConnectFailedException.class, () -> as("verbose").close());
            assertTrue(verbose.getMessage().contains("UNAUTHORIZED (refused: no no"), verbose.getMessage());
            assertTrue(verbose.getMessage().length() < 1200, "cut to about 1,000 characters");
            assertEquals(1, ((ServerRuntime) server).allSessions().size(), "only alice's session exists");
            assertEquals("alice", text(alice.call("whoami", new byte[0])));
        }
    }

    @Test
    void aReattachIsNotAuthenticatedAgainAndAnotherSessionsTokenDoesNotAttach() throws Exception {
        try (TwinlineClient alice = as("alice-secret"); TwinlineClient bob = as("bob-secret")) {
            assertEquals(2, attempts.size());
            TwinSession aliceSide = Testing.twin(alice);
            Link a = aliceSide.link(Channel.A);
            a.connection.endpoint().abort();
            Testing.await(Duration.ofSeconds(10), "alice's channel A re-attached",
                    () -> aliceSide.link(Channel.A) != a && aliceSide.state() == SessionState.NORMAL);
            assertEquals("alice", text(alice.call("whoami", new byte[0])));
            assertEquals(2, attempts.size(), "the re-attach showed the token, not a credential");

            // Bob's token on alice's session id.
            TwinSession aliceAtServer = Testing.serverSide(server, alice.session());
            TwinSession bobAtServer = Testing.serverSide(server, bob.session());
            try (Socket s = new Socket("127.0.0.1", server.address().getPort())) {
                s.setSoTimeout(10_000);
                Frame.Rejected r = assertInstanceOf(Frame.Rejected.class, Testing.attach(s.getInputStream(),
                        s.getOutputStream(), aliceAtServer.numericId, bobAtServer.token, Channel.A));
                assertEquals(RejectReason.BAD_TOKEN, r.reason());
            }
            assertEquals("alice", text(alice.call("whoami", new byte[0])));
            assertEquals(SessionState.NORMAL, aliceAtServer.state());
        }
    }

    @Test
    void aCredentialTooLongIsRefusedBeforeItIsSent() {
        assertThrows(IllegalArgumentException.class, () -> Testing.client(server).credential(new byte[2049]));
    }
}
