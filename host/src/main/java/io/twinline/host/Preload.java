package io.twinline.host;

import io.twinline.transport.Connection;
import java.util.List;

/**
 * Loads and initializes the classes a session needs, on the thread that starts a server or client, before any
 * session exists: a virtual thread that loads or initializes a class holds its carrier meanwhile, and a runtime's
 * first handshakes and calls would otherwise all load the same classes at once, each waiting for the others with
 * its carrier held. Starts the JDK's socket poller first, for the same reason ({@link PollerStart}).
 *
 * <p>Cheap to repeat (every runtime start calls it): see {@link Connection#preloadClasses}.
 */
final class Preload {
    /**
     * Besides the transport's own classes: the session's classes, and the JDK classes that its handshake, its first
     * calls in both directions and its first state change initialize. Each is preloaded with its whole nest.
     */
    static final List<Class<?>> SESSION_CLASSES = List.of(TwinSession.class, Link.class, Requester.class,
            Responder.class, AckBuffer.class, TaskGroup.class, OwnedGroup.class, NestedGroup.class, Metrics.class,
            ChannelTable.class, Liveness.class, RecoveryDriver.class, ChannelReader.class, RequestRunner.class,
            RoundTimer.class, LocalHealth.class, DialGate.class,
            io.twinline.recovery.StateMachine.class, io.twinline.recovery.Backoff.class,
            io.twinline.recovery.RecoveryProcesses.class, java.security.SecureRandom.class,
            io.twinline.api.SessionState.class,
            // CompletableFuture's nest includes the Signaller that each waiting caller makes.
            java.util.concurrent.CompletableFuture.class, java.util.concurrent.Semaphore.class,
            java.util.concurrent.locks.ReentrantLock.class, java.util.concurrent.CopyOnWriteArrayList.class,
            java.util.concurrent.atomic.AtomicReference.class, java.util.concurrent.atomic.AtomicReferenceArray.class,
            java.util.concurrent.atomic.AtomicLongArray.class, java.util.function.LongSupplier.class,
            java.util.function.LongConsumer.class, java.security.MessageDigest.class,
            // Initialized by a client's first connect; clients of one JVM may connect at once.
            java.net.ProxySelector.class);

    private Preload() {
    }

    static void sessionClasses() {
        PollerStart.once();
        Connection.preloadClasses(SESSION_CLASSES.toArray(Class<?>[]::new));
    }
}
