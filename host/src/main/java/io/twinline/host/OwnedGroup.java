package io.twinline.host;

import io.twinline.recovery.Clock;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A task group with a long-lived {@link StructuredTaskScope} and the owner virtual thread that opened it: the owner
 * reads a queue and forks what other threads hand it ({@link #spawn}), runs the ticker's rounds between forks, and
 * on shutdown joins every task. The group of a server, whose scope also hosts its sessions' {@link NestedGroup}s,
 * and of a client's session.
 */
final class OwnedGroup extends TaskGroup {
    private static final Object SHUTDOWN = new Object();
    private static final Object WAKE = new Object();

    /** What the owner reads: tasks, tickers, wakes and SHUTDOWN. */
    private final LinkedTransferQueue<Object> queue = new LinkedTransferQueue<>();
    /** The nested groups this group's scope hosts, told when it ends. */
    private final Set<NestedGroup> nested = ConcurrentHashMap.newKeySet();

    /**
     * A task handed to the owner, and what its thread runs. {@code rejected} (may be null) runs instead of
     * {@code body} if the task is never started; whoever claims the task first (its thread, or the owner finding its
     * fork dropped) decides which. Forked as itself, so a parked task's stack holds no frame of a wrapper.
     */
    private final class Task implements Runnable {
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

        @Override
        public void run() {
            if (!claim()) {
                return; // the owner found its fork dropped by a cancelled scope, and told its owner already
            }
            Thread me = Thread.currentThread();
            me.setName(threadName);
            running.add(me);
            try {
                if (cancelRequested) {
                    runRejected(rejected);
                    return;
                }
                body.run();
            } catch (Throwable t) {
                // Tasks handle their own failures; one that escapes is a bug in twinline.
                Logger.error(t, "[{}] task {} ended with an uncaught exception", name, threadName);
            } finally {
                running.remove(me);
            }
        }
    }

    private OwnedGroup(String name, Clock clock) {
        super(name, clock);
    }

    static OwnedGroup start(String name, Clock clock) {
        OwnedGroup group = new OwnedGroup(name, clock);
        Thread.ofVirtual().name(name + "/owner").start(group::runOwner);
        return group;
    }

    /**
     * Records a nested group, which the owner tells when it ends; returns {@code false} if this group takes no more
     * tasks (the nested group has then ended before it began).
     */
    boolean host(NestedGroup group) {
        nested.add(group);
        return open.get(); // after the add: a group that stops from now on finds it in the set
    }

    void unhost(NestedGroup group) {
        nested.remove(group);
    }

    /**
     * On the calling thread if the group takes no more tasks; on the owner thread if the task was accepted but
     * never started (the group shut down before the owner forked it, the fork failed, or the group was cancelled).
     */
    @Override
    boolean spawn(String threadName, Runnable body, Runnable rejected) {
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

    /** The owner runs the rounds; {@code abandoned} runs if it ends (shut down, interrupted, failed) meanwhile. */
    @Override
    void startTicker(Ticker ticker, long firstDelayNanos, Runnable abandoned) {
        queue.offer(new StartTicker(ticker, firstDelayNanos, abandoned));
        if (isTerminated()) {
            drainUnstarted();
        }
    }

    @Override
    void wakeTicker() {
        queue.offer(WAKE);
    }

    @Override
    void shutdown() {
        if (open.compareAndSet(true, false)) {
            queue.offer(SHUTDOWN);
        }
    }

    /**
     * Also cancels the scope and the nested groups it hosts. The owner may already be in {@code join()}, where no
     * further fork can reach the joiner, so running tasks are interrupted directly as well.
     */
    @Override
    void cancel() {
        cancelRequested = true;
        open.set(false);
        queue.offer(SHUTDOWN);
        for (NestedGroup g : nested) {
            g.cancel();
        }
        for (Thread t : running) {
            t.interrupt();
        }
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
        for (NestedGroup g : nested) {
            g.shutdown(); // its tasks have all returned or been told: it ends now
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
            scope.fork(task);
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
}
