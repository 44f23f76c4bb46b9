package io.twinline.host;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * How late this process is at noticing what happens to it, and so how much of a silence it measures is its own
 * doing: Lifeguard's local health awareness (SWIM as in HashiCorp's memberlist), with the lateness measured
 * directly rather than inferred from missed answers.
 *
 * <p>Two kinds of sample, both on the process's monotonic clock:
 * <ul>
 *   <li>the round timer's own wake-up lateness ({@link #timerLate}): a platform thread, so this is the operating
 *       system's scheduling delay and any stop-the-world pause of the JVM that covered its wake-up;
 *   <li>a canary virtual thread's queueing delay ({@link #canaryCheck}): how long a virtual thread made runnable
 *       waits for a carrier, which is how late a reader wakes for a frame that has arrived.
 * </ul>
 *
 * <p>What the samples give:
 * <ul>
 *   <li>{@link #lagSince}: the longest lateness seen since a moment (kept per 100 ms for the last 25.6 s, and the
 *       age of a canary still waiting). A frame that arrived since that moment was read at most this late, so a
 *       deadline measured from it is stretched by this much: the process does not blame its peer for its own delay.
 *   <li>{@link #score}: 0 when healthy, up to {@link #MAX_SCORE}. Every second it rises by one if some sample of
 *       that second exceeded {@link #UNHEALTHY_LAG_NANOS}, and falls by one otherwise. Deadlines that wait on the
 *       peer are multiplied by {@code 1 + score} ({@link #stretch}): a starved process is likely not starved alone
 *       (its peers share the machine or the load), and it cannot measure their delay, only its own. As Lifeguard's
 *       awareness score, it rises and decays in steps, so one bad second does not make a process patient for long.
 *   <li>Lifeguard also counts failed probes as evidence against the local node, since many peers failing together is
 *       more likely one common cause than many failures. So does this: every session whose silence deadline passes
 *       (before any stretch) reports it ({@link #overdue}), and {@link #OVERDUE_PER_LEVEL} or more in one second
 *       raise the score at once to one level per factor of four of them (8: 1, 32: 2, 128: 3). The first few
 *       sessions to fall silent together fail at the policy's bounds and recover, as scouts; the others wait longer,
 *       which a peer's pause (a collection, a starved machine) does not outlast.
 * </ul>
 * A process whose samples all stay under {@link #UNHEALTHY_LAG_NANOS}, and whose sessions do not fall silent by the
 * {@link #OVERDUE_PER_LEVEL} in a second, has score 0 and stretches a deadline only by its lateness: a bound of
 * PROTOCOL §7.4 is then exceeded by at most the delay this process itself added.
 *
 * <p>Thread-safe: samples come from the round timer's thread and the canary, readers are the rounds, recovery
 * probes and the status endpoint.
 */
class LocalHealth {

    /** A process that is never late: for clocks a test moves, where no real lateness means anything. */
    static final LocalHealth NONE = new LocalHealth() {
        @Override
        long lagSince(long sinceNanos, long nowNanos) {
            return 0;
        }

        @Override
        int score() {
            return 0;
        }
    };

    /** A sample later than this is a sign of ill health: ten times what an unloaded process shows, at the least. */
    static final long UNHEALTHY_LAG_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** The highest score: deadlines that wait on the peer stretch to at most {@code 1 + MAX_SCORE} times. */
    static final int MAX_SCORE = 3;
    /** Sessions overdue in one second that raise the score to 1; each factor of four more raises it by one. */
    static final int OVERDUE_PER_LEVEL = 8;
    /** How often the score moves. */
    static final long SCORE_ROUND_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** The width of one slot of the lateness history. */
    static final long SLOT_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** Slots kept: 25.6 s of history, longer than any default silence a deadline is measured over. */
    static final int SLOTS = 256;
    /** How often the canary is sent when none is waiting. */
    static final long CANARY_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private static final long NO_SLOT = Long.MIN_VALUE;
    private static final long NO_CANARY = Long.MIN_VALUE;

    /** The largest sample recorded in each slot, and which slot (time / SLOT_NANOS) it holds; guarded by this. */
    private final long[] slotMax = new long[SLOTS];
    private final long[] slotIndex = new long[SLOTS];
    private volatile int score;
    /** The largest sample since the score last moved; guarded by this. */
    private long roundMax;
    /** Sessions overdue since the score last moved; guarded by this. */
    private int roundOverdue;
    private long roundStartNanos = NO_SLOT;
    /** When the canary now waiting was made runnable, or NO_CANARY. */
    private volatile long canarySentNanos = NO_CANARY;
    private long lastCanaryNanos = NO_SLOT;
    private volatile Thread canary;
    /** Samples later than {@link #UNHEALTHY_LAG_NANOS}, counted for the whole process (a counter never falls). */
    private static final java.util.concurrent.atomic.LongAdder STALLS = new java.util.concurrent.atomic.LongAdder();
    private final java.util.function.LongSupplier nanoClock;

    LocalHealth() {
        this(System::nanoTime);
    }

    /** Health kept on {@code nanoClock}, the clock every sample and every query is given on. */
    LocalHealth(java.util.function.LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        java.util.Arrays.fill(slotIndex, NO_SLOT);
    }

    /**
     * Records a lateness of {@code lateNanos} noticed at {@code atNanos}: for that long before {@code atNanos}, the
     * process was not reacting. Negative samples count as zero.
     */
    synchronized void record(long atNanos, long lateNanos) {
        long late = Math.max(0, lateNanos);
        long index = Math.floorDiv(atNanos, SLOT_NANOS);
        int at = (int) Math.floorMod(index, (long) SLOTS);
        if (slotIndex[at] != index) {
            slotIndex[at] = index;
            slotMax[at] = late;
        } else if (late > slotMax[at]) {
            slotMax[at] = late;
        }
        roundMax = Math.max(roundMax, late);
        if (late > UNHEALTHY_LAG_NANOS && this != NONE) {
            STALLS.increment();
        }
    }

    /** The round timer woke {@code lateNanos} after it planned to, at {@code nowNanos}. */
    void timerLate(long nowNanos, long lateNanos) {
        record(nowNanos, lateNanos);
    }

    /**
     * The longest lateness recorded at or after {@code sinceNanos} (to the slot: a sample up to 100 ms older may be
     * included), or of a canary still waiting at {@code nowNanos}. A moment older than the history stands for the
     * whole history.
     */
    long lagSince(long sinceNanos, long nowNanos) {
        long max = 0;
        long sent = canarySentNanos;
        if (sent != NO_CANARY) {
            max = Math.max(0, nowNanos - sent);
        }
        long first = Math.floorDiv(sinceNanos, SLOT_NANOS);
        long last = Math.floorDiv(nowNanos, SLOT_NANOS);
        if (last - first >= SLOTS) {
            first = last - SLOTS + 1;
        }
        synchronized (this) {
            for (long index = first; index <= last; index++) {
                int at = (int) Math.floorMod(index, (long) SLOTS);
                if (slotIndex[at] == index && slotMax[at] > max) {
                    max = slotMax[at];
                }
            }
        }
        return max;
    }

    /** The local health score: 0 when healthy, up to {@link #MAX_SCORE}. */
    int score() {
        return score;
    }

    /**
     * {@code timeoutNanos}, measured from {@code sinceNanos}, as this process's health stretches it at
     * {@code nowNanos}: multiplied by {@code 1 + score} and lengthened by the lateness since {@code sinceNanos}.
     */
    final long stretch(long timeoutNanos, long sinceNanos, long nowNanos) {
        int s = score();
        long scaled = s == 0 ? timeoutNanos : saturatedMultiply(timeoutNanos, 1 + s);
        long lag = lagSince(sinceNanos, nowNanos);
        return scaled > Long.MAX_VALUE - lag ? Long.MAX_VALUE : scaled + lag;
    }

    private static long saturatedMultiply(long a, int b) {
        long r = a * b;
        return a != 0 && r / b != a ? Long.MAX_VALUE : r;
    }

    /**
     * Moves the score if a score round has passed since the last one: up by one if a sample of that round was over
     * {@link #UNHEALTHY_LAG_NANOS} (a canary still waiting counts with its age), else down by one. Called by the
     * round timer on each of its ticks.
     */
    void scoreRound(long nowNanos) {
        synchronized (this) {
            if (roundStartNanos == NO_SLOT) {
                roundStartNanos = nowNanos;
                return;
            }
            if (nowNanos - roundStartNanos < SCORE_ROUND_NANOS) {
                return;
            }
            long sent = canarySentNanos;
            long worst = Math.max(roundMax, sent == NO_CANARY ? 0 : nowNanos - sent);
            boolean bad = worst > UNHEALTHY_LAG_NANOS || roundOverdue >= OVERDUE_PER_LEVEL;
            roundMax = 0;
            roundOverdue = 0;
            roundStartNanos = nowNanos;
            score = bad ? Math.min(MAX_SCORE, score + 1) : Math.max(0, score - 1);
        }
    }

    /**
     * A session's silence deadline (an idle timeout, a PONG's) passed at {@code nowNanos}, before any stretch: told
     * once per deadline. Raises the score at once when enough sessions fell silent in this score round (see the
     * class comment).
     */
    void overdue(long nowNanos) {
        if (this == NONE) {
            return;
        }
        synchronized (this) {
            if (roundStartNanos == NO_SLOT) {
                roundStartNanos = nowNanos;
            }
            roundOverdue++;
            int level = 0;
            for (long n = OVERDUE_PER_LEVEL; roundOverdue >= n && level < MAX_SCORE; n *= 4) {
                level++;
            }
            if (level > score) {
                score = level;
            }
        }
    }

    /** How many samples of this process so far were later than {@link #UNHEALTHY_LAG_NANOS}: its stalls. */
    static long stallsTotal() {
        return STALLS.sum();
    }

    /**
     * Sends the canary if none is waiting and {@link #CANARY_EVERY_NANOS} have passed since the last: it is made
     * runnable now and records, when it runs, how long it waited for a carrier. Called by the round timer.
     */
    void canaryCheck(long nowNanos) {
        if (!canaryDue(nowNanos)) {
            return;
        }
        Thread c = canary;
        canarySent(nowNanos);
        if (c == null) {
            c = Thread.ofVirtual().name("twinline-health-canary").unstarted(this::runCanary);
            canary = c;
            c.start();
        } else {
            LockSupport.unpark(c);
        }
    }

    /** Whether a canary should be sent at {@code nowNanos}: none is waiting, and the last went long enough ago. */
    boolean canaryDue(long nowNanos) {
        return canarySentNanos == NO_CANARY
                && (lastCanaryNanos == NO_SLOT || nowNanos - lastCanaryNanos >= CANARY_EVERY_NANOS);
    }

    /** The canary was made runnable at {@code nowNanos}: until it runs, its age counts as lateness. */
    void canarySent(long nowNanos) {
        lastCanaryNanos = nowNanos;
        canarySentNanos = nowNanos;
    }

    /** The canary ran at {@code nowNanos}: its wait for a carrier is a sample. */
    void canaryRan(long nowNanos) {
        long sent = canarySentNanos;
        if (sent != NO_CANARY) {
            record(nowNanos, nowNanos - sent);
            canarySentNanos = NO_CANARY;
        }
    }

    /** Ends the canary (the round timer stops). */
    void stopCanary() {
        Thread c = canary;
        canary = null;
        if (c != null) {
            c.interrupt();
        }
    }

    private void runCanary() {
        while (canary == Thread.currentThread()) {
            canaryRan(nanoClock.getAsLong());
            LockSupport.park(this);
            if (Thread.interrupted() && canary != Thread.currentThread()) {
                return;
            }
        }
    }
}
