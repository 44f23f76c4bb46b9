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

/**
 * Configures and starts a {@link TwinlineServer}; {@link Twinline#server()} returns one. Each setting method checks
 * its arguments at once and returns this builder. Not thread-safe: use it from one thread.
 */
public final class ServerBuilder {
    private final TwinlineProvider provider;
    private InetSocketAddress bindAddress = new InetSocketAddress("127.0.0.1", Twinline.DEFAULT_PORT);
    private InetSocketAddress advertisedAddress;
    private final Map<String, Handler> handlers = new LinkedHashMap<>();
    private RecoveryPolicy policy = RecoveryPolicy.defaults();
    private Limits limits = Limits.defaults();
    private final List<StateListener> stateListeners = new ArrayList<>();
    private final List<Consumer<Session>> sessionListeners = new ArrayList<>();
    private Tls tls;
    private Authenticator authenticator;

    ServerBuilder(TwinlineProvider provider) {
        this.provider = provider;
    }

    /**
     * Sets the address to listen on. Default {@code 127.0.0.1:7420} ({@link Twinline#DEFAULT_PORT}).
     *
     * @param address the address; port 0 picks a free port
     * @return this builder
     * @throws NullPointerException if {@code address} is null
     */
    public ServerBuilder bind(InetSocketAddress address) {
        this.bindAddress = Objects.requireNonNull(address, "address");
        return this;
    }

    /**
     * Sets the address to listen on. Default {@code 127.0.0.1:7420} ({@link Twinline#DEFAULT_PORT}).
     *
     * @param host the host name or address, resolved here; a name that does not resolve fails {@link #start()}
     * @param port the port, 0 to 65535; 0 picks a free port
     * @return this builder
     * @throws NullPointerException if {@code host} is null
     * @throws IllegalArgumentException if {@code port} is outside 0 to 65535
     */
    public ServerBuilder bind(String host, int port) {
        return bind(new InetSocketAddress(Objects.requireNonNull(host, "host"), checkPort(port)));
    }

    /**
     * Tells clients to re-attach channels to {@code address} instead of the address they dialled, so that both
     * channels of a session reach this instance behind a load balancer. By default clients re-attach to the
     * address they dialled.
     *
     * @param address the address announced in WELCOME; a client resolves it each time it re-attaches
     * @return this builder
     * @throws NullPointerException if {@code address} is null
     */
    public ServerBuilder advertise(InetSocketAddress address) {
        this.advertisedAddress = Objects.requireNonNull(address, "address");
        return this;
    }

    /**
     * Answers calls to {@code route} with {@code handler}.
     *
     * @param route the route's name: 1 to 255 bytes in UTF-8
     * @param handler answers the calls
     * @return this builder
     * @throws NullPointerException if {@code route} or {@code handler} is null
     * @throws IllegalArgumentException if the route is empty, longer than 255 UTF-8 bytes, or already taken
     */
    public ServerBuilder handle(String route, Handler handler) {
        Routes.register(handlers, route, handler);
        return this;
    }

    /**
     * Sets how sessions detect failures and recover. Default {@link RecoveryPolicy#defaults()}. Its heartbeat,
     * idle timeout and re-attach window are announced to each client in WELCOME.
     *
     * @param policy the policy
     * @return this builder
     * @throws NullPointerException if {@code policy} is null
     */
    public ServerBuilder recoveryPolicy(RecoveryPolicy policy) {
        this.policy = Objects.requireNonNull(policy, "policy");
        return this;
    }

    /**
     * Sets the limits. Default {@link Limits#defaults()}.
     *
     * @param limits the limits
     * @return this builder
     * @throws NullPointerException if {@code limits} is null
     */
    public ServerBuilder limits(Limits limits) {
        this.limits = Objects.requireNonNull(limits, "limits");
        return this;
    }

    /**
     * Adds a listener told of every state change of every session.
     *
     * @param listener the listener; it runs as {@link StateListener} describes
     * @return this builder
     * @throws NullPointerException if {@code listener} is null
     */
    public ServerBuilder onStateChange(StateListener listener) {
        stateListeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /**
     * Adds a listener told of each new session once both its channels are attached.
     *
     * @param listener the listener; it runs on the server's handshake thread for the session's channel B and must
     *     not block; an exception it throws is logged and ignored
     * @return this builder
     * @throws NullPointerException if {@code listener} is null
     */
    public ServerBuilder onSession(Consumer<Session> listener) {
        sessionListeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /**
     * Runs every connection over TLS 1.3 with the server's keys in {@code tls}; with
     * {@link Tls#requireClientCertificates()}, every client must show a certificate signed by an anchor
     * {@code tls} trusts, and each session is bound to the certificate it was opened with. A connection whose
     * handshake fails (a plain-TCP client, an untrusted certificate) is closed and counted; nothing else is
     * affected.
     *
     * @param tls the settings, or null for plain TCP (the default)
     * @return this builder
     * @throws IllegalArgumentException if {@code tls} has no keys of this server's own, or requires client
     *     certificates without anchors of its own to check them against (the JDK's default anchors are public CAs)
     */
    public ServerBuilder tls(Tls tls) {
        if (tls != null && !tls.hasKeys()) {
            throw new IllegalArgumentException("a server's TLS needs its own key and certificate");
        }
        if (tls != null && tls.requiresClientCertificates() && !tls.hasOwnAnchors()) {
            // The JDK's default anchors are the public CAs: anyone with a public certificate would get in.
            throw new IllegalArgumentException("client certificates are required but no anchors were given for "
                    + "them: call trusting(...) or trustingStore(...)");
        }
        this.tls = tls;
        return this;
    }

    /**
     * Decides who may open a session: each HELLO's address, credential ({@link ClientBuilder#credential}) and, with
     * mutual TLS, verified certificate go to {@code authenticator}, which names the session's principal
     * ({@link Session#principal()}) or refuses the client with a reason it is told (REJECTED {@code UNAUTHORIZED}).
     * A credential crosses the network in clear unless TLS is on ({@link #tls}).
     *
     * @param authenticator the authenticator, or null to let anyone open a session (the default)
     * @return this builder
     */
    public ServerBuilder authenticator(Authenticator authenticator) {
        this.authenticator = authenticator;
        return this;
    }

    /**
     * Binds and starts the server. The builder may be used again.
     *
     * @return the running server
     * @throws java.io.UncheckedIOException if the address cannot be bound or its host name does not resolve
     */
    public TwinlineServer start() {
        return provider.startServer(new ServerSpec(bindAddress, Optional.ofNullable(advertisedAddress), handlers,
                policy, limits, stateListeners, sessionListeners, Optional.ofNullable(tls),
                Optional.ofNullable(authenticator)));
    }

    static int checkPort(int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be within 0..65535: " + port);
        }
        return port;
    }
}
