package io.twinline.api.spi;

import io.twinline.api.Handler;
import io.twinline.api.Limits;
import io.twinline.api.RecoveryPolicy;
import io.twinline.api.StateListener;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/**
 * Everything a {@link io.twinline.api.ClientBuilder} collected, validated. Immutable.
 *
 * @param server the address to dial (unresolved names are resolved at each dial)
 * @param handlers the handlers of the server's calls, by route
 * @param policy the client's recovery policy, before it is fitted to a server's heartbeat
 * @param limits the client's limits
 * @param stateListeners the listeners added to every session, in the order they were added
 * @param reconnectAfterDisconnect whether a session that ends in {@code DISCONNECTED} is replaced by a new one
 */
public record ClientSpec(
        InetSocketAddress server,
        Map<String, Handler> handlers,
        RecoveryPolicy policy,
        Limits limits,
        List<StateListener> stateListeners,
        boolean reconnectAfterDisconnect) {

    /**
     * Copies the map and the list, so the spec stays as the builder left it.
     *
     * @throws NullPointerException if {@code handlers} or {@code stateListeners} is null or holds a null
     */
    public ClientSpec {
        handlers = Map.copyOf(handlers);
        stateListeners = List.copyOf(stateListeners);
    }
}
