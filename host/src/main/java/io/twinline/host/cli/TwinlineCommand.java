package io.twinline.host.cli;

import io.twinline.api.Limits;
import io.twinline.api.RecoveryPolicy;
import io.twinline.api.Session;
import io.twinline.api.SessionState;
import io.twinline.api.Tls;
import io.twinline.api.Twinline;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineException;
import io.twinline.api.TwinlineServer;
import io.twinline.host.Fault;
import io.twinline.host.HostAccess;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.lang.module.ModuleDescriptor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@code twinline} command: {@code server}, {@code client} and {@code demo}. Exit codes: 0 success, 1 failure,
 * 2 usage error (with a one-line reason); after SIGINT or SIGTERM the JVM exits with 130 or 143.
 */
public final class TwinlineCommand {
    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;
    /** What {@link #run} returns after a signal ended the client; the process itself exits with 128 + the signal. */
    static final int INTERRUPTED = 130;

    private static final String USAGE_TEXT = """
            usage: twinline <command> [options]

            commands:
              demo     a server and a few clients in this process, calls both ways, faults injected; ends with a verdict
              server   serve the ledger until SIGINT/SIGTERM
              client   run ledger calls against a server and check both totals
              certs    make a throwaway CA and certificates for trying TLS

            'twinline <command> --help' shows a command's options; 'twinline --version' shows the version.""";

    private static final String SERVER_HELP = """
            usage: twinline server [--bind ADDR] [--port 7420] [--advertise HOST:PORT] [--status HOST:PORT|off]
                                   [--drain-ms 0] [--log-level LEVEL] [--heartbeat-ms 1000] [--idle-timeout-ms 3000]
                                   [--probe-timeout-ms 1000] [--reattach-window-ms 20000] [--max-sessions 10000]
                                   [--max-message-bytes 16777216] [--max-in-flight-bytes 67108864]
                                   [--send-buffer-bytes 131072] [--quiet-heartbeat-ms 10000]
                                   [--tls-cert FILE --tls-key FILE | --tls-keystore FILE [--tls-keystore-password P]]
                                   [--tls-client-ca FILE] [--credentials FILE]
                                   [--max-handshakes 1024] [--max-handshakes-per-address 256]

            Serves the ledger (routes add, total, reverse) until SIGINT or SIGTERM, then closes every session with
            GOODBYE. The status endpoint (GET / the live page, /status, /metrics, /health, /ready) listens on
            127.0.0.1:7421 unless told otherwise. On a signal /ready turns 503 at once; with --drain-ms the server
            goes on serving that long (so a balancer stops sending new sessions) before it closes.
            --advertise tells clients where to send every ATTACH (channel B, and every re-attach) instead of the
            address they dialled. A session with no call started, running or unanswered for two heartbeats is
            quiet: it PINGs only every --quiet-heartbeat-ms (0: never quiet), and a call wakes it at once.
            TLS 1.3 on every connection: the server's certificate chain and unencrypted PKCS#8 key as PEM files
            (--tls-cert, --tls-key), or a PKCS#12 store (--tls-keystore; its password from --tls-keystore-password or
            the environment variable TWINLINE_TLS_KEYSTORE_PASSWORD). --tls-client-ca requires every client to show
            a certificate signed by a CA in that PEM file (mutual TLS); each session is then bound to its
            certificate. --credentials names a file of lines 'NAME SECRET': a client must present one SECRET
            (twinline client --credential-file) and its session's principal is that NAME; others are refused
            UNAUTHORIZED. Use it with TLS, or the secrets cross the network in clear. Past --max-handshakes
            connections whose first frame is not yet answered (or --max-handshakes-per-address from one address),
            a new connection is reset at once and counted.""";

    private static final String DEMO_HELP = """
            usage: twinline demo [--seconds 8] [--clients 3] [--concurrency 16] [--no-faults] [--tls] [--log-level LEVEL]

            Runs a server and a few clients in this process on loopback, calls flowing both ways, and injects faults
            (connection resets on both sides and both channels, a silent channel, a half-open channel), showing every
            state change live. Ends with the same verdict line as 'twinline client'. With --tls, every connection
            runs TLS 1.3 with mutual authentication, on a throwaway CA and certificates made for the run (with the
            runtime's keytool) in a temporary directory that is deleted at the end.""";

    private static final String CERTS_HELP = """
            usage: twinline certs --dir DIR [--host localhost]

            Makes a throwaway CA and two certificates it signs, for trying TLS (not for production: the keys sit in
            DIR and every store's password is twinline-throwaway): DIR/ca.pem (the CA, to trust), DIR/server.p12
            (for --host, 127.0.0.1 and ::1) and DIR/client.p12 (a client certificate for mutual TLS). Prints the
            server and client commands that use them.""";

    private TwinlineCommand() {
    }

    public static void main(String[] args) {
        // After a signal this exit waits for the shutdown hooks, and the JVM exits with 128 + the signal instead.
        System.exit(run(Arrays.asList(args), System.out, System.err, Signals.JVM));
    }

    static int run(List<String> args, PrintStream out, PrintStream err, Signals signals) {
        // Until a command sets its --log-level: without it, the JDK's own DEBUG line for Runtime.exit (JDK 25) reached
        // stderr after --version and --help.
        TinylogSetup.configure("warn");
        if (args.isEmpty() || args.get(0).equals("--help") || args.get(0).equals("-h") || args.get(0).equals("help")) {
            (args.isEmpty() ? err : out).println(USAGE_TEXT);
            return args.isEmpty() ? USAGE : OK;
        }
        if (args.get(0).equals("--version")) {
            return print(out, versionLine());
        }
        String command = args.get(0);
        List<String> rest = args.subList(1, args.size());
        String help = switch (command) {
            case "server" -> SERVER_HELP;
            case "client" -> ClientCommand.HELP;
            case "demo" -> DEMO_HELP;
            case "certs" -> CERTS_HELP;
            default -> null;
        };
        if (help != null && (rest.contains("--help") || rest.contains("-h"))) {
            return print(out, help);
        }
        if (help != null && rest.contains("--version")) {
            return print(out, versionLine());
        }
        try {
            return switch (command) {
                case "server" -> server(rest, out, signals);
                case "client" -> ClientCommand.run(rest, out, signals);
                case "demo" -> demo(rest, out);
                case "certs" -> certs(rest, out);
                default -> throw new UsageException("unknown command '" + command
                        + "' (try: demo, server, client, certs)");
            };
        } catch (UsageException e) {
            err.println("twinline: " + e.getMessage());
            return USAGE;
        } catch (TwinlineException | UncheckedIOException e) {
            err.println("twinline: " + e.getMessage());
            return FAILED;
        } catch (Exception e) {
            err.println("twinline: " + e);
            return FAILED;
        }
    }

    private static int print(PrintStream out, String text) {
        out.println(text);
        return OK;
    }

    /**
     * {@code twinline <version>}: the version of module {@code io.twinline.host}, which the compiler records in its
     * descriptor from the Maven project's version and jlink keeps in the image.
     */
    static String versionLine() {
        ModuleDescriptor descriptor = TwinlineCommand.class.getModule().getDescriptor();
        return "twinline " + (descriptor == null ? Optional.<String>empty() : descriptor.rawVersion())
                .orElse("(version unknown: not run as module io.twinline.host)");
    }

    /** One line per event on standard error, through tinylog ({@link TinylogSetup}). */
    static void configureLogging(String level) throws UsageException {
        String normalized = level.toLowerCase(Locale.ROOT);
        if (!Set.of("trace", "debug", "info", "warn", "error", "off").contains(normalized)) {
            throw new UsageException("--log-level must be one of trace, debug, info, warn, error, off: " + level);
        }
        TinylogSetup.configure(normalized);
    }

    // ---- server ----

    private static int server(List<String> argList, PrintStream out, Signals signals) throws Exception {
        Args args = new Args(argList, Set.of("bind", "port", "advertise", "status", "drain-ms", "log-level", "heartbeat-ms",
                "quiet-heartbeat-ms",
                "idle-timeout-ms", "probe-timeout-ms", "recovery-time-limit-ms", "reattach-window-ms", "max-sessions",
                "max-message-bytes", "max-in-flight-bytes", "send-buffer-bytes", "tls-cert", "tls-key",
                "tls-keystore", "tls-keystore-password", "tls-client-ca", "credentials", "max-handshakes",
                "max-handshakes-per-address"), Set.of());
        configureLogging(args.text("log-level", "info"));
        Tls tls = tls(args, true);
        String credentialsFile = args.text("credentials", null);
        io.twinline.api.Authenticator authenticator = credentialsFile == null ? null
                : CredentialsFile.read(java.nio.file.Path.of(credentialsFile));
        RecoveryPolicy policy = policy(args);
        Limits limits = limits(args).withMaxSessions(args.integer("max-sessions", 10_000, 1, 1_000_000));
        int handshakes = args.integer("max-handshakes", limits.maxHandshakes(), 1, 1_000_000);
        int perAddress = args.integer("max-handshakes-per-address",
                Math.min(handshakes, limits.maxHandshakesPerAddress()), 1, 1_000_000);
        if (perAddress > handshakes) {
            throw new UsageException("--max-handshakes-per-address must not exceed --max-handshakes (" + handshakes
                    + "): " + perAddress);
        }
        limits = limits.withMaxHandshakes(handshakes, perAddress);
        Ledger ledger = new Ledger();
        var builder = Twinline.server()
                .bind(args.text("bind", "127.0.0.1"), args.integer("port", Twinline.DEFAULT_PORT, 0, 65535))
                .recoveryPolicy(policy)
                .limits(limits)
                .handle(Ledger.ADD, ledger.add)
                .handle(Ledger.TOTAL, ledger.total)
                .handle(Workload.REVERSE, Workload.reverseHandler());
        if (tls != null) {
            builder.tls(tls);
        }
        builder.authenticator(authenticator);
        String advertise = args.text("advertise", null);
        if (advertise != null) {
            builder.advertise(Args.hostPort("advertise", advertise));
        }
        // Checked before the server starts: a usage error is reported as one, not after a "listening" line.
        String statusOption = args.text("status", "127.0.0.1:7421");
        InetSocketAddress statusAt = statusOption.equalsIgnoreCase("off") ? null
                : Args.hostPort("status", statusOption, 0);
        long drainMs = args.number("drain-ms", 0, 0, 600_000);
        TwinlineServer server = builder.start();
        AutoCloseable status;
        try {
            status = statusAt == null ? null
                    : startEndpoint("the status endpoint", statusAt, at -> HostAccess.startStatusEndpoint(server, at));
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        out.println("twinline server listening on " + server.address().getHostString() + ":"
                + server.address().getPort() + (tls == null ? "" : tls.requiresClientCertificates()
                ? " (TLS 1.3, client certificates required)" : " (TLS 1.3)") + (status != null ? ", status on http://"
                + HostAccess.hostPort(HostAccess.endpointAddress(status)) + "/" : ""));
        CountDownLatch stopped = new CountDownLatch(1);
        signals.onSignal("twinline-shutdown", () -> {
            // Not ready first, so a balancer stops sending sessions; the endpoint answers until the server has closed.
            HostAccess.logger().log(Level.INFO, "[server] signal received, draining for " + drainMs
                    + " ms, then closing");
            HostAccess.beginDrain(server);
            boolean interrupted = false;
            try {
                Thread.sleep(drainMs);
            } catch (InterruptedException e) {
                interrupted = true; // cuts the drain short; the close below must still wait for every session
            }
            server.close();
            try {
                if (status != null) {
                    status.close();
                }
            } catch (Exception e) {
                HostAccess.logger().log(Level.WARNING, "[server] closing status endpoint: " + e);
            }
            stopped.countDown();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        });
        stopped.await();
        return OK;
    }

    /** Starts an HTTP endpoint; the error names the address and says in words why it could not listen there. */
    interface EndpointStarter {
        AutoCloseable start(InetSocketAddress at) throws IOException;
    }

    static AutoCloseable startEndpoint(String what, InetSocketAddress at, EndpointStarter starter) {
        InetSocketAddress bind = new InetSocketAddress(at.getHostString(), at.getPort());
        try {
            return starter.start(bind);
        } catch (IOException e) {
            String why = bind.isUnresolved() ? "unknown host " + at.getHostString() : HostAccess.inWords(e);
            throw new UncheckedIOException("cannot listen on " + HostAccess.hostPort(at) + " for " + what + ": "
                    + why, e);
        }
    }

    /** The recovery policy from the flags both commands share; validated as a whole, so order does not matter. */
    static RecoveryPolicy policy(Args args) throws UsageException {
        RecoveryPolicy d = RecoveryPolicy.defaults();
        try {
            return new RecoveryPolicy(
                    millis(args, "heartbeat-ms", d.heartbeatInterval()),
                    millis(args, "idle-timeout-ms", d.idleTimeout()),
                    millis(args, "probe-timeout-ms", d.probeTimeout()),
                    millis(args, "recovery-time-limit-ms", d.recoveryTimeLimit()),
                    d.maxReconnectTries(), d.backoffInitial(), d.backoffMax(), d.jitter(),
                    millis(args, "reattach-window-ms", d.reattachWindow()),
                    Duration.ofMillis(args.number("quiet-heartbeat-ms", d.quietInterval().toMillis(), 0,
                            RecoveryPolicy.MAX_QUIET_INTERVAL.toMillis())));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /**
     * The limits a command's {@code --max-message-bytes}, {@code --max-in-flight-bytes} and
     * {@code --send-buffer-bytes} set.
     */
    static Limits limits(Args args) throws UsageException {
        Limits d = Limits.defaults();
        int message = args.integer("max-message-bytes", d.maxMessageBytes(), Limits.MIN_MESSAGE_BYTES,
                Integer.MAX_VALUE);
        int inFlight = args.integer("max-in-flight-bytes", Math.max(message, d.maxInFlightBytes()), 1,
                Integer.MAX_VALUE);
        int sendBuffer = args.integer("send-buffer-bytes", d.sendBufferBytes(), 0, Integer.MAX_VALUE);
        try {
            return d.withMaxMessageBytes(message).withMaxInFlightBytes(inFlight).withSendBufferBytes(sendBuffer);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--max-in-flight-bytes must be at least --max-message-bytes (" + message + "): "
                    + inFlight);
        }
    }

    /**
     * The TLS settings of the {@code --tls-…} flags, or null when none is given. A server needs its keys (PEM pair or
     * PKCS#12 store); {@code --tls-client-ca} makes it require client certificates. A client turns TLS on with
     * {@code --tls} (the JDK's default anchors) or {@code --tls-trust}; its own keys make it show a certificate.
     */
    static Tls tls(Args args, boolean server) throws UsageException {
        String cert = args.text("tls-cert", null);
        String key = args.text("tls-key", null);
        String store = args.text("tls-keystore", null);
        String password = args.text("tls-keystore-password", System.getenv("TWINLINE_TLS_KEYSTORE_PASSWORD"));
        String clientCa = server ? args.text("tls-client-ca", null) : null;
        String trust = server ? null : args.text("tls-trust", null);
        String name = server ? null : args.text("tls-server-name", null);
        boolean on = !server && args.flag("tls");
        if ((cert == null) != (key == null)) {
            throw new UsageException("--tls-cert and --tls-key go together");
        }
        if (cert != null && store != null) {
            throw new UsageException("give --tls-cert and --tls-key, or --tls-keystore, not both");
        }
        if (store != null && password == null) {
            throw new UsageException("--tls-keystore needs --tls-keystore-password (or TWINLINE_TLS_KEYSTORE_PASSWORD)");
        }
        boolean keys = cert != null || store != null;
        if (server && !keys) {
            if (clientCa != null) {
                throw new UsageException("--tls-client-ca needs the server's own --tls-cert and --tls-key, or "
                        + "--tls-keystore");
            }
            return null;
        }
        if (!server && !keys && trust == null && name == null && !on) {
            return null;
        }
        try {
            Tls tls = trust != null ? Tls.trustingOnly(java.nio.file.Path.of(trust))
                    : keys ? null : Tls.context(javax.net.ssl.SSLContext.getDefault());
            if (cert != null) {
                tls = tls == null ? Tls.keys(java.nio.file.Path.of(cert), java.nio.file.Path.of(key))
                        : tls.withKeys(java.nio.file.Path.of(cert), java.nio.file.Path.of(key));
            } else if (store != null) {
                tls = tls == null ? Tls.keyStore(java.nio.file.Path.of(store), password.toCharArray())
                        : tls.withKeyStore(java.nio.file.Path.of(store), password.toCharArray());
            }
            if (clientCa != null) {
                tls = tls.trusting(java.nio.file.Path.of(clientCa)).requireClientCertificates();
            }
            if (name != null) {
                tls = tls.serverName(name);
            }
            return tls;
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no default TLS context", e);
        }
    }

    private static Duration millis(Args args, String name, Duration fallback) throws UsageException {
        return Duration.ofMillis(args.number(name, fallback.toMillis(), 1, 3_600_000));
    }

    static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    // ---- certs ----

    private static int certs(List<String> argList, PrintStream out) throws Exception {
        Args args = new Args(argList, Set.of("dir", "host"), Set.of());
        String dirOption = args.text("dir", null);
        if (dirOption == null) {
            throw new UsageException("certs needs --dir DIR");
        }
        String host = args.text("host", "localhost");
        if (host.isBlank() || !host.matches("[A-Za-z0-9.-]+")) {
            throw new UsageException("--host must be a DNS name: " + host);
        }
        java.nio.file.Path dir = java.nio.file.Path.of(dirOption).toAbsolutePath();
        if (java.nio.file.Files.exists(dir.resolve("ca.p12"))) {
            throw new UsageException(dir + " already holds a CA (ca.p12); choose an empty directory");
        }
        ThrowawayCa ca = ThrowawayCa.create(dir, "twinline throwaway CA");
        ca.issue("server", host, "dns:" + host + ",ip:127.0.0.1,ip:::1", null, 30);
        ca.issue("client", "twinline client", null, null, 30);
        String password = ThrowawayCa.PASSWORD;
        out.println("made " + dir.resolve("ca.pem") + ", " + dir.resolve("server.p12") + " and "
                + dir.resolve("client.p12") + " (password " + password + ", valid 30 days). Try:");
        out.println("  twinline server --tls-keystore " + dir.resolve("server.p12") + " --tls-keystore-password "
                + password + " --tls-client-ca " + dir.resolve("ca.pem"));
        out.println("  twinline client --connect " + host + ":" + Twinline.DEFAULT_PORT + " --tls-trust "
                + dir.resolve("ca.pem") + " --tls-keystore " + dir.resolve("client.p12") + " --tls-keystore-password "
                + password);
        return OK;
    }

    // ---- demo ----

    private static int demo(List<String> argList, PrintStream out) throws Exception {
        Args args = new Args(argList, Set.of("seconds", "clients", "concurrency", "log-level"),
                Set.of("no-faults", "tls"));
        configureLogging(args.text("log-level", "warn"));
        int seconds = args.integer("seconds", 8, 1, 3600);
        int clients = args.integer("clients", 3, 1, 100);
        int concurrency = args.integer("concurrency", 16, 1, 10_000);
        if (!args.flag("tls")) {
            return new Demo(out, seconds, clients, concurrency, !args.flag("no-faults"), null).run();
        }
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("twinline-demo-tls");
        try {
            return new Demo(out, seconds, clients, concurrency, !args.flag("no-faults"), DemoTls.make(dir)).run();
        } finally {
            try (var files = java.nio.file.Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** The demo's mutual TLS: a throwaway CA, a server certificate for localhost and one client certificate. */
    private record DemoTls(Tls server, Tls client) {
        static DemoTls make(java.nio.file.Path dir) throws IOException, InterruptedException {
            ThrowawayCa ca = ThrowawayCa.create(dir, "twinline demo CA");
            char[] password = ThrowawayCa.PASSWORD.toCharArray();
            java.nio.file.Path[] stores = new java.nio.file.Path[2];
            IOException[] failed = new IOException[2];
            Thread server = Thread.ofVirtual().start(() -> {
                try {
                    stores[0] = ca.issue("server", "localhost", "dns:localhost,ip:127.0.0.1", null, 2);
                } catch (IOException e) {
                    failed[0] = e;
                }
            });
            try {
                stores[1] = ca.issue("client", "twinline demo client", null, null, 2);
            } catch (IOException e) {
                failed[1] = e;
            }
            server.join();
            for (IOException e : failed) {
                if (e != null) {
                    throw e;
                }
            }
            return new DemoTls(Tls.keyStore(stores[0], password).trusting(ca.certificate()).requireClientCertificates(),
                    Tls.trustingOnly(ca.certificate()).withKeyStore(stores[1], password));
        }
    }

    /** {@code twinline demo}: everything in one process, with a live view. */
    private static final class Demo {
        private final PrintStream out;
        private final int seconds;
        private final int clientCount;
        private final int concurrency;
        private final boolean faults;
        private final DemoTls tls;
        private final long start = System.nanoTime();
        private final AtomicLong faultCount = new AtomicLong();

        Demo(PrintStream out, int seconds, int clientCount, int concurrency, boolean faults, DemoTls tls) {
            this.tls = tls;
            this.out = out;
            this.seconds = seconds;
            this.clientCount = clientCount;
            this.concurrency = concurrency;
            this.faults = faults;
        }

        /** Quick detection, so a silent channel is found and mended within the demo's few seconds. */
        private static RecoveryPolicy demoPolicy() {
            return RecoveryPolicy.defaults()
                    .withHeartbeatInterval(Duration.ofMillis(200))
                    .withIdleTimeout(Duration.ofMillis(700))
                    .withProbeTimeout(Duration.ofMillis(400));
        }

        private void event(String sessionId, String side, String text) {
            synchronized (out) {
                out.println(String.format(Locale.ROOT, "%6.1fs  %-5s %-6s %s", seconds(start), sessionId, side, text));
            }
        }

        int run() throws Exception {
            out.println("twinline demo: 1 server, " + clientCount + " clients, " + seconds + " s of calls both ways"
                    + (faults ? ", faults injected" : "")
                    + (tls != null ? ", TLS 1.3 with client certificates from a throwaway CA" : "")
                    + " (JDK " + Runtime.version().feature() + ")");
            Ledger serverLedger = new Ledger();
            RecoveryPolicy policy = demoPolicy();
            List<String> verdict = new ArrayList<>();
            int exit;
            if (faults) {
                HostAccess.enableFaults(); // both ends' connections through a network that can break them
            }
            try (TwinlineServer server = Twinline.server().bind("127.0.0.1", 0)
                    .recoveryPolicy(policy)
                    .handle(Ledger.ADD, serverLedger.add)
                    .handle(Ledger.TOTAL, serverLedger.total)
                    .handle(Workload.REVERSE, Workload.reverseHandler())
                    .tls(tls == null ? null : tls.server())
                    .onStateChange((s, from, to, cause) -> event(s.id(), "server", from + " -> " + to
                            + (cause == null ? "" : "  (" + cause.getMessage() + ")")))
                    .start()) {
                List<TwinlineClient> clients = new ArrayList<>();
                List<Ledger> ledgers = new ArrayList<>();
                try {
                    for (int i = 0; i < clientCount; i++) {
                        Ledger ledger = new Ledger();
                        ledgers.add(ledger);
                        clients.add(Twinline.client()
                                .server("127.0.0.1", server.address().getPort())
                                .recoveryPolicy(policy)
                                .handle(Ledger.ADD, ledger.add)
                                .handle(Ledger.TOTAL, ledger.total)
                                .tls(tls == null ? null : tls.client())
                                .onStateChange((s, from, to, cause) -> event(s.id(), "client", from + " -> " + to
                                        + (cause == null ? "" : "  (" + cause.getMessage() + ")")))
                                .connect());
                    }
                    exit = runWorkloads(server, clients, ledgers, verdict);
                } finally {
                    for (TwinlineClient c : clients) {
                        c.close();
                    }
                }
            }
            // The verdict comes last, after every session has closed, so it is the run's final line.
            verdict.forEach(out::println);
            return exit;
        }

        private int runWorkloads(TwinlineServer server, List<TwinlineClient> clients, List<Ledger> ledgers,
                                 List<String> verdict) throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
            List<Workload.Progress> progress = new ArrayList<>();
            List<Workload.Result> results = new ArrayList<>(java.util.Collections.nCopies(clients.size(), null));
            List<Thread> runners = new ArrayList<>();
            for (int i = 0; i < clients.size(); i++) {
                Workload.Progress p = new Workload.Progress();
                progress.add(p);
                int index = i;
                runners.add(Thread.ofVirtual().name("demo/client-" + i).start(() -> results.set(index,
                        Workload.run(clients.get(index), ledgers.get(index),
                                new Workload.Plan(-1, concurrency, -1, 64, deadline, false), p,
                                new Workload.Stop()))));
            }
            Thread view = Thread.ofVirtual().name("demo/view").start(() -> view(clients, progress));
            Thread injector = faults
                    ? Thread.ofVirtual().name("demo/faults").start(() -> injectFaults(server, clients, deadline))
                    : null;
            for (Thread t : runners) {
                t.join();
            }
            view.interrupt();
            view.join();
            if (injector != null) {
                injector.interrupt();
                injector.join();
            }
            long calls = 0;
            long ok = 0;
            long failed = 0;
            long reverse = 0;
            long reverseOk = 0;
            boolean allMatch = true;
            String firstError = null;
            for (Workload.Result r : results) {
                calls += r.calls();
                ok += r.ok();
                failed += r.failed() ;
                reverse += r.reverse();
                reverseOk += r.reverseOk();
                allMatch &= r.ledgerMatches();
                if (firstError == null && r.firstError() != null) {
                    firstError = r.firstError();
                }
            }
            Map<String, Long> serverMetrics = HostAccess.metrics(server);
            boolean success = allMatch && failed == 0 && reverse == reverseOk;
            verdict.add(String.format(Locale.ROOT,
                    "calls=%d ok=%d failed=%d reverse=%d reverse_ok=%d ledger=%s faults=%d recoveries=%d "
                            + "duplicates_suppressed=%d elapsed=%.1fs",
                    calls, ok, failed, reverse, reverseOk, allMatch ? "match" : "mismatch", faultCount.get(),
                    serverMetrics.get("recoveries") + clients.stream().mapToLong(c -> HostAccess.metrics(c)
                            .get("recoveries")).sum(),
                    serverMetrics.get("duplicates_suppressed"), seconds(start)));
            if (!success && firstError != null) {
                verdict.add("first error: " + firstError);
            }
            verdict.add(success ? "verdict: every call answered exactly once, both ledgers match"
                    : "verdict: FAILED");
            return success ? OK : FAILED;
        }

        private void view(List<TwinlineClient> clients, List<Workload.Progress> progress) {
            long lastCalls = 0;
            long lastNanos = System.nanoTime();
            try {
                while (true) {
                    Thread.sleep(1000);
                    long calls = 0;
                    long reverse = 0;
                    for (Workload.Progress p : progress) {
                        calls += p.ok.sum();
                        reverse += p.reverseOk.sum();
                    }
                    long now = System.nanoTime();
                    double rate = (calls - lastCalls) / ((now - lastNanos) / 1e9);
                    lastCalls = calls;
                    lastNanos = now;
                    StringBuilder states = new StringBuilder();
                    for (TwinlineClient c : clients) {
                        states.append("  ").append(c.session().id()).append('=').append(c.session().state());
                    }
                    synchronized (out) {
                        out.println(String.format(Locale.ROOT, "%6.1fs  calls %,d (%,.0f/s)  reverse %,d  |%s",
                                seconds(start), calls, rate, reverse, states));
                    }
                }
            } catch (InterruptedException e) {
                // the demo is over
            }
        }

        /**
         * Every 0.8 s, one fault into one NORMAL session, cycling through both sides, both channels and the three
         * failure causes; stops a second before the deadline so the last recovery finishes inside the run.
         */
        private void injectFaults(TwinlineServer server, List<TwinlineClient> clients, long deadline) {
            record Shot(boolean serverSide, Fault fault) {
            }
            Shot[] cycle = {
                new Shot(false, Fault.RESET_A), new Shot(true, Fault.RESET_B), new Shot(false, Fault.SILENT_B),
                new Shot(true, Fault.RESET_A), new Shot(false, Fault.HALF_OPEN_A), new Shot(false, Fault.RESET_B),
                new Shot(true, Fault.SILENT_A)};
            int next = 0;
            try {
                Thread.sleep(700);
                while (System.nanoTime() < deadline - Duration.ofMillis(1500).toNanos()) {
                    Shot shot = cycle[next % cycle.length];
                    TwinlineClient client = clients.get(next % clients.size());
                    next++;
                    Session clientSession = client.session();
                    Session target = shot.serverSide()
                            ? server.session(clientSession.id()).orElse(null)
                            : clientSession;
                    if (target != null && target.state() == SessionState.NORMAL
                            && clientSession.state() == SessionState.NORMAL && HostAccess.inject(target, shot.fault())) {
                        faultCount.incrementAndGet();
                        event(target.id(), shot.serverSide() ? "server" : "client", "fault: " + shot.fault());
                    }
                    Thread.sleep(800);
                }
            } catch (InterruptedException e) {
                // the demo is over
            }
        }
    }
}
