package io.twinline.host;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.twinline.api.Channel;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Executors;
import org.tinylog.Logger;

/**
 * The server's status endpoint on {@code jdk.httpserver}: {@code GET /status} (JSON: counters and every session
 * with its state) and {@code GET /health} ({@code ok}). Requests are served on virtual threads. Binds where it is
 * told; the command line defaults to loopback.
 */
final class StatusEndpoint implements AutoCloseable {
    private final HttpServer http;

    private StatusEndpoint(HttpServer http) {
        this.http = http;
    }

    static StatusEndpoint start(ServerRuntime server, InetSocketAddress address) throws IOException {
        HttpServer http = HttpServer.create(address, 16);
        http.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        http.createContext("/status", exchange -> respond(exchange, "application/json", status(server)));
        http.createContext("/health", exchange -> respond(exchange, "text/plain", "ok\n"));
        http.start();
        Logger.info("[server] status endpoint on http://{}:{}/status", http.getAddress().getHostString(),
                http.getAddress().getPort());
        return new StatusEndpoint(http);
    }

    private static void respond(HttpExchange exchange, String type, String body) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", type + "; charset=utf-8");
            exchange.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    static String status(ServerRuntime server) {
        StringBuilder json = new StringBuilder(256);
        json.append("{\"address\":\"").append(server.address().getHostString()).append(':')
                .append(server.address().getPort()).append("\",\"metrics\":{");
        boolean first = true;
        for (Map.Entry<String, Long> e : server.metrics().snapshot().entrySet()) {
            json.append(first ? "" : ",").append('"').append(e.getKey()).append("\":").append(e.getValue());
            first = false;
        }
        json.append("},\"sessions\":[");
        first = true;
        for (TwinSession s : server.allSessions()) {
            json.append(first ? "" : ",").append("{\"id\":\"").append(s.id).append("\",\"state\":\"")
                    .append(s.state()).append("\",\"state_code\":").append(s.state().code())
                    .append(",\"calls_made\":").append(s.requester().callsMade())
                    .append(",\"unanswered\":").append(s.requester().unansweredCount())
                    .append(",\"handled\":").append(s.responder().executed())
                    .append(",\"cached_responses\":").append(s.responder().cachedResponses())
                    .append(",\"channel_a\":\"").append(linkText(s.link(Channel.A)))
                    .append("\",\"channel_b\":\"").append(linkText(s.link(Channel.B))).append("\"}");
            first = false;
        }
        return json.append("]}\n").toString();
    }

    private static String linkText(Link link) {
        if (link == null) {
            return "none";
        }
        return (link.isHealthy() ? "up" : "down") + " #" + link.generation;
    }

    @Override
    public void close() {
        http.stop(0);
        ((java.util.concurrent.ExecutorService) http.getExecutor()).close();
    }
}
