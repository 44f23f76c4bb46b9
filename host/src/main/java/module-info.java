/**
 * twinline's implementation: sessions, request multiplexing with exactly-once bookkeeping, the server and client
 * runtimes, the {@code twinline} command line (server, client, demo), the status endpoint and logging setup.
 *
 * <p>Provides {@link io.twinline.api.spi.TwinlineProvider} to the api's {@link java.util.ServiceLoader}; exports
 * nothing, so embedders see only {@code io.twinline.api}.
 *
 * <p>System properties read by the library: only the JDK's own {@code jdk.virtualThreadScheduler.parallelism}
 * (default: the number of processors), to know how many carriers to hold while the JDK's socket poller starts
 * ({@code PollerStart}). The command line configures tinylog itself (level from {@code --log-level}, default
 * {@code info}), so an embedding application keeps its own logging configuration.
 */
module io.twinline.host {
    requires io.twinline.api;
    requires io.twinline.transport;
    requires io.twinline.recovery;
    requires jdk.httpserver;
    requires org.tinylog.api;

    provides io.twinline.api.spi.TwinlineProvider with io.twinline.host.TwinlineProviderImpl;
}
