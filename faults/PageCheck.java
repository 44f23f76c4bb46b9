import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Drives the server's status page in headless Chromium over the Chrome DevTools Protocol and checks what its DOM
 * shows while a real fault is injected: run by {@code faults/page.sh}, which starts the server and the clients.
 * Uses only the JDK ({@code java.net.http.WebSocket}, a small JSON reader below); runs with the source launcher:
 *
 * <pre>java faults/PageCheck.java --url http://127.0.0.1:7431/ --fault 'ss -K ... sport = :{port}' [options]</pre>
 *
 * <p>Checks, each waiting a bounded time and never asserting how long anything took:
 * <ol>
 * <li>{@code live}: a session shows both channels NORMAL, and {@code #updated} advances twice;
 * <li>{@code fault}: after the {@code --fault} command ({@code {port}} is channel A's client port of that session,
 *     read from the page, {@code {session}} its id), {@code #recent} gets a new entry for that session going to
 *     RECOVERING, or its channel A cell shows RECOVERING. The server's transitions are its sessions', each naming
 *     the channel being recovered, or none when both are: an entry naming channel B does not count;
 * <li>{@code recovery}: {@code #recent} gets that session's RECOVERING to NORMAL (again naming A or no channel),
 *     its channel A cell shows NORMAL again, and the chart's recovery count rose;
 * <li>{@code updating}: {@code #updated} advances three more times, no poll error is shown and the page threw no
 *     script error;
 * <li>{@code server gone} (with {@code --stop}): after the stop command the page says that polling fails.
 * </ol>
 * A page that stops polling fails the first four. The screenshot is taken after the fourth. Prints one line per
 * check and a verdict {@code page: N passed, M failed}; exits 1 if any failed, 2 on a usage error.
 */
public final class PageCheck {
    private static final Duration CONNECT_WAIT = Duration.ofSeconds(60);   // Chromium's start and the clients' HELLO
    private static final Duration FAULT_WAIT = Duration.ofSeconds(20);     // the bound for a fault to show
    private static final Duration UPDATE_WAIT = Duration.ofSeconds(15);    // polls are about 1 s apart
    private static final long SAMPLE_MS = 100;                             // DOM reads while waiting

    /** Reads the page's stable hooks (see the comment at the top of status-page.html) as one JSON string. */
    private static final String SNAPSHOT_JS = """
            (() => {
              const q = (s) => [...document.querySelectorAll(s)];
              const u = document.getElementById("updated");
              const c = document.getElementById("chart");
              const err = document.getElementById("poll-error");
              return JSON.stringify({
                poll: document.body ? (document.body.dataset.poll || "") : "",
                error: err && !err.hidden ? err.textContent : "",
                updated: u ? Number(u.dataset.updatedMs || 0) : 0,
                recoveries: c ? Number(c.dataset.recoveries || 0) : 0,
                channels: q("td[data-session][data-channel]").map((e) => ({session: e.dataset.session,
                  channel: e.dataset.channel, state: e.dataset.state || "", peer: e.dataset.peer || ""})),
                recent: q("#recent li[data-session]").map((e) => ({session: e.dataset.session,
                  channel: e.dataset.channel || "", from: e.dataset.from || "", to: e.dataset.to || "",
                  at: e.dataset.atMs || ""}))
              });
            })()""";

    record Channel(String session, String channel, String state, String peer) {}

    record Transition(String session, String channel, String from, String to, String at) {}

    record Snapshot(String poll, String error, long updatedMs, long recoveries, List<Channel> channels,
                    List<Transition> recent) {
        Optional<Channel> channel(String session, String name) {
            return channels.stream().filter(c -> c.session.equals(session) && c.channel.equals(name)).findFirst();
        }
    }

    private final Map<String, String> options;
    private final List<String> results = new ArrayList<>();
    private int passed;
    private int failed;

    private PageCheck(Map<String, String> options) {
        this.options = options;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 == args.length) {
                System.err.println("usage: java PageCheck.java --url URL --fault CMD [--stop CMD] [--screenshot PNG]"
                        + " [--chromium PATH] [--log FILE]");
                System.exit(2);
            }
            options.put(args[i].substring(2), args[++i]);
        }
        if (!options.containsKey("url") || !options.containsKey("fault")) {
            System.err.println("page: --url and --fault are required");
            System.exit(2);
        }
        System.exit(new PageCheck(options).run());
    }

    private int run() throws Exception {
        Path profile = Files.createTempDirectory("twinline-page-chromium-");
        Path log = options.containsKey("log") ? Path.of(options.get("log"))
                : Files.createTempFile("twinline-page-chromium-", ".log");
        List<String> command = List.of(options.getOrDefault("chromium", "chromium"),
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
                "--user-data-dir=" + profile, "--remote-debugging-port=0", "about:blank");
        Process chromium = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        Thread stopper = new Thread(() -> stop(chromium, profile));
        Runtime.getRuntime().addShutdownHook(stopper);
        try (Cdp cdp = Cdp.connect(chromium, profile, log)) {
            checkPage(cdp);
        } catch (IOException | RuntimeException e) {
            fail("driver", e.toString());
        } finally {
            stop(chromium, profile);
            Runtime.getRuntime().removeShutdownHook(stopper);
        }
        results.forEach(System.out::println);
        System.out.println("page: " + passed + " passed, " + failed + " failed");
        return failed == 0 && passed > 0 ? 0 : 1;
    }

    private void checkPage(Cdp cdp) throws Exception {
        cdp.call("Runtime.enable", "{}");
        cdp.call("Emulation.setDeviceMetricsOverride",
                "{\"width\":1200,\"height\":800,\"deviceScaleFactor\":1,\"mobile\":false}");
        cdp.call("Page.navigate", "{\"url\":" + Json.quote(options.get("url")) + "}");

        // 1. live: a session with both channels NORMAL, and the page polling.
        Optional<Snapshot> ready = await(cdp, CONNECT_WAIT, s -> normalSession(s).isPresent());
        if (ready.isEmpty()) {
            Snapshot s = snapshot(cdp);
            fail("live", "no session with both channels NORMAL within " + CONNECT_WAIT.toSeconds() + " s; page shows "
                    + s.channels.size() + " channel cells, poll=" + s.poll + " " + s.error);
            fail("fault", "not run: no session to fault");
            fail("recovery", "not run");
            fail("updating", "not run");
            cdp.screenshot(options.get("screenshot"));
            return;
        }
        Channel a = normalSession(ready.get()).orElseThrow();
        String session = a.session;
        int advances = countAdvances(cdp, 2);
        if (advances >= 2) {
            pass("live", session + " has both channels NORMAL; #updated advanced " + advances + " times");
        } else {
            fail("live", session + " has both channels NORMAL, but #updated advanced only " + advances + " times in "
                    + UPDATE_WAIT.toSeconds() + " s");
        }

        // 2. fault: a real fault on channel A, seen as a transition to RECOVERING.
        Snapshot before = snapshot(cdp);
        Set<Transition> seen = new HashSet<>(before.recent);
        String port = a.peer.substring(a.peer.lastIndexOf(':') + 1);
        String fault = options.get("fault").replace("{port}", port).replace("{session}", session);
        System.out.println("page: fault on " + session + "/A (client port " + port + "): " + fault);
        runCommand(fault);
        boolean[] cellRecovering = {false};
        Predicate<Snapshot> recoveringSeen = s -> {
            if (s.channel(session, "A").map(c -> c.state.equals("RECOVERING")).orElse(false)) {
                cellRecovering[0] = true;
            }
            return cellRecovering[0] || fresh(s, seen, session, t -> t.to.equals("RECOVERING"));
        };
        Optional<Snapshot> faulted = await(cdp, FAULT_WAIT, recoveringSeen);
        if (faulted.isPresent()) {
            Optional<Transition> t = freshOne(faulted.get(), seen, session, x -> x.to.equals("RECOVERING"));
            pass("fault", t.map(x -> "#recent: " + who(x) + " " + x.from + " -> RECOVERING").orElse("")
                    + (cellRecovering[0] ? (t.isPresent() ? "; " : "") + "channel A cell showed RECOVERING" : ""));
        } else {
            fail("fault", "no RECOVERING for " + session + "/A within " + FAULT_WAIT.toSeconds() + " s; #recent: "
                    + snapshot(cdp).recent.stream().limit(5).toList());
        }

        // 3. recovery: back to NORMAL, recorded in #recent and counted on the chart.
        Predicate<Snapshot> recovered = s -> fresh(s, seen, session,
                t -> t.from.equals("RECOVERING") && t.to.equals("NORMAL"))
                && s.channel(session, "A").map(c -> c.state.equals("NORMAL")).orElse(false)
                && s.recoveries > before.recoveries;
        Optional<Snapshot> back = await(cdp, FAULT_WAIT, recovered);
        if (back.isPresent()) {
            Channel now = back.get().channel(session, "A").orElseThrow();
            Transition t = freshOne(back.get(), seen, session, x -> x.from.equals("RECOVERING")).orElseThrow();
            pass("recovery", "#recent: " + who(t) + " RECOVERING -> NORMAL; channel A NORMAL"
                    + (now.peer.equals(a.peer) ? "" : " (peer " + a.peer + " -> " + now.peer + ")")
                    + "; chart recoveries " + before.recoveries + " -> " + back.get().recoveries);
        } else {
            Snapshot s = snapshot(cdp);
            fail("recovery", "within " + FAULT_WAIT.toSeconds() + " s: RECOVERING -> NORMAL in #recent "
                    + fresh(s, seen, session, t -> t.from.equals("RECOVERING") && t.to.equals("NORMAL"))
                    + ", channel A " + s.channel(session, "A").map(Channel::state).orElse("absent")
                    + ", chart recoveries " + before.recoveries + " -> " + s.recoveries);
        }

        // 4. updating: the page goes on polling after the recovery.
        advances = countAdvances(cdp, 3);
        Snapshot after = snapshot(cdp);
        if (advances >= 3 && after.poll.equals("ok") && cdp.exceptions.isEmpty()) {
            pass("updating", "#updated advanced " + advances + " more times; no poll error, no script error");
        } else {
            fail("updating", "#updated advanced " + advances + " times in " + UPDATE_WAIT.toSeconds() + " s; poll="
                    + after.poll + " " + after.error + "; script errors: " + cdp.exceptions);
        }
        cdp.screenshot(options.get("screenshot"));

        // 5. server gone: the page says so.
        String stop = options.get("stop");
        if (stop != null) {
            runCommand(stop);
            Optional<Snapshot> failing = await(cdp, UPDATE_WAIT, s -> s.poll.equals("failing") && !s.error.isEmpty());
            if (failing.isPresent()) {
                pass("server gone", "page shows: " + failing.get().error.strip());
            } else {
                fail("server gone", "no poll failure shown within " + UPDATE_WAIT.toSeconds() + " s after: " + stop);
            }
        }
    }

    private static Optional<Channel> normalSession(Snapshot s) {
        return s.channels.stream()
                .filter(c -> c.channel.equals("A") && c.state.equals("NORMAL") && c.peer.contains(":"))
                .filter(c -> s.channel(c.session, "B").map(b -> b.state.equals("NORMAL")).orElse(false))
                .findFirst();
    }

    private static boolean fresh(Snapshot s, Set<Transition> seen, String session, Predicate<Transition> what) {
        return freshOne(s, seen, session, what).isPresent();
    }

    /** A transition of {@code session}, for channel A or no channel, that was not on the page before the fault. */
    private static Optional<Transition> freshOne(Snapshot s, Set<Transition> seen, String session,
                                                 Predicate<Transition> what) {
        return s.recent.stream().filter(t -> !seen.contains(t) && t.session.equals(session))
                .filter(t -> t.channel.equals("A") || t.channel.isEmpty())
                .filter(what).min(Comparator.comparing(Transition::at));
    }

    private static String who(Transition t) {
        return t.session + (t.channel.isEmpty() ? " (no channel named)" : "/" + t.channel);
    }

    /** How many times {@code #updated} changed, up to {@code wanted}, within {@link #UPDATE_WAIT}. */
    private int countAdvances(Cdp cdp, int wanted) throws Exception {
        long last = snapshot(cdp).updatedMs;
        int advances = 0;
        long deadlineNs = System.nanoTime() + UPDATE_WAIT.toNanos();
        while (advances < wanted && System.nanoTime() < deadlineNs) {
            Thread.sleep(SAMPLE_MS);
            long now = snapshot(cdp).updatedMs;
            if (now > last) {
                advances++;
                last = now;
            }
        }
        return advances;
    }

    private Optional<Snapshot> await(Cdp cdp, Duration bound, Predicate<Snapshot> condition) throws Exception {
        long deadlineNs = System.nanoTime() + bound.toNanos();
        while (true) {
            Snapshot s = snapshot(cdp);
            if (condition.test(s)) {
                return Optional.of(s);
            }
            if (System.nanoTime() >= deadlineNs) {
                return Optional.empty();
            }
            Thread.sleep(SAMPLE_MS);
        }
    }

    /** The page's hooks now; an empty snapshot while the page is loading (no document or no script yet). */
    private static Snapshot snapshot(Cdp cdp) throws Exception {
        Map<String, Object> result;
        try {
            result = cdp.call("Runtime.evaluate",
                    "{\"expression\":" + Json.quote(SNAPSHOT_JS) + ",\"returnByValue\":true}");
        } catch (IOException e) { // no execution context while navigating
            return new Snapshot("", "", 0, 0, List.of(), List.of());
        }
        Object value = Json.path(result, "result", "value");
        if (!(value instanceof String text) || result.containsKey("exceptionDetails")) {
            return new Snapshot("", "", 0, 0, List.of(), List.of());
        }
        Map<String, Object> m = Json.object(Json.parse(text));
        List<Channel> channels = Json.list(m.get("channels")).stream().map(Json::object)
                .map(c -> new Channel(str(c, "session"), str(c, "channel"), str(c, "state"), str(c, "peer"))).toList();
        List<Transition> recent = Json.list(m.get("recent")).stream().map(Json::object)
                .map(t -> new Transition(str(t, "session"), str(t, "channel"), str(t, "from"), str(t, "to"),
                        str(t, "at"))).toList();
        return new Snapshot(str(m, "poll"), str(m, "error"), ((Number) m.get("updated")).longValue(),
                ((Number) m.get("recoveries")).longValue(), channels, recent);
    }

    private static String str(Map<String, Object> m, String key) {
        Object v = m.get(key);
        return v == null ? "" : v.toString();
    }

    /** Runs a fault or stop command for at most 10 s and prints its exit status and output on one line. */
    private static void runCommand(String command) throws IOException, InterruptedException {
        Path output = Files.createTempFile("twinline-page-command-", ".txt");
        try {
            Process p = new ProcessBuilder("bash", "-c", command).redirectErrorStream(true)
                    .redirectOutput(output.toFile()).start();
            String exit = p.waitFor(10, TimeUnit.SECONDS) ? "exit " + p.exitValue()
                    : "still running after 10 s, killed";
            p.destroyForcibly();
            String text = Files.readString(output, StandardCharsets.UTF_8).strip().replaceAll("\\s+", " ");
            System.out.println("page:   " + exit + (text.isEmpty() ? "" : ": " + text));
        } finally {
            Files.deleteIfExists(output);
        }
    }

    private void pass(String check, String detail) {
        passed++;
        results.add("page: PASS " + check + ": " + detail);
    }

    private void fail(String check, String detail) {
        failed++;
        results.add("page: FAIL " + check + ": " + detail);
    }

    /** Ends Chromium and its helpers (renderer, GPU, zygote), then removes the throw-away profile. */
    private static void stop(Process chromium, Path profile) {
        List<ProcessHandle> all = Stream.concat(chromium.descendants(), Stream.of(chromium.toHandle())).toList();
        all.forEach(ProcessHandle::destroy);
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                h.destroyForcibly();
            }
        }
        try (Stream<Path> files = Files.walk(profile)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // a profile left in /tmp is harmless
        }
    }

    /** One page target's DevTools connection: numbered calls, each answered by the reply with its id. */
    static final class Cdp implements WebSocket.Listener, AutoCloseable {
        private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
        private final Map<Integer, CompletableFuture<Map<String, Object>>> pending = new ConcurrentHashMap<>();
        private final AtomicInteger ids = new AtomicInteger();
        private final StringBuilder partial = new StringBuilder();
        final List<String> exceptions = new CopyOnWriteArrayList<>();
        private WebSocket socket;

        static Cdp connect(Process chromium, Path profile, Path log) throws Exception {
            Path portFile = profile.resolve("DevToolsActivePort");
            long deadlineNs = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!Files.exists(portFile) || Files.readAllLines(portFile).isEmpty()) {
                if (!chromium.isAlive() || System.nanoTime() > deadlineNs) {
                    throw new IOException("chromium did not open DevTools (" + (chromium.isAlive() ? "no port file"
                            : "exit " + chromium.exitValue()) + "); its output is in " + log);
                }
                Thread.sleep(100);
            }
            String port = Files.readAllLines(portFile).get(0).strip();
            HttpClient http = HttpClient.newHttpClient();
            String targets = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
                    .build(), HttpResponse.BodyHandlers.ofString()).body();
            String ws = Json.list(Json.parse(targets)).stream().map(Json::object)
                    .filter(t -> "page".equals(t.get("type"))).map(t -> (String) t.get("webSocketDebuggerUrl"))
                    .findFirst().orElseThrow(() -> new IOException("no page target: " + targets));
            Cdp cdp = new Cdp();
            cdp.socket = http.newWebSocketBuilder().buildAsync(URI.create(ws), cdp).get(10, TimeUnit.SECONDS);
            return cdp;
        }

        Map<String, Object> call(String method, String paramsJson) throws Exception {
            int id = ids.incrementAndGet();
            CompletableFuture<Map<String, Object>> reply = new CompletableFuture<>();
            pending.put(id, reply);
            socket.sendText("{\"id\":" + id + ",\"method\":" + Json.quote(method) + ",\"params\":" + paramsJson + "}",
                    true).get(10, TimeUnit.SECONDS);
            Map<String, Object> m = reply.get(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            if (m.containsKey("error")) {
                throw new IOException(method + " failed: " + m.get("error"));
            }
            return Json.object(m.getOrDefault("result", Map.of()));
        }

        /** A PNG of the 1200 x 800 viewport; nothing without a path. */
        void screenshot(String path) throws Exception {
            if (path == null) {
                return;
            }
            Map<String, Object> r = call("Page.captureScreenshot", "{\"format\":\"png\"}");
            Path file = Path.of(path);
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            Files.write(file, Base64.getDecoder().decode((String) r.get("data")));
            System.out.println("page: screenshot " + file + " (" + Files.size(file) / 1024 + " KiB)");
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                Map<String, Object> m = Json.object(Json.parse(partial.toString()));
                partial.setLength(0);
                if (m.get("id") instanceof Number id) {
                    Optional.ofNullable(pending.remove(id.intValue())).ifPresent(f -> f.complete(m));
                } else if ("Runtime.exceptionThrown".equals(m.get("method"))) {
                    Object text = Json.path(Json.object(m.get("params")), "exceptionDetails", "exception",
                            "description");
                    System.out.println("page: script error in the page: " + text);
                    exceptions.add(String.valueOf(text));
                }
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            pending.values().forEach(f -> f.completeExceptionally(error));
        }

        @Override
        public void close() {
            if (socket != null) {
                socket.abort();
            }
        }
    }

    /** Just enough JSON: objects, arrays, strings, numbers, true, false, null. */
    static final class Json {
        private final String s;
        private int i;

        private Json(String s) {
            this.s = s;
        }

        static Object parse(String text) {
            Json j = new Json(text);
            Object v = j.value();
            j.space();
            if (j.i != text.length()) {
                throw new IllegalArgumentException("trailing text at " + j.i);
            }
            return v;
        }

        @SuppressWarnings("unchecked")
        static Map<String, Object> object(Object o) {
            return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
        }

        static List<Object> list(Object o) {
            return o instanceof List<?> l ? new ArrayList<>(l) : List.of();
        }

        static Object path(Map<String, Object> m, String... keys) {
            Object o = m;
            for (String k : keys) {
                o = object(o).get(k);
            }
            return o;
        }

        static String quote(String text) {
            StringBuilder b = new StringBuilder(text.length() + 2).append('"');
            for (char c : text.toCharArray()) {
                switch (c) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    case '\n' -> b.append("\\n");
                    case '\r' -> b.append("\\r");
                    case '\t' -> b.append("\\t");
                    default -> {
                        if (c < 0x20) {
                            b.append(String.format("\\u%04x", (int) c));
                        } else {
                            b.append(c);
                        }
                    }
                }
            }
            return b.append('"').toString();
        }

        private void space() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private Object value() {
            space();
            char c = s.charAt(i);
            switch (c) {
                case '{' -> {
                    i++;
                    Map<String, Object> m = new LinkedHashMap<>();
                    space();
                    if (s.charAt(i) == '}') {
                        i++;
                        return m;
                    }
                    while (true) {
                        space();
                        String key = string();
                        space();
                        expect(':');
                        m.put(key, value());
                        space();
                        if (s.charAt(i++) == '}') {
                            return m;
                        }
                    }
                }
                case '[' -> {
                    i++;
                    List<Object> l = new ArrayList<>();
                    space();
                    if (s.charAt(i) == ']') {
                        i++;
                        return l;
                    }
                    while (true) {
                        l.add(value());
                        space();
                        if (s.charAt(i++) == ']') {
                            return l;
                        }
                    }
                }
                case '"' -> {
                    return string();
                }
                default -> {
                    if (s.startsWith("true", i)) {
                        i += 4;
                        return Boolean.TRUE;
                    }
                    if (s.startsWith("false", i)) {
                        i += 5;
                        return Boolean.FALSE;
                    }
                    if (s.startsWith("null", i)) {
                        i += 4;
                        return null;
                    }
                    int start = i;
                    while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                        i++;
                    }
                    String n = s.substring(start, i);
                    if (n.isEmpty()) {
                        throw new IllegalArgumentException("unexpected '" + c + "' at " + start);
                    }
                    return n.matches("-?\\d+") ? (Object) Long.parseLong(n) : (Object) Double.parseDouble(n);
                }
            }
        }

        private void expect(char c) {
            if (s.charAt(i++) != c) {
                throw new IllegalArgumentException("expected '" + c + "' at " + (i - 1));
            }
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return b.toString();
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    case 'r' -> b.append('\r');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'u' -> {
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> b.append(e);
                }
            }
        }
    }
}
