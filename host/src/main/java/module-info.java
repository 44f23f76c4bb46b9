/**
 * twinline's implementation: sessions, request multiplexing with exactly-once bookkeeping, the server and client
 * runtimes, the {@code twinline} command line (server, client, demo) and the status endpoint.
 *
 * <p>Provides {@link io.twinline.api.spi.TwinlineProvider} to the api's {@link java.util.ServiceLoader}; exports
 * nothing, so embedders see only {@code io.twinline.api}.
 *
 * <p>Logging: the library logs through the JDK's platform logging, one {@link System.Logger} named
 * {@code io.twinline}, and configures nothing, so its lines go wherever the application's go: to
 * java.util.logging when module {@code java.logging} is in the boot layer (INFO and above on the console unless
 * configured), to the JDK's simple console logger when it is not, or to whatever {@link System.LoggerFinder} the
 * application provides. The library provides no {@code LoggerFinder}: there may be only one in a JVM, and it is the
 * application's choice. The runtime image makes that choice for the {@code twinline} command: it holds tinylog and
 * tinylog's {@code LoggerFinder} (module {@code org.tinylog.api.jsl}), so every record goes to tinylog, and the
 * command configures tinylog itself (package {@code io.twinline.host.cli}: one line per event on stderr, level
 * from {@code --log-level}). That package is the only one that touches tinylog, and this module requires it
 * statically: an application that embeds twinline needs no tinylog. Run outside the image without tinylog, the
 * command skips that configuration and its lines go to the JDK's default.
 *
 * <p>System properties read by the library: only the JDK's own {@code jdk.virtualThreadScheduler.parallelism}
 * (default: the number of processors), to know how many carriers to hold while the JDK's socket poller starts
 * ({@code PollerStart}).
 */
module io.twinline.host {
    requires io.twinline.api;
    requires io.twinline.transport;
    requires io.twinline.recovery;
    requires jdk.httpserver;
    requires static org.tinylog.api;

    provides io.twinline.api.spi.TwinlineProvider with io.twinline.host.TwinlineProviderImpl;
}
