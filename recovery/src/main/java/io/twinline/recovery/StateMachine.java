package io.twinline.recovery;

import io.twinline.api.SessionState;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The session state of the patent's Fig. 4, with the lifecycle states around it. Thread-safe; any thread may
 * move it.
 *
 * <ul>
 *   <li>{@code CONNECTING}: from creation until both channels are attached the first time (the handshake's own
 *       deadline governs it); then {@code NORMAL}.
 *   <li>{@code NORMAL} (480): left for {@code RECOVERING} when a process starts, or {@code CLOSED} on GOODBYE.
 *   <li>{@code RECOVERING} (485): one recovery process owns the session; governed by the client's recovery time
 *       limit or the server's re-attach window. Left for {@code NORMAL} or {@code DISCONNECTED}.
 *   <li>{@code DISCONNECTED} (490) and {@code CLOSED}: terminal; never left.
 * </ul>
 * Listeners are told after the change, outside the lock, of one change at a time and in the order the changes
 * happened: by the thread that made the change, or, when another thread is telling them of an earlier change at
 * that moment (or the change was made by a listener), by that thread right after. So no listener ever sees a
 * session end before it started recovering, whatever threads race.
 */
public final class StateMachine {

    /** Told of each change. */
    @FunctionalInterface
    public interface TransitionListener {
        void onTransition(SessionState from, SessionState to, Throwable cause);
    }

    /** The outcome of {@link #tryBeginRecovery}. */
    public enum Begin {
        /** The state went NORMAL → RECOVERING; the caller owns the recovery. */
        STARTED,
        /** Another process is recovering (Fig. 6 block 615, Fig. 8 block 815). */
        BUSY,
        /** The session is not NORMAL and not RECOVERING (still connecting, or ended): nothing to recover. */
        NOT_APPLICABLE
    }

    private static final long WAIT_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private final Clock clock;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final List<TransitionListener> listeners = new CopyOnWriteArrayList<>();
    /** Changes made and not yet told to the listeners, oldest first; guarded by {@code lock}. */
    private final java.util.ArrayDeque<Change> untold = new java.util.ArrayDeque<>();
    /** Held by the one thread telling listeners of changes. */
    private final ReentrantLock telling = new ReentrantLock();
    private volatile SessionState state = SessionState.CONNECTING;
    private volatile Throwable terminalCause;
    /** When the process that owns the recovery expects to be done (clock nanos); guarded by {@code lock}. */
    private long recoveryDeadlineNanos = Long.MAX_VALUE;

    public StateMachine(Clock clock) {
        this.clock = clock;
    }

    public void addListener(TransitionListener listener) {
        listeners.add(listener);
    }

    public SessionState state() {
        return state;
    }

    /** Returns the cause recorded when the session became terminal, or {@code null}. */
    public Throwable terminalCause() {
        return terminalCause;
    }

    /**
     * Moves to {@code to} unless the session already ended (terminal states are never left) or is already there.
     *
     * @return whether the state changed
     */
    public boolean transition(SessionState to, Throwable cause) {
        return transitionFrom(null, to, cause);
    }

    /**
     * Moves from {@code from} to {@code to}, only if the session is in {@code from} now: for a decision taken on a
     * state read earlier, which must not apply once another thread has moved the session on.
     *
     * @return whether the state changed
     */
    public boolean transition(SessionState from, SessionState to, Throwable cause) {
        return transitionFrom(java.util.Objects.requireNonNull(from, "from"), to, cause);
    }

    /** Moves to {@code to} from {@code expected}, or from any state if {@code expected} is null. */
    private boolean transitionFrom(SessionState expected, SessionState to, Throwable cause) {
        SessionState from;
        lock.lock();
        try {
            from = state;
            if (from.isTerminal() || from == to || (expected != null && from != expected)) {
                return false;
            }
            state = to;
            if (to.isTerminal()) {
                terminalCause = cause;
            }
            untold.addLast(new Change(from, to, cause));
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        tellListeners();
        return true;
    }

    /** As {@link #tryBeginRecovery(Throwable, long)} for an owner that names no deadline. */
    public Begin tryBeginRecovery(Throwable cause) {
        return tryBeginRecovery(cause, Long.MAX_VALUE);
    }

    /**
     * Atomically NORMAL → RECOVERING (Fig. 5 block 515, Fig. 6 block 625, Fig. 7 block 715, Fig. 8 block 825).
     *
     * @param deadlineNanos when the caller, if it becomes the owner, expects to be done: a process waiting for it
     *     (Fig. 6 block 620, Fig. 8 block 820) declares it overdue only after this ({@link #recoveryDeadlineNanos})
     */
    public Begin tryBeginRecovery(Throwable cause, long deadlineNanos) {
        lock.lock();
        try {
            if (state == SessionState.RECOVERING) {
                return Begin.BUSY;
            }
            if (state != SessionState.NORMAL) {
                return Begin.NOT_APPLICABLE;
            }
            recoveryDeadlineNanos = deadlineNanos;
            state = SessionState.RECOVERING;
            untold.addLast(new Change(SessionState.NORMAL, SessionState.RECOVERING, cause));
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        tellListeners();
        return Begin.STARTED;
    }

    /**
     * Moves the running recovery's deadline to {@code deadlineNanos}: its owner, having learnt how long its next step
     * may take (a reconnect, a wait for a re-attach), says so here. No effect unless the session is recovering.
     */
    public void extendRecoveryDeadline(long deadlineNanos) {
        lock.lock();
        try {
            if (state == SessionState.RECOVERING) {
                recoveryDeadlineNanos = deadlineNanos;
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** When the owner of the running recovery expects to be done, or {@link Long#MAX_VALUE} if it named no time. */
    public long recoveryDeadlineNanos() {
        lock.lock();
        try {
            return recoveryDeadlineNanos;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits while the session is {@code RECOVERING}, at most until {@code deadlineNanos} on the clock.
     *
     * @return whether the session left {@code RECOVERING} in time
     */
    public boolean awaitNotRecovering(long deadlineNanos) throws InterruptedException {
        return awaitChange(deadlineNanos, () -> state != SessionState.RECOVERING);
    }

    /**
     * Waits until the session is terminal, at most until {@code deadlineNanos}.
     *
     * @return whether it ended in time
     */
    public boolean awaitTerminal(long deadlineNanos) throws InterruptedException {
        return awaitChange(deadlineNanos, () -> state.isTerminal());
    }

    /**
     * Waits until {@code condition} holds; the condition is re-checked on every state change, on
     * {@link #poke()}, and at least every 20 ms (so a fake clock advanced by another thread is noticed).
     */
    public boolean awaitUntil(long deadlineNanos, java.util.function.BooleanSupplier condition)
            throws InterruptedException {
        lock.lock();
        try {
            while (!condition.getAsBoolean()) {
                long remaining = deadlineNanos - clock.nanoTime();
                if (remaining <= 0) {
                    return false;
                }
                changed.awaitNanos(Math.min(remaining, WAIT_SLICE_NANOS));
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until {@code condition} holds, for a condition that changes only with a transition, a move of the
     * recovery deadline or a {@link #poke()}: re-checked then, and otherwise only as often as the clock asks
     * ({@link Clock#waitSliceNanos()}: on the real clock, not before the deadline). So a session waiting out a long
     * window costs nothing while it waits, however many sessions wait.
     *
     * @return whether it held in time
     */
    public boolean awaitChange(long deadlineNanos, java.util.function.BooleanSupplier condition)
            throws InterruptedException {
        long slice = clock.waitSliceNanos();
        lock.lock();
        try {
            while (!condition.getAsBoolean()) {
                long remaining = deadlineNanos - clock.nanoTime();
                if (remaining <= 0) {
                    return false;
                }
                changed.awaitNanos(Math.min(remaining, slice));
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Wakes every waiter of {@link #awaitUntil} and {@link #awaitChange} to re-check its condition (for example: a
     * channel was attached).
     */
    public void poke() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private record Change(SessionState from, SessionState to, Throwable cause) {
    }

    /**
     * Tells the listeners of every change not yet told, oldest first, unless another thread is doing so (it tells
     * this thread's change too) or this thread is inside a listener (it tells the change when that one returns).
     */
    private void tellListeners() {
        if (telling.isHeldByCurrentThread()) {
            return;
        }
        while (telling.tryLock()) {
            try {
                Change next;
                while ((next = nextUntold()) != null) {
                    notifyListeners(next);
                }
            } finally {
                telling.unlock();
            }
            // A change added after the last look, by a thread that found this one telling, is told here.
            if (!hasUntold()) {
                return;
            }
        }
    }

    private Change nextUntold() {
        lock.lock();
        try {
            return untold.pollFirst();
        } finally {
            lock.unlock();
        }
    }

    private boolean hasUntold() {
        lock.lock();
        try {
            return !untold.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    private void notifyListeners(Change change) {
        SessionState from = change.from();
        SessionState to = change.to();
        Throwable cause = change.cause();
        for (TransitionListener listener : listeners) {
            try {
                listener.onTransition(from, to, cause);
            } catch (RuntimeException e) {
                // A listener's bug must not stop the session's own bookkeeping; report it where it can be seen.
                Thread t = Thread.currentThread();
                t.getUncaughtExceptionHandler().uncaughtException(t, e);
            }
        }
    }
}
