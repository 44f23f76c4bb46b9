package io.twinline.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Calls per second with {@code callers} concurrent virtual threads on one session (one channel, one connection):
 * each invocation runs {@value #BATCH} calls spread over the callers, so the score is calls per second.
 * Peer {@code twinline-reverse} is the server calling the client over channel B.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 4)
@Fork(value = 1, jvmArgsAppend = {"--enable-preview", "-Xmx2g"})
public class ThroughputBench {
    static final int BATCH = 16_384;

    @Param({"twinline", "grpc-default", "grpc-direct", "raw", "raw-yield"})
    public String peer;

    @Param({"1", "64", "1024"})
    public int callers;

    @Param({"64"})
    public int payload;

    private Peer system;
    private byte[] body;

    @Setup(Level.Trial)
    public void start() throws Exception {
        system = Peer.start(peer);
        body = new byte[payload];
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
        system.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void batch() throws Exception {
        int each = BATCH / callers;
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>(callers);
        for (int i = 0; i < callers; i++) {
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    for (int k = 0; k < each; k++) {
                        system.call(body);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("a call failed", failure.get());
        }
    }
}
