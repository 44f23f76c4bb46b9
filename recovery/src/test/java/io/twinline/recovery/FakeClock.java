package io.twinline.recovery;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A clock that only moves when told: the test advances it, and {@link #sleep} advances it at once instead of
 * sleeping, recording each pause. Thread-safe.
 */
final class FakeClock implements Clock {
    private long now = 1_000_000_000L; // arbitrary, not zero, so code that confuses instants and durations shows
    private int reads;
    private final List<Duration> pauses = new ArrayList<>();

    @Override
    public synchronized long nanoTime() {
        reads++;
        notifyAll();
        return now;
    }

    private long waitSlice = Clock.super.waitSliceNanos();

    @Override
    public synchronized long waitSliceNanos() {
        return waitSlice;
    }

    /** Has waiters sleep up to {@code nanos} before they read the clock again, as the real clock's do. */
    synchronized void waitSlice(long nanos) {
        waitSlice = nanos;
    }

    @Override
    public synchronized void sleep(long nanos) {
        pauses.add(Duration.ofNanos(nanos));
        now += nanos;
    }

    /** Returns the time now, without counting it as a read by the code under test. */
    synchronized long now() {
        return now;
    }

    synchronized void advance(Duration d) {
        now += d.toNanos();
    }

    /** Moves the clock to {@code nanos} if that is later than now. */
    synchronized void advanceTo(long nanos) {
        now = Math.max(now, nanos);
    }

    /** Returns the pauses taken through {@link #sleep}, in order. */
    synchronized List<Duration> pauses() {
        return List.copyOf(pauses);
    }

    /** Returns how often {@link #nanoTime} was called. */
    synchronized int reads() {
        return reads;
    }

    /** Waits (in real time, at most {@code timeout}) until {@link #nanoTime} was called {@code n} times in all. */
    synchronized boolean awaitReads(int n, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (reads < n) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }
}
