package io.twinline.api;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/** Checks route names: 1 to 255 bytes of UTF-8, as the wire format allows. */
final class Routes {
    private Routes() {
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
