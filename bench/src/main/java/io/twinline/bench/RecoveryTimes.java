package io.twinline.bench;

import io.twinline.api.Channel;
import io.twinline.api.RecoveryPolicy;
import io.twinline.api.Session;
import io.twinline.api.SessionState;
import io.twinline.api.Twinline;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import io.twinline.host.Fault;
import io.twinline.host.HostAccess;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Recovery time on loopback with the default policy: for each channel, {@code resets} times, the client resets
 * the channel's connection (RST) and we time (a) until the client is NORMAL again and (b) until the first call over
 * that channel succeeds. Then the time to notice a silent channel B, against its bound: the client's idle timeout
 * right after a recovery, and the quiet interval plus the idle timeout once both ends are quiet.
 *
 * <p>With {@code tls} as the third argument, both channels run mutual TLS 1.3 (certificates from a throwaway CA made
 * for the run): a re-attach then includes a TLS handshake, resumed where the JDK can.
 *
 * <pre>java --enable-preview -cp bench/target/benchmarks.jar io.twinline.bench.RecoveryTimes [resets] [silent] [tls]</pre>
 */
public final class RecoveryTimes {
    private RecoveryTimes() {
    }

    public static void main(String[] args) throws Exception {
        int resets = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        int silentRuns = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        boolean tls = args.length > 2 && args[2].equals("tls");
        io.twinline.api.Tls serverTls = null;
        io.twinline.api.Tls clientTls = null;
        if (tls) {
            java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("twinline-recovery-tls");
            io.twinline.host.cli.ThrowawayCa ca = io.twinline.host.cli.ThrowawayCa.create(dir, "recovery bench CA");
            char[] password = io.twinline.host.cli.ThrowawayCa.PASSWORD.toCharArray();
            serverTls = io.twinline.api.Tls.keyStore(ca.issue("server", "localhost", "ip:127.0.0.1", null, 2), password)
                    .trusting(ca.certificate()).requireClientCertificates();
            clientTls = io.twinline.api.Tls.trustingOnly(ca.certificate())
                    .withKeyStore(ca.issue("client", "bench client", null, null, 2), password);
            System.out.println("mutual TLS 1.3 on both channels");
        }
        RecoveryPolicy policy = RecoveryPolicy.defaults();
        AtomicLong recoveredAt = new AtomicLong();
        AtomicLong recoveringAt = new AtomicLong();
        HostAccess.enableFaults(); // the faults are the network's: runtimes made from here on can be broken
        try (TwinlineServer server = Twinline.server().bind("127.0.0.1", 0).handle("echo", (s, b) -> b)
                .tls(serverTls).start();
             TwinlineClient client = Twinline.client().server("127.0.0.1", server.address().getPort())
                     .handle("echo", (s, b) -> b)
                     .tls(clientTls)
                     .onStateChange((s, from, to, cause) -> {
                         if (to == SessionState.NORMAL && from == SessionState.RECOVERING) {
                             recoveredAt.set(System.nanoTime());
                         } else if (to == SessionState.RECOVERING) {
                             recoveringAt.set(System.nanoTime());
                         }
                     })
                     .connect()) {
            Session clientSide = client.session();
            Session serverSide = server.session(clientSide.id()).orElseThrow();
            for (int warm = 0; warm < 2000; warm++) {
                clientSide.call("echo", new byte[64]);
                serverSide.call("echo", new byte[64]);
            }
            for (Channel channel : Channel.values()) {
                long[] toNormal = new long[resets];
                long[] toFirstCall = new long[resets];
                Session caller = channel == Channel.A ? clientSide : serverSide;
                for (int i = 0; i < resets; i++) {
                    awaitNormal(clientSide, serverSide);
                    recoveredAt.set(0);
                    long start = System.nanoTime();
                    if (!HostAccess.inject(clientSide, channel == Channel.A ? Fault.RESET_A : Fault.RESET_B)) {
                        throw new IllegalStateException("nothing to reset on " + channel);
                    }
                    caller.call("echo", new byte[64], Duration.ofSeconds(30));
                    long firstCall = System.nanoTime();
                    while (recoveredAt.get() == 0) {
                        Thread.onSpinWait();
                    }
                    toNormal[i] = recoveredAt.get() - start;
                    toFirstCall[i] = firstCall - start;
                }
                report("reset " + channel + " -> client NORMAL", toNormal);
                report("reset " + channel + " -> first call over " + channel + " answered", toFirstCall);
            }
            // Silence right after a recovery, while the session is not yet quiet (two heartbeats without a call),
            // and once both ends are quiet (heartbeats every quietInterval, announced to the peer).
            for (boolean quiet : silentRuns == 0 ? new boolean[0] : new boolean[] {false, true}) {
                long bound = (quiet ? policy.quietInterval().plus(policy.idleTimeout()) : policy.idleTimeout())
                        .toNanos();
                long[] detect = new long[silentRuns];
                for (int i = 0; i < silentRuns; i++) {
                    awaitNormal(clientSide, serverSide);
                    while (quiet && !(HostAccess.quiet(clientSide) && HostAccess.quiet(serverSide))) {
                        Thread.sleep(10);
                    }
                    recoveringAt.set(0);
                    long start = System.nanoTime();
                    HostAccess.inject(clientSide, Fault.SILENT_B);
                    while (recoveringAt.get() == 0) {
                        Thread.sleep(1);
                    }
                    detect[i] = recoveringAt.get() - start;
                }
                report("silent B" + (quiet ? ", session quiet" : "") + " -> detected (bound " + bound / 1_000_000
                        + " ms = " + (quiet ? "quiet interval + idle timeout" : "idle timeout") + ")", detect);
            }
        }
    }

    private static void awaitNormal(Session a, Session b) throws InterruptedException {
        while (a.state() != SessionState.NORMAL || b.state() != SessionState.NORMAL) {
            Thread.sleep(1);
        }
        Thread.sleep(20);
    }

    static void report(String what, long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        System.out.println(String.format(Locale.ROOT, "%-70s n=%d p50=%.2f ms p99=%.2f ms max=%.2f ms", what,
                sorted.length, ms(percentile(sorted, 0.50)), ms(percentile(sorted, 0.99)),
                ms(sorted[sorted.length - 1])));
    }

    static long percentile(long[] sorted, double p) {
        int index = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    static double ms(long nanos) {
        return nanos / 1e6;
    }
}
