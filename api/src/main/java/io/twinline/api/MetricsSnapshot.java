package io.twinline.api;

import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The counters of a server, a client or one session at one moment: what was called and how it ended, how long
 * calls and recoveries took, which channels failed and why, and the bytes that crossed the network. Taken by
 * {@link TwinlineServer#metrics()}, {@link TwinlineClient#metrics()} and {@link Session#metrics()}; immutable.
 *
 * <p>Every count only grows over the life of the server or client (the status endpoint publishes them as
 * Prometheus counters), except {@link #sessions()}, which counts the sessions held now. A server's or client's
 * figures include every session it ever held; a session's figures are its own. Every enum-keyed map has an entry for
 * every key of its enum, zero where nothing was counted, and iterates in the enum's order.
 *
 * @param sessionsOpened sessions that reached {@link SessionState#NORMAL} since start (a session's own snapshot:
 *     1 once it did)
 * @param sessions sessions held now, by state (a session's own snapshot: 1 in its current state)
 * @param sessionsEnded sessions that ended after they were opened, by final state
 *     ({@link SessionState#DISCONNECTED}, {@link SessionState#CLOSED}; the other states are always 0); a handshake
 *     that failed while {@link SessionState#CONNECTING} is not counted
 * @param callsMade calls this end made to the peer, by outcome, counted when the caller got its answer or error
 * @param callsHandled calls of the peer this end's handlers answered, by outcome ({@link CallOutcome#OK},
 *     {@link CallOutcome#HANDLER_FAILED}, {@link CallOutcome#NO_SUCH_ROUTE}); a re-sent request answered from
 *     the cache is not counted again
 * @param callDuration how long calls made took, from the call to its answer or error, by the caller's clock;
 *     failed calls included (a timeout counts its whole timeout), so read latency from a time without failures
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
 * @param heartbeatRoundTrip a runtime's heartbeat PINGs answered by their PONG, by the time from the round that
 *     sent the PING to the read that brought the PONG: what a control frame waited behind, on the link and at the
 *     peer; empty for a session
 * @param connectionsShed a server's connections reset as soon as they were accepted, because
 *     {@link Limits#maxHandshakes()} connections (or {@link Limits#maxHandshakesPerAddress()} from that address)
 *     were in handshake already; 0 for a client and a session
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
        Map<String, Long> handshakesRejected,
        Histogram heartbeatRoundTrip,
        long connectionsShed) {

    /**
     * Copies every map, so the snapshot stays as it was taken; the copies iterate in the enums' order (reasons in
     * alphabetical order) and cannot be modified.
     *
     * @throws IllegalArgumentException if an enum-keyed map has no count (or a null one) for a key of its enum
     * @throws NullPointerException if any argument is null, or {@code handshakesRejected} has a null key
     */
    public MetricsSnapshot {
        sessions = complete(sessions, SessionState.class, "sessions");
        sessionsEnded = complete(sessionsEnded, SessionState.class, "sessionsEnded");
        callsMade = complete(callsMade, CallOutcome.class, "callsMade");
        callsHandled = complete(callsHandled, CallOutcome.class, "callsHandled");
        Objects.requireNonNull(callDuration, "callDuration");
        channelFailures = completeNested(channelFailures, "channelFailures");
        recoveries = completeNested(recoveries, "recoveries");
        Objects.requireNonNull(recoveryDuration, "recoveryDuration");
        handshakesRejected = Collections.unmodifiableMap(new TreeMap<>(handshakesRejected));
        Objects.requireNonNull(heartbeatRoundTrip, "heartbeatRoundTrip");
    }

    private static <E extends Enum<E>> Map<E, Long> complete(Map<E, Long> counts, Class<E> type, String name) {
        Map<E, Long> copy = new EnumMap<>(type);
        for (E key : type.getEnumConstants()) {
            Long value = counts.get(key);
            if (value == null) {
                throw new IllegalArgumentException(name + " has no count for " + key);
            }
            copy.put(key, value);
        }
        return Collections.unmodifiableMap(copy);
    }

    private static Map<Channel, Map<FailureCause, Long>> completeNested(Map<Channel, Map<FailureCause, Long>> byChannel,
                                                                       String name) {
        Map<Channel, Map<FailureCause, Long>> copy = new EnumMap<>(Channel.class);
        for (Channel channel : Channel.values()) {
            Map<FailureCause, Long> causes = byChannel.get(channel);
            if (causes == null) {
                throw new IllegalArgumentException(name + " has no counts for channel " + channel);
            }
            copy.put(channel, complete(causes, FailureCause.class, name + "[" + channel + "]"));
        }
        return Collections.unmodifiableMap(copy);
    }

    /** {@return the number of calls made, whatever their outcome} */
    public long callsMadeTotal() {
        return sum(callsMade);
    }

    /** {@return the number of calls handled, whatever their outcome} */
    public long callsHandledTotal() {
        return sum(callsHandled);
    }

    /** {@return the number of connections given up, on both channels and for every cause} */
    public long channelFailuresTotal() {
        return channelFailures.values().stream().mapToLong(MetricsSnapshot::sum).sum();
    }

    /** {@return the number of recovery processes started, on both channels and for every cause} */
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
         * @throws NullPointerException if any argument or any element of the lists is null
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
