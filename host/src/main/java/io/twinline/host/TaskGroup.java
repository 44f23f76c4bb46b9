package io.twinline.host;

import io.twinline.recovery.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A group of threads that ends only when all of them have, the one way twinline starts a long-lived thread. With
 * its two kinds, the only code that uses {@link StructuredTaskScope} (a preview API in JDK 25, coded to JDK 25's
 * javadoc), so that no thread outlives its server or session and closing one joins everything it started.
 *
 * <ul>
 *   <li>{@link OwnedGroup} ({@link #start}): a long-lived scope and its owner virtual thread, which forks what other
 *       threads hand it (JDK 25 lets only a scope's owner fork). A server's group, and a client's session's.
 *   <li>{@link NestedGroup} ({@link #startIn}): no owner and no scope of its own; its tasks are forked in its host's
 *       scope by the host's owner, and counted. A server's session's, so that an idle session parks no thread to
 *       fork for it.
 * </ul>
 *
 * <p>Either way the joiner waits for all tasks and never cancels on a failure: a channel loop ending in error is an
 * event for the recovery process, not a failure of the scope, so channel A failing never cancels channel B.
 * {@link #cancel()} is the one way to interrupt everything, used only when an orderly shutdown overruns its bound.
 */
abstract sealed class TaskGroup permits OwnedGroup, NestedGroup {
    final String name;
    /** The clock a ticker's rounds are planned on. */
    final Clock clock;
    final AtomicBoolean open = new AtomicBoolean(true);
    final CountDownLatch terminated = new CountDownLatch(1);
    volatile boolean cancelRequested;
    /** The group's tasks running now, interrupted by {@link #cancel()}. */
    final Set<Thread> running = ConcurrentHashMap.newKeySet();

    /**
     * Periodic work run by the owner thread between forks (by a short task of a nested group, only when woken), so
     * that periodic work costs no thread of its own.
     */
    interface Ticker {
        /**
         * Runs one round.
         *
         * @param lateNanos how much later than planned this round started, or -1 when it was woken early
         * @return nanoseconds until the next round, {@link #UNTIL_WOKEN} for none until {@link #wakeTicker}, or a
         *     negative number to stop ticking
         */
        long tick(long lateNanos);
    }

    /** A ticker's delay that plans no round: the next runs when {@link #wakeTicker} is called, and costs no timer. */
    static final long UNTIL_WOKEN = Long.MAX_VALUE;

    record StartTicker(Ticker ticker, long firstDelayNanos, Runnable abandoned) {
    }

    TaskGroup(String name, Clock clock) {
        this.name = name;
        this.clock = clock;
    }

    /** Starts a top-level group, whose owner is a new virtual thread, planning its ticker on {@code clock}. */
    static TaskGroup start(String name, Clock clock) {
        return OwnedGroup.start(name, clock);
    }

    /**
     * Starts a group nested in {@code host}, a group with an owner: its tasks run in the host's scope, forked by the
     * host's owner, and it has no thread of its own. If the host has ended or takes no more tasks, the nested group
     * has ended before it began: every task and ticker given to it is told at once that it will not run, so a
     * session made on a closing server ends at once. When the host ends, so does the nested group, telling its
     * ticker. The group uses the host's clock.
     */
    static TaskGroup startIn(TaskGroup host, String name) {
        if (!(host instanceof OwnedGroup owned)) {
            throw new IllegalArgumentException("a nested group cannot host another: " + host.name);
        }
        return NestedGroup.start(owned, name);
    }

    /**
     * Runs {@code body} on a new virtual thread named {@code threadName}, inside this group's scope.
     *
     * @return {@code false} if the group is shutting down and the task was not started
     */
    final boolean spawn(String threadName, Runnable body) {
        return spawn(threadName, body, null);
    }

    /**
     * As {@link #spawn(String, Runnable)}; whenever {@code body} will not run, {@code rejected} runs instead:
     * whoever waits for the task's work must hear of it. On the calling thread if the group takes no more tasks
     * (and this returns {@code false}); otherwise where the group finds that it will not start it (see each kind).
     */
    abstract boolean spawn(String threadName, Runnable body, Runnable rejected);

    /**
     * Runs {@code ticker} after {@code firstDelayNanos}, then whenever it asks to be run again, until it returns a
     * negative delay or the group ends.
     *
     * @param abandoned run if the group ends while the ticker still runs: the ticker's work (deadlines, heartbeats)
     *     stops then, and whoever relies on it must be told; at once if the group has ended already
     */
    abstract void startTicker(Ticker ticker, long firstDelayNanos, Runnable abandoned);

    /** Runs the ticker's next round now instead of when it planned (something became due earlier). */
    abstract void wakeTicker();

    /** Stops taking tasks; the group ends once every running task has returned. Idempotent. */
    abstract void shutdown();

    /**
     * Interrupts every task of the group. Only for a shutdown that overran. A task accepted and not yet started
     * runs its {@code rejected} instead.
     */
    abstract void cancel();

    /**
     * Waits until the group has ended: every task has returned (and an owned group's scope is closed).
     *
     * @return whether that happened within {@code timeout}
     */
    boolean awaitTermination(Duration timeout) throws InterruptedException {
        return terminated.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Waits, without a bound, until the group has ended. */
    void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    boolean isTerminated() {
        return terminated.getCount() == 0;
    }

    /**
     * Shuts down and waits up to {@code timeout}; if tasks are still running then, cancels them and waits as long
     * again.
     *
     * @return whether the group ended
     */
    boolean shutdownAndAwait(Duration timeout) {
        shutdown();
        try {
            if (awaitTermination(timeout)) {
                return true;
            }
            Logger.warn("[{}] tasks still running {} after shutdown; interrupting them", name, timeout);
            cancel();
            return awaitTermination(timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cancel();
            return false;
        }
    }

    /**
     * Forks children of a nested scope; only the thread that opened the scope may use it (JDK 25's rule). Children
     * share the scope's name (a request's handler is one of many short threads: naming each would cost a string
     * per request) and are interrupted by the scope's close, not tracked one by one.
     */
    interface Children {
        /**
         * Forks a child; returns {@code false} if the group is being cancelled, having run {@code rejected}.
         *
         * @param threadName a name of its own (already built: naming costs no string per thread), or null for the
         *     scope's name
         * @param rejected run instead of {@code body} if the group is being cancelled, now or before the child runs
         *     (not when the scope was cancelled already and drops the fork unstarted: the group is ending then); may
         *     be null
         */
        boolean spawn(String threadName, Runnable body, Runnable rejected);
    }

    /** A body that forks children and may fail with an I/O error. */
    interface ParentBody {
        void run(Children children);
    }

    /**
     * Runs {@code body} on the calling thread, itself a task of this group, inside a nested scope whose children it
     * forks directly, without the hop through the owner: a channel's reader starts one handler per request this way.
     * Returns when {@code body} and every child have ended; a failing child cancels nothing.
     */
    void withChildren(String scopeName, ParentBody body) {
        if (CURRENT.isBound() && CURRENT.get() == this) {
            openChildren(scopeName, body);
        } else { // a nested group's task: its children inherit the group from the scope's binding
            ScopedValue.where(CURRENT, this).run(() -> openChildren(scopeName, body));
        }
    }

    private void openChildren(String scopeName, ParentBody body) {
        var childThreads = Thread.ofVirtual().name(scopeName).factory();
        try (var scope = StructuredTaskScope.open(new KeepGoing(),
                cf -> cf.withName(scopeName).withThreadFactory(childThreads))) {
            try {
                body.run((threadName, task, rejected) -> {
                    if (cancelRequested) {
                        runRejected(rejected);
                        return false;
                    }
                    scope.fork(() -> {
                        if (threadName != null) {
                            Thread.currentThread().setName(threadName);
                        }
                        if (cancelRequested) {
                            runRejected(rejected);
                        } else {
                            runChild(task);
                        }
                    });
                    return true;
                });
            } finally {
                try {
                    scope.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt(); // cancelled: close() below interrupts the children
                }
            }
        }
    }

    private void runChild(Runnable task) {
        try {
            task.run();
        } catch (Throwable t) {
            Logger.error(t, "[{}] child task ended with an uncaught exception", name);
        }
    }

    /**
     * The group whose scope the current thread runs in. Bound by each owner around its scope, so every task and
     * nested child inherits it with no cost per fork (a structured scope's children share its bindings). A nested
     * group's tasks run in its host's scope and inherit the host; the nested group binds itself around the
     * children's scopes its tasks open and the callbacks its end sets off, not around the tasks themselves, whose
     * parked stacks would each keep the binding's frames.
     */
    static final ScopedValue<TaskGroup> CURRENT = ScopedValue.newInstance();

    /**
     * Whether the calling thread is one of this group's: its owner, one of its tasks or a child of one of them, or a
     * callback a nested group's end sets off. An owned group's scope hosts its nested groups' tasks too, so they are
     * inside it as well.
     */
    boolean isCallerInside() {
        return CURRENT.isBound() && CURRENT.get() == this || running.contains(Thread.currentThread());
    }

    final void runRejected(Runnable rejected) {
        if (rejected != null) {
            try {
                rejected.run();
            } catch (RuntimeException e) {
                Logger.error(e, "[{}] handling a task that was not started failed", name);
            }
        }
    }

    final long runTicker(Ticker ticker, long lateNanos) {
        try {
            return ticker.tick(lateNanos);
        } catch (RuntimeException | Error e) {
            // A bug in the round; the next one may still catch what it missed.
            Logger.error(e, "[{}] ticker round failed", name);
            return TimeUnit.MILLISECONDS.toNanos(100);
        }
    }

    /**
     * Waits for all subtasks and never cancels on a task's failure (a task that throws is logged as a bug).
     * Cancels only once {@link #cancel()} was asked for.
     */
    final class KeepGoing implements StructuredTaskScope.Joiner<Object, Void> {
        @Override
        public boolean onComplete(StructuredTaskScope.Subtask<?> subtask) {
            return cancelRequested;
        }

        @Override
        public Void result() {
            return null;
        }
    }
}
