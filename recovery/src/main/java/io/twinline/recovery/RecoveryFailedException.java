package io.twinline.recovery;

import io.twinline.api.Channel;

/**
 * Why a recovery process gave up and moved the session to {@code DISCONNECTED}. Its cause is the failure that
 * started the recovery; failed reconnect tries are attached as suppressed exceptions.
 */
public final class RecoveryFailedException extends Exception {
    private static final long serialVersionUID = 1L;

    private final Channel channel;

    public RecoveryFailedException(Channel channel, String message, Throwable cause) {
        super("channel " + channel + ": " + message, cause);
        this.channel = channel;
    }

    /** Carries the tries of {@code earlier} over as suppressed exceptions. */
    public RecoveryFailedException(Channel channel, String message, Throwable cause,
                                   RecoveryFailedException earlier) {
        this(channel, message, cause);
        if (earlier != null) {
            for (Throwable t : earlier.getSuppressed()) {
                addSuppressed(t);
            }
        }
    }

    /** Returns the channel whose recovery failed. */
    public Channel channel() {
        return channel;
    }
}
