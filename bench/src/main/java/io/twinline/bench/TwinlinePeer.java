package io.twinline.bench;

import io.twinline.api.Session;
import io.twinline.api.Twinline;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import java.time.Duration;

/**
 * twinline on loopback with default policy and the given limits; {@code reverse}: the server calls the client over B.
 */
final class TwinlinePeer implements Peer {
    private final TwinlineServer server;
    private final TwinlineClient client;
    private final Session caller;

    TwinlinePeer(boolean reverse, io.twinline.api.Limits limits) {
        this(reverse, limits, false);
    }

    /** With {@code tls}, both channels run TLS 1.3 ({@link BenchTls}). */
    TwinlinePeer(boolean reverse, io.twinline.api.Limits limits, boolean tls) {
        server = Twinline.server().bind("127.0.0.1", 0).limits(limits).handle("echo", (s, body) -> body)
                .tls(tls ? BenchTls.twinlineServer() : null).start();
        client = Twinline.client().server("127.0.0.1", server.address().getPort()).limits(limits)
                .handle("echo", (s, body) -> body).tls(tls ? BenchTls.twinlineClient() : null).connect();
        caller = reverse ? server.session(client.session().id()).orElseThrow() : client.session();
    }

    @Override
    public byte[] call(byte[] body) {
        return caller.call("echo", body, Duration.ofSeconds(60));
    }

    @Override
    public void close() {
        client.close();
        server.close();
    }
}
