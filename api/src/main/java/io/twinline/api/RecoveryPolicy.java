package io.twinline.api;

import java.time.Duration;
import java.util.Objects;

/**
 * How a session detects failures and how hard it tries to recover (DESIGN §3–4). Immutable and validated;
 * start from {@link #defaults()} and change fields with the {@code with...} methods.
 *
 * <p>Detection bounds, for a connection that dies silently:
 * <ul>
 *   <li>receive channel: at most {@code idleTimeout} after the last frame read (the peer sends a PING on its send
 *       channel whenever it was idle for {@code heartbeatInterval});
 *   <li>send channel: at most {@code heartbeatInterval + probeTimeout} after the last frame read, since a PING is
 *       sent once nothing was read (or written) for a heartbeat interval and must be answered in time.
 * </ul>
 * An operating-system error (reset, refused, broken pipe) is detected at once.
 *
 * <p>Each end applies its own policy, and the bounds above assume the peer's heartbeat: a receive channel stays
 * alive only if the peer's {@code heartbeatInterval} (plus a tick and the one-way delay) is shorter than this end's
 * {@code idleTimeout}. The server announces its heartbeat and idle timeout in WELCOME, and a client fits its own to
 * them for that session: its heartbeat at most half the server's idle timeout, its idle timeout at least two
 * server heartbeats, each change logged at WARN (PROTOCOL.md §7.6). The server never learns the client's.
 *
 * @param heartbeatInterval a host sends a PING on its send channel when that channel has been idle this long
 * @param idleTimeout a receive channel silent for longer than this has failed; must exceed the heartbeat interval
 * @param probeTimeout a PING (heartbeat or recovery probe) not answered within this has failed
 * @param recoveryTimeLimit the client's budget for reconnecting one channel, all tries included
 * @param maxReconnectTries the client's maximum number of connect attempts for one channel recovery
 * @param backoffInitial the pause after the first failed reconnect try; it doubles after each further failure
 * @param backoffMax the longest pause between reconnect tries
 * @param jitter the fraction (0 to 1) by which each pause is shortened at random, so clients spread out
 * @param reattachWindow the server's window: how long it waits for the client to re-attach a failed channel.
 *     Announced in WELCOME; a client whose own budget (idle timeout + probe timeout + recovery time limit, with
 *     the idle timeout as fitted to the server's heartbeat) does not fit in it refuses to connect
 * @param quietInterval the heartbeat of a quiet session: one with no call of either end started, running or
 *     waiting for its answer for two heartbeat intervals. Its PINGs announce it, and the peer then allows that
 *     much more silence (see above). Zero, or anything not longer than {@code heartbeatInterval}, keeps the
 *     heartbeat at {@code heartbeatInterval} always
 */
public record RecoveryPolicy(
        Duration heartbeatInterval,
        Duration idleTimeout,
        Duration probeTimeout,
        Duration recoveryTimeLimit,
        int maxReconnectTries,
        Duration backoffInitial,
        Duration backoffMax,
        double jitter,
        Duration reattachWindow,
        Duration quietInterval) {

    /** The longest quiet interval a PING can announce (PROTOCOL §3.2). */
    public static final Duration MAX_QUIET_INTERVAL = Duration.ofSeconds(60);
    private static final Duration DEFAULT_QUIET_INTERVAL = Duration.ofSeconds(10);

    // Three heartbeats may go missing before a receive channel is declared dead: one lost to a GC pause or a
    // busy peer is normal, three are not; with 1 s heartbeats a dead connection is noticed within ~3 s.
    private static final RecoveryPolicy DEFAULTS = new RecoveryPolicy(
            Duration.ofSeconds(1),
            Duration.ofSeconds(3),
            // A LAN round trip is well under a millisecond; a second covers a loaded peer and a GC pause.
            Duration.ofSeconds(1),
            // Long enough to ride out a short network blip, short enough that callers are not held for ages.
            Duration.ofSeconds(10),
            10,
            // The first reconnect is immediate; a reset connection is back in one round trip.
            Duration.ofMillis(20),
            Duration.ofSeconds(1),
            0.5,
            // Outlasts the client's default budget (3 s + 1 s + 10 s) with margin for the client's own scheduling.
            Duration.ofSeconds(20),
            // An idle session's four frames a second (a PING and a PONG on each channel) cost a busy server of
            // thousands of sessions most of its idle CPU; a quiet session sends a tenth of them. A call on a quiet
            // session is followed at once by a PING, so a dead channel still fails it within a probe timeout.
            DEFAULT_QUIET_INTERVAL);

    /**
     * Validates every field.
     *
     * @throws IllegalArgumentException if a duration is zero or negative, if {@code idleTimeout} does not exceed
     *     {@code heartbeatInterval}, if {@code maxReconnectTries} is below 1, if {@code backoffMax} is below
     *     {@code backoffInitial}, if {@code jitter} is not within 0 to 1, or if {@code quietInterval} is negative,
     *     above {@link #MAX_QUIET_INTERVAL} or not a whole number of milliseconds; the message names the field and
     *     shows the value
     * @throws NullPointerException if a duration is null
     */
    public RecoveryPolicy {
        positive(heartbeatInterval, "heartbeatInterval");
        positive(idleTimeout, "idleTimeout");
        positive(probeTimeout, "probeTimeout");
        positive(recoveryTimeLimit, "recoveryTimeLimit");
        positive(backoffInitial, "backoffInitial");
        positive(backoffMax, "backoffMax");
        positive(reattachWindow, "reattachWindow");
        if (idleTimeout.compareTo(heartbeatInterval) <= 0) {
            throw new IllegalArgumentException(
                    "idleTimeout must exceed heartbeatInterval: " + idleTimeout + " <= " + heartbeatInterval);
        }
        if (maxReconnectTries < 1) {
            throw new IllegalArgumentException("maxReconnectTries must be at least 1: " + maxReconnectTries);
        }
        if (backoffMax.compareTo(backoffInitial) < 0) {
            throw new IllegalArgumentException(
                    "backoffMax must not be below backoffInitial: " + backoffMax + " < " + backoffInitial);
        }
        if (!(jitter >= 0 && jitter <= 1)) {
            throw new IllegalArgumentException("jitter must be within [0, 1]: " + jitter);
        }
        Objects.requireNonNull(quietInterval, "quietInterval");
        if (quietInterval.isNegative() || quietInterval.compareTo(MAX_QUIET_INTERVAL) > 0
                || quietInterval.toNanos() % 1_000_000 != 0) {
            throw new IllegalArgumentException("quietInterval must be whole milliseconds from 0 to "
                    + MAX_QUIET_INTERVAL + ": " + quietInterval);
        }
    }

    /**
     * A policy with the default quiet interval (10 s).
     *
     * @param heartbeatInterval as in the record's description
     * @param idleTimeout as in the record's description
     * @param probeTimeout as in the record's description
     * @param recoveryTimeLimit as in the record's description
     * @param maxReconnectTries as in the record's description
     * @param backoffInitial as in the record's description
     * @param backoffMax as in the record's description
     * @param jitter as in the record's description
     * @param reattachWindow as in the record's description
     * @throws IllegalArgumentException as the canonical constructor
     * @throws NullPointerException if a duration is null
     */
    public RecoveryPolicy(Duration heartbeatInterval, Duration idleTimeout, Duration probeTimeout,
                          Duration recoveryTimeLimit, int maxReconnectTries, Duration backoffInitial,
                          Duration backoffMax, double jitter, Duration reattachWindow) {
        this(heartbeatInterval, idleTimeout, probeTimeout, recoveryTimeLimit, maxReconnectTries, backoffInitial,
                backoffMax, jitter, reattachWindow, DEFAULT_QUIET_INTERVAL);
    }

    /**
     * Whether sessions go quiet when idle: {@code quietInterval} is longer than {@code heartbeatInterval}.
     *
     * @return whether a quiet session's heartbeat differs from the usual one
     */
    public boolean quietEnabled() {
        return quietInterval.compareTo(heartbeatInterval) > 0;
    }

    /**
     * Returns the defaults: a 1 s heartbeat, a 3 s idle timeout, a 1 s probe timeout, 10 s and at most 10 tries to
     * reconnect a channel, backoff from 20 ms up to 1 s with jitter 0.5, a 20 s re-attach window, and a 10 s
     * heartbeat once a session is quiet.
     *
     * @return the default policy
     */
    public static RecoveryPolicy defaults() {
        return DEFAULTS;
    }

    /**
     * Returns the client's worst-case time from a silent failure to giving up:
     * {@code idleTimeout + probeTimeout + recoveryTimeLimit}. It must fit in the server's re-attach window, with
     * the idle timeout as fitted to the server's heartbeat (at least twice it; see the class description).
     *
     * @return the sum of the three durations
     */
    public Duration clientBudget() {
        return idleTimeout.plus(probeTimeout).plus(recoveryTimeLimit);
    }

    /**
     * Returns this policy with another heartbeat interval.
     *
     * @param value how long a send channel may be idle before a PING is sent on it
     * @return the new policy
     * @throws NullPointerException if {@code value} is null
     * @throws IllegalArgumentException if {@code value} is zero or negative, or not shorter than the idle timeout
     */
    public RecoveryPolicy withHeartbeatInterval(Duration value) {
        return new RecoveryPolicy(value, idleTimeout, probeTimeout, recoveryTimeLimit, maxReconnectTries,
                backoffInitial, backoffMax, jitter, reattachWindow, quietInterval);
    }

    /**
     * Returns this policy with another idle timeout.
     *
     * @param value how long a receive channel may be silent before it has failed
     * @return the new policy
     * @throws NullPointerException if {@code value} is null
     * @throws IllegalArgumentException if {@code value} is zero or negative, or does not exceed the heartbeat
     *     interval
     */
    public RecoveryPolicy withIdleTimeout(Duration value) {
        return new RecoveryPolicy(heartbeatInterval, value, probeTimeout, recoveryTimeLimit, maxReconnectTries,
                backoffInitial, backoffMax, jitter, reattachWindow, quietInterval);
    }

    /**
     * Returns this policy with another probe timeout.
     *
     * @param value how long a PING may go unanswered before its channel has failed
     * @return the new policy
     * @throws NullPointerException if {@code value} is null
     * @throws IllegalArgumentException if {@code value} is zero or negative
     */
    public RecoveryPolicy withProbeTimeout(Duration value) {
        return new RecoveryPolicy(heartbeatInterval, idleTimeout, value, recoveryTimeLimit, maxReconnectTries,
                backoffInitial, backoffMax, jitter, reattachWindow, quietInterval);
    }

    /**
     * Returns this policy with another recovery time limit.
     *
     * @param value the client's budget for reconnecting one channel, all tries included
     * @return the new policy
     * @throws NullPointerException if {@code value} is null
     * @throws IllegalArgumentException if {@code value} is zero or negative
     */
    public RecoveryPolicy withRecoveryTimeLimit(Duration value) {
        return new RecoveryPolicy(heartbeatInterval, idleTimeout, probeTimeout, value, maxReconnectTries,
                backoffInitial, backoffMax, jitter, reattachWindow, quietInterval);
    }

    /**
     * Returns this policy with another number of reconnect tries.
     *
     * @param value the most connect attempts for one channel recovery
     * @return the new policy
     * @throws IllegalArgumentException if {@code value} is below 1
     */
    public RecoveryPolicy withMaxReconnectTries(int value) {
        return new RecoveryPolicy(heartbeatInterval, idleTimeout, probeTimeout, recoveryTimeLimit, value,
                backoffInitial, backoffMax, jitter, reattachWindow, quietInterval);
    }

    /**
     * Returns this policy with another backoff between reconnect tries.
     *
     * @param initial the pause after the first failed try
     * @param max the longest pause
     * @param jitterFraction the fraction, 0 to 1, by which each pause is shortened at random
     * @return the new policy
     * @throws NullPointerException if {@code initial} or {@code max} is null
     * @throws IllegalArgumentException if {@code initial} or {@code max} is zero or negative, if {@code max} is
     *     below {@code initial}, or if {@code jitterFraction} is NaN or outside 0 to 1
     */
    public RecoveryPolicy withBackoff(Duration initial, Duration max, double jitterFraction) {
        return new RecoveryPolicy(heartbeatInterval, idleTimeout, probeTimeout, recoveryTimeLimit,
                maxReconnectTries, initial, max, jitterFraction, reattachWindow, quietInterval);
    }

    /**
     * Returns this policy with another re-attach window.
     *
     * @param value how long a server waits for a client to re-attach a failed channel
     * @return the new policy
     * @throws NullPointerException if {@code value} is null
     * @throws IllegalArgumentException if {@code value} is zero or negative
     */
    public RecoveryPolicy withReattachWindow(Duration value) {
        return new RecoveryPolicy(heartbeatInterval, idleTimeout, probeTimeout, recoveryTimeLimit,
                maxReconnectTries, backoffInitial, backoffMax, jitter, value, quietInterval);
    }

    /**
     * Returns this policy with another quiet interval.
     *
     * @param value the heartbeat of a quiet session; zero (or anything not longer than the heartbeat interval) for
     *     none
     * @return the new policy
     * @throws NullPointerException if {@code value} is null
     * @throws IllegalArgumentException if {@code value} is negative, above {@link #MAX_QUIET_INTERVAL}, or not a
     *     whole number of milliseconds
     */
    public RecoveryPolicy withQuietInterval(Duration value) {
        return new RecoveryPolicy(heartbeatInterval, idleTimeout, probeTimeout, recoveryTimeLimit,
                maxReconnectTries, backoffInitial, backoffMax, jitter, reattachWindow, value);
    }

    static void positive(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive: " + d);
        }
    }
}
