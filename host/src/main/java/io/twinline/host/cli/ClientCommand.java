package io.twinline.host.cli;

import static io.twinline.host.cli.TwinlineCommand.seconds;

import io.twinline.api.Limits;
import io.twinline.api.RecoveryPolicy;
import io.twinline.api.Session;
import io.twinline.api.SessionState;
import io.twinline.api.Twinline;
import io.twinline.api.TwinlineClient;
import io.twinline.host.Fault;
import io.twinline.host.HostAccess;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code twinline client}: one session to a {@code twinline server}, the ledger workload over it with a progress
 * line a second, faults injected on request, and a final line. Runs on the command's main thread; a signal's
 * shutdown hook stops it in order ({@link #stopOnSignal}).
 */
final class ClientCommand {
    /**
     * After a signal, how long the client waits for its calls in flight before it closes the session under them: a
     * batch of calls back and a call's answer on a healthy network take far less; a recovery under way may not.
     */
    static final Duration SIGNAL_IN_FLIGHT_WAIT = Duration.ofSeconds(5);
    /** After that, how long the signal waits for the summary line: the close's grace (2 s) and its flush. */
    static final Duration SIGNAL_SUMMARY_WAIT = Duration.ofSeconds(5);

    static final String HELP = """
            usage: twinline client --connect HOST:PORT [--calls 10000] [--seconds S] [--concurrency 16] [--reverse-calls 1000]
                                   [--payload 64] [--faults] [--fault-interval-ms 2000] [--reconnect] [--log-level LEVEL]
                                   [--heartbeat-ms 1000] [--idle-timeout-ms 3000] [--probe-timeout-ms 1000]
                                   [--recovery-time-limit-ms 10000] [--metrics HOST:PORT]
                                   [--max-message-bytes 16777216] [--max-in-flight-bytes 67108864]
                                   [--send-buffer-bytes 131072] [--quiet-heartbeat-ms 10000]
                                   [--tls | --tls-trust FILE] [--tls-server-name NAME]
                                   [--tls-cert FILE --tls-key FILE | --tls-keystore FILE [--tls-keystore-password P]]
                                   [--credential-file FILE]

            Makes N ledger calls to the server from C virtual threads and asks the server for M calls back over
            channel B, then compares both ledgers with what was sent. With --seconds S and no --calls, calls go on
            both ways until S seconds are up. With --faults, this client resets and silences
            its own connections every interval to show recovery on your network. Ends with one line:
              calls=N ok=N failed=0 reverse=M reverse_ok=M ledger=match ...
            Exit 0 only when every call succeeded and both ledgers match. The client's recovery budget
            (idle timeout + probe timeout + recovery time limit) must fit the server's re-attach window.
            --metrics serves this client's counters (GET /metrics, Prometheus text; GET /health) while it runs.
            --max-message-bytes bounds each request and response body, --max-in-flight-bytes the request bytes
            unanswered at once in each direction (calls past it wait; the smaller of the two ends' values applies)
            and the body bytes arriving in chunks at once on each connection to this end, responses included.
            --send-buffer-bytes bounds what the system holds for sending per connection (0: its own sizing), which
            a heartbeat or a small call waits behind on a slow link. A session with no call started, running or
            unanswered for two heartbeats is quiet: it PINGs only every --quiet-heartbeat-ms (0: never quiet).
            TLS 1.3: --tls-trust names a PEM file of the CAs that may sign the server's certificate (--tls alone:
            the JDK's default CAs); the certificate must name the host of --connect, or --tls-server-name. For a
            server that requires client certificates, give this client's certificate chain and PKCS#8 key as PEM
            (--tls-cert, --tls-key) or a PKCS#12 store (--tls-keystore; password from --tls-keystore-password or
            TWINLINE_TLS_KEYSTORE_PASSWORD). --credential-file: a file whose contents (without a final newline) this
            client presents when it opens its session, for a server with --credentials.

            When the session ends (DISCONNECTED: recovery failed, the server is gone; or CLOSED: the server shut
            down), no more calls are made: the client prints its line and exits 1. With --reconnect, a session
            that ends DISCONNECTED is replaced by a new one, dialled again and again with backoff until the server
            answers, and the calls go on on it; the ledgers are then checked on the last session, and calls that
            were in flight when a session was lost count as failed (their outcome is unknown).

            SIGINT (Ctrl-C) or SIGTERM: no new calls; calls in flight get up to 5 s to finish; then the session is
            closed (GOODBYE), the line is printed, and the exit code is 130 (SIGINT) or 143 (SIGTERM).""";

    private ClientCommand() {
    }

    /** Runs {@code twinline client} with the arguments after the command's name. */
    static int run(List<String> argList, PrintStream out, Signals signals) throws Exception {
        Args args = new Args(argList, Set.of("connect", "calls", "seconds", "concurrency", "reverse-calls", "payload",
                "fault-interval-ms", "log-level", "heartbeat-ms", "quiet-heartbeat-ms", "idle-timeout-ms", "probe-timeout-ms",
                "recovery-time-limit-ms", "metrics", "max-message-bytes", "max-in-flight-bytes",
                "send-buffer-bytes", "tls-trust", "tls-cert", "tls-key", "tls-keystore", "tls-keystore-password",
                "tls-server-name", "credential-file"),
                Set.of("faults", "reconnect", "tls"));
        TwinlineCommand.configureLogging(args.text("log-level", "warn"));
        io.twinline.api.Tls tls = TwinlineCommand.tls(args, false);
        String credentialFile = args.text("credential-file", null);
        byte[] credential = credentialFile == null ? new byte[0]
                : CredentialsFile.secret(java.nio.file.Path.of(credentialFile));
        String connect = args.text("connect", null);
        if (connect == null) {
            throw new UsageException("client needs --connect HOST:PORT");
        }
        InetSocketAddress server = Args.hostPort("connect", connect);
        String metricsOption = args.text("metrics", null);
        InetSocketAddress metricsAt = metricsOption == null ? null : Args.hostPort("metrics", metricsOption, 0);
        long seconds = args.number("seconds", 0, 0, 86_400);
        // With --seconds alone, calls go on (both ways) until the time is up; with --calls too, whichever ends first.
        boolean timed = seconds > 0;
        long calls = args.number("calls", timed ? -1 : 10_000, timed ? -1 : 0, Long.MAX_VALUE);
        int concurrency = args.integer("concurrency", 16, 1, 100_000);
        long reverseCalls = args.number("reverse-calls", timed ? -1 : 1_000, timed ? -1 : 0, Integer.MAX_VALUE);
        Limits limits = TwinlineCommand.limits(args);
        int payload = args.integer("payload", 64, 8, limits.maxMessageBytes() - 300);
        long faultIntervalMs = args.number("fault-interval-ms", 2000, 10, 3_600_000);
        boolean reconnect = args.flag("reconnect");
        Ledger ledger = new Ledger();
        long start = System.nanoTime();
        AtomicInteger faults = new AtomicInteger();
        AtomicInteger recovered = new AtomicInteger();
        RecoveryPolicy policy = TwinlineCommand.policy(args);
        Workload.Stop stop = new Workload.Stop();
        AtomicBoolean closing = new AtomicBoolean();
        if (args.flag("faults")) {
            HostAccess.enableFaults(); // connections through a network that can break them
        }
        try (TwinlineClient client = Twinline.client()
                .server(server)
                .recoveryPolicy(policy)
                .limits(limits)
                .reconnectAfterDisconnect(reconnect)
                .tls(tls)
                .credential(credential)
                .handle(Ledger.ADD, ledger.add)
                .handle(Ledger.TOTAL, ledger.total)
                .onStateChange((s, from, to, cause) -> {
                    if (from == SessionState.RECOVERING && to == SessionState.NORMAL) {
                        recovered.incrementAndGet();
                    }
                    out.println(String.format(Locale.ROOT, "%7.1fs  %s  %s -> %s%s", seconds(start), s.id(), from,
                            to, cause == null ? "" : "  (" + cause.getMessage() + ")"));
                    if (to == SessionState.DISCONNECTED && reconnect && !stop.requested()) {
                        out.println(String.format(Locale.ROOT, "%7.1fs  %s  session lost: calls wait for a new "
                                + "session (--reconnect)", seconds(start), s.id()));
                    }
                })
                .connect();
             AutoCloseable metricsEndpoint = metricsAt == null ? null : TwinlineCommand.startEndpoint(
                     "the metrics endpoint", metricsAt, at -> HostAccess.startMetricsEndpoint(client, at))) {
            if (metricsEndpoint != null) {
                out.println(String.format(Locale.ROOT, "%7.1fs  metrics on http://%s/metrics", seconds(start),
                        HostAccess.hostPort(HostAccess.endpointAddress(metricsEndpoint))));
            }
            CountDownLatch summarised = new CountDownLatch(1);
            try (Signals.Registration signal = signals.onSignal("twinline-client-stop",
                    () -> stopOnSignal(client, stop, closing, summarised, out, start))) {
                Workload.Progress progress = new Workload.Progress();
                Thread reporter = Thread.ofVirtual().name("client/progress").start(() -> report(out, start, progress,
                        calls, reverseCalls));
                Thread injector = args.flag("faults")
                        ? Thread.ofVirtual().name("client/faults").start(() -> injectClientFaults(client,
                        faultIntervalMs, faults, recovered, out, start))
                        : null;
                long deadline = timed ? System.nanoTime() + Duration.ofSeconds(seconds).toNanos() : 0;
                Workload.Result result = Workload.run(client, ledger,
                        new Workload.Plan(calls, concurrency, reverseCalls, payload, deadline, reconnect), progress,
                        stop);
                double elapsed = seconds(start);
                Session last = client.session();
                if (last.state().isTerminal() && !closing.get()) {
                    out.println(String.format(Locale.ROOT, "%7.1fs  %s  %s", seconds(start), last.id(),
                            last.state() == SessionState.CLOSED ? "session closed by the server: no more calls"
                                    : reconnect ? "session lost: no new session before the run ended"
                                    : "session lost: no more calls (--reconnect would open a new session)"));
                }
                reporter.interrupt();
                if (injector != null) {
                    injector.interrupt();
                    injector.join();
                }
                reporter.join();
                // GOODBYE before the summary, so that the server has let the session go when the line appears.
                closing.set(true);
                client.close();
                Map<String, Long> metrics = HostAccess.metrics(client);
                out.println(result.summary() + String.format(Locale.ROOT,
                        " faults=%d recoveries=%d%s handled=%d elapsed=%.1fs rate=%.0f/s", faults.get(),
                        metrics.get("recoveries"), reconnect ? " sessions=" + metrics.get("sessions_opened") : "",
                        metrics.get("calls_handled"), elapsed,
                        (result.calls() + result.reverse()) / Math.max(elapsed, 1e-3)));
                if (result.firstError() != null && !result.success()) {
                    out.println("first error: " + result.firstError());
                }
                return stop.requested() ? TwinlineCommand.INTERRUPTED : result.success() ? TwinlineCommand.OK
                        : TwinlineCommand.FAILED;
            } finally {
                summarised.countDown();
            }
        }
    }

    /**
     * SIGINT or SIGTERM, on the JVM's hook thread: no new calls; calls in flight get {@link #SIGNAL_IN_FLIGHT_WAIT}
     * to finish, after which the session is closed under them; the main thread then closes the session (GOODBYE)
     * and prints the summary, which this waits for, so that the JVM exits only after it.
     */
    private static void stopOnSignal(TwinlineClient client, Workload.Stop stop, AtomicBoolean closing,
                                     CountDownLatch summarised, PrintStream out, long start) {
        out.println(String.format(Locale.ROOT, "%7.1fs  signal received: no new calls; calls in flight finish, "
                + "then GOODBYE", seconds(start)));
        stop.request();
        try {
            if (!summarised.await(SIGNAL_IN_FLIGHT_WAIT.toNanos(), TimeUnit.NANOSECONDS)) {
                out.println(String.format(Locale.ROOT, "%7.1fs  calls still in flight after %s: closing the session "
                        + "under them", seconds(start), SIGNAL_IN_FLIGHT_WAIT));
                closing.set(true);
                client.close();
                summarised.await(SIGNAL_SUMMARY_WAIT.toNanos(), TimeUnit.NANOSECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** "done/total", or just "done" for a run bounded by time only (total -1). */
    private static String ofTotal(long done, long total) {
        return total < 0 ? Long.toString(done) : done + "/" + total;
    }

    private static void report(PrintStream out, long start, Workload.Progress progress, long calls, long reverse) {
        try {
            Thread.sleep(2000);
            while (true) {
                out.println(String.format(Locale.ROOT, "%7.1fs  calls %s  reverse %s  failed %d",
                        seconds(start), ofTotal(progress.ok.sum(), calls),
                        ofTotal(progress.reverseOk.sum(), reverse),
                        progress.failed.sum() + progress.reverseFailed.sum()));
                Thread.sleep(1000);
            }
        } catch (InterruptedException e) {
            // the run is over
        }
    }

    /**
     * One fault per interval, each only after the previous one was recovered: a second fault on top of an
     * undetected first one (a silent channel takes seconds to notice) may, by the patent's rule, end the session.
     */
    private static void injectClientFaults(TwinlineClient client, long intervalMs, AtomicInteger count,
                                           AtomicInteger recovered, PrintStream out, long start) {
        Fault[] cycle = {Fault.RESET_A, Fault.RESET_B, Fault.SILENT_B, Fault.HALF_OPEN_A};
        int next = 0;
        try {
            while (true) {
                Thread.sleep(intervalMs);
                Session session = client.session();
                if (session.state() != SessionState.NORMAL) {
                    continue;
                }
                Fault fault = cycle[next++ % cycle.length];
                int before = recovered.get();
                if (HostAccess.inject(session, fault)) {
                    count.incrementAndGet();
                    out.println(String.format(Locale.ROOT, "%7.1fs  %s  fault injected: %s", seconds(start),
                            session.id(), fault));
                    while (recovered.get() == before && !session.state().isTerminal()) {
                        Thread.sleep(10);
                    }
                }
            }
        } catch (InterruptedException e) {
            // the run is over
        }
    }
}
