package io.twinline.host;

import io.twinline.api.Session;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import io.twinline.transport.FrameCodec;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * What the command line (package {@code io.twinline.host.cli}) needs of the implementation beyond the api. The
 * package is not exported, so embedders never see this.
 */
public final class HostAccess {
    private HostAccess() {
    }

    /**
     * Has every server and client made from now on in this JVM open its connections through a network that can
     * break them ({@link #inject}); until a fault is injected, bytes pass straight through.
     */
    public static void enableFaults() {
        TwinlineProviderImpl.useNetwork(new FaultyNetwork(Network.TCP));
    }

    /**
     * Injects {@code fault} into {@code session} from this end: resets, silences or half-opens the connection of
     * the fault's channel, as a network would.
     *
     * @return whether the channel had a healthy connection to hit
     * @throws IllegalStateException if the session's runtime was made before {@link #enableFaults()}
     */
    public static boolean inject(Session session, Fault fault) {
        Link link = ((TwinSession) session).link(fault.channel);
        if (link == null || !link.isHealthy()) {
            return false;
        }
        if (!FaultyNetwork.inject(link.connection.endpoint(), fault)) {
            throw new IllegalStateException("faults are injected only into runtimes made after enableFaults()");
        }
        return true;
    }

    /** Whether {@code session}'s last round found it quiet (PROTOCOL §7.2): for benchmarks that measure both kinds. */
    public static boolean quiet(Session session) {
        return ((TwinSession) session).quiet();
    }

    /** Returns the counters of a server or client made by this implementation. */
    public static Map<String, Long> metrics(Object serverOrClient) {
        return switch (serverOrClient) {
            case ServerRuntime s -> s.counters().counters(s.metrics());
            case ClientRuntime c -> c.counters().counters(c.metrics());
            default -> throw new IllegalArgumentException("not a twinline runtime: " + serverOrClient);
        };
    }

    /**
     * Starts the status endpoint of {@code server} on {@code address}.
     *
     * @return a handle that stops it
     */
    public static AutoCloseable startStatusEndpoint(TwinlineServer server, InetSocketAddress address)
            throws IOException {
        return StatusEndpoint.start((ServerRuntime) server, address);
    }

    /** Returns the address an endpoint started here listens on (with the real port when it was bound to 0). */
    public static InetSocketAddress endpointAddress(AutoCloseable endpoint) {
        return ((StatusEndpoint) endpoint).address();
    }

    /** Begins a server's drain: its {@code /ready} turns false while it goes on serving (see OPERATIONS §6). */
    public static void beginDrain(TwinlineServer server) {
        ((ServerRuntime) server).beginDrain();
    }

    /**
     * Starts a client's metrics endpoint ({@code /metrics}, {@code /health}) on {@code address}.
     *
     * @return a handle that stops it
     */
    public static AutoCloseable startMetricsEndpoint(TwinlineClient client, InetSocketAddress address)
            throws IOException {
        return StatusEndpoint.start((ClientRuntime) client, address);
    }

    /**
     * Returns the largest body a call on {@code session} may carry: the message limit its peer announced (HELLO or
     * WELCOME), or the session's budget of request bytes in flight if smaller. A larger body fails the call at once
     * with {@link IllegalArgumentException}.
     */
    public static int largestBody(Session session, String route) {
        TwinSession s = (TwinSession) session;
        return Math.min(s.peer().maxMessageBytes(), s.requester().bytesBudget());
    }

    /** Why dialling or listening failed, in words: {@code address already in use}, {@code unknown host x}. */
    public static String inWords(IOException e) {
        return Network.inWords(e);
    }

    /** {@code host:port}, with brackets around an IPv6 address. */
    public static String hostPort(InetSocketAddress address) {
        return Network.hostPort(address);
    }

    /** Returns the client's current session's unanswered call count, for progress lines. */
    public static int unanswered(TwinlineClient client) {
        return ((ClientRuntime) client).twinSession().requester().unansweredCount();
    }

    /** Returns the platform logger the library logs through ({@code io.twinline}), for the command's own lines. */
    public static System.Logger logger() {
        return Logger.INSTANCE;
    }
}
