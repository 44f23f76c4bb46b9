package io.twinline.host;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.twinline.api.CallOutcome;
import io.twinline.api.Channel;
import io.twinline.api.FailureCause;
import io.twinline.api.MetricsSnapshot;
import io.twinline.api.SessionState;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The HTTP endpoint of a server or a client on {@code jdk.httpserver}, served on virtual threads. A server's:
 * {@code GET /} (the live status page), {@code /status} (JSON: counters, sessions a page at a time, recent state
 * changes), {@code /metrics} (Prometheus text), {@code /health} and {@code /ready}. A client's: {@code /metrics}
 * and {@code /health}. Paths match exactly; {@code GET} and {@code HEAD} are answered, other methods get 405,
 * other paths 404. Binds where it is told; the command line defaults to loopback.
 */
final class StatusEndpoint implements AutoCloseable {
    /** The most sessions one {@code /status} page lists, so a server with thousands answers in bounded time. */
    static final int MAX_PAGE = 500;
    private static final int DEFAULT_PAGE = 50;
    /** How long {@code /health} lets a fresh virtual thread take to run before it calls the process stuck. */
    private static final Duration SCHEDULER_DEADLINE = Duration.ofSeconds(2);

    private final HttpServer http;

    private StatusEndpoint(HttpServer http) {
        this.http = http;
    }

    /**
     * Starts a server's endpoint.
     *
     * @throws IOException if the address cannot be bound (the command line words it)
     */
    static StatusEndpoint start(ServerRuntime server, InetSocketAddress address) throws IOException {
        return start(address, "server", Map.of(
                "/", query -> new Reply(200, "text/html; charset=utf-8", statusPage()),
                "/status", query -> new Reply(200, "application/json; charset=utf-8", status(server, query)),
                "/metrics", query -> new Reply(200, PrometheusText.CONTENT_TYPE,
                        PrometheusText.format(server.metrics(), "server", version(), server.isAcceptingSessions(),
                                server.counters().health())),
                "/health", query -> health(server.isServing() ? Optional.empty()
                        : Optional.of("the server's threads have ended")),
                "/ready", query -> server.isAcceptingSessions()
                        ? new Reply(200, "text/plain; charset=utf-8", "ready\n")
                        : new Reply(503, "text/plain; charset=utf-8", "draining\n")));
    }

    /**
     * Starts a client's endpoint: {@code /metrics} and {@code /health}.
     *
     * @throws IOException if the address cannot be bound (the command line words it)
     */
    static StatusEndpoint start(ClientRuntime client, InetSocketAddress address) throws IOException {
        return start(address, "client", Map.of(
                "/metrics", query -> new Reply(200, PrometheusText.CONTENT_TYPE,
                        PrometheusText.format(client.metrics(), "client", version(), null,
                                client.counters().health())),
                "/health", query -> health(Optional.empty())));
    }

    /** Answers a GET of one path, given the request's raw query ({@code ""} when none). */
    private interface Page {
        Reply reply(String query);
    }

    private record Reply(int status, String type, String body) {
    }

    private static StatusEndpoint start(InetSocketAddress address, String role, Map<String, Page> pages)
            throws IOException {
        HttpServer http = HttpServer.create(address, 64);
        http.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        http.createContext("/", exchange -> serve(exchange, pages));
        http.start();
        Logger.info("[{}] status endpoint on http://{}/", role, Network.hostPort(http.getAddress()));
        return new StatusEndpoint(http);
    }

    /** The address the endpoint listens on (with the real port when it was bound to port 0). */
    InetSocketAddress address() {
        return http.getAddress();
    }

    /** Paths match exactly; the method is checked before anything is computed. */
    private static void serve(HttpExchange exchange, Map<String, Page> pages) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            URI uri = exchange.getRequestURI();
            Page page = pages.get(uri.getPath());
            Reply reply;
            if (page == null) {
                reply = new Reply(404, "text/plain; charset=utf-8", "not found: " + uri.getPath() + "\n");
            } else if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                exchange.sendResponseHeaders(405, -1);
                return;
            } else {
                try {
                    reply = page.reply(uri.getRawQuery() == null ? "" : uri.getRawQuery());
                } catch (IllegalArgumentException e) {
                    reply = new Reply(400, "text/plain; charset=utf-8", e.getMessage() + "\n");
                }
            }
            byte[] bytes = reply.body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", reply.type);
            exchange.getResponseHeaders().set("Cache-Control", "no-store");
            if (method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Content-Length", Integer.toString(bytes.length));
                exchange.sendResponseHeaders(reply.status, -1);
                return;
            }
            exchange.sendResponseHeaders(reply.status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /**
     * Alive and not stuck: {@code problem} is empty, and a new virtual thread runs within two seconds (it would not
     * if every carrier were held, or the JVM were out of memory for a thread).
     */
    private static Reply health(Optional<String> problem) {
        if (problem.isPresent()) {
            return new Reply(503, "text/plain; charset=utf-8", problem.get() + "\n");
        }
        CompletableFuture<Void> ran = new CompletableFuture<>();
        try {
            Thread.ofVirtual().name("health-check").start(() -> ran.complete(null));
            ran.get(SCHEDULER_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return new Reply(503, "text/plain; charset=utf-8",
                    "a new virtual thread did not run within " + SCHEDULER_DEADLINE + "\n");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Reply(503, "text/plain; charset=utf-8", "interrupted\n");
        } catch (Exception | OutOfMemoryError e) {
            return new Reply(503, "text/plain; charset=utf-8", "cannot start a thread: " + e + "\n");
        }
        return new Reply(200, "text/plain; charset=utf-8", "ok\n");
    }

    /** The version of the host module, or {@code unknown} when it runs without one (from classes, in tests). */
    static String version() {
        return Optional.ofNullable(StatusEndpoint.class.getModule().getDescriptor())
                .flatMap(d -> d.rawVersion()).orElse("unknown");
    }

    private static String statusPage() {
        try (InputStream in = StatusEndpoint.class.getResourceAsStream("status-page.html")) {
            if (in == null) {
                return "<!doctype html><title>twinline</title><p>No status page in this build; see "
                        + "<a href=\"/status\">/status</a> and <a href=\"/metrics\">/metrics</a>.";
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The server's status as JSON (docs/OPERATIONS.md, "Status endpoint"): totals, the sessions held by state, one
     * page of sessions sorted by id ({@code offset}, {@code limit} ≤ {@value #MAX_PAGE} from the query), and
     * the most recent state changes, oldest first.
     *
     * @throws IllegalArgumentException if the query's offset or limit is not a non-negative number
     */
    static String status(ServerRuntime server, String query) {
        int offset = queryInt(query, "offset", 0);
        int limit = Math.min(MAX_PAGE, queryInt(query, "limit", DEFAULT_PAGE));
        List<TwinSession> held = server.allSessions();
        held.sort(Comparator.comparingLong(s -> s.numericId));
        MetricsSnapshot m = server.counters().snapshot(held);
        Json json = new Json();
        json.open('{');
        json.field("address", Network.hostPort(server.address()));
        json.field("version", version());
        json.field("ready", server.isAcceptingSessions());
        json.fieldRaw("uptime_seconds", String.format(Locale.ROOT, "%.1f", server.counters().uptimeSeconds()));
        json.field("now_ms", server.clock().wallMillis());
        json.key("totals").open('{');
        json.field("calls_made", m.callsMadeTotal());
        json.field("calls_handled", m.callsHandledTotal());
        json.field("recoveries", m.recoveriesTotal());
        json.field("channel_failures", m.channelFailuresTotal());
        json.field("sessions_opened", m.sessionsOpened());
        json.field("replayed_requests", m.replayedRequests());
        json.field("duplicates_suppressed", m.duplicatesSuppressed());
        json.field("bytes_sent", m.bytesSent());
        json.field("bytes_received", m.bytesReceived());
        json.close('}');
        Metrics.Health health = server.counters().health();
        json.key("local_health").open('{');
        json.field("score", health.score());
        json.fieldRaw("lag_seconds", String.format(Locale.ROOT, "%.3f", health.lagNanos() / 1e9));
        json.field("stalls", health.stalls());
        json.close('}');
        json.key("metrics").open('{');
        for (Map.Entry<String, Long> e : server.counters().counters(m).entrySet()) {
            json.field(e.getKey(), e.getValue());
        }
        json.close('}');
        json.key("sessions_by_state").open('{');
        for (SessionState s : SessionState.values()) {
            if (!s.isTerminal()) {
                json.field(s.name(), m.sessions().get(s));
            }
        }
        json.close('}');
        json.field("sessions_total", held.size());
        json.field("offset", offset);
        json.field("limit", limit);
        json.key("sessions").open('[');
        for (TwinSession s : held.subList(Math.min(offset, held.size()), Math.min(held.size(),
                (int) Math.min(Integer.MAX_VALUE, (long) offset + limit)))) {
            session(json, s);
        }
        json.close(']');
        json.key("recent").open('[');
        for (Metrics.TransitionLog.Entry e : server.counters().recent().snapshot()) {
            json.open('{');
            json.field("at_ms", e.atMillis());
            json.field("session", e.session());
            json.field("channel", e.channel() == null ? null : e.channel().name());
            json.field("from", e.from().name());
            json.field("to", e.to().name());
            json.field("cause", e.cause());
            json.close('}');
        }
        json.close(']');
        json.close('}');
        return json.text() + "\n";
    }

    private static void session(Json json, TwinSession s) {
        SessionState state = s.state();
        json.open('{');
        json.field("id", s.id);
        json.field("state", state.name());
        json.field("state_code", state.code());
        json.field("since_ms", s.stateSinceMillis());
        json.field("quiet", s.quiet());
        for (Channel c : Channel.values()) {
            Link l = s.link(c);
            json.key(c == Channel.A ? "channel_a" : "channel_b").open('{');
            json.field("state", s.channelState(c).name());
            json.fieldRaw("link", l == null ? "null" : Long.toString(l.generation));
            json.field("peer", l == null ? null : hostPort(l.connection.remoteAddress()));
            json.close('}');
        }
        json.field("calls_made", s.ownCount(Metrics.CALLS_MADE, CallOutcome.values().length));
        json.field("calls_handled", s.ownCount(Metrics.CALLS_HANDLED, CallOutcome.values().length));
        json.field("unanswered", s.requester().unansweredCount());
        json.field("cached_responses", s.responder().cachedResponses());
        json.field("recoveries", s.ownCount(Metrics.RECOVERIES, 2 * FailureCause.values().length));
        json.close('}');
    }

    /** {@code 127.0.0.1:53422} from a socket address's text ({@code /127.0.0.1:53422}, {@code name/1.2.3.4:p}). */
    static String hostPort(String socketAddress) {
        int slash = socketAddress.indexOf('/');
        return slash >= 0 ? socketAddress.substring(slash + 1) : socketAddress;
    }

    private static int queryInt(String query, String name, int fallback) {
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name)) {
                String value = pair.substring(eq + 1);
                try {
                    int n = Integer.parseInt(value);
                    if (n >= 0) {
                        return n;
                    }
                } catch (NumberFormatException e) {
                    // told below
                }
                throw new IllegalArgumentException(name + " must be a non-negative whole number: '" + value + "'");
            }
        }
        return fallback;
    }

    /** A small JSON writer: commas between members, strings escaped. */
    private static final class Json {
        private final StringBuilder out = new StringBuilder(1024);
        private boolean first = true;

        Json open(char bracket) {
            comma();
            out.append(bracket);
            first = true;
            return this;
        }

        void close(char bracket) {
            out.append(bracket);
            first = false;
        }

        Json key(String name) {
            comma();
            string(name);
            out.append(':');
            first = true; // the value follows without a comma
            return this;
        }

        void field(String name, String value) {
            key(name);
            first = false;
            if (value == null) {
                out.append("null");
            } else {
                string(value);
            }
        }

        void field(String name, long value) {
            fieldRaw(name, Long.toString(value));
        }

        void field(String name, boolean value) {
            fieldRaw(name, Boolean.toString(value));
        }

        void fieldRaw(String name, String literal) {
            key(name);
            first = false;
            out.append(literal);
        }

        private void comma() {
            if (!first) {
                out.append(',');
            }
            first = false;
        }

        private void string(String s) {
            out.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> out.append("\\\"");
                    case '\\' -> out.append("\\\\");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\t' -> out.append("\\t");
                    default -> {
                        if (c < 0x20) {
                            out.append(String.format("\\u%04x", (int) c));
                        } else {
                            out.append(c);
                        }
                    }
                }
            }
            out.append('"');
        }

        String text() {
            return out.toString();
        }
    }

    @Override
    public void close() {
        http.stop(0);
        ((ExecutorService) http.getExecutor()).close();
    }
}
