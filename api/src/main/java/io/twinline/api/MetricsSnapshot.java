package io.twinline.api;

import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The counters of a server, a client or one session at one moment: what was called and how it ended, how long
 * calls and recoveries took, which channels failed and why, and the bytes that crossed the network. Taken by
 * {@link TwinlineServer#metrics()}, {@link TwinlineClient#metrics()} and {@link Session#metrics()}; immutable.
 *
 * <p>Every count only grows over the life of the server or client (the status endpoint publishes them as
 * Prometheus counters), except {@link #sessions()}, which counts the sessions held now. A server's or client's
 * figures include every session it ever held; a session's figures are its own. Every map has an entry for every
 * key of its enum, zero where nothing was counted.
 *
 * @param sessionsOpened sessions established since start (1 for a session's own snapshot)
 * @param sessions sessions held now, by state (a session's own snapshot: 1 in its current state)
 * @param sessionsEnded sessions that ended, by final state ({@link SessionState#DISCONNECTED},
 *     {@link SessionState#CLOSED}; the other states are always 0)
 * @param callsMade calls this end made to the peer, by outcome, counted when the caller got its answer or error
 * @param callsHandled calls of the peer this end's handlers answered, by outcome ({@link CallOutcome#OK},
 *     {@link CallOutcome#HANDLER_FAILED}, {@link CallOutcome#NO_SUCH_ROUTE}); a re-sent request answered from
 *     the cache is not counted again
 * @param callDuration how long calls made took, from the call to its answer or error, by the caller's clock
 * @param channelFailures connections given up, by channel and cause
 * @param recoveries recovery processes started, by channel and the cause of the failure that started them
 * @param recoveryDuration how long sessions stayed {@link SessionState#RECOVERING} before they were
 *     {@link SessionState#NORMAL} again
 * @param recoveriesFailed recoveries that ended in {@link SessionState#DISCONNECTED}
 * @param replayedRequests requests sent again on a re-attached send channel (DESIGN: the replay)
 * @param duplicatesSuppressed requests the peer sent again that were answered from the cache or ignored,
 *     without running their handler a second time
 * @param malformedFrames connections closed because the peer sent something that is not a valid frame
 * @param bytesSent bytes written to this end's connections, handshakes included
 * @param bytesReceived bytes read from this end's connections, handshakes included
 * @param handshakesRejected a server's handshakes answered with REJECTED, by reason (the wire's reason names
 *     in lower case: {@code unknown_session}, {@code bad_token}, {@code server_full},
 *     {@code unsupported_version}, {@code shutting_down}, {@code session_ended}, {@code other}); empty for a
 *     client and a session
 */
public record MetricsSnapshot(
        long sessionsOpened,
        Map<SessionState, Long> sessions,
        Map<SessionState, Long> sessionsEnded,
        Map<CallOutcome, Long> callsMade,
        Map<CallOutcome, Long> callsHandled,
        Histogram callDuration,
        Map<Channel, Map<FailureCause, Long>> channelFailures,
        Map<Channel, Map<FailureCause, Long>> recoveries,
        Histogram recoveryDuration,
        long recoveriesFailed,
        long replayedRequests,
        long duplicatesSuppressed,
        long malformedFrames,
        long bytesSent,
        long bytesReceived,
        Map<String, Long> handshakesRejected) {

    /**
     * Copies every map, so the snapshot stays as it was taken.
     *
     * @throws NullPointerException if any argument is null
     */
    public MetricsSnapshot {
        sessions = Map.copyOf(sessions);
        sessionsEnded = Map.copyOf(sessionsEnded);
        callsMade = Map.copyOf(callsMade);
        callsHandled = Map.copyOf(callsHandled);
        Objects.requireNonNull(callDuration, "callDuration");
        channelFailures = copyNested(channelFailures);
        recoveries = copyNested(recoveries);
        Objects.requireNonNull(recoveryDuration, "recoveryDuration");
        handshakesRejected = Map.copyOf(handshakesRejected);
    }

    private static Map<Channel, Map<FailureCause, Long>> copyNested(Map<Channel, Map<FailureCause, Long>> byChannel) {
        Map<Channel, Map<FailureCause, Long>> copy = new EnumMap<>(Channel.class);
        byChannel.forEach((channel, causes) -> copy.put(channel, Map.copyOf(causes)));
        return Map.copyOf(copy);
    }

    /** Returns the number of calls made, whatever their outcome. */
    public long callsMadeTotal() {
        return sum(callsMade);
    }

    /** Returns the number of calls handled, whatever their outcome. */
    public long callsHandledTotal() {
        return sum(callsHandled);
    }

    /** Returns the number of connections given up, on both channels and for every cause. */
    public long channelFailuresTotal() {
        return channelFailures.values().stream().mapToLong(MetricsSnapshot::sum).sum();
    }

    /** Returns the number of recovery processes started, on both channels and for every cause. */
    public long recoveriesTotal() {
        return recoveries.values().stream().mapToLong(MetricsSnapshot::sum).sum();
    }

    private static long sum(Map<?, Long> counts) {
        return counts.values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * A distribution of durations in fixed buckets, as a Prometheus histogram holds it.
     *
     * @param upperBounds each bucket's inclusive upper bound, ascending; a last bucket with no bound follows
     * @param cumulativeCounts how many observations were at most each bound, one more entry (the last, equal to
     *     {@code count}) for the bucket with no bound; never decreasing
     * @param count how many observations there were
     * @param sum the sum of all observations
     */
    public record Histogram(List<Duration> upperBounds, List<Long> cumulativeCounts, long count, Duration sum) {

        /**
         * Validates the shape.
         *
         * @throws IllegalArgumentException if {@code cumulativeCounts} does not have one entry more than
         *     {@code upperBounds}, or its last entry is not {@code count}
         * @throws NullPointerException if any argument is null
         */
        public Histogram {
            upperBounds = List.copyOf(upperBounds);
            cumulativeCounts = List.copyOf(cumulativeCounts);
            Objects.requireNonNull(sum, "sum");
            if (cumulativeCounts.size() != upperBounds.size() + 1) {
                throw new IllegalArgumentException("cumulativeCounts needs " + (upperBounds.size() + 1)
                        + " entries, has " + cumulativeCounts.size());
            }
            if (cumulativeCounts.get(cumulativeCounts.size() - 1) != count) {
                throw new IllegalArgumentException("the last cumulative count " + cumulativeCounts.getLast()
                        + " differs from count " + count);
            }
        }
    }
}
