package io.twinline.host;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** Counters of one server or client runtime, published on the status endpoint. Thread-safe. */
final class Metrics {
    final LongAdder sessionsOpened = new LongAdder();
    final LongAdder sessionsDisconnected = new LongAdder();
    final LongAdder sessionsClosed = new LongAdder();
    final LongAdder channelFailures = new LongAdder();
    final LongAdder recoveries = new LongAdder();
    final LongAdder reattaches = new LongAdder();
    final LongAdder malformedFrames = new LongAdder();
    final LongAdder handshakesRejected = new LongAdder();
    final LongAdder callsHandled = new LongAdder();
    final LongAdder duplicatesSuppressed = new LongAdder();

    Map<String, Long> snapshot() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("sessions_opened", sessionsOpened.sum());
        m.put("sessions_disconnected", sessionsDisconnected.sum());
        m.put("sessions_closed", sessionsClosed.sum());
        m.put("channel_failures", channelFailures.sum());
        m.put("recoveries", recoveries.sum());
        m.put("reattaches", reattaches.sum());
        m.put("malformed_frames", malformedFrames.sum());
        m.put("handshakes_rejected", handshakesRejected.sum());
        m.put("calls_handled", callsHandled.sum());
        m.put("duplicates_suppressed", duplicatesSuppressed.sum());
        return m;
    }
}
