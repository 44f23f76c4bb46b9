package io.twinline.api;

/**
 * Why a channel's connection was given up, as counted in {@link MetricsSnapshot}: the failure that starts a
 * recovery process.
 */
public enum FailureCause {
    /** Reading failed with an error: a reset by the peer or the network, most often. */
    RESET,
    /** The peer closed the connection (end of stream) without GOODBYE. */
    CLOSED_BY_PEER,
    /** Nothing was read on the receive channel for longer than the idle timeout. */
    SILENT,
    /** A PING on the send channel was not answered within the probe timeout. */
    PING_UNANSWERED,
    /** The peer sent something that is not a valid frame; the connection was closed. */
    MALFORMED_FRAME,
    /** Writing failed. */
    WRITE_FAILED,
    /** Anything else, for example a channel found down by the ticker after a failure already counted. */
    OTHER
}
