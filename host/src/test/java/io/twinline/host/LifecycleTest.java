package io.twinline.host;

import static io.twinline.host.Testing.text;
import static io.twinline.host.Testing.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.Session;
import io.twinline.api.SessionClosedException;
import io.twinline.api.SessionState;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Orderly close of a session, a client and a server: answered or told, and nothing left running or open. Closing
 * clients and a server leaves no thread and no socket behind; a call in flight during a close is answered within
 * {@code closeGrace}, and one still running past it fails with a clear exception; the peer's close fails our waiting
 * callers at once; close is idempotent; and a handler closing its own session returns at once (a call it makes after
 * is refused on its own thread), still answers its caller before the GOODBYE, and both ends end {@code CLOSED}.
 */
class LifecycleTest {

    private static long platformTwinlineThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("twinline-") || t.getName().startsWith("s-")
                        || t.getName().startsWith("server-"))
                .count();
    }

    /** Counts {@code started} down, then sleeps for the milliseconds in the body and echoes it. */
    private static io.twinline.api.Handler startedThenSlow(CountDownLatch started) {
        return (session, body) -> {
            started.countDown();
            Thread.sleep(Long.parseLong(text(body)));
            return body;
        };
    }

    /**
     * Every thread a runtime starts runs inside its task groups' scopes (a server's sessions nested in its own), so
     * the groups' ends are the threads' ends.
     */
    private static void assertNothingLeft(TwinlineServer server, List<TwinlineClient> clients, int filesBefore) {
        Testing.await(Duration.ofSeconds(10), "every twinline thread ended",
                () -> !((ServerRuntime) server).isServing()
                        && clients.stream().allMatch(c -> Testing.twin(c).isEnded())
                        && platformTwinlineThreads() == 0);
        Testing.await(Duration.ofSeconds(10), "every socket closed (open files: " + Testing.openFiles() + ")",
                () -> Testing.openFiles() <= filesBefore);
    }

    @Test
    void closingClientsAndServerLeavesNoThreadAndNoSocket() {
        int filesBefore = Testing.openFiles();
        TwinlineServer server = Testing.server().start();
        List<TwinlineClient> clients = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            clients.add(Testing.client(server).connect());
        }
        for (TwinlineClient c : clients) {
            assertEquals("hi", text(c.call("echo", utf8("hi"))));
            assertEquals("hi", text(Testing.serverSide(server, c.session()).call("echo", utf8("hi"))));
        }
        assertTrue(((ServerRuntime) server).isServing());
        clients.get(0).close();
        Testing.await(Duration.ofSeconds(5), "server forgot the closed session", () -> server.sessions().size() == 4);
        server.close();
        for (TwinlineClient c : clients) {
            Testing.await(Duration.ofSeconds(5), "client saw the server's GOODBYE",
                    () -> c.session().state() == SessionState.CLOSED);
            c.close();
        }
        assertNothingLeft(server, clients, filesBefore);
    }

    @Test
    void callInFlightDuringCloseIsAnsweredWithinTheGrace() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        try (TwinlineServer server = Testing.server().handle("held", startedThenSlow(started)).start()) {
            TwinlineClient client = Testing.client(server).connect();
            CompletableFuture<String> slow = CompletableFuture.supplyAsync(
                    () -> text(client.call("held", utf8("300"))), r -> Thread.ofVirtual().start(r));
            // Running at the server, not merely registered: a call closed before it is sent is refused instead.
            assertTrue(started.await(5, TimeUnit.SECONDS), "call in flight");
            client.close();
            assertEquals("300", slow.get(10, TimeUnit.SECONDS));
            assertEquals(SessionState.CLOSED, client.session().state());
            SessionClosedException e = assertThrows(SessionClosedException.class,
                    () -> client.call("echo", utf8("late")));
            assertTrue(e.getMessage().contains("clos"), e.getMessage());
        }
    }

    @Test
    void callStillRunningPastTheGraceFailsWithAClearException() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        try (TwinlineServer server = Testing.server().handle("held", startedThenSlow(started)).start()) {
            TwinlineClient client = Testing.client(server)
                    .limits(io.twinline.api.Limits.defaults().withCloseGrace(Duration.ofMillis(100))).connect();
            CompletableFuture<byte[]> slow = CompletableFuture.supplyAsync(
                    () -> client.call("held", utf8("5000")), r -> Thread.ofVirtual().start(r));
            assertTrue(started.await(5, TimeUnit.SECONDS), "call in flight");
            client.close();
            Throwable cause = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> slow.get(10, TimeUnit.SECONDS)).getCause();
            SessionClosedException e = assertInstanceOf(SessionClosedException.class, cause);
            assertTrue(e.getMessage().contains("unknown"), e.getMessage());
        }
    }

    @Test
    void aHandlerClosingItsOwnSessionStillAnswersItsCallerAndTheSessionCloses() throws Exception {
        CountDownLatch closeReturned = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicReference<Throwable> callAfterClose =
                new java.util.concurrent.atomic.AtomicReference<>();
        try (TwinlineServer server = Testing.server().handle("bye", (session, body) -> {
                    session.close(); // from the session's own handler thread
                    closeReturned.countDown();
                    try {
                        session.call("echo", utf8("too late"));
                    } catch (RuntimeException e) {
                        callAfterClose.set(e);
                    }
                    return utf8("bye");
                }).limits(io.twinline.api.Limits.defaults().withCloseGrace(Duration.ofSeconds(5))).start();
             TwinlineClient client = Testing.client(server).connect()) {
            assertEquals("bye", text(client.call("bye", new byte[0], Duration.ofSeconds(20))),
                    "the answer goes out before the GOODBYE");
            assertTrue(closeReturned.await(1, TimeUnit.SECONDS), "close returned to the handler");
            assertInstanceOf(SessionClosedException.class, callAfterClose.get(),
                    "a call after close() is refused at once, on the handler's own thread");
            Testing.await(Duration.ofSeconds(10), "both sides CLOSED",
                    () -> client.session().state() == SessionState.CLOSED && server.sessions().isEmpty());
        }
    }

    @Test
    void peerClosingTheSessionFailsOurWaitingCallersAtOnce() throws Exception {
        try (TwinlineServer server = Testing.server().start();
             TwinlineClient client = Testing.client(server).connect()) {
            Session serverSide = Testing.serverSide(server, client.session());
            CompletableFuture<byte[]> waiting = CompletableFuture.supplyAsync(
                    () -> serverSide.call("slow", utf8("10000")), r -> Thread.ofVirtual().start(r));
            Testing.await(Duration.ofSeconds(5), "server call in flight",
                    () -> ((TwinSession) serverSide).requester().unansweredCount() == 1);
            // The client closes with a short grace; its own handler is still running the server's call.
            ((TwinSession) client.session()).close();
            Throwable cause = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> waiting.get(10, TimeUnit.SECONDS)).getCause();
            assertInstanceOf(SessionClosedException.class, cause);
            Testing.await(Duration.ofSeconds(5), "server side CLOSED",
                    () -> serverSide.state() == SessionState.CLOSED);
        }
    }

    @Test
    void closeIsIdempotent() {
        TwinlineServer server = Testing.server().start();
        TwinlineClient client = Testing.client(server).connect();
        client.close();
        client.close();
        server.close();
        server.close();
        assertEquals(SessionState.CLOSED, client.session().state());
    }
}
