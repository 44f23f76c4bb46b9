package io.twinline.api.spi;

import io.twinline.api.Authenticator;
import io.twinline.api.Handler;
import io.twinline.api.Limits;
import io.twinline.api.RecoveryPolicy;
import io.twinline.api.Session;
import io.twinline.api.StateListener;
import io.twinline.api.Tls;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Everything a {@link io.twinline.api.ServerBuilder} collected, validated. Immutable.
 *
 * @param bindAddress where to listen
 * @param advertisedAddress the address clients should use to re-attach, if not the one they dialled (several
 *     instances behind a load balancer); announced in WELCOME
 * @param handlers the handlers of the clients' calls, by route
 * @param policy the server's recovery policy
 * @param limits the server's limits
 * @param stateListeners the listeners added to every session, in the order they were added
 * @param sessionListeners the listeners told of each new session, in the order they were added
 * @param tls TLS on every connection, or empty for plain TCP
 * @param authenticator who may open a session, or empty for anyone who reaches the server (and, with mutual TLS,
 *     shows a trusted certificate)
 */
public record ServerSpec(
        InetSocketAddress bindAddress,
        Optional<InetSocketAddress> advertisedAddress,
        Map<String, Handler> handlers,
        RecoveryPolicy policy,
        Limits limits,
        List<StateListener> stateListeners,
        List<Consumer<Session>> sessionListeners,
        Optional<Tls> tls,
        Optional<Authenticator> authenticator) {

    /**
     * Copies the map and the lists, so the spec stays as the builder left it.
     *
     * @throws NullPointerException if {@code handlers}, {@code stateListeners} or {@code sessionListeners} is null
     *     or holds a null
     */
    public ServerSpec {
        java.util.Objects.requireNonNull(tls, "tls");
        java.util.Objects.requireNonNull(authenticator, "authenticator");
        handlers = Map.copyOf(handlers);
        stateListeners = List.copyOf(stateListeners);
        sessionListeners = List.copyOf(sessionListeners);
    }

    /**
     * A spec for plain TCP.
     *
     * @param bindAddress as the record's component
     * @param advertisedAddress as the record's component
     * @param handlers as the record's component
     * @param policy as the record's component
     * @param limits as the record's component
     * @param stateListeners as the record's component
     * @param sessionListeners as the record's component
     */
    public ServerSpec(InetSocketAddress bindAddress, Optional<InetSocketAddress> advertisedAddress,
                      Map<String, Handler> handlers, RecoveryPolicy policy, Limits limits,
                      List<StateListener> stateListeners, List<Consumer<Session>> sessionListeners) {
        this(bindAddress, advertisedAddress, handlers, policy, limits, stateListeners, sessionListeners,
                Optional.empty(), Optional.empty());
    }
}
