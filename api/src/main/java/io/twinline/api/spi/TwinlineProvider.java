package io.twinline.api.spi;

import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;

/**
 * The implementation behind {@link io.twinline.api.Twinline}, found with {@link java.util.ServiceLoader}.
 * Exported only to {@code io.twinline.host}; embedders never see it.
 */
public interface TwinlineProvider {

    /** Binds and starts a server. */
    TwinlineServer startServer(ServerSpec spec);

    /** Connects a client: opens channel A (HELLO), then channel B (ATTACH), and returns once both are attached. */
    TwinlineClient connect(ClientSpec spec);
}
