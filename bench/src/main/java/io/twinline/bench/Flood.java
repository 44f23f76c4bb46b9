package io.twinline.bench;

import io.twinline.api.ConnectFailedException;
import io.twinline.api.Twinline;
import io.twinline.api.TwinlineClient;
import io.twinline.transport.Frame;
import io.twinline.transport.FrameCodec;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A well-behaved session's calls beside a flood of bogus connections, against a server in another process
 * ({@code bench/flood.sh} runs both phases and the server).
 *
 * <pre>
 * java --enable-preview -cp bench/target/benchmarks.jar io.twinline.bench.Flood good PORT SECONDS
 * java --enable-preview -cp bench/target/benchmarks.jar io.twinline.bench.Flood flood PORT SECONDS [WORKERS]
 * </pre>
 *
 * <p>{@code good}: one session calls the ledger's {@code total} route back to back from one virtual thread and
 * prints the latency quantiles; once a second it also opens a new session (connect, one call, close) and counts
 * those that got in. {@code flood}: WORKERS virtual threads (default 2,000), each dialling again and again from one
 * of 60 loopback source addresses (127.0.0.2–61), cycling through four kinds of bad client: a connection that says
 * nothing; a HELLO that never attaches channel B; half a frame, then nothing; 64 random bytes. Each holds its
 * connection until the server closes it.
 */
public final class Flood {
    private Flood() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        int port = Integer.parseInt(args[1]);
        long seconds = Long.parseLong(args[2]);
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        if (mode.equals("good")) {
            // The session connects first; its calls are measured after the warm-up (a flood starting meanwhile).
            long warmup = args.length > 3 ? Long.parseLong(args[3]) : 0;
            good(port, warmup, deadline + warmup * 1_000_000_000L);
        } else {
            flood(port, deadline, args.length > 3 ? Integer.parseInt(args[3]) : 2000);
        }
    }

    private static void good(int port, long warmupSeconds, long deadline) throws Exception {
        TwinlineClient client = Twinline.client().server("127.0.0.1", port).connect();
        for (int i = 0; i < 2000; i++) {
            client.call("total", new byte[0]);
        }
        Thread.sleep(warmupSeconds * 1000);
        List<Long> latencies = new ArrayList<>();
        long[] opened = new long[2]; // tried, got in
        List<Long> connectTimes = new ArrayList<>();
        Thread newSessions = Thread.ofVirtual().start(() -> {
            while (System.nanoTime() < deadline) {
                long start = System.nanoTime();
                opened[0]++;
                try (TwinlineClient c = Twinline.client().server("127.0.0.1", port).connect()) {
                    c.call("total", new byte[0]);
                    opened[1]++;
                    connectTimes.add(System.nanoTime() - start);
                } catch (ConnectFailedException e) {
                    // shed or refused: counted as not got in
                }
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        try (client) {
            Thread caller = Thread.ofVirtual().start(() -> {
                while (System.nanoTime() < deadline) {
                    long start = System.nanoTime();
                    client.call("total", new byte[0]);
                    latencies.add(System.nanoTime() - start);
                }
            });
            caller.join();
        }
        newSessions.join();
        long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        long[] connects = connectTimes.stream().mapToLong(Long::longValue).sorted().toArray();
        System.out.println(String.format(Locale.ROOT,
                "good: calls=%d p50=%.3f ms p99=%.3f ms max=%.3f ms; new sessions %d of %d got in, connect p50=%.1f ms "
                        + "max=%.1f ms",
                sorted.length, ms(quantile(sorted, 0.50)), ms(quantile(sorted, 0.99)),
                ms(sorted.length == 0 ? 0 : sorted[sorted.length - 1]), opened[1], opened[0],
                ms(quantile(connects, 0.50)), ms(connects.length == 0 ? 0 : connects[connects.length - 1])));
    }

    private static final String[] KINDS = {"silent", "hello-without-B", "half-frame", "garbage"};

    private static void flood(int port, long deadline, int workers) throws Exception {
        InetSocketAddress server = new InetSocketAddress("127.0.0.1", port);
        LongAdder[] attempts = new LongAdder[KINDS.length];
        LongAdder[] refused = new LongAdder[KINDS.length];
        for (int i = 0; i < KINDS.length; i++) {
            attempts[i] = new LongAdder();
            refused[i] = new LongAdder();
        }
        AtomicLong next = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            threads.add(Thread.ofVirtual().start(() -> {
                while (System.nanoTime() < deadline) {
                    int kind = (int) (next.getAndIncrement() % KINDS.length);
                    attempts[kind].increment();
                    if (!bad(server, kind, deadline)) {
                        refused[kind].increment();
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        StringBuilder line = new StringBuilder("flood:");
        long total = 0;
        long shed = 0;
        for (int i = 0; i < KINDS.length; i++) {
            line.append(' ').append(KINDS[i]).append('=').append(attempts[i].sum());
            total += attempts[i].sum();
            shed += refused[i].sum();
        }
        line.append(" total=").append(total).append(" reset_at_once=").append(shed);
        System.out.println(line);
    }

    /**
     * One bad client of {@code kind}; holds the connection until the server ends it (or the flood's deadline).
     *
     * @return false if the connection was reset or refused before the bad client could act
     */
    private static boolean bad(InetSocketAddress server, int kind, long deadline) {
        Socket s = new Socket();
        try (s) {
            s.bind(new InetSocketAddress("127.0.0." + (2 + ThreadLocalRandom.current().nextInt(60)), 0));
            s.connect(server, 5000);
            s.setSoTimeout((int) Math.max(1, Math.min(10_000, (deadline - System.nanoTime()) / 1_000_000)));
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            switch (kind) {
                case 0 -> { } // nothing at all
                case 1 -> {
                    new FrameCodec(4096).write(new Frame.Hello(FrameCodec.VERSION, 1 << 20, 64, 1 << 20), out);
                    out.flush();
                }
                case 2 -> {
                    out.write(new byte[] {0, 0, 0, 0x15, 0x01, 0x54, 0x57}); // a HELLO's first 7 of 25 bytes
                    out.flush();
                }
                default -> {
                    byte[] junk = new byte[64];
                    ThreadLocalRandom.current().nextBytes(junk);
                    out.write(junk);
                    out.flush();
                }
            }
            InputStream in = s.getInputStream();
            byte[] sink = new byte[4096];
            while (in.read(sink) >= 0) {
                // WELCOME or REJECTED, then the server's close
            }
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return true; // the flood's deadline came first
        } catch (IOException e) {
            return false;
        }
    }

    private static long quantile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[Math.max(0, Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1))];
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
