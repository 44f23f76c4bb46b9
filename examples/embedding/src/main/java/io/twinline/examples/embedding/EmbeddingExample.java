package io.twinline.examples.embedding;

import io.twinline.api.CallOutcome;
import io.twinline.api.MetricsSnapshot;
import io.twinline.api.Session;
import io.twinline.api.SessionState;
import io.twinline.api.StateListener;
import io.twinline.api.Twinline;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A server with two routes and a client that calls them from 1,000 virtual threads at once, each checking its
 * answers; the server then calls the client back over channel B, and both ends' counters are checked through
 * {@code metrics()}. State transitions are printed as they happen.
 *
 * <p>The last line says {@code embedding example: OK ...} or {@code embedding example: FAILED ...}; on failure the
 * process exits with status 1, so a build that runs it fails.
 */
public final class EmbeddingExample {
    private static final int CALLERS = 1_000;
    private static final int CALLS_PER_CALLER = 4;

    private final Queue<String> failures = new ConcurrentLinkedQueue<>();
    private final Queue<String> clientTransitions = new ConcurrentLinkedQueue<>();
    private final AtomicInteger callsAnswered = new AtomicInteger();

    public static void main(String[] args) {
        EmbeddingExample example = new EmbeddingExample();
        String summary;
        try {
            summary = example.run();
        } catch (RuntimeException | Error e) {
            example.failures.add("unexpected " + e);
            summary = "";
        }
        if (example.failures.isEmpty()) {
            System.out.println("embedding example: OK: " + summary);
            return;
        }
        example.failures.stream().limit(10).forEach(f -> System.out.println("check failed: " + f));
        System.out.println("embedding example: FAILED: " + example.failures.size() + " check(s) failed");
        System.exit(1);
    }

    private String run() {
        String reverseAnswer;
        Session clientSide;
        try (TwinlineServer server = Twinline.server()
                     .bind("127.0.0.1", 0)                                  // port 0: any free port
                     .handle("echo", (session, body) -> body)
                     .handle("sum", (session, body) -> text(String.valueOf(sum(string(body)))))
                     // A listener on each of the server's sessions, added once the session is established.
                     .onSession(session -> session.addStateListener(printer("server")))
                     .start();
             TwinlineClient client = Twinline.client()
                     .server("127.0.0.1", server.address().getPort())
                     .handle("whoami", (session, body) -> text("client of " + session.id()))
                     // A listener on the client's sessions from the start, so it sees CONNECTING -> NORMAL too.
                     .onStateChange(printer("client"))
                     .connect()) {
            clientSide = client.session();

            // Close waits for every task: the calls are done when the block ends.
            try (ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int caller = 0; caller < CALLERS; caller++) {
                    int id = caller;
                    callers.execute(() -> callAndCheck(client, id));
                }
            }

            // The server calls the client back, on the same session, over channel B.
            List<Session> sessions = server.sessions();
            check(sessions.size() == 1, "the server holds one session, not " + sessions.size());
            Session serverSide = sessions.getFirst();
            reverseAnswer = string(serverSide.call("whoami", new byte[0]));
            check(reverseAnswer.equals("client of " + serverSide.id()),
                    "the call back over channel B answered '" + reverseAnswer + "'");

            // The same counters the status endpoint publishes, read from the api: each end counted every call.
            MetricsSnapshot clientCounts = client.metrics();
            MetricsSnapshot serverCounts = server.metrics();
            int expected = CALLERS * CALLS_PER_CALLER;
            check(clientCounts.callsMade().get(CallOutcome.OK) == expected,
                    "the client counted " + clientCounts.callsMade() + " calls made, not " + expected + " ok");
            check(serverCounts.callsHandled().get(CallOutcome.OK) == expected,
                    "the server counted " + serverCounts.callsHandled() + " calls handled, not " + expected + " ok");
            check(serverCounts.callsMadeTotal() == 1 && clientCounts.callsHandledTotal() == 1,
                    "one call back counted at each end");
            System.out.printf("metrics: client made %d calls in %.3f s of waiting, sent %d bytes; server handled %d,"
                            + " received %d bytes%n", clientCounts.callsMadeTotal(),
                    clientCounts.callDuration().sum().toNanos() / 1e9, clientCounts.bytesSent(),
                    serverCounts.callsHandledTotal(), serverCounts.bytesReceived());
        }

        // Both ends are closed now, and every transition has been told.
        List<String> seen = List.copyOf(clientTransitions);
        check(seen.contains("CONNECTING -> NORMAL"), "the client's session never became NORMAL: " + seen);
        check(clientSide.state() == SessionState.CLOSED, "the client's session is " + clientSide.state());
        check(!seen.isEmpty() && seen.getLast().endsWith("-> CLOSED"), "the listener was not told of the close: "
                + seen);
        check(seen.stream().noneMatch(t -> t.endsWith("DISCONNECTED")), "the client's session was lost: " + seen);
        check(callsAnswered.get() == CALLERS * CALLS_PER_CALLER,
                "answered " + callsAnswered.get() + " of " + CALLERS * CALLS_PER_CALLER + " calls");
        return callsAnswered.get() + " calls from " + CALLERS + " virtual threads answered correctly, "
                + "1 call back over channel B ('" + reverseAnswer + "'), client states " + String.join(", ", seen);
    }

    /** One caller: a few calls to both routes, each answer checked. Runs on its own virtual thread. */
    private void callAndCheck(TwinlineClient client, int caller) {
        try {
            for (int i = 0; i < CALLS_PER_CALLER; i++) {
                String request = caller + " " + i;
                String expected = i % 2 == 0 ? request : String.valueOf(caller + i);
                String answer = string(client.call(i % 2 == 0 ? "echo" : "sum", text(request)));
                check(answer.equals(expected), "caller " + caller + " asked '" + request + "', expected '" + expected
                        + "', got '" + answer + "'");
                callsAnswered.incrementAndGet();
            }
        } catch (RuntimeException e) {
            failures.add("caller " + caller + ": " + e);
        }
    }

    private StateListener printer(String end) {
        return (session, from, to, cause) -> {
            if (end.equals("client")) {
                clientTransitions.add(from + " -> " + to);
            }
            // Runs on the session's own threads: keep it short, never block.
            System.out.println("state: " + end + " " + session.id() + " " + from + " -> " + to
                    + (cause == null ? "" : ": " + cause.getMessage()));
        };
    }

    private void check(boolean condition, String failure) {
        if (!condition) {
            failures.add(failure);
        }
    }

    private static long sum(String numbers) {
        return Arrays.stream(numbers.split(" ")).mapToLong(Long::parseLong).sum();
    }

    private static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String string(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private EmbeddingExample() {
    }
}
