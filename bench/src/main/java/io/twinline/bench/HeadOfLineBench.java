package io.twinline.bench;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Head-of-line blocking (issue #13): the round trip of a small call (64 B echo, one caller, one call at a time) while
 * a {@value #LARGE_BYTES}-byte echo call is kept in flight continuously by a background virtual thread, which issues
 * the next large call as soon as one returns. p50 and p99 come from SampleTime.
 *
 * <p>{@code background}:
 * <ul>
 *   <li>{@code none}: no large calls; the small call's latency alone, in the same run, to read the others against;
 *   <li>{@code same}: the large calls share the small call's session (twinline: channel A of one client session;
 *       gRPC: one channel, one HTTP/2 connection). Any queueing of the small call behind the large body shows here;
 *   <li>{@code separate}: the large calls go through a second peer of the same kind in the same JVM (its own server,
 *       client and connections). The CPU, allocation and GC of moving 16 MiB both ways are the same as in
 *       {@code same}, but nothing is shared on the wire, so {@code same} minus {@code separate} is what sharing the
 *       connection costs, and {@code separate} minus {@code none} is what the load costs on two shared cores anyway.
 *       gRPC's two peers still share what gRPC shares within a JVM by default: its Netty event-loop threads and, for
 *       {@code grpc-default}, its executor.
 * </ul>
 *
 * <p>The caller is a virtual thread ({@code -Djmh.executor=VIRTUAL} in {@link Fork}; a {@code -jvmArgsAppend} on
 * the command line replaces the annotation's, so repeat it there), as in {@code bench/run.sh}'s second
 * {@link LatencyBench} run. After each iteration the fork prints how many large calls completed and what fraction of
 * the small calls began while one was in flight, so a run shows that the load was there during measurement.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 4)
@Fork(value = 1, jvmArgsAppend = {"--enable-preview", "-Xmx2g", "-Djmh.executor=VIRTUAL"})
public class HeadOfLineBench {
    /** The large body: twinline's default {@code maxMessageBytes} and {@link GrpcPeer#MAX_MESSAGE_BYTES}. */
    static final int LARGE_BYTES = 16 << 20;

    @Param({"twinline", "twinline-osbuf", "grpc-direct", "grpc-default"})
    public String peer;

    @Param({"none", "same", "separate"})
    public String background;

    @Param({"64"})
    public int payload;

    private Peer system;
    private Peer other;
    private byte[] body;
    private Thread loader;
    private volatile boolean running;
    private volatile boolean largeInFlight;
    private volatile Throwable failure;
    private final AtomicLong largeCalls = new AtomicLong();
    private final AtomicLong largeNanos = new AtomicLong();
    /** Small calls made, and made while a large call was in flight; the caller's own (one caller). */
    private long smallCalls;
    private long smallOverlapped;
    private long iterationLargeCalls;
    private long iterationLargeNanos;
    private int iteration;

    @Setup(Level.Trial)
    public void start() throws Exception {
        system = Peer.start(peer);
        body = new byte[payload];
        if (background.equals("none")) {
            return;
        }
        Peer target = switch (background) {
            case "same" -> system;
            case "separate" -> other = Peer.start(peer);
            default -> throw new IllegalArgumentException("unknown background: " + background);
        };
        byte[] large = new byte[LARGE_BYTES];
        large[0] = 1;
        large[LARGE_BYTES - 1] = 2;
        running = true;
        loader = Thread.ofVirtual().name("large-echo").start(() -> {
            try {
                while (running) {
                    largeInFlight = true;
                    long begin = System.nanoTime();
                    byte[] answer = target.call(large);
                    long took = System.nanoTime() - begin;
                    largeInFlight = false;
                    if (answer.length != LARGE_BYTES || answer[0] != 1 || answer[LARGE_BYTES - 1] != 2) {
                        throw new IllegalStateException("the large echo came back as " + answer.length + " bytes");
                    }
                    largeNanos.addAndGet(took);
                    largeCalls.incrementAndGet();
                }
            } catch (Throwable t) {
                failure = t;
            } finally {
                largeInFlight = false;
            }
        });
        // One large call answered before measuring: the server side takes a 16 MiB body, and the path is warm.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (largeCalls.get() == 0 && failure == null && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        if (largeCalls.get() == 0) {
            throw new IllegalStateException("no large call answered within 60 s", failure);
        }
    }

    @Setup(Level.Iteration)
    public void beginIteration() {
        smallCalls = 0;
        smallOverlapped = 0;
        iterationLargeCalls = largeCalls.get();
        iterationLargeNanos = largeNanos.get();
    }

    @TearDown(Level.Iteration)
    public void endIteration() {
        iteration++;
        long large = largeCalls.get() - iterationLargeCalls;
        long nanos = largeNanos.get() - iterationLargeNanos;
        System.out.printf("%n[iteration %d of this trial, warmups first] caller %s; %s; small calls %,d, %.1f %% of them begun"
                        + " with a large call in flight%n",
                iteration, Thread.currentThread().isVirtual() ? "virtual" : "platform",
                background.equals("none") ? "no large calls"
                        : String.format("%,d large calls (%d MiB) completed, mean %.1f ms each", large,
                                LARGE_BYTES >> 20, large == 0 ? 0.0 : nanos / 1e6 / large),
                smallCalls, smallCalls == 0 ? 0.0 : 100.0 * smallOverlapped / smallCalls);
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
        running = false;
        if (loader != null) {
            loader.join(TimeUnit.SECONDS.toMillis(60));
            System.out.printf("%n[trial] %,d large calls completed in all%n", largeCalls.get());
        }
        system.close();
        if (other != null) {
            other.close();
        }
        if (failure != null) {
            throw new IllegalStateException("a large call failed", failure);
        }
    }

    @Benchmark
    public byte[] smallCall() throws Exception {
        if (failure != null) {
            throw new IllegalStateException("a large call failed", failure);
        }
        smallCalls++;
        if (largeInFlight) {
            smallOverlapped++;
        }
        return system.call(body);
    }
}
