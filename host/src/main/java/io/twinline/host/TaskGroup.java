package io.twinline.host;

import io.twinline.recovery.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The one place twinline uses {@link StructuredTaskScope} (a preview API in JDK 25, coded to JDK 25's javadoc):
 * a long-lived scope that owns every thread of a server or of a client's session, so that none outlives it and
 * closing it joins everything it started.
 *
 * <p>JDK 25 lets only a scope's owner thread fork, so each group has an owner virtual thread that opens the
 * scope and forks what other threads hand it through {@link #spawn}. The joiner waits for all subtasks and never
 * cancels on a failure: a channel loop ending in error is an event for the recovery process, not a failure of the
 * scope, so channel A failing never cancels channel B. {@link #cancel()} is the one way to interrupt everything,
 * used only when an orderly shutdown overruns its bound.
 *
 * <p>A <em>nested</em> group ({@link #startIn}) has no owner or scope of its own: its tasks are forked in its
 * host's scope, by the host's owner, so a server's sessions cost no parked thread each. It keeps what a group
 * promises: it counts its tasks, ends when it is shut down and the last has returned, interrupts its own on
 * {@link #cancel()}, and ends with its host. An idle session's parked threads are most of its memory.
 */
final class TaskGroup {
    private static final Object SHUTDOWN = new Object();
    private static final Object WAKE = new Object();

    private final String name;
    /** The clock the ticker's rounds are planned on. */
    private final Clock clock;
    private final AtomicBoolean open = new AtomicBoolean(true);
    private final CountDownLatch terminated = new CountDownLatch(1);
    private volatile boolean cancelRequested;
    private final Set<Thread> running = ConcurrentHashMap.newKeySet();
    /** What the owner reads (tasks, tickers, wakes, SHUTDOWN); null in a nested group, which has no owner. */
    private final LinkedTransferQueue<Object> queue;
    /** The nested groups this group's scope hosts, told when it ends; null in a nested group. */
    private final Set<TaskGroup> nested;
    /** The group whose scope runs this one's tasks; null for a group with its own owner. */
    private final TaskGroup host;
    /** A nested group's tasks accepted and not yet returned, plus one until it is shut down; ends it at zero. */
    private final AtomicInteger held;
    /** A nested group's ticker, until it stops itself or is abandoned. */
    private final AtomicReference<StartTicker> nestedTicker;
    /** Whether a nested group's woken round is queued and has not begun yet: wakes meanwhile add no round. */
    private final AtomicBoolean roundQueued;

    /**
     * A task handed to the owner. {@code rejected} (may be null) runs instead of {@code body} if the task is never
     * started; whoever claims the task first (its thread, or the owner finding its fork dropped) decides which.
     */
    private static final class Task {
        final String threadName;
        final Runnable body;
        final Runnable rejected;
        private final AtomicBoolean claimed = new AtomicBoolean();

        Task(String threadName, Runnable body, Runnable rejected) {
            this.threadName = threadName;
            this.body = body;
            this.rejected = rejected;
        }

        boolean claim() {
            return claimed.compareAndSet(false, true);
        }
    }

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

    private record StartTicker(Ticker ticker, long firstDelayNanos, Runnable abandoned) {
    }

    private TaskGroup(String name, Clock clock, TaskGroup host) {
        this.name = name;
        this.clock = clock;
        this.host = host;
        if (host == null) {
            queue = new LinkedTransferQueue<>();
            nested = ConcurrentHashMap.newKeySet();
            held = null;
            nestedTicker = null;
            roundQueued = null;
        } else {
            queue = null;
            nested = null;
            held = new AtomicInteger(1);
            nestedTicker = new AtomicReference<>();
            roundQueued = new AtomicBoolean();
        }
    }

    /** Starts a top-level group, whose owner is a new virtual thread, planning its ticker on {@code clock}. */
    static TaskGroup start(String name, Clock clock) {
        TaskGroup group = new TaskGroup(name, clock, null);
        Thread.ofVirtual().name(name + "/owner").start(group::runOwner);
        return group;
    }

    /**
     * Starts a group nested in {@code host}, a group with an owner: its tasks run in the host's scope, forked by the
     * host's owner, and it has no thread of its own. If the host has ended or takes no more tasks, the nested group
     * has ended before it began: every task and ticker given to it is told at once that it will not run, so a
     * session made on a closing server ends at once. When the host ends, so does the nested group, telling its
     * ticker. The group uses the host's clock.
     */
    static TaskGroup startIn(TaskGroup host, String name) {
        if (host.host != null) {
            throw new IllegalArgumentException("a nested group cannot host another: " + host.name);
        }
        TaskGroup group = new TaskGroup(name, host.clock, host);
        host.nested.add(group);
        if (!host.open.get()) { // after the add: a host that ends from now on finds the group in its set
            group.hostEnded();
        }
        return group;
    }

    /**
     * The owner has ended and its scope is closed: nothing reads the queue any more. Ends the group, tells whoever
     * queued a task or a ticker, then or later ({@link #spawn}, {@link #startTicker}), that it will not run, and ends
     * the nested groups it hosted.
     */
    private void ownerGone() {
        open.set(false);
        drainUnstarted(); // before the end is seen: whoever awaits termination finds everything queued told
        terminated.countDown();
        drainUnstarted(); // what was queued in between, unless its own offerer saw the end first
        // The scope is closed and the queue drained: every nested task has returned or been told. After the end is
        // seen, so that a listener told of a session's end may wait for the server's.
        for (TaskGroup g : nested) {
            g.hostEnded();
        }
    }

    /** Runs the {@code rejected} or {@code abandoned} of everything queued; only once the owner is gone. */
    private void drainUnstarted() {
        Object item;
        while ((item = queue.poll()) != null) {
            if (item instanceof Task task) {
                runRejected(task.rejected);
            } else if (item instanceof StartTicker start) {
                runRejected(start.abandoned());
            }
        }
    }

    /**
     * Runs {@code body} on a new virtual thread named {@code threadName}, inside this group's scope.
     *
     * @return {@code false} if the group is shutting down and the task was not started
     */
    boolean spawn(String threadName, Runnable body) {
        return spawn(threadName, body, null);
    }

    /**
     * As {@link #spawn(String, Runnable)}; whenever {@code body} will not run, {@code rejected} runs instead:
     * whoever waits for the task's work must hear of it. On the calling thread if the group takes no more tasks
     * (and this returns {@code false}); on the owner thread if the task was accepted but never started (the group
     * shut down before the owner forked it, the fork failed, or the group was cancelled). A nested group's task is
     * the host's: it is refused once the host is shutting down, and its {@code rejected} runs where the host's would,
     * with the nested group as the caller's group.
     */
    boolean spawn(String threadName, Runnable body, Runnable rejected) {
        if (host != null) {
            return spawnInHost(threadName, body, rejected);
        }
        if (!open.get()) {
            runRejected(rejected);
            return false;
        }
        queue.offer(new Task(threadName, body, rejected));
        if (isTerminated()) {
            drainUnstarted(); // the owner went after the check above: no one else will
        }
        return true;
    }

    /**
     * Has the owner thread run {@code ticker} after {@code firstDelayNanos}, then whenever it asks to be run again,
     * until it returns a negative delay or the group shuts down.
     *
     * <p>A nested group's ticker runs on a task of the group, only when woken: {@code firstDelayNanos} must be
     * {@link #UNTIL_WOKEN}, and a round's non-negative delay means "until woken" (see {@link #startNestedTicker}).
     *
     * @param abandoned run by the owner if it ends (shut down, interrupted, failed) while the ticker still runs, or
     *     by a nested group when it ends: the ticker's work (deadlines, heartbeats) stops then, and whoever relies on
     *     it must be told
     */
    void startTicker(Ticker ticker, long firstDelayNanos, Runnable abandoned) {
        if (host != null) {
            startNestedTicker(new StartTicker(ticker, firstDelayNanos, abandoned));
            return;
        }
        queue.offer(new StartTicker(ticker, firstDelayNanos, abandoned));
        if (isTerminated()) {
            drainUnstarted();
        }
    }

    /** Runs the ticker's next round now instead of when it planned (something became due earlier). */
    void wakeTicker() {
        if (host != null) {
            wakeNestedTicker();
            return;
        }
        queue.offer(WAKE);
    }

    /** Stops taking tasks; the group ends once every running task has returned. Idempotent. */
    void shutdown() {
        if (open.compareAndSet(true, false)) {
            if (host != null) {
                release(); // the one the open group held
            } else {
                queue.offer(SHUTDOWN);
            }
        }
    }

    /**
     * Interrupts every task of the group and cancels the scope, and cancels the nested groups it hosts. Only for a
     * shutdown that overran. The owner may already be in {@code join()}, where no further fork can reach the joiner,
     * so running tasks are interrupted directly as well. A nested group interrupts its own tasks and ends once they
     * have returned.
     */
    void cancel() {
        cancelRequested = true;
        boolean wasOpen = open.getAndSet(false);
        if (host == null) {
            queue.offer(SHUTDOWN);
            for (TaskGroup g : nested) {
                g.cancel();
            }
        } else if (wasOpen) {
            release();
        }
        for (Thread t : running) {
            t.interrupt();
        }
    }

    /** A nested group's task: counted from now, forked by the host's owner, told if it never runs. */
    private boolean spawnInHost(String threadName, Runnable body, Runnable rejected) {
        if (!open.get() || !hold()) {
            runRejected(rejected);
            return false;
        }
        if (!open.get()) { // shut down meanwhile: refused, as the owner refuses what it finds queued behind SHUTDOWN
            rejectCounted(rejected);
            return false;
        }
        // Refused by the host (it is ending), or never started by it: the host runs the second callback.
        return host.spawn(threadName, () -> runNested(body, rejected), () -> rejectCounted(rejected));
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

    /** On the host's subtask: runs a nested group's task, and whatever its end sets off, as this group's. */
    private void runNested(Runnable body, Runnable rejected) {
        ScopedValue.where(CURRENT, this).run(() -> {
            Thread me = Thread.currentThread();
            running.add(me);
            try {
                if (cancelRequested) {
                    runRejected(rejected);
                } else {
                    body.run();
                }
            } finally {
                running.remove(me);
                release();
            }
        });
    }

    /**
     * Runs {@code action} with this group bound as the caller's: what a nested group's end sets off (a ticker's
     * {@code abandoned}, whose listeners may close the session) must see the session's own thread, wherever it
     * runs. Nothing is forked inside, so binding it on the host's owner thread breaks no scope's structure.
     */
    private void asThisGroup(Runnable action) {
        if (isCallerInside()) {
            action.run();
        } else {
            ScopedValue.where(CURRENT, this).run(action);
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
            nestedEnded();
        }
    }

    /**
     * The host has ended, or (from {@link #startIn}) takes no more tasks: a nested group that is still open ends
     * once its counted tasks have.
     */
    private void hostEnded() {
        if (open.compareAndSet(true, false)) {
            release();
        }
    }

    /** Runs once, when the count of a nested group reaches zero: tells its ticker, then ends the group. */
    private void nestedEnded() {
        try {
            StartTicker ticking = nestedTicker.getAndSet(null);
            if (ticking != null) {
                asThisGroup(() -> runRejected(ticking.abandoned()));
            }
        } finally {
            terminated.countDown();
            host.nested.remove(this);
        }
        StartTicker late = nestedTicker.getAndSet(null); // started while this ended: no round will run it
        if (late != null) {
            asThisGroup(() -> runRejected(late.abandoned()));
        }
    }

    /**
     * A nested group has no thread to plan rounds on: its ticker runs only when woken ({@link #UNTIL_WOKEN} is the
     * one first delay it takes), and a round's delay other than a negative one (stop) means "until woken" too.
     */
    private void startNestedTicker(StartTicker start) {
        if (start.firstDelayNanos() != UNTIL_WOKEN) {
            throw new IllegalArgumentException("a nested group's ticker runs only when woken: "
                    + start.firstDelayNanos());
        }
        nestedTicker.set(start);
        if (isTerminated() && nestedTicker.compareAndSet(start, null)) {
            runRejected(start.abandoned()); // ended before: nobody else will tell it
        }
    }

    /** Queues one round on a task of the group, unless one is queued and has not begun. */
    private void wakeNestedTicker() {
        if (nestedTicker.get() != null && roundQueued.compareAndSet(false, true)) {
            spawnInHost(name + "/round", this::runNestedRound, () -> roundQueued.set(false));
        }
    }

    private void runNestedRound() {
        roundQueued.set(false); // a wake from now on runs another round after this one
        synchronized (nestedTicker) { // one round at a time
            StartTicker ticking = nestedTicker.get();
            if (ticking != null && runTicker(ticking.ticker(), -1) < 0) {
                nestedTicker.compareAndSet(ticking, null);
            }
        }
    }

    /**
     * Waits until every task has ended and the scope is closed (a nested group: until it has ended).
     *
     * @return whether that happened within {@code timeout}
     */
    boolean awaitTermination(Duration timeout) throws InterruptedException {
        return terminated.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Waits, without a bound, until every task has ended and the scope is closed. */
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

    private void runTask(Task task) {
        if (!task.claim()) {
            return; // the owner found its fork dropped by a cancelled scope, and told its owner already
        }
        Thread.currentThread().setName(task.threadName);
        running.add(Thread.currentThread());
        try {
            if (cancelRequested) {
                runRejected(task.rejected);
                return;
            }
            task.body.run();
        } catch (Throwable t) {
            // Tasks handle their own failures; one that escapes is a bug in twinline.
            Logger.error(t, "[{}] task {} ended with an uncaught exception", name, task.threadName);
        } finally {
            running.remove(Thread.currentThread());
        }
    }

    /**
     * The group whose scope the current thread runs in. Bound by each owner around its scope, so every task and
     * nested child inherits it with no cost per fork (a structured scope's children share its bindings); a nested
     * group binds it around each of its tasks and the callbacks its end sets off.
     */
    private static final ScopedValue<TaskGroup> CURRENT = ScopedValue.newInstance();

    /**
     * Whether the calling thread is this group's owner or one of its tasks, or a child of one of them, or runs a
     * callback a nested group's end sets off.
     */
    boolean isCallerInside() {
        return CURRENT.isBound() && CURRENT.get() == this;
    }

    private void runOwner() {
        ScopedValue.where(CURRENT, this).run(this::runOwnerBound);
    }

    private void runOwnerBound() {
        Thread.currentThread().setName(name + "/owner");
        StartTicker ticking = null;
        try (var scope = StructuredTaskScope.open(new KeepGoing(), cf -> cf.withName(name))) {
            Ticker ticker = null;
            long due = 0;
            while (true) {
                Object item;
                if (ticker == null || due == UNTIL_WOKEN) {
                    item = queue.take();
                } else {
                    long wait = due - clock.nanoTime();
                    // A round that is due runs before any queued task, so a stream of spawns cannot starve it.
                    item = wait > 0 ? queue.poll(wait, TimeUnit.NANOSECONDS) : null;
                }
                if (item == SHUTDOWN) {
                    rejectQueued();
                    break;
                } else if (item instanceof Task task) {
                    fork(scope, task);
                } else if (item instanceof StartTicker start) {
                    ticking = start;
                    ticker = start.ticker();
                    due = plan(start.firstDelayNanos());
                } else if (ticker != null && (item == null || item == WAKE)) {
                    long now = clock.nanoTime();
                    long next = runTicker(ticker, due != UNTIL_WOKEN && now - due >= 0 ? now - due : -1);
                    if (next < 0) {
                        ticker = null;
                        ticking = null;
                    } else {
                        due = plan(next);
                    }
                }
            }
            scope.join();
        } catch (InterruptedException e) {
            Logger.warn("[{}] owner interrupted; tasks cancelled", name);
        } catch (RuntimeException e) {
            Logger.error(e, "[{}] task group failed", name);
        } finally {
            open.set(false); // first: nothing the abandoned ticker's listeners spawn is taken
            if (ticking != null) {
                try {
                    ticking.abandoned().run();
                } catch (RuntimeException e) {
                    Logger.error(e, "[{}] telling that the ticker stopped failed", name);
                }
            }
            ownerGone(); // and whatever was queued after the loop ended is told it will not run
        }
    }

    /** When a round {@code delayNanos} from now is due on the clock, or {@link #UNTIL_WOKEN}. */
    private long plan(long delayNanos) {
        if (delayNanos == UNTIL_WOKEN) {
            return UNTIL_WOKEN;
        }
        long due = clock.nanoTime() + delayNanos;
        return due == UNTIL_WOKEN ? due - 1 : due;
    }

    /** Forks {@code task}; a failure to start a thread (out of memory) is logged and does not end the owner. */
    private void fork(StructuredTaskScope<Object, Void> scope, Task task) {
        if (cancelRequested) { // a cancelled scope drops a fork without a word: tell the task's owner here
            runRejected(task.rejected);
            return;
        }
        try {
            scope.fork(() -> runTask(task));
        } catch (RuntimeException | OutOfMemoryError e) {
            if (task.claim()) {
                Logger.error(e, "[{}] could not start {}", name, task.threadName);
                runRejected(task.rejected);
            }
            return;
        }
        if (scope.isCancelled() && task.claim()) { // cancelled meanwhile: the fork may have been dropped
            runRejected(task.rejected);
        }
    }

    /** Tasks queued behind SHUTDOWN (accepted just before the group closed) are never forked: tell their owners. */
    private void rejectQueued() {
        Object item;
        while ((item = queue.poll()) != null) {
            if (item instanceof Task task) {
                runRejected(task.rejected);
            }
        }
    }

    private void runRejected(Runnable rejected) {
        if (rejected != null) {
            try {
                rejected.run();
            } catch (RuntimeException e) {
                Logger.error(e, "[{}] handling a task that was not started failed", name);
            }
        }
    }

    private long runTicker(Ticker ticker, long lateNanos) {
        try {
            return ticker.tick(lateNanos);
        } catch (RuntimeException | Error e) {
            // A bug in the round; the next one may still catch what it missed.
            Logger.error(e, "[{}] ticker round failed", name);
            return TimeUnit.MILLISECONDS.toNanos(100);
        }
    }

    /**
     * Waits for all subtasks and never cancels on a task's failure ({@link #runTask} logs any that escapes).
     * Cancels only once {@link #cancel()} was asked for.
     */
    private final class KeepGoing implements StructuredTaskScope.Joiner<Object, Void> {
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
