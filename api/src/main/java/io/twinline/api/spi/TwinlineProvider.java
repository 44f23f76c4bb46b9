package io.twinline.api.spi;

import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;

/**
 * The implementation behind {@link io.twinline.api.Twinline}, found with {@link java.util.ServiceLoader}.
 * Exported only to {@code io.twinline.host}; embedders never see it.
 */
public interface TwinlineProvider {

    /**
     * Binds and starts a server.
     *
     * @param spec what the builder collected
     * @return the running server
     * @throws java.io.UncheckedIOException if the address cannot be bound
     */
    TwinlineServer startServer(ServerSpec spec);

    /**
     * Connects a client: opens channel A (HELLO), then channel B (ATTACH), and returns once both are attached.
     *
     * @param spec what the builder collected
     * @return the connected client
     * @throws io.twinline.api.ConnectFailedException if the session cannot be set up
     */
    TwinlineClient connect(ClientSpec spec);
}
