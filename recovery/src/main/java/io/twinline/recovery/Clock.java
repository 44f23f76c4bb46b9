package io.twinline.recovery;

/**
 * Time as the recovery code sees it. Injected, so that tests drive time instead of sleeping on it.
 */
public interface Clock {
    /** Returns a monotonic time in nanoseconds, as {@link System#nanoTime()}. */
    long nanoTime();

    /**
     * Returns the wall-clock time in milliseconds since the epoch, as {@link System#currentTimeMillis()}: only for
     * showing when something happened, never for measuring how long.
     */
    default long wallMillis() {
        return System.currentTimeMillis();
    }

    /** Pauses the calling thread for {@code nanos}; a fake clock advances itself instead. */
    void sleep(long nanos) throws InterruptedException;

    /**
     * How long a thread waiting on this clock for something that is signalled may sleep before it reads the clock
     * again: on the real clock, until its deadline, since time passes while it sleeps; on any other, 20 ms, so that
     * a test moving the clock is noticed.
     */
    default long waitSliceNanos() {
        return 20_000_000L;
    }

    /** Returns the real clock. */
    static Clock system() {
        return SystemClock.INSTANCE;
    }

    /** The real clock. */
    enum SystemClock implements Clock {
        INSTANCE;

        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public long waitSliceNanos() {
            return Long.MAX_VALUE;
        }

        @Override
        public void sleep(long nanos) throws InterruptedException {
            if (nanos > 0) {
                Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
            }
        }
    }
}
