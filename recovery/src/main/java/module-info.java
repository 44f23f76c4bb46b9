/**
 * The patent's Fig. 4 state machine and the four recovery processes of Figs. 5–8, written against small
 * interfaces ({@link io.twinline.recovery.ChannelOps}, {@link io.twinline.recovery.Clock}) so that the same
 * code runs over TCP and over a simulated network in tests. Knows nothing of sockets.
 *
 * <p>Offers {@link io.twinline.recovery.StateMachine}, {@link io.twinline.recovery.RecoveryProcesses} and
 * {@link io.twinline.recovery.Backoff}. Exported only to {@code io.twinline.host}. {@code requires transitive
 * io.twinline.api} because its signatures use the api's {@code Channel}, {@code SessionState} and
 * {@code RecoveryPolicy}.
 *
 * <p>This module reads no system properties.
 */
module io.twinline.recovery {
    requires transitive io.twinline.api;

    exports io.twinline.recovery to io.twinline.host;
}
