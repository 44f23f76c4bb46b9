package io.twinline.recovery;

import io.twinline.api.Channel;

/**
 * What the recovery processes do to channels. The host implements it over TCP; tests implement it with scripted
 * answers. Every method may be called from any recovery process thread.
 */
public interface ChannelOps {

    /**
     * Fig. 5 block 520, Fig. 7 block 720: "attempt to send a communication" on {@code channel}: a PING that must be
     * answered within the probe timeout.
     *
     * @return whether the PONG came in time
     */
    boolean probe(Channel channel) throws InterruptedException;

    /** Closes the connection of {@code channel}, if it has one. Never throws. */
    void close(Channel channel);

    /**
     * Client only, Fig. 5 block 532 and Fig. 6 block 635: one try to open a new connection for {@code channel} and
     * ATTACH it to the session, giving up at {@code deadlineNanos}.
     *
     * @throws Exception why the try failed
     */
    void reconnect(Channel channel, long deadlineNanos) throws Exception;

    /**
     * Server only, Fig. 7 block 745 and Fig. 8 blocks 835–840: waits until the client has re-attached
     * {@code channel}, the session has ended, or the deadline passed.
     *
     * @return whether the channel was re-attached in time
     */
    boolean awaitReattach(Channel channel, long deadlineNanos) throws InterruptedException;

    /** Returns whether {@code channel} has an open connection that has not failed. */
    boolean isHealthy(Channel channel);
}
