package io.twinline.api;

import io.twinline.api.spi.ClientSpec;
import io.twinline.api.spi.TwinlineProvider;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Configures and connects a {@link TwinlineClient}; {@link Twinline#client()} returns one. Each setting method checks
 * its arguments at once and returns this builder. Not thread-safe: use it from one thread.
 */
public final class ClientBuilder {
    private final TwinlineProvider provider;
    private InetSocketAddress server;
    private final Map<String, Handler> handlers = new LinkedHashMap<>();
    private RecoveryPolicy policy = RecoveryPolicy.defaults();
    private Limits limits = Limits.defaults();
    private final List<StateListener> stateListeners = new ArrayList<>();
    private boolean reconnectAfterDisconnect;
    private Tls tls;
    private byte[] credential = new byte[0];

    ClientBuilder(TwinlineProvider provider) {
        this.provider = provider;
    }

    /**
     * Sets the server to dial. Required.
     *
     * @param address the server's address; an unresolved one is resolved each time a channel is dialled
     * @return this builder
     * @throws NullPointerException if {@code address} is null
     */
    public ClientBuilder server(InetSocketAddress address) {
        this.server = Objects.requireNonNull(address, "address");
        return this;
    }

    /**
     * Sets the server to dial. Required.
     *
     * @param host the server's host name or address, resolved each time a channel is dialled, not here
     * @param port the server's port, 0 to 65535
     * @return this builder
     * @throws NullPointerException if {@code host} is null
     * @throws IllegalArgumentException if {@code port} is outside 0 to 65535
     */
    public ClientBuilder server(String host, int port) {
        return server(InetSocketAddress.createUnresolved(Objects.requireNonNull(host, "host"),
                ServerBuilder.checkPort(port)));
    }

    /**
     * Answers the server's calls to {@code route} with {@code handler}.
     *
     * @param route the route's name: 1 to 255 bytes in UTF-8
     * @param handler answers the calls
     * @return this builder
     * @throws NullPointerException if {@code route} or {@code handler} is null
     * @throws IllegalArgumentException if the route is empty, longer than 255 UTF-8 bytes, or already taken
     */
    public ClientBuilder handle(String route, Handler handler) {
        Routes.register(handlers, route, handler);
        return this;
    }

    /**
     * Sets how sessions detect failures and recover. Default {@link RecoveryPolicy#defaults()}; the heartbeat
     * and idle timeout are fitted to the server's for each session.
     *
     * @param policy the policy
     * @return this builder
     * @throws NullPointerException if {@code policy} is null
     */
    public ClientBuilder recoveryPolicy(RecoveryPolicy policy) {
        this.policy = Objects.requireNonNull(policy, "policy");
        return this;
    }

    /**
     * Sets the limits. Default {@link Limits#defaults()}; {@code maxSessions} does not apply to a client.
     *
     * @param limits the limits
     * @return this builder
     * @throws NullPointerException if {@code limits} is null
     */
    public ClientBuilder limits(Limits limits) {
        this.limits = Objects.requireNonNull(limits, "limits");
        return this;
    }

    /**
     * Adds a listener told of every state change of every session this client holds.
     *
     * @param listener the listener; it runs as {@link StateListener} describes
     * @return this builder
     * @throws NullPointerException if {@code listener} is null
     */
    public ClientBuilder onStateChange(StateListener listener) {
        stateListeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /**
     * Whether to start a fresh session (with backoff) when the current one ends in {@code DISCONNECTED}, so the
     * client rides out a server restart. Off by default: a new session is a new ledger of calls, and the caller
     * should know. Calls in flight at the disconnect still fail with {@link DisconnectedException}.
     *
     * @param on {@code true} to reconnect
     * @return this builder
     */
    public ClientBuilder reconnectAfterDisconnect(boolean on) {
        this.reconnectAfterDisconnect = on;
        return this;
    }

    /**
     * Runs both channels over TLS 1.3: the server's certificate must be signed by an anchor {@code tls} trusts and
     * name the host dialled (or {@link Tls#serverName}); with keys, the client shows its own certificate. A
     * handshake that fails (untrusted or misnamed certificate, a plain-TCP server) fails the connect with
     * {@link ConnectFailedException}.
     *
     * @param tls the settings, or null for plain TCP (the default)
     * @return this builder
     */
    public ClientBuilder tls(Tls tls) {
        this.tls = tls;
        return this;
    }

    /**
     * What this client presents to the server's {@link Authenticator} when it opens a session (a password, a
     * token, a signed assertion: the server's authenticator decides what it means). It crosses the network in
     * clear unless TLS is on ({@link #tls}); it is sent only in HELLO, never in a re-attach.
     *
     * @param credential the bytes, at most 2048; copied
     * @return this builder
     * @throws IllegalArgumentException if {@code credential} is longer than 2048 bytes
     * @throws NullPointerException if {@code credential} is null
     */
    public ClientBuilder credential(byte[] credential) {
        if (credential.length > 2048) {
            throw new IllegalArgumentException("credential of " + credential.length + " bytes, limit 2048");
        }
        this.credential = credential.clone();
        return this;
    }

    /**
     * Opens both channels and returns once the session is {@code NORMAL}. The builder may be used again.
     *
     * @return the connected client
     * @throws IllegalStateException if no server address was given
     * @throws ConnectFailedException if the server is unreachable, rejects the session, or announces a re-attach
     *     window too short for this client's recovery policy (as fitted to the server's heartbeat; see
     *     {@link RecoveryPolicy})
     */
    public TwinlineClient connect() {
        if (server == null) {
            throw new IllegalStateException("no server address: call server(host, port) first");
        }
        return provider.connect(new ClientSpec(server, handlers, policy, limits, stateListeners,
                reconnectAfterDisconnect, java.util.Optional.ofNullable(tls), credential));
    }
}
