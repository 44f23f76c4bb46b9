package io.twinline.api.spi;

import io.twinline.api.Handler;
import io.twinline.api.Limits;
import io.twinline.api.RecoveryPolicy;
import io.twinline.api.StateListener;
import io.twinline.api.Tls;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything a {@link io.twinline.api.ClientBuilder} collected, validated. Immutable.
 *
 * @param server the address to dial (unresolved names are resolved at each dial)
 * @param handlers the handlers of the server's calls, by route
 * @param policy the client's recovery policy, before it is fitted to a server's heartbeat
 * @param limits the client's limits
 * @param stateListeners the listeners added to every session, in the order they were added
 * @param reconnectAfterDisconnect whether a session that ends in {@code DISCONNECTED} is replaced by a new one
 * @param tls TLS on every connection, or empty for plain TCP
 * @param credential what HELLO presents to the server's authenticator (empty: nothing)
 */
public record ClientSpec(
        InetSocketAddress server,
        Map<String, Handler> handlers,
        RecoveryPolicy policy,
        Limits limits,
        List<StateListener> stateListeners,
        boolean reconnectAfterDisconnect,
        Optional<Tls> tls,
        byte[] credential) {

    /**
     * Copies the map and the list, so the spec stays as the builder left it.
     *
     * @throws NullPointerException if {@code handlers} or {@code stateListeners} is null or holds a null
     */
    public ClientSpec {
        java.util.Objects.requireNonNull(tls, "tls");
        credential = credential.clone();
        handlers = Map.copyOf(handlers);
        stateListeners = List.copyOf(stateListeners);
    }

    /**
     * A spec for plain TCP.
     *
     * @param server as the record's component
     * @param handlers as the record's component
     * @param policy as the record's component
     * @param limits as the record's component
     * @param stateListeners as the record's component
     * @param reconnectAfterDisconnect as the record's component
     */
    public ClientSpec(InetSocketAddress server, Map<String, Handler> handlers, RecoveryPolicy policy, Limits limits,
                      List<StateListener> stateListeners, boolean reconnectAfterDisconnect) {
        this(server, handlers, policy, limits, stateListeners, reconnectAfterDisconnect, Optional.empty(), new byte[0]);
    }

    /**
     * The credential.
     *
     * @return a copy of the credential's bytes
     */
    @Override
    public byte[] credential() {
        return credential.clone();
    }
}
