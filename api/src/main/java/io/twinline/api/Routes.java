package io.twinline.api;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/** Checks route names: 1 to 255 bytes of UTF-8, as the wire format allows. */
final class Routes {
    private Routes() {
    }

    /**
     * Adds {@code handler} for {@code route} to {@code handlers}.
     *
     * @throws IllegalArgumentException if the route is malformed or already has a handler
     */
    static void register(java.util.Map<String, Handler> handlers, String route, Handler handler) {
        Objects.requireNonNull(handler, "handler");
        if (handlers.putIfAbsent(check(route), handler) != null) {
            throw new IllegalArgumentException("route already has a handler: '" + route + "'");
        }
    }

    static String check(String route) {
        Objects.requireNonNull(route, "route");
        int length = route.getBytes(StandardCharsets.UTF_8).length;
        if (length == 0 || length > 255) {
            throw new IllegalArgumentException("route must be 1 to 255 UTF-8 bytes: '" + route + "'");
        }
        return route;
    }
}
