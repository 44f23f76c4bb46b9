package io.twinline.host;

import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import io.twinline.api.spi.ClientSpec;
import io.twinline.api.spi.ServerSpec;
import io.twinline.api.spi.TwinlineProvider;
import io.twinline.recovery.Clock;

/** The implementation the api finds through {@link java.util.ServiceLoader}. */
public final class TwinlineProviderImpl implements TwinlineProvider {
    /** The network runtimes made from here use: TCP, unless faults are to be injected ({@link #useNetwork}). */
    private static volatile Network network = Network.TCP;

    /** Called by {@link java.util.ServiceLoader}. */
    public TwinlineProviderImpl() {
    }

    /**
     * Has every server and client made from now on in this JVM use {@code network}: a {@link FaultyNetwork} over TCP
     * for the command line's fault injection and for tests. Runtimes made earlier keep theirs.
     */
    static void useNetwork(Network network) {
        TwinlineProviderImpl.network = java.util.Objects.requireNonNull(network, "network");
    }

    @Override
    public TwinlineServer startServer(ServerSpec spec) {
        return ServerRuntime.start(spec, Clock.system(), network);
    }

    @Override
    public TwinlineClient connect(ClientSpec spec) {
        return ClientRuntime.connect(spec, Clock.system(), network);
    }
}
