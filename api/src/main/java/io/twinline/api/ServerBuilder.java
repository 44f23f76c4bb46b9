package io.twinline.api;

import io.twinline.api.spi.ServerSpec;
import io.twinline.api.spi.TwinlineProvider;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/** Configures and starts a {@link TwinlineServer}. Not thread-safe; use it from one thread. */
public final class ServerBuilder {
    private final TwinlineProvider provider;
    private InetSocketAddress bindAddress = new InetSocketAddress("127.0.0.1", Twinline.DEFAULT_PORT);
    private InetSocketAddress advertisedAddress;
    private final Map<String, Handler> handlers = new LinkedHashMap<>();
    private RecoveryPolicy policy = RecoveryPolicy.defaults();
    private Limits limits = Limits.defaults();
    private final List<StateListener> stateListeners = new ArrayList<>();
    private final List<Consumer<Session>> sessionListeners = new ArrayList<>();

    ServerBuilder(TwinlineProvider provider) {
        this.provider = provider;
    }

    /** Listens on {@code address}; port 0 picks a free port. Default {@code 127.0.0.1:7420}. */
    public ServerBuilder bind(InetSocketAddress address) {
        this.bindAddress = Objects.requireNonNull(address, "address");
        return this;
    }

    /** Listens on {@code host:port}; port 0 picks a free port. */
    public ServerBuilder bind(String host, int port) {
        return bind(new InetSocketAddress(Objects.requireNonNull(host, "host"), checkPort(port)));
    }

    /**
     * Tells clients to re-attach channels to {@code address} instead of the address they dialled, so that both
     * channels of a session reach this instance behind a load balancer.
     */
    public ServerBuilder advertise(InetSocketAddress address) {
        this.advertisedAddress = Objects.requireNonNull(address, "address");
        return this;
    }

    /**
     * Answers calls to {@code route} with {@code handler}.
     *
     * @throws IllegalArgumentException if the route is empty, longer than 255 UTF-8 bytes, or already taken
     */
    public ServerBuilder handle(String route, Handler handler) {
        Routes.register(handlers, route, handler);
        return this;
    }

    public ServerBuilder recoveryPolicy(RecoveryPolicy policy) {
        this.policy = Objects.requireNonNull(policy, "policy");
        return this;
    }

    public ServerBuilder limits(Limits limits) {
        this.limits = Objects.requireNonNull(limits, "limits");
        return this;
    }

    /** Adds a listener told of every state change of every session. */
    public ServerBuilder onStateChange(StateListener listener) {
        stateListeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /** Adds a listener told of each new session once both its channels are attached. Must not block. */
    public ServerBuilder onSession(Consumer<Session> listener) {
        sessionListeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /**
     * Binds and starts the server.
     *
     * @throws java.io.UncheckedIOException if the address cannot be bound
     */
    public TwinlineServer start() {
        return provider.startServer(new ServerSpec(bindAddress, Optional.ofNullable(advertisedAddress), handlers,
                policy, limits, stateListeners, sessionListeners));
    }

    static int checkPort(int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be within 0..65535: " + port);
        }
        return port;
    }
}
