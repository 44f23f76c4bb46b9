package io.twinline.bench;

import io.twinline.api.Limits;
import io.twinline.api.Twinline;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sessions at scale, with the server and the clients in separate processes (20,000 open files per process here).
 * Driven by bench/scale.sh through standard input:
 * <ul>
 *   <li>{@code server PORT}: commands {@code measure} (prints heap after GC, RSS, CPU time, sessions, sessions
 *       ended DISCONNECTED, recoveries started), {@code cpu} (prints the CPU time and the sessions held, with no GC
 *       first) and {@code quit}; its status endpoint listens on PORT + 1;
 *   <li>{@code clients PORT N}: opens N sessions, then commands {@code burst SECONDS K} (K sessions call at once,
 *       one virtual thread each, for SECONDS; prints calls and rate), {@code count} (prints the CPU time, the
 *       sessions ended DISCONNECTED and the recoveries started, without a GC) and {@code quit}.
 * </ul>
 */
public final class Scale {
    private Scale() {
    }

    public static void main(String[] args) throws Exception {
        BufferedReader commands = new BufferedReader(new InputStreamReader(System.in));
        if (args[0].equals("server")) {
            server(Integer.parseInt(args[1]), commands);
        } else {
            clients(Integer.parseInt(args[1]), Integer.parseInt(args[2]), commands);
        }
    }

    private static void server(int port, BufferedReader commands) throws Exception {
        try (TwinlineServer server = Twinline.server().bind("127.0.0.1", port)
                .limits(Limits.defaults().withMaxSessions(20_000))
                .handle("echo", (s, b) -> b).start()) {
            // The status endpoint on PORT + 1, as an operator would run it: scale.sh times its pages with every
            // session held.
            AutoCloseable status = io.twinline.host.HostAccess.startStatusEndpoint(server,
                    new java.net.InetSocketAddress("127.0.0.1", port + 1));
            System.out.println("ready");
            String line;
            while ((line = commands.readLine()) != null && !line.equals("quit")) {
                if (line.equals("cpu")) {
                    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
                    System.out.println(String.format(Locale.ROOT, "cpu cpu_ms=%d sessions=%d",
                            os.getProcessCpuTime() / 1_000_000, server.sessions().size()));
                } else if (line.equals("measure")) {
                    for (int i = 0; i < 3; i++) {
                        System.gc();
                        Thread.sleep(200);
                    }
                    var heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
                    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
                    var m = server.metrics();
                    System.out.println(String.format(Locale.ROOT,
                            "measure sessions=%d heap_used_bytes=%d rss_kib=%d cpu_ms=%d disconnected=%d recoveries=%d"
                                    + " causes=%s",
                            server.sessions().size(), heap.getUsed(), rssKib(), os.getProcessCpuTime() / 1_000_000,
                            m.sessionsEnded().get(io.twinline.api.SessionState.DISCONNECTED), m.recoveriesTotal(),
                            causes(java.util.List.of(m))));
                }
            }
            status.close();
        }
    }

    private static void clients(int port, int count, BufferedReader commands) throws Exception {
        ConcurrentLinkedQueue<TwinlineClient> opened = new ConcurrentLinkedQueue<>();
        Semaphore dialling = new Semaphore(64);
        List<Thread> threads = new ArrayList<>();
        AtomicLong failed = new AtomicLong();
        for (int i = 0; i < count; i++) {
            dialling.acquire();
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    opened.add(Twinline.client().server("127.0.0.1", port).connect());
                } catch (RuntimeException e) {
                    if (failed.incrementAndGet() <= 3) {
                        System.err.println("connect failed: " + e.getMessage());
                    }
                } finally {
                    dialling.release();
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        List<TwinlineClient> clients = new ArrayList<>(opened);
        System.out.println("connected " + clients.size() + " failed " + failed.get());
        String line;
        while ((line = commands.readLine()) != null && !line.equals("quit")) {
            if (line.equals("count")) {
                long disconnected = 0;
                long recoveries = 0;
                var snapshots = new java.util.ArrayList<io.twinline.api.MetricsSnapshot>();
                for (TwinlineClient c : clients) {
                    var m = c.metrics();
                    disconnected += c.session().state() == io.twinline.api.SessionState.DISCONNECTED ? 1 : 0;
                    recoveries += m.recoveriesTotal();
                    if (m.recoveriesTotal() > 0) {
                        snapshots.add(m);
                    }
                }
                var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
                System.out.println(String.format(Locale.ROOT, "count cpu_ms=%d disconnected=%d recoveries=%d causes=%s",
                        os.getProcessCpuTime() / 1_000_000, disconnected, recoveries, causes(snapshots)));
            } else if (line.startsWith("burst")) {
                String[] parts = line.split(" ");
                long seconds = Long.parseLong(parts[1]);
                int callers = Math.min(Integer.parseInt(parts[2]), clients.size());
                AtomicLong calls = new AtomicLong();
                long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
                List<Thread> burst = new ArrayList<>();
                byte[] body = new byte[64];
                long start = System.nanoTime();
                for (int i = 0; i < callers; i++) {
                    TwinlineClient c = clients.get(i);
                    burst.add(Thread.ofVirtual().start(() -> {
                        while (System.nanoTime() < deadline) {
                            c.call("echo", body);
                            calls.incrementAndGet();
                        }
                    }));
                }
                for (Thread t : burst) {
                    t.join();
                }
                double elapsed = (System.nanoTime() - start) / 1e9;
                System.out.println(String.format(Locale.ROOT, "burst callers=%d calls=%d rate=%.0f/s", callers,
                        calls.get(), calls.get() / elapsed));
            }
        }
        for (TwinlineClient c : clients) {
            c.close();
        }
    }

    /** The recoveries started, by channel and cause, summed over {@code snapshots}: {@code A/SILENT:3,B/RESET:1}. */
    static String causes(java.util.List<io.twinline.api.MetricsSnapshot> snapshots) {
        var sum = new java.util.TreeMap<String, Long>();
        for (var m : snapshots) {
            m.recoveries().forEach((channel, byCause) -> byCause.forEach((cause, n) -> {
                if (n > 0) {
                    sum.merge(channel + "/" + cause, n, Long::sum);
                }
            }));
        }
        if (sum.isEmpty()) {
            return "none";
        }
        var text = new StringBuilder();
        sum.forEach((k, n) -> text.append(text.isEmpty() ? "" : ",").append(k).append(':').append(n));
        return text.toString();
    }

    private static long rssKib() throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith("VmRSS:")) {
                return Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
