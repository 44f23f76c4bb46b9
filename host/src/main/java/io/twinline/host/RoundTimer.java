package io.twinline.host;

import io.twinline.recovery.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One thread per clock that runs the periodic rounds of every session on that clock (heartbeats, silence, call
 * deadlines): a hashed timing wheel of {@link #TICK_NANOS} slots, so that an idle session costs no timer and no
 * wake-up of a thread of its own, and the rounds due together run together. The sessions of a process on the real
 * clock share one such thread, {@code twinline-rounds}; a clock a test moves gets a thread of its own.
 *
 * <p>The rules:
 * <ul>
 *   <li>A round asked for at {@code due} runs on the timer's thread at the first tick at or after {@code due}, never
 *       before; it returns when it wants to run next, and may be woken earlier from any thread ({@link Entry#wakeAt}).
 *       A wake-up asked for while the round runs is kept: the round then runs again at the earlier of the two.
 *   <li>A round never blocks: it queues frames, writes a PING only on a link whose send buffer it knows to be empty
 *       ({@link Liveness}), closes failed links and starts threads. A round that throws is logged and runs again
 *       {@link #RETRY_NANOS} later.
 *   <li>On the real clock, each tick first tells {@link LocalHealth} how late the thread woke, and lets it send its
 *       canary and move its score, before any round runs: a round that follows a stall of the process sees that
 *       stall in the health it consults.
 *   <li>The thread ends once it has had no round for {@link #IDLE_EXIT_NANOS}; the next round registered starts a
 *       new one.
 * </ul>
 */
final class RoundTimer {

    /** A session's periodic round. */
    interface Round {
        /**
         * Runs one round at {@code nowNanos}, on the timer's thread.
         *
         * @return when (clock nanos) to run next; {@link #STOP} to run no more
         */
        long run(long nowNanos);
    }

    /** A write a round makes. */
    interface Write {
        void run() throws java.io.IOException;
    }

    /** How long a round's write may take before its connection is closed. */
    static final long WRITE_LIMIT_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long WATCH_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /** A round's answer that ends it. */
    static final long STOP = Long.MIN_VALUE;
    /** The wheel's resolution: a round runs at most this long after it is due, on a timer that keeps up. */
    static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** Slots of the wheel: one turn is 10.24 s; a round planned further ahead waits in its slot for its turn. */
    private static final int SLOTS = 1024;
    static final long RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** How long a timer with no rounds waits before its thread ends (real time). */
    static final long IDLE_EXIT_NANOS = TimeUnit.SECONDS.toNanos(2);

    private static final Map<Clock, RoundTimer> TIMERS = new HashMap<>();

    private final Clock clock;
    private final boolean realTime;
    private final LocalHealth health;
    private final ReentrantLock lock = new ReentrantLock();
    /** Heads of each slot's doubly linked list of entries; guarded by lock. */
    private final Entry[] slots = new Entry[SLOTS];
    /** The last tick whose slot has been run; guarded by lock. */
    private long doneTick;
    /** Rounds registered and not stopped; guarded by TIMERS. */
    private int registered;
    /** Whether the thread has ended; set under TIMERS. */
    private volatile boolean stopped;
    private final Thread thread;
    /** The connection a round is writing on now, and how many writes were watched; see {@link Entry#writeWatched}. */
    private volatile io.twinline.transport.Connection watched;
    private volatile long watchedWrites;

    private RoundTimer(Clock clock, LocalHealth health, boolean startThread) {
        this.clock = clock;
        this.realTime = clock == Clock.system();
        this.health = health;
        this.doneTick = Math.floorDiv(clock.nanoTime(), TICK_NANOS);
        this.thread = startThread ? Thread.ofPlatform().daemon().name(realTime ? "twinline-rounds"
                : "twinline-rounds-" + Integer.toHexString(System.identityHashCode(clock))).unstarted(this::loop)
                : null;
    }

    /**
     * A timer whose rounds only run when a test calls {@link #runDue}, with {@code health} consulted by them; no
     * thread.
     */
    static RoundTimer manual(Clock clock, LocalHealth health) {
        return new RoundTimer(clock, health, false);
    }

    /**
     * Registers {@code round} to run first at {@code firstDueNanos} on the timer of {@code clock}, starting that
     * timer if it has no thread running.
     */
    static Entry register(Clock clock, Round round, long firstDueNanos) {
        RoundTimer timer;
        synchronized (TIMERS) {
            timer = TIMERS.get(clock);
            if (timer == null || timer.stopped) {
                timer = new RoundTimer(clock, clock == Clock.system() ? new LocalHealth() : LocalHealth.NONE, true);
                TIMERS.put(clock, timer);
                timer.thread.start();
                Thread.ofVirtual().name(timer.thread.getName() + "-watch").start(timer::watch);
            }
            timer.registered++;
        }
        return timer.add(round, firstDueNanos);
    }

    /** The health the rounds of {@code clock} consult: measured on the real clock, none on any other. */
    static LocalHealth healthOf(Clock clock) {
        synchronized (TIMERS) {
            RoundTimer timer = TIMERS.get(clock);
            if (timer != null && !timer.stopped) {
                return timer.health;
            }
        }
        return LocalHealth.NONE; // no timer runs, so nothing was measured
    }

    /** Adds a round to this timer (for {@link #manual} timers: no thread is involved). */
    Entry add(Round round, long firstDueNanos) {
        Entry e = new Entry(round);
        lock.lock();
        try {
            link(e, firstDueNanos);
        } finally {
            lock.unlock();
        }
        return e;
    }

    LocalHealth health() {
        return health;
    }

    /** One registered round, and its place in the wheel. */
    final class Entry {
        private final Round round;
        /** The tick whose slot holds this entry, or NONE; guarded by lock. */
        private long tick = NONE;
        private Entry prev;
        private Entry next;
        /** Whether the round is running now; guarded by lock. */
        private boolean running;
        /** The earliest wake-up asked for while it ran; guarded by lock. */
        private long wakeWhileRunning = Long.MAX_VALUE;
        private boolean cancelled;

        private Entry(Round round) {
            this.round = round;
        }

        /** The health this round's deadlines are stretched by: its timer's. */
        LocalHealth health() {
            return health;
        }

        /** When the round will next run, to a tick; {@link Long#MAX_VALUE} while it runs or if it will not. */
        long plannedNanos() {
            lock.lock();
            try {
                return tick == NONE || running || cancelled ? Long.MAX_VALUE : tick * TICK_NANOS;
            } finally {
                lock.unlock();
            }
        }

        /** Whether the calling thread is the timer's (a round runs on it). */
        boolean onTimerThread() {
            return Thread.currentThread() == thread;
        }

        /**
         * Writes on {@code connection} from a round, watched: a write still running {@link #WRITE_LIMIT_NANOS} later
         * has its connection closed (which ends the write with an error), so that no link can hold up every
         * session's rounds. Rounds write only what cannot block; this is the guarantee if that ever fails.
         */
        void writeWatched(io.twinline.transport.Connection connection, Write write) throws java.io.IOException {
            watchedWrites++;
            watched = connection;
            try {
                write.run();
            } finally {
                watched = null;
            }
        }

        /** Has the round run at {@code dueNanos} if that is earlier than it was going to. */
        void wakeAt(long dueNanos) {
            lock.lock();
            try {
                if (cancelled) {
                    return;
                }
                if (running) {
                    wakeWhileRunning = Math.min(wakeWhileRunning, dueNanos);
                } else if (tick == NONE || tickOf(dueNanos) < tick) {
                    unlink(this);
                    link(this, dueNanos);
                }
            } finally {
                lock.unlock();
            }
        }

        /** Runs the round no more. */
        void cancel() {
            boolean first;
            lock.lock();
            try {
                first = !cancelled;
                cancelled = true;
                unlink(this);
            } finally {
                lock.unlock();
            }
            if (first) {
                unregistered();
            }
        }
    }

    private static final long NONE = Long.MIN_VALUE;

    private long tickOf(long dueNanos) {
        return Math.max(Math.floorDiv(dueNanos - 1, TICK_NANOS) + 1, doneTick + 1); // the first tick at or after due
    }

    /** Links {@code e} into the slot of the first tick at or after {@code dueNanos}; holds lock. */
    private void link(Entry e, long dueNanos) {
        long t = tickOf(dueNanos);
        int at = (int) Math.floorMod(t, (long) SLOTS);
        e.tick = t;
        e.prev = null;
        e.next = slots[at];
        if (e.next != null) {
            e.next.prev = e;
        }
        slots[at] = e;
    }

    /** Takes {@code e} out of its slot, if it is in one; holds lock. */
    private void unlink(Entry e) {
        if (e.tick == NONE) {
            return;
        }
        int at = (int) Math.floorMod(e.tick, (long) SLOTS);
        if (e.prev != null) {
            e.prev.next = e.next;
        } else {
            slots[at] = e.next;
        }
        if (e.next != null) {
            e.next.prev = e.prev;
        }
        e.prev = null;
        e.next = null;
        e.tick = NONE;
    }

    private void unregistered() {
        synchronized (TIMERS) {
            registered--;
        }
    }

    /**
     * Runs every round due at {@code nowNanos} (each tick's slot up to it, in order), on the calling thread: the
     * timer's, or a test's for a {@link #manual} timer.
     *
     * @return how many rounds ran
     */
    int runDue(long nowNanos) {
        long upTo = Math.floorDiv(nowNanos, TICK_NANOS);
        int ran = 0;
        while (true) {
            Entry due = takeDue(upTo);
            if (due == null) {
                return ran;
            }
            ran++;
            long next;
            try {
                next = due.round.run(nowNanos);
            } catch (RuntimeException | Error e) {
                Logger.error(e, "[rounds] round failed");
                next = nowNanos + RETRY_NANOS;
            }
            lock.lock();
            try {
                due.running = false;
                long wake = due.wakeWhileRunning;
                due.wakeWhileRunning = Long.MAX_VALUE;
                if (due.cancelled) {
                    continue;
                }
                if (next == STOP) {
                    due.cancelled = true;
                } else {
                    link(due, Math.min(next, wake));
                    continue;
                }
            } finally {
                lock.unlock();
            }
            unregistered();
        }
    }

    /** Takes the next entry due by tick {@code upTo}, marking it running, or returns null; advances doneTick. */
    private Entry takeDue(long upTo) {
        lock.lock();
        try {
            while (doneTick < upTo) {
                long t = doneTick + 1;
                int at = (int) Math.floorMod(t, (long) SLOTS);
                for (Entry e = slots[at]; e != null; e = e.next) {
                    if (e.tick <= t) {
                        unlink(e);
                        e.running = true;
                        return e;
                    }
                }
                doneTick = t; // nothing left for this tick: entries still in the slot are for a later turn
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    private void loop() {
        long idleSince = System.nanoTime();
        long planned = clock.nanoTime();
        try {
            while (true) {
                planned += TICK_NANOS;
                long now = sleepUntil(planned);
                if (realTime) {
                    health.timerLate(now, now - planned);
                    health.canaryCheck(now);
                    health.scoreRound(now);
                }
                if (now - planned > TICK_NANOS) {
                    planned = now; // after a stall, plan from now: the missed ticks are run below, not one by one
                }
                runDue(now);
                synchronized (TIMERS) {
                    if (registered > 0) {
                        idleSince = System.nanoTime();
                    } else if (System.nanoTime() - idleSince > IDLE_EXIT_NANOS) {
                        stopped = true;
                        if (TIMERS.get(clock) == this) {
                            TIMERS.remove(clock);
                        }
                        return;
                    }
                }
            }
        } finally {
            health.stopCanary();
        }
    }

    /**
     * The watchdog of {@link Entry#writeWatched}, a virtual thread ended with the timer. It counts how long one write
     * has been running only over its own periods that ended on time: a period that overran was a stall of the whole
     * process (a collection, a starved machine), which says nothing about the write.
     */
    private void watch() {
        long last = System.nanoTime();
        long write = -1;
        long stuckNanos = 0;
        while (!stopped) {
            LockSupport.parkNanos(WATCH_EVERY_NANOS);
            long now = System.nanoTime();
            long period = now - last;
            last = now;
            io.twinline.transport.Connection c = watched;
            long seq = watchedWrites;
            if (c == null || seq != write) {
                write = c == null ? -1 : seq;
                stuckNanos = 0;
                continue;
            }
            if (period <= 2 * WATCH_EVERY_NANOS) {
                stuckNanos += period;
            }
            if (stuckNanos > WRITE_LIMIT_NANOS && watched == c && watchedWrites == seq) {
                Logger.warn("[rounds] a heartbeat write on {} did not return within {} ms; closing that connection",
                        c.remoteAddress(), TimeUnit.NANOSECONDS.toMillis(WRITE_LIMIT_NANOS));
                c.close();
                stuckNanos = 0;
            }
        }
    }

    /** Sleeps until {@code planned} on the real clock; on another clock, a tick of real time. Returns the time. */
    private long sleepUntil(long planned) {
        if (!realTime) {
            LockSupport.parkNanos(TICK_NANOS);
            return clock.nanoTime();
        }
        long now;
        while ((now = System.nanoTime()) - planned < 0) {
            LockSupport.parkNanos(planned - now);
        }
        return now;
    }
}
