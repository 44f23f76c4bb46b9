package io.twinline.host;

import io.twinline.recovery.Clock;
import java.io.IOException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * How many re-attach dials of a process run at once: at most {@code permits}, the others wait their turn in the
 * order they came, each no longer than its own try's deadline. When many sessions lose a channel together (a peer's
 * long pause, a busy machine), their re-attaches reach the server as a steady stream instead of one burst of
 * connections and handshakes, which would starve the server's readers and fail the next sessions' heartbeats.
 *
 * <p>A try that gets no turn before its deadline fails like a dial that timed out, and the reconnect loop goes on
 * with its backoff, within its time limit. Only re-attaches pass the gate: a session's first connection is the
 * application's to pace.
 */
final class DialGate {
    /** The process's gate for re-attach dials. */
    static final DialGate REATTACHES = new DialGate(64);

    private final Semaphore turns;
    private final int permits;
    private final LongAdder waited = new LongAdder();
    private final LongAdder refused = new LongAdder();

    DialGate(int permits) {
        this.permits = permits;
        this.turns = new Semaphore(permits, true);
    }

    /** Something done while holding a turn. */
    interface Dial<T> {
        T run() throws Exception;
    }

    /**
     * Runs {@code dial} once a turn is free, waiting at most until {@code deadlineNanos} on {@code clock} (in real
     * time: the wait is for other threads' dials).
     *
     * @throws IOException if no turn came before the deadline
     */
    <T> T through(Clock clock, long deadlineNanos, Dial<T> dial) throws Exception {
        // Timed acquires only: they keep the order of arrival, where an untimed tryAcquire would jump the queue.
        if (!turns.tryAcquire(0, TimeUnit.NANOSECONDS)) {
            waited.increment();
            long left = deadlineNanos - clock.nanoTime();
            if (left <= 0 || !turns.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                refused.increment();
                throw new IOException("no turn to dial within the try's deadline (" + permits
                        + " re-attaches of this process were dialling; " + queued() + " waiting)");
            }
        }
        try {
            return dial.run();
        } finally {
            turns.release();
        }
    }

    /** Dials running now. */
    int running() {
        return permits - turns.availablePermits();
    }

    /** Dials waiting for a turn now. */
    int queued() {
        return turns.getQueueLength();
    }

    /** Dials that had to wait for a turn, so far. */
    long waitedTotal() {
        return waited.sum();
    }

    /** Dials that got no turn before their deadline, so far. */
    long refusedTotal() {
        return refused.sum();
    }

    @Override
    public String toString() {
        return "DialGate[" + running() + "/" + permits + " running, " + queued() + " waiting]";
    }

}
