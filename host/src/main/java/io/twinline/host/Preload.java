package io.twinline.host;

import io.twinline.transport.Connection;

/**
 * Loads and initializes the classes a session needs, on the thread that starts a server or client (usually a
 * platform thread): a virtual thread that loads or initializes a class is pinned to its carrier meanwhile, and the
 * first handshakes of a busy server would all wait on the same class. JFR counted such pins as most of the
 * {@code jdk.VirtualThreadPinned} events of a benchmark run (PERFORMANCE.md).
 */
final class Preload {
    private static volatile boolean done;

    private Preload() {
    }

    static void sessionClasses() {
        if (done) {
            return;
        }
        Connection.preloadClasses();
        for (Class<?> c : new Class<?>[] {TwinSession.class, Link.class, Requester.class, Responder.class,
                AckBuffer.class, TaskGroup.class}) {
            try {
                Class.forName(c.getName(), true, c.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e); // cannot happen: the class is at hand
            }
        }
        done = true;
    }
}
