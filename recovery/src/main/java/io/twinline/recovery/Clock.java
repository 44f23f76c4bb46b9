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
        public void sleep(long nanos) throws InterruptedException {
            if (nanos > 0) {
                Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
            }
        }
    }
}
