package io.twinline.host;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A task group with no owner and no scope of its own: its tasks are forked in its host's scope by the host's owner
 * ({@link OwnedGroup#spawn}), so a server's session costs no parked thread to fork for it. It keeps what a group
 * promises: it counts its tasks and knows them as its own ({@link #isCallerInside}), ends once it is shut down and
 * the last has returned, interrupts its own on {@link #cancel()}, and ends with its host.
 *
 * <p>Runs on whichever thread spawns, shuts down or cancels, on the host's subtasks that run its tasks, and on the
 * host's owner for what the host finds it will not start. Every callback it runs (a task's {@code rejected}, the
 * ticker's {@code abandoned}) runs with itself bound as the caller's group, so a session's listener that closes
 * the session sees its own thread wherever that is.
 */
final class NestedGroup extends TaskGroup {
    private final OwnedGroup host;
    /** Tasks accepted and not yet returned, plus one until the group is shut down; the group ends at zero. */
    private final AtomicInteger held = new AtomicInteger(1);
    /** The ticker, until it stops itself or is abandoned. */
    private final AtomicReference<StartTicker> ticker = new AtomicReference<>();
    /** Whether a woken round is queued and has not begun yet: wakes meanwhile add no round. */
    private final AtomicBoolean roundQueued = new AtomicBoolean();

    private NestedGroup(OwnedGroup host, String name) {
        super(name, host.clock);
        this.host = host;
    }

    static NestedGroup start(OwnedGroup host, String name) {
        NestedGroup group = new NestedGroup(host, name);
        if (!host.host(group)) {
            group.shutdown(); // the host takes no more tasks: the group has ended before it began
        }
        return group;
    }

    /**
     * Counted from now and forked by the host's owner; refused once the host is shutting down. {@code rejected}
     * runs where the host's would (the calling thread, or the host's owner).
     */
    @Override
    boolean spawn(String threadName, Runnable body, Runnable rejected) {
        if (!open.get() || !hold()) {
            runRejected(rejected);
            return false;
        }
        if (!open.get()) { // shut down meanwhile: refused, as an owner refuses what it finds queued behind SHUTDOWN
            rejectCounted(rejected);
            return false;
        }
        // Refused by the host (it is ending), or never started by it: the host runs the second callback.
        return host.spawn(threadName, new Counted(body, rejected), () -> rejectCounted(rejected));
    }

    /**
     * A nested group has no thread to plan rounds on: its ticker runs on a short task of the group, only when woken.
     * {@code firstDelayNanos} must be {@link #UNTIL_WOKEN}, and a round's non-negative delay means "until woken".
     *
     * @throws IllegalArgumentException if {@code firstDelayNanos} is not {@link #UNTIL_WOKEN}
     */
    @Override
    void startTicker(Ticker ticker, long firstDelayNanos, Runnable abandoned) {
        if (firstDelayNanos != UNTIL_WOKEN) {
            throw new IllegalArgumentException("a nested group's ticker runs only when woken: " + firstDelayNanos);
        }
        StartTicker start = new StartTicker(ticker, firstDelayNanos, abandoned);
        this.ticker.set(start);
        if (isTerminated() && this.ticker.compareAndSet(start, null)) {
            asThisGroup(() -> runRejected(abandoned)); // ended before: nobody else will tell it
        }
    }

    /** Queues one round on a task of the group, unless one is queued and has not begun. */
    @Override
    void wakeTicker() {
        if (ticker.get() != null && roundQueued.compareAndSet(false, true)) {
            spawn(name + "/round", this::runRound, () -> roundQueued.set(false));
        }
    }

    /** Also how the group ends with its host ({@link OwnedGroup}'s end calls it). */
    @Override
    void shutdown() {
        if (open.compareAndSet(true, false)) {
            release(); // the one the open group held
        }
    }

    /** Interrupts the group's own tasks; the group ends once they have returned. */
    @Override
    void cancel() {
        cancelRequested = true;
        shutdown();
        for (Thread t : running) {
            t.interrupt();
        }
    }

    /**
     * A task as the host runs it, on its subtask: tracked for {@link #cancel()} and {@link #isCallerInside}, counted
     * until it returns. Runs the body itself, so a parked task's stack holds one frame of the group's.
     */
    private final class Counted implements Runnable {
        private final Runnable body;
        private final Runnable rejected;

        Counted(Runnable body, Runnable rejected) {
            this.body = body;
            this.rejected = rejected;
        }

        @Override
        public void run() {
            Thread me = Thread.currentThread();
            running.add(me);
            try {
                if (cancelRequested) {
                    runRejected(rejected); // as this group's: this thread is in its running set
                } else {
                    body.run();
                }
            } finally {
                running.remove(me);
                release(); // the end it may bring runs as this group's (see ended)
            }
        }
    }

    /** Tells a counted task's owner that it will not run, and stops counting it; as this group's. */
    private void rejectCounted(Runnable rejected) {
        asThisGroup(() -> {
            try {
                runRejected(rejected);
            } finally {
                release();
            }
        });
    }

    /**
     * Runs {@code action} with this group bound as the caller's. Nothing is forked inside, so binding it on the
     * host's owner thread breaks no scope's structure.
     */
    private void asThisGroup(Runnable action) {
        if (isCallerInside()) {
            action.run();
        } else {
            ScopedValue.where(CURRENT, this).run(action);
        }
    }

    private void runRound() {
        roundQueued.set(false); // a wake from now on runs another round after this one
        synchronized (ticker) { // one round at a time
            StartTicker ticking = ticker.get();
            if (ticking != null && runTicker(ticking.ticker(), -1) < 0) {
                ticker.compareAndSet(ticking, null);
            }
        }
    }

    /** Counts one more task, unless the group has ended. */
    private boolean hold() {
        int n;
        do {
            n = held.get();
            if (n == 0) {
                return false;
            }
        } while (!held.compareAndSet(n, n + 1));
        return true;
    }

    /** Counts one task less (or the shutdown); the last ends the group. */
    private void release() {
        if (held.decrementAndGet() == 0) {
            ended();
        }
    }

    /** Runs once, when the count reaches zero: tells the ticker, then ends the group. */
    private void ended() {
        asThisGroup(() -> {
            try {
                StartTicker ticking = ticker.getAndSet(null);
                if (ticking != null) {
                    runRejected(ticking.abandoned());
                }
            } finally {
                terminated.countDown();
                host.unhost(this);
            }
            StartTicker late = ticker.getAndSet(null); // started while this ended: no round will run it
            if (late != null) {
                runRejected(late.abandoned());
            }
        });
    }
}
