package io.twinline.api.spi;

import io.twinline.api.Handler;
import io.twinline.api.Limits;
import io.twinline.api.RecoveryPolicy;
import io.twinline.api.Session;
import io.twinline.api.StateListener;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Everything a {@link io.twinline.api.ServerBuilder} collected, validated.
 *
 * @param bindAddress where to listen
 * @param advertisedAddress the address clients should use to re-attach, if not the one they dialled (several
 *     instances behind a load balancer); announced in WELCOME
 */
public record ServerSpec(
        InetSocketAddress bindAddress,
        Optional<InetSocketAddress> advertisedAddress,
        Map<String, Handler> handlers,
        RecoveryPolicy policy,
        Limits limits,
        List<StateListener> stateListeners,
        List<Consumer<Session>> sessionListeners) {

    public ServerSpec {
        handlers = Map.copyOf(handlers);
        stateListeners = List.copyOf(stateListeners);
        sessionListeners = List.copyOf(sessionListeners);
    }
}
