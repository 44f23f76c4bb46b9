/**
 * Frames, their codec with hard limits, and the blocking connection over a socket: the bytes and sockets of
 * twinline. Knows nothing of sessions or recovery.
 *
 * <p>Offers {@link io.twinline.transport.Frame} and its records, {@link io.twinline.transport.FrameCodec}
 * (every length checked against a limit before anything is allocated), {@link io.twinline.transport.Connection}
 * (one reader, one coalescing writer) and {@link io.twinline.transport.Sockets} (connect and listen with
 * twinline's socket options). Exported only to {@code io.twinline.host}.
 *
 * <p>This module reads no system properties.
 */
module io.twinline.transport {
    exports io.twinline.transport to io.twinline.host;
}
