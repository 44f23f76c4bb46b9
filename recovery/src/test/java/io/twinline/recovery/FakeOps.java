package io.twinline.recovery;

import io.twinline.api.Channel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Channel operations with scripted answers, recording every call in order ("probe A", "close B", "reconnect B",
 * "awaitReattach A", "isHealthy A"). A call with no scripted answer fails the test with an {@link AssertionError}
 * (which the recovery code does not catch).
 */
final class FakeOps implements ChannelOps {

    /** One scripted reconnect try: {@code failure} null means success; the try takes {@code takes} on the clock. */
    record Try(Exception failure, Duration takes, Runnable during) {
    }

    private final FakeClock clock;
    private final List<String> calls = new CopyOnWriteArrayList<>();
    private final List<Long> reconnectDeadlines = new CopyOnWriteArrayList<>();
    private final List<Long> reattachDeadlines = new CopyOnWriteArrayList<>();
    private final Map<Channel, Boolean> probeAnswers = new EnumMap<>(Channel.class);
    private final Map<Channel, Boolean> healthy = new EnumMap<>(Channel.class);
    private final Map<Channel, Boolean> reattached = new EnumMap<>(Channel.class);
    private final Map<Channel, Boolean> reattachRunsToDeadline = new EnumMap<>(Channel.class);
    private final Queue<Try> tries = new ArrayDeque<>();
    private volatile CountDownLatch healthGate = new CountDownLatch(0);

    FakeOps(FakeClock clock) {
        this.clock = clock;
    }

    // ---- script -------------------------------------------------------------------------------------------

    synchronized FakeOps probeAnswers(Channel channel, boolean pongInTime) {
        probeAnswers.put(channel, pongInTime);
        return this;
    }

    synchronized FakeOps healthy(Channel channel, boolean isHealthy) {
        healthy.put(channel, isHealthy);
        return this;
    }

    /** awaitReattach(channel) returns {@code result}; if {@code runsToDeadline}, it first moves the clock there. */
    synchronized FakeOps reattach(Channel channel, boolean result, boolean runsToDeadline) {
        reattached.put(channel, result);
        reattachRunsToDeadline.put(channel, runsToDeadline);
        return this;
    }

    synchronized FakeOps reconnectSucceeds() {
        return reconnect(new Try(null, Duration.ZERO, () -> { }));
    }

    synchronized FakeOps reconnectFails(Exception failure) {
        return reconnect(new Try(failure, Duration.ZERO, () -> { }));
    }

    synchronized FakeOps reconnect(Try outcome) {
        tries.add(outcome);
        return this;
    }

    /** Makes isHealthy wait until {@link #releaseHealthChecks()}, to order it after a step of the test. */
    void holdHealthChecks() {
        healthGate = new CountDownLatch(1);
    }

    void releaseHealthChecks() {
        healthGate.countDown();
    }

    // ---- record -------------------------------------------------------------------------------------------

    List<String> calls() {
        return List.copyOf(calls);
    }

    List<Long> reconnectDeadlines() {
        return List.copyOf(reconnectDeadlines);
    }

    List<Long> reattachDeadlines() {
        return List.copyOf(reattachDeadlines);
    }

    // ---- ChannelOps ---------------------------------------------------------------------------------------

    @Override
    public synchronized boolean probe(Channel channel) {
        calls.add("probe " + channel);
        return scripted(probeAnswers, channel, "probe");
    }

    @Override
    public void close(Channel channel) {
        calls.add("close " + channel);
    }

    @Override
    public void reconnect(Channel channel, long deadlineNanos) throws Exception {
        Try t;
        synchronized (this) {
            calls.add("reconnect " + channel);
            reconnectDeadlines.add(deadlineNanos);
            t = tries.poll();
        }
        if (t == null) {
            throw new AssertionError("unscripted reconnect " + channel);
        }
        clock.advance(t.takes());
        t.during().run();
        if (t.failure() != null) {
            throw t.failure();
        }
    }

    @Override
    public boolean awaitReattach(Channel channel, long deadlineNanos) {
        boolean result;
        boolean runsToDeadline;
        synchronized (this) {
            calls.add("awaitReattach " + channel);
            reattachDeadlines.add(deadlineNanos);
            result = scripted(reattached, channel, "awaitReattach");
            runsToDeadline = reattachRunsToDeadline.get(channel);
        }
        if (runsToDeadline) {
            clock.advanceTo(deadlineNanos);
        }
        return result;
    }

    @Override
    public boolean isHealthy(Channel channel) {
        calls.add("isHealthy " + channel);
        try {
            if (!healthGate.await(5, TimeUnit.SECONDS)) {
                throw new AssertionError("isHealthy was held and never released");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while held", e);
        }
        synchronized (this) {
            return scripted(healthy, channel, "isHealthy");
        }
    }

    private static boolean scripted(Map<Channel, Boolean> answers, Channel channel, String call) {
        Boolean answer = answers.get(channel);
        if (answer == null) {
            throw new AssertionError("unscripted " + call + " " + channel);
        }
        return answer;
    }
}
