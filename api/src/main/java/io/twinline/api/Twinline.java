package io.twinline.api;

import io.twinline.api.spi.TwinlineProvider;
import java.util.ServiceLoader;

/**
 * The entry point.
 *
 * <pre>{@code
 * try (TwinlineServer server = Twinline.server().bind("127.0.0.1", 0)
 *         .handle("echo", (session, body) -> body).start();
 *      TwinlineClient client = Twinline.client().server("127.0.0.1", server.address().getPort()).connect()) {
 *     byte[] reply = client.call("echo", "hi".getBytes());
 * }
 * }</pre>
 */
public final class Twinline {
    /** The port the command line uses when none is given. */
    public static final int DEFAULT_PORT = 7420;

    private Twinline() {
    }

    /**
     * Returns a builder for a server.
     *
     * @return a new server builder, with the defaults its methods describe
     * @throws IllegalStateException if no implementation is found (the module {@code io.twinline.host} is missing)
     */
    public static ServerBuilder server() {
        return new ServerBuilder(provider());
    }

    /**
     * Returns a builder for a client.
     *
     * @return a new client builder, with the defaults its methods describe
     * @throws IllegalStateException if no implementation is found (the module {@code io.twinline.host} is missing)
     */
    public static ClientBuilder client() {
        return new ClientBuilder(provider());
    }

    private static TwinlineProvider provider() {
        return ServiceLoader.load(TwinlineProvider.class)
                .findFirst()
                .orElseThrow(() -> new IllegalStateException(
                        "no twinline implementation found: add the module io.twinline.host"));
    }
}
