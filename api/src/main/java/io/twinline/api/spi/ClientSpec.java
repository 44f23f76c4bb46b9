package io.twinline.api.spi;

import io.twinline.api.Handler;
import io.twinline.api.Limits;
import io.twinline.api.RecoveryPolicy;
import io.twinline.api.StateListener;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/**
 * Everything a {@link io.twinline.api.ClientBuilder} collected, validated.
 *
 * @param server the address to dial (unresolved names are resolved at each connect)
 * @param reconnectAfterDisconnect whether a session that ends in {@code DISCONNECTED} is replaced by a new one
 */
public record ClientSpec(
        InetSocketAddress server,
        Map<String, Handler> handlers,
        RecoveryPolicy policy,
        Limits limits,
        List<StateListener> stateListeners,
        boolean reconnectAfterDisconnect) {

    public ClientSpec {
        handlers = Map.copyOf(handlers);
        stateListeners = List.copyOf(stateListeners);
    }
}
