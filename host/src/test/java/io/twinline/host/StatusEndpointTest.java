package io.twinline.host;

import static io.twinline.host.Testing.await;
import static io.twinline.host.Testing.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.SessionState;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The HTTP endpoint: exact paths, methods, readiness during a drain, the JSON's paging and recent changes, and the
 * client's endpoint. (A busy port named in the error: cli.FailureMessagesTest.)
 */
@Timeout(60)
class StatusEndpointTest {

    record Answer(int status, String body, String type) {
    }

    static Answer request(String method, InetSocketAddress at, String path) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + at.getPort() + path).toURL()
                .openConnection();
        c.setRequestMethod(method);
        c.setConnectTimeout(5000);
        c.setReadTimeout(10000);
        int status = c.getResponseCode();
        InputStream in = status < 400 ? c.getInputStream() : c.getErrorStream();
        String body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        c.disconnect();
        return new Answer(status, body, c.getContentType());
    }

    static StatusEndpoint endpoint(TwinlineServer server) throws IOException {
        return StatusEndpoint.start((ServerRuntime) server, new InetSocketAddress("127.0.0.1", 0));
    }

    @Test
    void pathsMatchExactlyAndOnlyGetAndHeadAreAnswered() throws Exception {
        try (TwinlineServer server = Testing.server().start(); StatusEndpoint http = endpoint(server)) {
            InetSocketAddress at = http.address();
            assertEquals(200, request("GET", at, "/health").status());
            assertEquals("ok\n", request("GET", at, "/health").body());
            assertEquals(404, request("GET", at, "/healthz").status());
            assertEquals(404, request("GET", at, "/statusfoo").status());
            assertEquals(404, request("GET", at, "/status/").status());
            Answer head = request("HEAD", at, "/status");
            assertEquals(200, head.status());
            assertEquals("", head.body());
            assertEquals(405, request("POST", at, "/metrics").status());
            assertEquals(405, request("DELETE", at, "/").status());
            Answer page = request("GET", at, "/");
            assertEquals(200, page.status());
            assertTrue(page.type().startsWith("text/html"), page.type());
            Answer metrics = request("GET", at, "/metrics");
            assertEquals("text/plain; version=0.0.4; charset=utf-8", metrics.type());
            assertTrue(metrics.body().contains("\ntwinline_ready 1\n"), metrics.body());
            assertTrue(metrics.body().contains("\ntwinline_local_health_score "), metrics.body());
            String status = request("GET", at, "/status").body();
            assertTrue(status.matches("(?s).*\"local_health\":\\{\"score\":[0-3],\"lag_seconds\":[0-9.]+,"
                    + "\"stalls\":[0-9]+}.*"), status);
            assertEquals(400, request("GET", at, "/status?offset=-1").status());
        }
    }

    @Test
    void readinessTurnsFalseWhenTheDrainStartsBeforeAnyGoodbye() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch running = new CountDownLatch(1);
        // A close grace longer than the test: the GOODBYE waits for the held call, not for the clock.
        TwinlineServer server = Testing.server().limits(io.twinline.api.Limits.defaults()
                .withCloseGrace(Duration.ofSeconds(60))).handle("hold", (s, b) -> {
                    running.countDown();
                    release.await(30, TimeUnit.SECONDS);
                    return b;
                }).start();
        try (StatusEndpoint http = endpoint(server); TwinlineClient client = Testing.client(server).connect()) {
            InetSocketAddress at = http.address();
            assertEquals(new Answer(200, "ready\n", "text/plain; charset=utf-8"), request("GET", at, "/ready"));
            Thread caller = Thread.ofVirtual().start(() -> client.call("hold", utf8("x")));
            assertTrue(running.await(10, TimeUnit.SECONDS));
            Thread closer = Thread.ofVirtual().start(server::close); // waits for the held call before GOODBYE
            await(Duration.ofSeconds(10), "/ready answers 503 once close() began",
                    () -> uncheckedStatus(at, "/ready") == 503);
            assertEquals(SessionState.NORMAL, client.session().state(), "no GOODBYE has gone out yet");
            assertEquals(200, request("GET", at, "/health").status(), "draining is not dead");
            assertTrue(request("GET", at, "/metrics").body().contains("\ntwinline_ready 0\n"));
            release.countDown();
            caller.join(10_000);
            closer.join(20_000);
            await(Duration.ofSeconds(10), "the client saw GOODBYE",
                    () -> client.session().state() == SessionState.CLOSED);
            assertEquals(503, request("GET", at, "/health").status(), "a closed server is not alive");
        } finally {
            release.countDown();
            server.close();
        }
    }

    private static int uncheckedStatus(InetSocketAddress at, String path) {
        try {
            return request("GET", at, path).status();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void statusListsSessionsAPageAtATimeAndRecordsRecoveries() throws Exception {
        List<TwinlineClient> clients = new ArrayList<>();
        try (TwinlineServer server = Testing.server().start(); StatusEndpoint http = endpoint(server)) {
            for (int i = 0; i < 3; i++) {
                clients.add(Testing.client(server).connect());
            }
            InetSocketAddress at = http.address();
            // The server marks a session NORMAL a moment after the client, once channel B is attached.
            await(Duration.ofSeconds(10), "the server's three sessions NORMAL",
                    () -> server.metrics().sessions().get(SessionState.NORMAL) == 3);
            String all = request("GET", at, "/status").body();
            assertTrue(all.contains("\"sessions_total\":3"), all);
            assertEquals(3, count(all, "\"channel_a\":{\"state\":\"NORMAL\""), all);
            assertEquals(3, count(all, "\"quiet\":false,"), "the fast policy never goes quiet: " + all);
            assertTrue(all.contains("\"peer\":\"127.0.0.1:"), "peers as host:port: " + all);
            String second = request("GET", at, "/status?offset=1&limit=1").body();
            assertEquals(1, count(second, "\"channel_a\":"), second);
            String sorted = clients.stream().map(c -> c.session().id()).sorted(
                    java.util.Comparator.comparingLong(id -> Long.parseLong(id.substring(2), 16))).toList().get(1);
            assertTrue(second.contains("\"id\":\"" + sorted + "\""), "the second session by id: " + second);

            TwinlineClient first = clients.get(0);
            assertTrue(HostAccess.inject(first.session(), Fault.RESET_A));
            String id = first.session().id();
            await(Duration.ofSeconds(15), "the recovery of " + id + "'s channel A in the recent changes",
                    () -> {
                        String json = uncheckedBody(at, "/status");
                        return json.contains("\"session\":\"" + id + "\",\"channel\":\"A\",\"from\":\"NORMAL\","
                                + "\"to\":\"RECOVERING\"") && json.contains("\"session\":\"" + id
                                + "\",\"channel\":\"A\",\"from\":\"RECOVERING\",\"to\":\"NORMAL\"");
                    });
        } finally {
            clients.forEach(TwinlineClient::close);
        }
    }

    private static String uncheckedBody(InetSocketAddress at, String path) {
        try {
            return request("GET", at, path).body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    @Test
    void aClientServesItsMetricsAndHealth() throws Exception {
        try (TwinlineServer server = Testing.server().start();
             TwinlineClient client = Testing.client(server).connect();
             StatusEndpoint http = StatusEndpoint.start((ClientRuntime) client,
                     new InetSocketAddress("127.0.0.1", 0))) {
            client.call("echo", utf8("x"));
            String metrics = request("GET", http.address(), "/metrics").body();
            assertTrue(metrics.contains("twinline_info{role=\"client\""), metrics);
            assertTrue(metrics.contains("\ntwinline_reattach_dials_waiting "), metrics);
            assertTrue(metrics.contains("\ntwinline_calls_total{direction=\"made\",outcome=\"ok\"} 1\n"), metrics);
            assertEquals(200, request("GET", http.address(), "/health").status());
            assertEquals(404, request("GET", http.address(), "/status").status());
        }
    }
}
