package io.twinline.recovery;

import io.twinline.api.RecoveryPolicy;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with jitter between reconnect tries: after the n-th failed try the pause is
 * {@code min(backoffMax, backoffInitial * 2^(n-1))}, shortened at random by up to {@code jitter} of itself, so
 * that many clients cut off at once do not come back in lockstep.
 */
public final class Backoff {
    private final long initialNanos;
    private final long maxNanos;
    private final double jitter;
    private final RandomGenerator random;

    public Backoff(RecoveryPolicy policy, RandomGenerator random) {
        this.initialNanos = policy.backoffInitial().toNanos();
        this.maxNanos = policy.backoffMax().toNanos();
        this.jitter = policy.jitter();
        this.random = random;
    }

    /**
     * Returns the pause after {@code failedTries} failed tries (1 or more), in nanoseconds.
     *
     * @throws IllegalArgumentException if {@code failedTries} is below 1
     */
    public long pauseNanos(int failedTries) {
        if (failedTries < 1) {
            throw new IllegalArgumentException("failedTries must be at least 1: " + failedTries);
        }
        // Capped at 63, the largest shift of a long: maxNanos >> 63 is 0, so from there on the pause is maxNanos.
        int shift = Math.min(failedTries - 1, 63);
        long base = initialNanos > (maxNanos >> shift) ? maxNanos : Math.min(maxNanos, initialNanos << shift);
        double cut = jitter == 0 ? 0 : jitter * random.nextDouble();
        return (long) (base * (1.0 - cut));
    }
}
