package io.twinline.host;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Starts the JDK's socket poller, once per JVM, on the thread that starts a server or client, so that starting it
 * pins no virtual thread.
 *
 * <p>JDK 25 on Linux waits for sockets with "sub-poller" virtual threads, which the static initializer of
 * {@code sun.nio.ch.Poller} starts on the first blocking socket operation of any virtual thread. A sub-poller
 * that runs on another carrier before that initializer has returned calls back into the class and waits for it,
 * pinned ({@code jdk.VirtualThreadPinned}: "Waited for initialization of sun.nio.ch.Poller by another thread").
 * Here the initializer runs on a virtual thread while a spinning virtual thread holds each of the scheduler's other
 * carriers, so the sub-pollers it starts can run only once it has returned.
 *
 * <p>Best effort and bounded: when the scheduler has fewer free carriers than expected, the initializer runs
 * unfenced after {@link #HOLD_WAIT_NANOS}, and no carrier is held longer than {@link #HOLD_LIMIT_NANOS}. A carrier
 * the scheduler added beside its parallelism (to make up for a pinned thread) is not held, so the fence can lose
 * there; at start-up there is none.
 *
 * <p>Safe on a JDK that works differently, because all it does is initialize early a class that twinline's first
 * socket operation on a virtual thread would initialize anyway, and it never throws. Without
 * {@code sun.nio.ch.Poller} (another JDK or platform) it does nothing, not even start the holders, and says so at
 * DEBUG. An initializer that fails is logged at DEBUG and fails again, as it would have, at that first socket
 * operation. An initializer that waits for the threads it starts waits at most {@link #HOLD_LIMIT_NANOS}, when the
 * holders let their carriers go. A JDK whose initializer starts no threads gains nothing and loses, once, the
 * holders' spin for as long as the initializer runs.
 */
final class PollerStart {
    /** The class whose initializer starts the JDK's pollers. */
    static final String POLLER_CLASS = "sun.nio.ch.Poller";
    /** How long to wait for the holders to run; at start-up they start within microseconds. */
    static final long HOLD_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /** The longest a holder spins; the poller's initializer takes well under a millisecond. */
    static final long HOLD_LIMIT_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    private static boolean started; // guarded by PollerStart.class

    private PollerStart() {
    }

    /** Starts the poller unless an earlier call has; a second runtime starting meanwhile waits for the first. */
    static synchronized void once() {
        if (!started) {
            started = true;
            initializeFenced(POLLER_CLASS, null);
        }
    }

    /**
     * Initializes {@code className} of {@code loader} ({@code null}: the JDK's own) inside the fence of
     * {@link #runAlone}. Does nothing else when there is no such class, and never throws: a class that is missing or
     * whose initializer fails is logged at DEBUG.
     *
     * @return whether the class is initialized now
     */
    static boolean initializeFenced(String className, ClassLoader loader) {
        Class<?> c;
        try {
            c = Class.forName(className, false, loader); // loaded, not initialized: its initializer has not run
        } catch (ClassNotFoundException | LinkageError e) {
            Logger.debug("[twinline] socket poller not started ahead of time: no {} ({})", className, e.toString());
            return false;
        }
        var initialized = new AtomicBoolean();
        runAlone(() -> initialized.set(initialize(c)), schedulerCarriers(), HOLD_WAIT_NANOS, HOLD_LIMIT_NANOS);
        return initialized.get();
    }

    /**
     * Runs {@code task} on a virtual thread while a spinning virtual thread holds each of the other
     * {@code carriers - 1} carriers, so that virtual threads the task starts run only once it has returned (or a
     * holder has given up). When not every holder is running within {@code holdWaitNanos}, the holders are let go
     * and the task runs unfenced rather than queued behind them. Returns when the task has returned, or, if the
     * calling thread is interrupted, without waiting for it (the task still runs).
     *
     * @return whether every other carrier was held when the task started
     */
    static boolean runAlone(Runnable task, int carriers, long holdWaitNanos, long holdLimitNanos) {
        var holding = new CountDownLatch(carriers - 1);
        var release = new CountDownLatch(1);
        long holdDeadline = System.nanoTime() + holdLimitNanos;
        boolean held = false;
        boolean interrupted = false;
        try {
            for (int i = 1; i < carriers; i++) {
                Thread.ofVirtual().name("twinline-poller-start-hold").start(() -> {
                    holding.countDown();
                    while (release.getCount() > 0 && System.nanoTime() - holdDeadline < 0) {
                        Thread.onSpinWait(); // spin, never park: parking would free the carrier
                    }
                });
            }
            try {
                held = holding.await(holdWaitNanos, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                interrupted = true;
            }
            if (!held) {
                release.countDown(); // no fence to be had: do not make the task wait behind the holders
            }
            Thread runner = Thread.ofVirtual().name("twinline-poller-start").start(task);
            if (!interrupted) {
                try {
                    runner.join();
                } catch (InterruptedException e) {
                    interrupted = true; // stop waiting; the task goes on, unfenced once the holders are let go
                }
            }
            return held;
        } finally {
            release.countDown();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static boolean initialize(Class<?> c) {
        try {
            Class.forName(c.getName(), true, c.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            // The first socket operation meets the same failure, where it is reported.
            Logger.debug("[twinline] socket poller not started ahead of time: {}", e.toString());
            return false;
        }
    }

    /** The virtual thread scheduler's parallelism, as the JDK computes it. */
    static int schedulerCarriers() {
        String configured = System.getProperty("jdk.virtualThreadScheduler.parallelism");
        if (configured != null) {
            try {
                return Math.max(1, Integer.parseInt(configured.trim()));
            } catch (NumberFormatException e) {
                // The JDK itself rejects such a value when it creates the scheduler; fall through.
            }
        }
        return Runtime.getRuntime().availableProcessors();
    }
}
