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
        // The rest: what a server's first HELLO loaded on its handshake thread (JFR's jdk.ClassLoad), where a class
        // loader's lock for one name was once met by a client dialling in the same JVM, pinning the thread.
        Connection.preloadClasses(TwinSession.class, Link.class, Requester.class, Responder.class, AckBuffer.class,
                TaskGroup.class, CompletableFuture.class, io.twinline.recovery.StateMachine.class,
                io.twinline.recovery.Backoff.class, io.twinline.api.SessionState.class,
                java.util.concurrent.Semaphore.class, java.util.concurrent.locks.ReentrantLock.class,
                java.util.concurrent.CopyOnWriteArrayList.class, java.util.concurrent.atomic.AtomicReferenceArray.class,
                java.util.function.LongSupplier.class, java.util.function.LongConsumer.class,
                java.security.MessageDigest.class);
    }
}
