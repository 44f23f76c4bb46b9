package io.twinline.host;

import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import io.twinline.api.spi.ClientSpec;
import io.twinline.api.spi.ServerSpec;
import io.twinline.api.spi.TwinlineProvider;
import io.twinline.recovery.Clock;

/** The implementation the api finds through {@link java.util.ServiceLoader}. */
public final class TwinlineProviderImpl implements TwinlineProvider {

    /** Called by {@link java.util.ServiceLoader}. */
    public TwinlineProviderImpl() {
    }

    @Override
    public TwinlineServer startServer(ServerSpec spec) {
        return ServerRuntime.start(spec, Clock.system(), Network.TCP);
    }

    @Override
    public TwinlineClient connect(ClientSpec spec) {
        return ClientRuntime.connect(spec, Clock.system(), Network.TCP);
    }
}
