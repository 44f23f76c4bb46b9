package io.twinline.host;

import io.twinline.recovery.Clock;
import java.time.Duration;

/** A clock that moves only when the test says; {@link #sleep} moves it instead of sleeping. Thread-safe. */
final class ManualClock implements Clock {
    private long nowNanos = 5_000_000_000L; // not zero, so an instant mistaken for a duration shows

    @Override
    public synchronized long nanoTime() {
        return nowNanos;
    }

    @Override
    public synchronized void sleep(long nanos) {
        nowNanos += Math.max(0, nanos);
    }

    synchronized void advance(Duration d) {
        nowNanos += d.toNanos();
    }
}
