package io.twinline.host;

import io.twinline.api.Channel;

/**
 * Faults the demo, {@code twinline client --faults} and the tests inject into a live session from this end.
 * Each drives one recovery path; docs/ARCHITECTURE.md says which.
 */
public enum Fault {
    /** This end resets channel A's connection (RST). */
    RESET_A(Channel.A),
    /** This end resets channel B's connection (RST). */
    RESET_B(Channel.B),
    /** Channel B goes silent both ways without closing: found by heartbeats and the idle timeout. */
    SILENT_B(Channel.B),
    /** Channel A goes silent both ways without closing. */
    SILENT_A(Channel.A),
    /** This end's writes on channel A vanish while its reads still work: half-open, seen first by the peer. */
    HALF_OPEN_A(Channel.A);

    final Channel channel;

    Fault(Channel channel) {
        this.channel = channel;
    }

    /** Returns the channel the fault hits. */
    public Channel channel() {
        return channel;
    }
}
