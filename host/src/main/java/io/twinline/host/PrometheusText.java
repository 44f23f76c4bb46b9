package io.twinline.host;

import io.twinline.api.CallOutcome;
import io.twinline.api.Channel;
import io.twinline.api.FailureCause;
import io.twinline.api.MetricsSnapshot;
import io.twinline.api.SessionState;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a {@link MetricsSnapshot} in the Prometheus text exposition format, version 0.0.4: one family per
 * metric, each with {@code # HELP} and {@code # TYPE}, names prefixed {@code twinline_}, durations in seconds,
 * counters ending in {@code _total}. Label values are the api's enum names in lower case (channels stay
 * {@code A} and {@code B}). docs/OPERATIONS.md lists every family.
 */
final class PrometheusText {
    /** The Content-Type of the format. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final StringBuilder out = new StringBuilder(8192);

    private PrometheusText() {
    }

    /**
     * Returns the exposition of {@code m}.
     *
     * @param role {@code server} or {@code client}, the value of the {@code role} label of {@code twinline_info}
     * @param ready for a server, whether it takes new sessions; null for a client
     */
    static String format(MetricsSnapshot m, String role, String version, Boolean ready) {
        return format(m, role, version, ready, null);
    }

    /**
     * Returns the exposition of {@code m} and, unless null, of the process's local health {@code h} (and, for a
     * client, its re-attach dials).
     */
    static String format(MetricsSnapshot m, String role, String version, Boolean ready, Metrics.Health h) {
        PrometheusText t = new PrometheusText();
        t.family("twinline_info", "gauge", "Always 1; its labels say what runs.");
        t.sample("twinline_info", "role=\"" + role + "\",version=\"" + escape(version) + "\"", 1);
        if (ready != null) {
            t.family("twinline_ready", "gauge", "1 while the server takes new sessions; 0 once it drains.");
            t.sample("twinline_ready", "", ready ? 1 : 0);
        }
        t.family("twinline_sessions", "gauge", "Sessions held now, by state.");
        for (SessionState s : SessionState.values()) {
            if (!s.isTerminal()) {
                t.sample("twinline_sessions", "state=\"" + lower(s) + "\"", m.sessions().get(s));
            }
        }
        t.family("twinline_sessions_opened_total", "counter", "Sessions established.");
        t.sample("twinline_sessions_opened_total", "", m.sessionsOpened());
        t.family("twinline_sessions_ended_total", "counter", "Sessions ended, by final state.");
        for (SessionState s : SessionState.values()) {
            if (s.isTerminal()) {
                t.sample("twinline_sessions_ended_total", "state=\"" + lower(s) + "\"", m.sessionsEnded().get(s));
            }
        }
        t.family("twinline_calls_total", "counter",
                "Calls by direction (made: this end called its peer; handled: the peer called this end) and outcome.");
        t.outcomes("made", m.callsMade(), false);
        t.outcomes("handled", m.callsHandled(), true);
        t.histogram("twinline_call_duration_seconds", "Time from a call made to its answer or error.",
                m.callDuration());
        t.family("twinline_channel_failures_total", "counter", "Connections given up, by channel and cause.");
        t.causes("twinline_channel_failures_total", m.channelFailures());
        t.family("twinline_recoveries_total", "counter",
                "Recovery processes started, by channel and the cause of the failure that started them.");
        t.causes("twinline_recoveries_total", m.recoveries());
        t.histogram("twinline_recovery_duration_seconds", "Time a session spent RECOVERING before it was NORMAL again.",
                m.recoveryDuration());
        t.histogram("twinline_heartbeat_round_trip_seconds", "Time from a heartbeat PING sent on this end's send channel"
                + " to its PONG read: what a control frame waits behind on the link and at the peer.",
                m.heartbeatRoundTrip());
        t.family("twinline_recoveries_failed_total", "counter", "Recoveries that ended in DISCONNECTED.");
        t.sample("twinline_recoveries_failed_total", "", m.recoveriesFailed());
        t.family("twinline_replayed_requests_total", "counter", "Requests sent again on a re-attached send channel.");
        t.sample("twinline_replayed_requests_total", "", m.replayedRequests());
        t.family("twinline_duplicate_requests_total", "counter",
                "Requests the peer sent again, answered from the cache or ignored without running the handler again.");
        t.sample("twinline_duplicate_requests_total", "", m.duplicatesSuppressed());
        t.family("twinline_malformed_frames_total", "counter", "Connections closed for a malformed frame.");
        t.sample("twinline_malformed_frames_total", "", m.malformedFrames());
        t.family("twinline_sent_bytes_total", "counter", "Bytes written to connections, handshakes included.");
        t.sample("twinline_sent_bytes_total", "", m.bytesSent());
        t.family("twinline_received_bytes_total", "counter", "Bytes read from connections, handshakes included.");
        t.sample("twinline_received_bytes_total", "", m.bytesReceived());
        if (h != null) {
            t.family("twinline_local_health_score", "gauge", "The process's local health score: 0 when it keeps up, up "
                    + "to 3 while it is late; deadlines that wait on the peer are multiplied by one more than it.");
            t.sample("twinline_local_health_score", "", h.score());
            t.family("twinline_local_lag_seconds", "gauge",
                    "The longest this process was late at noticing anything in the last 10 s (timer and scheduler).");
            t.out.append("twinline_local_lag_seconds ").append(seconds(Duration.ofNanos(h.lagNanos()))).append('\n');
            t.family("twinline_local_stalls_total", "counter", "Times this process was found more than 100 ms late.");
            t.sample("twinline_local_stalls_total", "", h.stalls());
            if ("client".equals(role)) {
                t.family("twinline_reattach_dials_waiting", "gauge",
                        "Re-attach dials of this process waiting for a turn (64 dial at once).");
                t.sample("twinline_reattach_dials_waiting", "", h.dialsWaiting());
                t.family("twinline_reattach_dials_refused_total", "counter",
                        "Re-attach dials that got no turn before their try's deadline.");
                t.sample("twinline_reattach_dials_refused_total", "", h.dialsRefused());
            }
        }
        if (role.equals("server")) {
            t.family("twinline_connections_shed_total", "counter",
                    "Connections reset at accept because too many were in handshake (in all, or from their address).");
            t.sample("twinline_connections_shed_total", "", m.connectionsShed());
        }
        if (!m.handshakesRejected().isEmpty()) {
            t.family("twinline_handshakes_rejected_total", "counter", "Handshakes answered with REJECTED, by reason.");
            for (Map.Entry<String, Long> e : new java.util.TreeMap<>(m.handshakesRejected()).entrySet()) {
                t.sample("twinline_handshakes_rejected_total", "reason=\"" + escape(e.getKey()) + "\"", e.getValue());
            }
        }
        return t.out.toString();
    }

    private void outcomes(String direction, Map<CallOutcome, Long> counts, boolean handledOnly) {
        for (CallOutcome o : CallOutcome.values()) {
            boolean possible = !handledOnly || o == CallOutcome.OK || o == CallOutcome.HANDLER_FAILED
                    || o == CallOutcome.NO_SUCH_ROUTE;
            if (possible) {
                sample("twinline_calls_total", "direction=\"" + direction + "\",outcome=\"" + lower(o) + "\"",
                        counts.get(o));
            }
        }
    }

    private void causes(String name, Map<Channel, Map<FailureCause, Long>> counts) {
        for (Channel c : Channel.values()) {
            for (FailureCause f : FailureCause.values()) {
                sample(name, "channel=\"" + c + "\",cause=\"" + lower(f) + "\"", counts.get(c).get(f));
            }
        }
    }

    private void histogram(String name, String help, MetricsSnapshot.Histogram h) {
        family(name, "histogram", help);
        for (int i = 0; i < h.upperBounds().size(); i++) {
            sample(name + "_bucket", "le=\"" + seconds(h.upperBounds().get(i)) + "\"", h.cumulativeCounts().get(i));
        }
        sample(name + "_bucket", "le=\"+Inf\"", h.count());
        out.append(name).append("_sum ").append(seconds(h.sum())).append('\n');
        sample(name + "_count", "", h.count());
    }

    private void family(String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private void sample(String name, String labels, long value) {
        out.append(name);
        if (!labels.isEmpty()) {
            out.append('{').append(labels).append('}');
        }
        out.append(' ').append(value).append('\n');
    }

    private static String seconds(Duration d) {
        return BigDecimal.valueOf(d.getSeconds()).add(BigDecimal.valueOf(d.getNano(), 9)).stripTrailingZeros()
                .toPlainString();
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    /** A label value's escapes: backslash, double quote and line feed. */
    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
