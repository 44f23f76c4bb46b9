package io.twinline.bench;

import java.util.concurrent.TimeUnit;
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
 * One caller, one call at a time: the distribution of a round trip (p50, p99, p99.9 from SampleTime).
 *
 * <p>The caller is JMH's worker thread: a platform thread by default, whose every wait for an answer is an
 * operating-system park and wake-up. Run with {@code -jvmArgsAppend "-Xmx2g -Djmh.executor=VIRTUAL"} (JMH 1.37) the
 * worker is a virtual thread, like the callers of {@link ThroughputBench} and of the blocking-style code this
 * project is for; {@code bench/run.sh} runs both.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--enable-preview", "-Xmx2g"})
public class LatencyBench {
    @Param({"twinline", "grpc-default", "grpc-direct", "raw", "raw-yield"})
    public String peer;

    @Param({"64", "1024"})
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
    public byte[] roundTrip() throws Exception {
        return system.call(body);
    }
}
