package io.twinline.host;

import io.twinline.api.Channel;
import io.twinline.transport.Connection;
import io.twinline.transport.Frame;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One TCP connection attached to one channel of a session. A channel's link is replaced, never repaired: a
 * failed link is closed and a new one attached. Shared by the link's reader and writer threads, the session's
 * ticker and recovery processes; every field is thread-safe.
 */
final class Link {
    private static final AtomicLong NONCES = new AtomicLong(System.nanoTime());

    final Channel channel;
    final Connection connection;
    /** Increases with each link attached to the session, so logs and tests can tell links apart. */
    final long generation;
    private final AtomicBoolean failed = new AtomicBoolean();
    private volatile io.twinline.api.FailureCause failureCause;
    private final CountDownLatch readerExited = new CountDownLatch(1);
    /** Probes waiting for their PONG, by nonce; made by the first probe (most links are never probed). */
    private volatile ConcurrentHashMap<Long, CompletableFuture<Void>> pings;
    /** The link's reader thread and the scope it forks children into, once it runs. */
    private volatile Thread reader;
    private volatile TaskGroup.Children readerChildren;

    Link(Channel channel, Connection connection, long generation) {
        this.channel = channel;
        this.connection = connection;
        this.generation = generation;
    }

    /**
     * Marks the link failed for {@code cause}; returns {@code true} only for the first caller, who reports the
     * failure, and whose cause the link keeps.
     */
    boolean markFailed(io.twinline.api.FailureCause cause) {
        if (!failed.compareAndSet(false, true)) {
            return false;
        }
        failureCause = cause;
        return true;
    }

    /** Why the link failed, as its first reporter said, or {@code OTHER} if it was closed without a report. */
    io.twinline.api.FailureCause failureCause() {
        io.twinline.api.FailureCause cause = failureCause;
        return cause != null ? cause : io.twinline.api.FailureCause.OTHER;
    }

    boolean isHealthy() {
        return !failed.get() && !connection.isClosed();
    }

    void close() {
        connection.close();
        ConcurrentHashMap<Long, CompletableFuture<Void>> waiting = pings;
        if (waiting != null) {
            for (CompletableFuture<Void> ping : waiting.values()) {
                ping.complete(null); // waiters re-check health; a closed link is never healthy
            }
        }
    }

    /** Sends a PING and returns a future completed by its PONG. */
    CompletableFuture<Void> ping(long nonce) {
        CompletableFuture<Void> pong = new CompletableFuture<>();
        pings().put(nonce, pong);
        if (connection.isClosed()) {
            pong.complete(null); // closed meanwhile: close() may have looked before the put
        }
        connection.send(new Frame.Ping(nonce));
        return pong;
    }

    static long newNonce() {
        return NONCES.incrementAndGet();
    }

    private ConcurrentHashMap<Long, CompletableFuture<Void>> pings() {
        ConcurrentHashMap<Long, CompletableFuture<Void>> p = pings;
        if (p == null) {
            synchronized (this) {
                p = pings;
                if (p == null) {
                    pings = p = new ConcurrentHashMap<>();
                }
            }
        }
        return p;
    }

    /** Called by the reader on a PONG. */
    void onPong(long nonce) {
        ConcurrentHashMap<Long, CompletableFuture<Void>> waiting = pings;
        CompletableFuture<Void> pong = waiting == null ? null : waiting.remove(nonce);
        if (pong != null) {
            pong.complete(null);
        }
    }

    /**
     * Sends a PING and waits up to {@code timeoutNanos}, as {@code health} stretches it, for an answer (the recovery
     * probe of Figs. 5 and 7). Any frame read on the link after the PING went out counts as one: the peer is
     * evidently there, and on a starved host a busy channel's PONG can queue behind the frames that prove it.
     *
     * @param clock the session's clock, on which {@link Connection#lastReadNanos()} is kept; the wait ends when it
     *     has passed the stretched timeout (it is looked at every 10 ms, so a fake clock moved by a test is seen)
     * @param health the process's health: once {@code timeoutNanos} has passed, the wait goes on as long as
     *     {@link LocalHealth#stretch} says, so that this process's own delay is not taken for the peer's silence
     * @return whether the link answered in time and is still healthy
     */
    boolean probe(io.twinline.recovery.Clock clock, long timeoutNanos, LocalHealth health)
            throws InterruptedException {
        if (!isHealthy()) {
            return false;
        }
        long start = clock.nanoTime();
        long nonce = newNonce();
        long sliceNanos = TimeUnit.MILLISECONDS.toNanos(10);
        try {
            CompletableFuture<Void> pong = ping(nonce);
            long left;
            while ((left = probeLeft(clock.nanoTime(), start, timeoutNanos, health)) > 0) {
                try {
                    pong.get(Math.min(sliceNanos, left), TimeUnit.NANOSECONDS);
                    return isHealthy();
                } catch (java.util.concurrent.TimeoutException e) {
                    if (connection.lastReadNanos() - start > 0) {
                        return isHealthy();
                    }
                }
            }
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return false;
        } finally {
            pings().remove(nonce);
        }
    }

    /** Nanoseconds the probe begun at {@code start} still waits at {@code now}. */
    private static long probeLeft(long now, long start, long timeoutNanos, LocalHealth health) {
        long waited = now - start;
        return (waited <= timeoutNanos ? timeoutNanos : health.stretch(timeoutNanos, start, now)) - waited;
    }

    /** Called by the link's reader thread when it starts, with the scope it forks its children into. */
    void readerStarted(TaskGroup.Children children) {
        readerChildren = children;
        reader = Thread.currentThread();
    }

    /** Returns the reader's scope if the calling thread is this link's reader (only it may fork there), else null. */
    TaskGroup.Children readerScope() {
        return reader == Thread.currentThread() ? readerChildren : null;
    }

    void readerExited() {
        readerExited.countDown();
    }

    /** Waits until this link's reader thread has stopped dispatching frames. */
    boolean awaitReaderExit(long timeoutMillis) throws InterruptedException {
        return readerExited.await(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public String toString() {
        return channel + "#" + generation + " (port " + connection.localPort() + ")";
    }
}
