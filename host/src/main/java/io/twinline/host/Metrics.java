package io.twinline.host;

import io.twinline.api.CallOutcome;
import io.twinline.api.Channel;
import io.twinline.api.FailureCause;
import io.twinline.api.MetricsSnapshot;
import io.twinline.api.SessionState;
import io.twinline.transport.ByteMeter;
import io.twinline.transport.RejectReason;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntToLongFunction;

/**
 * The counters of one server or client runtime, summed over every session it ever held, and the recent state
 * changes of its sessions. Thread-safe; counted by sessions (through their {@link SessionCounts}), by the runtime's
 * handshakes and by its connections (as their {@link ByteMeter}).
 *
 * <p>Counters that a session also keeps for itself live in numbered slots, laid out once here, so that a session's
 * own counts and its runtime's are the same shape and one method turns either into a {@link MetricsSnapshot}.
 */
final class Metrics implements ByteMeter {
    private static final int OUTCOMES = CallOutcome.values().length;
    private static final int CAUSES = FailureCause.values().length;

    /** Upper bounds of the call duration buckets: 100 µs (a loopback round trip) to 30 s (a long timeout). */
    static final long[] CALL_BOUNDS_NANOS = micros(100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000,
            100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 30_000_000);
    /**
     * Upper bounds of the heartbeat round trip buckets: 250 µs (loopback) to 10 s (a PING behind seconds of data on a
     * slow link).
     */
    static final long[] HEARTBEAT_BOUNDS_NANOS = micros(250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000,
            100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000);
    /** Upper bounds of the recovery duration buckets: 1 ms (a reset on loopback) to 60 s (past any window). */
    static final long[] RECOVERY_BOUNDS_NANOS = micros(1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000,
            250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 30_000_000, 60_000_000);

    // Slots in three groups, each allocated by a session at its first count in it (see SessionCounts): what a
    // server's session mostly counts (calls handled), what a client's does (calls made), and failures.
    static final int CALLS_HANDLED = 0;
    static final int DUPLICATES = CALLS_HANDLED + OUTCOMES;
    static final int MADE_GROUP = DUPLICATES + 1;
    static final int CALLS_MADE = MADE_GROUP;
    /** A histogram's slots: one per bucket (not cumulative), then the sum of the observations in nanoseconds. */
    static final int CALL_DURATION = CALLS_MADE + OUTCOMES;
    static final int FAULT_GROUP = CALL_DURATION + CALL_BOUNDS_NANOS.length + 2;
    static final int CHANNEL_FAILURES = FAULT_GROUP;
    static final int RECOVERIES = CHANNEL_FAILURES + 2 * CAUSES;
    static final int RECOVERIES_FAILED = RECOVERIES + 2 * CAUSES;
    static final int REPLAYED = RECOVERIES_FAILED + 1;
    static final int MALFORMED = REPLAYED + 1;
    static final int RECOVERY_DURATION = MALFORMED + 1;
    /** How many slots a session or runtime counts in. */
    static final int SLOTS = RECOVERY_DURATION + RECOVERY_BOUNDS_NANOS.length + 2;

    private final LongAdder[] slots = new LongAdder[SLOTS];
    private final LongAdder sessionsOpened = new LongAdder();
    private final LongAdder[] sessionsEnded = new LongAdder[SessionState.values().length];
    private final LongAdder[] rejected = new LongAdder[RejectReason.values().length];
    private final LongAdder reattaches = new LongAdder();
    private final LongAdder shed = new LongAdder();
    private final LongAdder bytesSent = new LongAdder();
    private final LongAdder bytesReceived = new LongAdder();
    /** The runtime's heartbeat round trips: a bucket each (not cumulative), then the sum in nanoseconds. */
    private final LongAdder[] heartbeats = new LongAdder[HEARTBEAT_BOUNDS_NANOS.length + 2];
    private final TransitionLog recent = new TransitionLog(100);
    private final io.twinline.recovery.Clock clock;
    private final long startedNanos;

    /** Counters on the real clock (uptime). */
    Metrics() {
        this(io.twinline.recovery.Clock.system());
    }

    /** Counters whose uptime and transition times are read from {@code clock}, the runtime's. */
    Metrics(io.twinline.recovery.Clock clock) {
        this.clock = clock;
        this.startedNanos = clock.nanoTime();
        fill(slots);
        fill(heartbeats);
        fill(sessionsEnded);
        fill(rejected);
    }

    private static void fill(LongAdder[] adders) {
        for (int i = 0; i < adders.length; i++) {
            adders[i] = new LongAdder();
        }
    }

    private static long[] micros(long... values) {
        long[] nanos = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            nanos[i] = values[i] * 1_000;
        }
        return nanos;
    }

    static int callSlot(int base, CallOutcome outcome) {
        return base + outcome.ordinal();
    }

    static int causeSlot(int base, Channel channel, FailureCause cause) {
        return base + channel.code() * CAUSES + cause.ordinal();
    }

    /** Adds {@code n} to slot {@code slot}. */
    void add(int slot, long n) {
        slots[slot].add(n);
    }

    /** The slot of the bucket that counts {@code nanos} in the histogram whose first slot is {@code base}. */
    static int bucketSlot(int base, long nanos) {
        return base + bucket(base == CALL_DURATION ? CALL_BOUNDS_NANOS : RECOVERY_BOUNDS_NANOS, nanos);
    }

    /** The bucket of {@code nanos} among upper {@code bounds}: the first bound it does not pass, or one past them. */
    private static int bucket(long[] bounds, long nanos) {
        int bucket = 0;
        while (bucket < bounds.length && nanos > bounds[bucket]) {
            bucket++;
        }
        return bucket;
    }

    /** The slot of the sum of the histogram whose first slot is {@code base}. */
    static int sumSlot(int base) {
        return base + (base == CALL_DURATION ? CALL_BOUNDS_NANOS : RECOVERY_BOUNDS_NANOS).length + 1;
    }

    /**
     * Counts one heartbeat's round trip: from the round that sent its PING to the read that brought its PONG. Kept
     * by the runtime only, not by each session (an idle session holds no counters).
     */
    void heartbeatAnswered(long nanos) {
        heartbeats[bucket(HEARTBEAT_BOUNDS_NANOS, nanos)].increment();
        heartbeats[HEARTBEAT_BOUNDS_NANOS.length + 1].add(Math.max(0, nanos));
    }

    void sessionOpened() {
        sessionsOpened.increment();
    }

    void sessionEnded(SessionState finalState) {
        sessionsEnded[finalState.ordinal()].increment();
    }

    /** A connection was reset at accept: too many were in handshake already. */
    void connectionShed() {
        shed.increment();
    }

    void rejected(RejectReason reason) {
        rejected[reason.ordinal()].increment();
    }

    void reattached() {
        reattaches.increment();
    }

    TransitionLog recent() {
        return recent;
    }

    /**
     * The process's local health and its re-attach dials, as the endpoint shows them: figures of the process, not of
     * this runtime alone, read when asked.
     *
     * @param score the local health score, 0 (healthy) to {@link LocalHealth#MAX_SCORE}
     * @param lagNanos the longest this process was late at noticing anything in the last {@link #LAG_WINDOW_NANOS}
     * @param stalls samples of its lateness over {@link LocalHealth#UNHEALTHY_LAG_NANOS} so far
     * @param dialsWaiting re-attach dials waiting for a turn now ({@link DialGate})
     * @param dialsRefused re-attach dials that got no turn before their deadline so far
     */
    record Health(int score, long lagNanos, long stalls, int dialsWaiting, long dialsRefused) {
    }

    /** The window of {@link Health#lagNanos}. */
    static final long LAG_WINDOW_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(10);

    /** The process's health now, as the sessions on this runtime's clock are stretched by it. */
    Health health() {
        LocalHealth h = RoundTimer.healthOf(clock);
        long now = clock.nanoTime();
        return new Health(h.score(), h.lagSince(now - LAG_WINDOW_NANOS, now), LocalHealth.stallsTotal(),
                DialGate.REATTACHES.queued(), DialGate.REATTACHES.refusedTotal());
    }

    /** Seconds since this runtime started counting. */
    double uptimeSeconds() {
        return (clock.nanoTime() - startedNanos) / 1e9;
    }

    @Override
    public void received(int bytes) {
        bytesReceived.add(bytes);
    }

    @Override
    public void sent(int bytes) {
        bytesSent.add(bytes);
    }

    /** The runtime's snapshot, with {@code held} the sessions it holds now. */
    MetricsSnapshot snapshot(List<TwinSession> held) {
        Map<SessionState, Long> byState = zeros(SessionState.class);
        for (TwinSession s : held) {
            byState.merge(s.state(), 1L, Long::sum);
        }
        Map<SessionState, Long> ended = zeros(SessionState.class);
        for (SessionState state : SessionState.values()) {
            ended.put(state, sessionsEnded[state.ordinal()].sum());
        }
        Map<String, Long> rejectedByReason = new LinkedHashMap<>();
        for (RejectReason reason : RejectReason.values()) {
            rejectedByReason.put(reason.name().toLowerCase(Locale.ROOT), rejected[reason.ordinal()].sum());
        }
        return snapshot(slot -> slots[slot].sum(), sessionsOpened.sum(), byState, ended, bytesSent.sum(),
                bytesReceived.sum(), rejectedByReason, i -> heartbeats[i].sum(), shed.sum());
    }

    /** Builds a snapshot from counts laid out in slots, and the figures that are not. */
    static MetricsSnapshot snapshot(IntToLongFunction slot, long opened, Map<SessionState, Long> sessions,
                                    Map<SessionState, Long> ended, long sent, long received,
                                    Map<String, Long> rejected, IntToLongFunction heartbeatSlot, long shed) {
        return new MetricsSnapshot(opened, sessions, ended, outcomes(slot, CALLS_MADE),
                outcomes(slot, CALLS_HANDLED), histogram(slot, CALL_DURATION, CALL_BOUNDS_NANOS),
                causes(slot, CHANNEL_FAILURES), causes(slot, RECOVERIES),
                histogram(slot, RECOVERY_DURATION, RECOVERY_BOUNDS_NANOS), slot.applyAsLong(RECOVERIES_FAILED),
                slot.applyAsLong(REPLAYED), slot.applyAsLong(DUPLICATES), slot.applyAsLong(MALFORMED), sent,
                received, rejected, histogram(heartbeatSlot, 0, HEARTBEAT_BOUNDS_NANOS), shed);
    }

    static <E extends Enum<E>> Map<E, Long> zeros(Class<E> type) {
        Map<E, Long> map = new EnumMap<>(type);
        for (E e : type.getEnumConstants()) {
            map.put(e, 0L);
        }
        return map;
    }

    private static Map<CallOutcome, Long> outcomes(IntToLongFunction slot, int base) {
        Map<CallOutcome, Long> map = new EnumMap<>(CallOutcome.class);
        for (CallOutcome outcome : CallOutcome.values()) {
            map.put(outcome, slot.applyAsLong(callSlot(base, outcome)));
        }
        return map;
    }

    private static Map<Channel, Map<FailureCause, Long>> causes(IntToLongFunction slot, int base) {
        Map<Channel, Map<FailureCause, Long>> map = new EnumMap<>(Channel.class);
        for (Channel channel : Channel.values()) {
            Map<FailureCause, Long> byCause = new EnumMap<>(FailureCause.class);
            for (FailureCause cause : FailureCause.values()) {
                byCause.put(cause, slot.applyAsLong(causeSlot(base, channel, cause)));
            }
            map.put(channel, byCause);
        }
        return map;
    }

    /** The count is the sum of the buckets read, so the snapshot's histogram is consistent in itself. */
    private static MetricsSnapshot.Histogram histogram(IntToLongFunction slot, int base, long[] bounds) {
        List<Duration> upper = new ArrayList<>(bounds.length);
        List<Long> cumulative = new ArrayList<>(bounds.length + 1);
        long running = 0;
        for (int i = 0; i <= bounds.length; i++) {
            if (i < bounds.length) {
                upper.add(Duration.ofNanos(bounds[i]));
            }
            running += slot.applyAsLong(base + i);
            cumulative.add(running);
        }
        return new MetricsSnapshot.Histogram(upper, cumulative, running,
                Duration.ofNanos(slot.applyAsLong(base + bounds.length + 1)));
    }

    /** The flat counters of the status JSON's {@code metrics} and the demo's verdict line, by their names there. */
    Map<String, Long> counters(MetricsSnapshot snapshot) {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("sessions_opened", snapshot.sessionsOpened());
        m.put("sessions_disconnected", snapshot.sessionsEnded().get(SessionState.DISCONNECTED));
        m.put("sessions_closed", snapshot.sessionsEnded().get(SessionState.CLOSED));
        m.put("channel_failures", snapshot.channelFailuresTotal());
        m.put("recoveries", snapshot.recoveriesTotal());
        m.put("reattaches", reattaches.sum());
        m.put("malformed_frames", snapshot.malformedFrames());
        m.put("handshakes_rejected", snapshot.handshakesRejected().values().stream().mapToLong(Long::longValue).sum());
        m.put("connections_shed", snapshot.connectionsShed());
        m.put("calls_handled", snapshot.callsHandledTotal());
        m.put("calls_made", snapshot.callsMadeTotal());
        m.put("duplicates_suppressed", snapshot.duplicatesSuppressed());
        m.put("replayed_requests", snapshot.replayedRequests());
        m.put("bytes_sent", snapshot.bytesSent());
        m.put("bytes_received", snapshot.bytesReceived());
        return m;
    }

    /**
     * One session's own counts, and the way it counts into its runtime's: every count goes to both. The session's
     * slots come in three groups (calls handled, calls made, failures), each allocated at the session's first count
     * in it, so an idle session costs three references, and a server's session that only answers calls one small
     * array.
     */
    static final class SessionCounts {
        private final Metrics runtime;
        private volatile AtomicLongArray handled;
        private volatile AtomicLongArray made;
        private volatile AtomicLongArray faults;

        SessionCounts(Metrics runtime) {
            this.runtime = runtime;
        }

        /** A heartbeat's round trip, counted by the runtime only ({@link Metrics#heartbeatAnswered}). */
        void heartbeatAnswered(long nanos) {
            runtime.heartbeatAnswered(nanos);
        }

        void add(int slot, long n) {
            runtime.add(slot, n);
            AtomicLongArray group = group(slot, true);
            group.getAndAdd(slot - base(slot), n);
        }

        /** Counts one observation of {@code nanos} in the histogram whose first slot is {@code base}. */
        void observe(int base, long nanos) {
            add(bucketSlot(base, nanos), 1);
            add(sumSlot(base), Math.max(0, nanos));
        }

        /** This session's own slot values (zeros in a group it never counted in). */
        long get(int slot) {
            AtomicLongArray group = group(slot, false);
            return group == null ? 0 : group.get(slot - base(slot));
        }

        private static int base(int slot) {
            return slot >= FAULT_GROUP ? FAULT_GROUP : slot >= MADE_GROUP ? MADE_GROUP : 0;
        }

        private AtomicLongArray group(int slot, boolean create) {
            AtomicLongArray group = slot >= FAULT_GROUP ? faults : slot >= MADE_GROUP ? made : handled;
            if (group != null || !create) {
                return group;
            }
            synchronized (this) {
                if (slot >= FAULT_GROUP) {
                    if (faults == null) {
                        faults = new AtomicLongArray(SLOTS - FAULT_GROUP);
                    }
                    return faults;
                }
                if (slot >= MADE_GROUP) {
                    if (made == null) {
                        made = new AtomicLongArray(FAULT_GROUP - MADE_GROUP);
                    }
                    return made;
                }
                if (handled == null) {
                    handled = new AtomicLongArray(MADE_GROUP);
                }
                return handled;
            }
        }
    }

    /**
     * The most recent state changes of a runtime's sessions, oldest first, for the status page. Bounded; written
     * by the threads that change states (rarely), read by the status endpoint.
     */
    static final class TransitionLog {
        /** One state change: when (wall clock), which session, which channel (or null), from, to, why. */
        record Entry(long atMillis, String session, Channel channel, SessionState from, SessionState to,
                     String cause) {
        }

        private final int capacity;
        private final java.util.ArrayDeque<Entry> entries;

        TransitionLog(int capacity) {
            this.capacity = capacity;
            this.entries = new java.util.ArrayDeque<>(capacity);
        }

        synchronized void add(Entry entry) {
            if (entries.size() == capacity) {
                entries.removeFirst();
            }
            entries.addLast(entry);
        }

        synchronized List<Entry> snapshot() {
            return List.copyOf(entries);
        }
    }
}
