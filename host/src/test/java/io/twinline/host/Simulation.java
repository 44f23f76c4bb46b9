package io.twinline.host;

import io.twinline.api.CallTimeoutException;
import io.twinline.api.Channel;
import io.twinline.api.DisconnectedException;
import io.twinline.api.Handler;
import io.twinline.api.Limits;
import io.twinline.api.RecoveryPolicy;
import io.twinline.api.Session;
import io.twinline.api.SessionClosedException;
import io.twinline.api.SessionState;
import io.twinline.api.TwinlineException;
import io.twinline.api.spi.ClientSpec;
import io.twinline.api.spi.ServerSpec;
import io.twinline.recovery.Clock;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One seeded run of both hosts' real session and recovery code over a {@link SimNetwork}: a workload of calls in
 * both directions with slow and fast handlers, and a schedule of faults, then the invariants of DESIGN §5.
 *
 * <p><b>What runs.</b> A real {@code ServerRuntime} and {@code ClientRuntime} in this JVM, connected through
 * {@link SimNetwork} (a 256 KiB ring buffer per direction behind {@code Endpoint}) instead of {@code Network.TCP}:
 * the handshake, {@code Connection}, {@code TwinSession} with its requester and responder, the ticker and
 * {@code RecoveryProcesses} are the production code. Time is the system clock, so every timer really runs. Policy
 * {@link #policy()}: 30 ms heartbeat, 150 ms idle timeout, 120 ms probe timeout, 1 s recovery time limit, 10 tries,
 * backoff 5 ms to 60 ms, 2.5 s re-attach window, never quiet. Limits: the defaults with a 200 ms close grace and a
 * 500 ms handshake timeout.
 *
 * <p><b>Workload.</b> 1–4 client callers (channel A) and 1–4 server callers (channel B), each making 10–49 calls one
 * after the other with an 8 s timeout. Every body is unique ({@code c0-17}, {@code s5-3}). Both ends serve
 * {@code count}, which counts its runs per body and waits a delay the seed gives each body: none (70 %), 1–5 ms
 * (25 %) or 50–199 ms (5 %; some outlast the idle timeout, which must not count as a failure).
 *
 * <p><b>Faults.</b> Half the schedules have one, the others two or three. The first comes 5–124 ms after the calls
 * start; each further one 250–449 ms after the one before, or, one time in four, only 5–64 ms after it. A fault
 * names a kind, an end and a channel, and is applied to that end's current link if it is healthy then (else skipped,
 * not counted): {@code RESET} (both directions fail, bytes in flight lost), {@code SILENT} (both directions silenced,
 * the writer does not notice), {@code HALF_OPEN} (this end's writes vanish, its reads work), {@code PATH_LOST} (as
 * silent, and the next 1–4 dials are refused), {@code BOTH_RESET} (both channels at that end). One fault in seven is
 * followed 1–30 ms later by a reset of the other channel at the same end.
 *
 * <p><b>Invariants</b>, checked at the end:
 * <ul>
 *   <li>No call is lost while the session lives: a {@code CallTimeoutException} is {@code call lost}; any other
 *       failure while neither end is terminal is {@code call failed while the session lives}.
 *   <li>No handler runs twice: at each end every body ran at most once, and every call whose caller got an answer ran
 *       exactly once at the peer.
 *   <li>Every caller is answered or told: after the session ended a failure must be {@code DisconnectedException} or
 *       {@code SessionClosedException}; a caller not finished within {@code callTimeout + 10 s} after the last fault
 *       is {@code hung}.
 *   <li>Both hosts settle in agreeing states, both {@code NORMAL} with both links healthy or both
 *       {@code DISCONNECTED}, unbroken for {@code idleTimeout + probeTimeout + heartbeatInterval} (300 ms, longer than
 *       detection takes), reached within {@code 2 × (clientBudget + reattachWindow) + 2 s} (9.54 s: overlapping
 *       faults can chain a deferral before a process's own wait). Ending {@code DISCONNECTED} at both ends is
 *       allowed: a double fault legitimately ends there.
 * </ul>
 *
 * <p>The seed fixes the workload, the handlers' delays and the fault schedule (kinds, ends, channels, times, refused
 * dials, follow-up resets). It does not fix thread interleavings or the moment a timer fires: those follow the
 * machine. So a failing seed replays the same scenario, which usually, not always, fails the same way.
 */
final class Simulation {

    /**
     * Switches for the tests that show the invariants bite: {@code replay} false drops replayed requests on the
     * wire, {@code dedup} false renumbers them (see {@link SimNetwork.Mutation}).
     */
    record Options(boolean replay, boolean dedup, Duration callTimeout) {
        static final Options NORMAL = new Options(true, true, Duration.ofSeconds(8));
    }

    /** What one run found. {@code violations} empty means every invariant held. */
    record Outcome(long seed, List<String> violations, int calls, int answered, int faults, String finalStates,
                   List<String> schedule) {
        boolean ok() {
            return violations.isEmpty();
        }
    }

    /** Detection in tens of milliseconds, so one schedule runs in well under a second. */
    static RecoveryPolicy policy() {
        return RecoveryPolicy.defaults()
                .withHeartbeatInterval(Duration.ofMillis(30))
                .withIdleTimeout(Duration.ofMillis(150))
                .withProbeTimeout(Duration.ofMillis(120))
                .withRecoveryTimeLimit(Duration.ofSeconds(1))
                .withMaxReconnectTries(10)
                .withBackoff(Duration.ofMillis(5), Duration.ofMillis(60), 0.5)
                .withReattachWindow(Duration.ofMillis(2500))
                .withQuietInterval(Duration.ZERO);
    }

    private enum Kind { RESET, SILENT, HALF_OPEN, PATH_LOST, BOTH_RESET }

    private record Fault(long atMillis, Kind kind, boolean serverSide, Channel channel, int lostDials,
                         long followUpMillis) {
    }

    private final long seed;
    private final Options options;
    private final java.util.SplittableRandom random;
    private final List<String> violations = new ArrayList<>();
    private final List<String> schedule = new ArrayList<>();

    Simulation(long seed, Options options) {
        this.seed = seed;
        this.options = options;
        this.random = new java.util.SplittableRandom(seed);  // mixes neighbouring seeds well
    }

    /** A handler that counts runs per body and sleeps for a delay the seed gives each body. */
    private static final class CountingHandler implements Handler {
        final ConcurrentHashMap<String, AtomicInteger> runs = new ConcurrentHashMap<>();
        final long seed;

        CountingHandler(long seed) {
            this.seed = seed;
        }

        @Override
        public byte[] handle(Session session, byte[] body) throws Exception {
            String key = new String(body, StandardCharsets.UTF_8);
            runs.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
            java.util.SplittableRandom r = new java.util.SplittableRandom(seed ^ key.hashCode());
            int roll = r.nextInt(100);
            if (roll >= 95) {
                Thread.sleep(50 + r.nextInt(150));  // slow: longer than the idle timeout, which is not a failure
            } else if (roll >= 70) {
                Thread.sleep(1 + r.nextInt(5));
            }
            return body;
        }
    }

    Outcome run() throws InterruptedException {
        SimNetwork network = new SimNetwork();
        network.mutation = !options.replay() ? SimNetwork.Mutation.DROP_REPLAYS
                : !options.dedup() ? SimNetwork.Mutation.RENUMBER_REPLAYS : SimNetwork.Mutation.NONE;
        CountingHandler atServer = new CountingHandler(seed);
        CountingHandler atClient = new CountingHandler(~seed);
        // The handshake is not what the schedules test: its timeout leaves room for a JVM still warming up with
        // dozens of schedules starting at once on two cores.
        Limits limits = Limits.defaults().withCloseGrace(Duration.ofMillis(200))
                .withHandshakeTimeout(Duration.ofSeconds(5));
        RecoveryPolicy policy = policy();
        ServerRuntime server = ServerRuntime.start(new ServerSpec(new InetSocketAddress("127.0.0.1", 0),
                Optional.empty(), Map.of("count", atServer), policy, limits, List.of(),
                List.of()), Clock.system(), network);
        ClientRuntime client = null;
        int faultsApplied = 0;
        List<Thread> callers = new ArrayList<>();
        ConcurrentLinkedQueue<String> answered = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<String> answeredByClient = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<TwinlineException> failures = new ConcurrentLinkedQueue<>();
        int calls = 0;
        String finalStates = "?";
        try {
            client = ClientRuntime.connect(new ClientSpec(server.address(), Map.of("count", atClient), policy, limits,
                    List.of(), false), Clock.system(), network);
            TwinSession clientSide = client.twinSession();
            TwinSession serverSide = (TwinSession) server.session(clientSide.id).orElseThrow();

            int forwardCallers = 1 + random.nextInt(4);
            int reverseCallers = 1 + random.nextInt(4);
            int callsEach = 10 + random.nextInt(40);
            calls = (forwardCallers + reverseCallers) * callsEach;
            schedule.add("forward callers " + forwardCallers + ", reverse callers " + reverseCallers + ", "
                    + callsEach + " calls each");
            List<Fault> faults = faults();
            for (int i = 0; i < forwardCallers + reverseCallers; i++) {
                boolean forward = i < forwardCallers;
                Session from = forward ? clientSide : serverSide;
                String tag = (forward ? "c" : "s") + i;
                callers.add(Thread.ofVirtual().name("sim-" + seed + "-" + tag).start(() -> {
                    for (int k = 0; k < callsEach; k++) {
                        String body = tag + "-" + k;
                        try {
                            from.call("count", body.getBytes(StandardCharsets.UTF_8), options.callTimeout());
                            (forward ? answered : answeredByClient).add(body);
                        } catch (TwinlineException e) {
                            failures.add(e);
                            if (from.state().isTerminal()) {
                                return;
                            }
                        }
                    }
                }));
            }
            long start = System.nanoTime();
            for (Fault f : faults) {
                long wait = f.atMillis() - (System.nanoTime() - start) / 1_000_000;
                if (wait > 0) {
                    Thread.sleep(wait);
                }
                if (apply(f, clientSide, serverSide, network)) {
                    faultsApplied++;
                }
            }
            long joinBound = options.callTimeout().toMillis() + 10_000;
            for (Thread t : callers) {
                if (!t.join(Duration.ofMillis(joinBound))) {
                    violations.add("caller " + t.getName() + " hung for more than " + joinBound + " ms");
                }
            }
            // Both ends must settle in agreeing states. One fault settles within the client's budget; overlapping
            // faults can chain a deferral (bounded by the window) before a process's own wait (the window again).
            long settleBound = 2 * policy.clientBudget().plus(policy.reattachWindow()).toMillis() + 2000;
            long settleDeadline = System.nanoTime() + settleBound * 1_000_000;
            // Agreement must hold for longer than detection takes, or a fault applied a moment ago could still be
            // unnoticed by both hosts.
            long stableNanos = policy.idleTimeout().plus(policy.probeTimeout()).plus(policy.heartbeatInterval())
                    .toNanos();
            long agreedSince = 0;
            while (System.nanoTime() < settleDeadline) {
                if (!agreed(clientSide, serverSide)) {
                    agreedSince = 0;
                } else if (agreedSince == 0) {
                    agreedSince = System.nanoTime();
                } else if (System.nanoTime() - agreedSince >= stableNanos) {
                    break;
                }
                Thread.sleep(5);
            }
            finalStates = "client " + clientSide.state() + " " + links(clientSide) + ", server " + serverSide.state()
                    + " " + links(serverSide) + cause(" client: ", clientSide) + cause(" server: ", serverSide);
            if (!agreed(clientSide, serverSide)) {
                violations.add("hosts did not settle in agreeing states within " + settleBound + " ms: "
                        + finalStates);
            }
            checkAnswers(clientSide, serverSide, failures);
            checkExactlyOnce("server", atServer, answered);
            checkExactlyOnce("client", atClient, answeredByClient);
        } catch (TwinlineException e) {
            violations.add("could not set up the session: " + e);
        } finally {
            for (Thread t : callers) {
                t.interrupt();
            }
            if (client != null) {
                client.close();
            }
            server.close();
        }
        return new Outcome(seed, List.copyOf(violations), calls, answered.size() + answeredByClient.size(),
                faultsApplied, finalStates, List.copyOf(schedule));
    }

    private List<Fault> faults() {
        int count = random.nextInt(2) == 0 ? 1 : 2 + random.nextInt(2);
        List<Fault> faults = new ArrayList<>();
        long at = 5 + random.nextInt(120);
        for (int i = 0; i < count; i++) {
            Kind kind = Kind.values()[random.nextInt(Kind.values().length)];
            boolean serverSide = random.nextBoolean();
            Channel channel = random.nextBoolean() ? Channel.A : Channel.B;
            int lostDials = 1 + random.nextInt(4);
            // Sometimes a second fault follows a few milliseconds later, while the first is being recovered.
            long followUp = random.nextInt(7) == 0 ? 1 + random.nextInt(30) : 0;
            Fault f = new Fault(at, kind, serverSide, channel, lostDials, followUp);
            schedule.add("at " + at + " ms: " + kind + " " + (serverSide ? "server" : "client") + " side, channel "
                    + channel + (kind == Kind.PATH_LOST ? ", " + lostDials + " dials refused" : "")
                    + (followUp > 0 ? ", then a reset of the other channel " + followUp + " ms later" : ""));
            faults.add(f);
            // Mostly after the last recovery is done; sometimes on top of it.
            at += random.nextInt(4) == 0 ? 5 + random.nextInt(60) : 250 + random.nextInt(200);
        }
        return faults;
    }

    private static SimNetwork.SimEndpoint endpoint(TwinSession session, Channel channel) {
        Link link = session.link(channel);
        if (link == null || !link.isHealthy()) {
            return null;
        }
        return (SimNetwork.SimEndpoint) link.connection.endpoint();
    }

    private boolean apply(Fault f, TwinSession clientSide, TwinSession serverSide, SimNetwork network)
            throws InterruptedException {
        TwinSession side = f.serverSide() ? serverSide : clientSide;
        SimNetwork.SimEndpoint e = endpoint(side, f.channel());
        if (e == null) {
            return false;
        }
        switch (f.kind()) {
            case RESET -> e.abort();
            case SILENT -> {
                e.in.silence(true);
                e.out.silence(true);
            }
            case HALF_OPEN -> e.out.silence(true);  // this end's writes vanish; its reads still work
            case PATH_LOST -> {
                network.refuseDials.set(f.lostDials());
                e.in.silence(true);
                e.out.silence(true);
            }
            case BOTH_RESET -> {
                e.abort();
                SimNetwork.SimEndpoint other = endpoint(side, f.channel().other());
                if (other != null) {
                    other.abort();
                }
            }
        }
        if (f.followUpMillis() > 0) {
            Thread.sleep(f.followUpMillis());
            SimNetwork.SimEndpoint other = endpoint(side, f.channel().other());
            if (other != null) {
                other.abort();
            }
        }
        return true;
    }

    private static boolean healthy(TwinSession s) {
        Link a = s.link(Channel.A);
        Link b = s.link(Channel.B);
        return s.state() == SessionState.NORMAL && a != null && a.isHealthy() && b != null && b.isHealthy();
    }

    private static boolean agreed(TwinSession client, TwinSession server) {
        return (healthy(client) && healthy(server))
                || (client.state() == SessionState.DISCONNECTED && server.state() == SessionState.DISCONNECTED);
    }

    private static String cause(String label, TwinSession s) {
        Throwable t = s.terminalCause();
        if (t == null) {
            return "";
        }
        StringBuilder text = new StringBuilder(label).append(t.getMessage());
        for (Throwable c = t.getCause(); c != null && c != t; c = c.getCause()) {
            text.append(" <- ").append(c.getMessage());
            t = c;
        }
        return text.toString();
    }

    private static String links(TwinSession s) {
        return "A=" + describe(s.link(Channel.A)) + " B=" + describe(s.link(Channel.B));
    }

    private static String describe(Link l) {
        return l == null ? "none" : "#" + l.generation + (l.isHealthy() ? "/up" : "/down");
    }

    /** While the session lives every call is answered; once it ended, callers get a clear exception. */
    private void checkAnswers(TwinSession client, TwinSession server, ConcurrentLinkedQueue<TwinlineException> failures) {
        boolean ended = client.state().isTerminal() || server.state().isTerminal();
        for (TwinlineException e : failures) {
            if (e instanceof CallTimeoutException) {
                violations.add("call lost: " + e.getMessage());
            } else if (!ended) {
                violations.add("call failed while the session lives: " + e);
            } else if (!(e instanceof DisconnectedException) && !(e instanceof SessionClosedException)) {
                violations.add("unclear failure after the session ended: " + e);
            }
        }
    }

    private void checkExactlyOnce(String where, CountingHandler handler, ConcurrentLinkedQueue<String> answered) {
        for (Map.Entry<String, AtomicInteger> e : handler.runs.entrySet()) {
            if (e.getValue().get() > 1) {
                violations.add("handler at the " + where + " ran " + e.getValue().get() + " times for " + e.getKey());
            }
        }
        for (String body : answered) {
            AtomicInteger runs = handler.runs.get(body);
            if (runs == null || runs.get() != 1) {
                violations.add("answered call " + body + " ran " + (runs == null ? 0 : runs.get())
                        + " times at the " + where);
            }
        }
    }
}
