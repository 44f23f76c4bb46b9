/**
 * The twinline API: everything an embedder codes against.
 *
 * <p>Offers {@link io.twinline.api.Twinline}, the entry point with its server and client builders;
 * {@link io.twinline.api.Session}, on which either side calls the other; the {@link io.twinline.api.Handler}
 * interface for routes; {@link io.twinline.api.SessionState}; the policies {@link io.twinline.api.RecoveryPolicy}
 * and {@link io.twinline.api.Limits}; and the exceptions a call can end in.
 *
 * <p>The implementation is found with {@link java.util.ServiceLoader} ({@code uses
 * io.twinline.api.spi.TwinlineProvider}); the module {@code io.twinline.host} provides it. The SPI package is
 * exported only to that module.
 *
 * <p>This module reads no system properties.
 */
module io.twinline.api {
    exports io.twinline.api;
    exports io.twinline.api.spi to io.twinline.host;

    uses io.twinline.api.spi.TwinlineProvider;
}
