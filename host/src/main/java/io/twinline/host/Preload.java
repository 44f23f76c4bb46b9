package io.twinline.host;

import io.twinline.transport.Connection;
import java.util.concurrent.CompletableFuture;

/**
 * Loads and initializes the classes a session needs, on the thread that starts a server or client (usually a
 * platform thread): a virtual thread that loads or initializes a class is pinned to its carrier meanwhile, and the
 * first handshakes of a busy server would all wait on the same class. JFR counted such pins as most of the
 * {@code jdk.VirtualThreadPinned} events of a benchmark run (PERFORMANCE.md). Cheap when they are loaded already.
 * Starts the JDK's socket poller first, for the same reason ({@link PollerStart}).
 */
final class Preload {
    private Preload() {
    }

    static void sessionClasses() {
        PollerStart.once();
        // CompletableFuture: a thousand callers waiting at once met its Signaller still initializing (JFR).
        Connection.preloadClasses(TwinSession.class, Link.class, Requester.class, Responder.class, AckBuffer.class,
                TaskGroup.class, CompletableFuture.class);
    }
}
