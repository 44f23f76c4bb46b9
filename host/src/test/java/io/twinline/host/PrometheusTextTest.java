package io.twinline.host;

import static io.twinline.host.Testing.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Prometheus text format as the endpoint writes it, read back by a strict reader of the 0.0.4 rules this class
 * checks: every sample belongs to a family declared once with HELP and TYPE before it; counters end in
 * {@code _total}; a histogram's buckets are cumulative and end with {@code le="+Inf"} equal to its count; no
 * sample repeats. (CI also runs {@code promtool check metrics} on a live server's output.)
 */
@Timeout(60)
class PrometheusTextTest {
    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{((?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\",?)*)})? "
                    + "(-?[0-9][0-9.eE+-]*|\\+Inf|NaN)");

    @Test
    void aLiveServersExpositionFollowsTheFormat() throws Exception {
        try (TwinlineServer server = Testing.server().start();
             TwinlineClient client = Testing.client(server).connect()) {
            for (int i = 0; i < 10; i++) {
                client.call("echo", utf8("x" + i));
            }
            Testing.serverSide(server, client.session()).call("echo", utf8("back"));
            String text = PrometheusText.format(server.metrics(), "server", "1.2.3", true);
            Map<String, Double> samples = check(text);
            assertEquals(10.0, samples.get("twinline_calls_total{direction=\"handled\",outcome=\"ok\"}"));
            assertEquals(1.0, samples.get("twinline_calls_total{direction=\"made\",outcome=\"ok\"}"));
            assertEquals(1.0, samples.get("twinline_call_duration_seconds_count"));
            assertEquals(1.0, samples.get("twinline_sessions{state=\"normal\"}"));
            assertEquals(1.0, samples.get("twinline_info{role=\"server\",version=\"1.2.3\"}"));
            assertTrue(samples.get("twinline_received_bytes_total") > 0);
        }
    }

    /**
     * The process's local health follows the format too: its score and lateness as gauges, its stalls as a counter,
     * and for a client its re-attach dials; a server, which never dials, shows no dials.
     */
    @Test
    void theLocalHealthFamiliesFollowTheFormat() throws Exception {
        Metrics.Health health = new Metrics.Health(2, 350_000_000L, 7, 3, 1);
        try (TwinlineServer server = Testing.server().start();
             TwinlineClient client = Testing.client(server).connect()) {
            Map<String, Double> client_ = check(PrometheusText.format(client.metrics(), "client", "1.2.3", null,
                    health));
            assertEquals(2.0, client_.get("twinline_local_health_score"));
            assertEquals(0.35, client_.get("twinline_local_lag_seconds"));
            assertEquals(7.0, client_.get("twinline_local_stalls_total"));
            assertEquals(3.0, client_.get("twinline_reattach_dials_waiting"));
            assertEquals(1.0, client_.get("twinline_reattach_dials_refused_total"));
            Map<String, Double> server_ = check(PrometheusText.format(server.metrics(), "server", "1.2.3", true,
                    health));
            assertEquals(2.0, server_.get("twinline_local_health_score"));
            assertTrue(server_.keySet().stream().noneMatch(k -> k.startsWith("twinline_reattach")), server_.keySet()
                    .toString());
        }
    }

    @Test
    void theReaderCatchesWhatTheFormatForbids() {
        assertRejected("# HELP x_total a\n# TYPE x_total counter\nx_total 1\nx_total 2\n", "repeated");
        assertRejected("x_total 1\n", "before its TYPE");
        assertRejected("# HELP x a\n# TYPE x counter\nx 1\n", "_total");
        assertRejected("# HELP h a\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
                + "h_sum 1\nh_count 1\n", "cumulative");
    }

    private static void assertRejected(String text, String why) {
        try {
            check(text);
        } catch (AssertionError e) {
            assertTrue(e.getMessage().contains(why), e.getMessage());
            return;
        }
        fail("accepted: " + text);
    }

    /** Reads {@code text} strictly; returns each sample by name and labels. */
    static Map<String, Double> check(String text) {
        Map<String, String> types = new HashMap<>();
        Set<String> helped = new HashSet<>();
        Map<String, Double> samples = new HashMap<>();
        Map<String, Double> lastBucket = new HashMap<>();
        assertTrue(text.endsWith("\n"), "ends with a line feed");
        for (String line : text.split("\n")) {
            if (line.startsWith("# HELP ")) {
                String name = line.substring(7).split(" ", 2)[0];
                if (!helped.add(name)) {
                    fail("HELP of " + name + " repeated");
                }
                continue;
            }
            if (line.startsWith("# TYPE ")) {
                String[] parts = line.substring(7).split(" ");
                if (types.put(parts[0], parts[1]) != null) {
                    fail("TYPE of " + parts[0] + " repeated");
                }
                if (parts[1].equals("counter") && !parts[0].endsWith("_total")) {
                    fail("counter " + parts[0] + " does not end in _total");
                }
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) {
                fail("not a sample line: " + line);
            }
            String name = m.group(1);
            String family = types.containsKey(name) ? name : name.replaceAll("_(bucket|sum|count)$", "");
            String type = types.get(family);
            if (type == null || !helped.contains(family)) {
                fail(name + " sampled before its TYPE and HELP");
            }
            if (!family.equals(name) && !type.equals("histogram")) {
                fail(name + " has a histogram suffix but " + family + " is a " + type);
            }
            String key = name + (m.group(2) == null ? "" : m.group(2));
            double value = Double.parseDouble(m.group(4).replace("+Inf", "Infinity"));
            if (samples.put(key, value) != null) {
                fail("sample " + key + " repeated");
            }
            if (name.endsWith("_bucket")) {
                Double before = lastBucket.put(family, value);
                if (before != null && value < before) {
                    fail(family + " buckets not cumulative at " + key);
                }
                if (key.contains("le=\"+Inf\"")) {
                    lastBucket.remove(family);
                }
            }
            if (name.endsWith("_count") && type.equals("histogram")) {
                Double inf = samples.get(family + "_bucket{le=\"+Inf\"}");
                if (inf == null || inf != value) {
                    fail(family + "_count " + value + " differs from its +Inf bucket " + inf);
                }
            }
        }
        return samples;
    }
}
