package io.twinline.api;

import static io.twinline.api.RecoveryPolicyTest.refused;
import static io.twinline.api.RecoveryPolicyTest.refusedNull;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.spi.ClientSpec;
import io.twinline.api.spi.ServerSpec;
import io.twinline.api.spi.TwinlineProvider;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What the builders' javadoc promises: which arguments they refuse, with which exception, and what they hand the
 * implementation. A provider that only keeps the spec stands in for the implementation.
 */
class BuildersTest {
    private static final Handler ECHO = (session, body) -> body;

    /** Keeps the last spec it was given; starts and connects nothing. */
    private static final class SpecKeeper implements TwinlineProvider {
        ServerSpec server;
        ClientSpec client;

        @Override
        public TwinlineServer startServer(ServerSpec spec) {
            this.server = spec;
            return null;
        }

        @Override
        public TwinlineClient connect(ClientSpec spec) {
            this.client = spec;
            return null;
        }
    }

    private final SpecKeeper provider = new SpecKeeper();
    private final ServerBuilder server = new ServerBuilder(provider);
    private final ClientBuilder client = new ClientBuilder(provider);

    @Test
    void serverDefaultsAreTheDocumentedValues() {
        server.start();
        assertEquals(new InetSocketAddress("127.0.0.1", Twinline.DEFAULT_PORT), provider.server.bindAddress());
        assertEquals(7420, Twinline.DEFAULT_PORT);
        assertEquals(Optional.empty(), provider.server.advertisedAddress());
        assertEquals(RecoveryPolicy.defaults(), provider.server.policy());
        assertEquals(Limits.defaults(), provider.server.limits());
    }

    @Test
    void portsOutside0To65535AreRefused() {
        refused("port must be within 0..65535: -1", () -> server.bind("127.0.0.1", -1));
        refused("port must be within 0..65535: 65536", () -> server.bind("127.0.0.1", 65536));
        refused("port must be within 0..65535: 70000", () -> client.server("localhost", 70000));
        server.bind("127.0.0.1", 0).bind("127.0.0.1", 65535).start();
        assertEquals(65535, provider.server.bindAddress().getPort());
    }

    @Test
    void clientResolvesTheServersNameWhenDiallingNotWhenBuilt() {
        client.server("name.invalid", 7000).connect();
        assertTrue(provider.client.server().isUnresolved(), "the builder leaves the name to each dial");
        assertEquals("name.invalid", provider.client.server().getHostString());
        assertEquals(7000, provider.client.server().getPort());
        assertFalse(provider.client.reconnectAfterDisconnect(), "off by default");
        assertEquals(RecoveryPolicy.defaults(), provider.client.policy());
        assertEquals(Limits.defaults(), provider.client.limits());
    }

    @Test
    void clientWithoutServerAddressCannotConnect() {
        IllegalStateException e = assertThrows(IllegalStateException.class, client::connect);
        assertEquals("no server address: call server(host, port) first", e.getMessage());
    }

    @Test
    void routesMustBe1To255Utf8BytesAndTakenOnce() {
        refused("route must be 1 to 255 UTF-8 bytes: ''", () -> server.handle("", ECHO));
        String long256 = "r".repeat(256);
        refused("route must be 1 to 255 UTF-8 bytes: '" + long256 + "'", () -> client.handle(long256, ECHO));
        String twoByteChars = "é".repeat(128); // 128 characters, 256 bytes
        refused("route must be 1 to 255 UTF-8 bytes: '" + twoByteChars + "'", () -> server.handle(twoByteChars, ECHO));
        server.handle("r".repeat(255), ECHO).handle("é".repeat(127), ECHO).handle("echo", ECHO);
        refused("route already has a handler: 'echo'", () -> server.handle("echo", ECHO));
        refusedNull("route", () -> server.handle(null, ECHO));
        refusedNull("handler", () -> client.handle("echo", null));
        server.start();
        assertEquals(Set.of("r".repeat(255), "é".repeat(127), "echo"), provider.server.handlers().keySet());
    }

    @Test
    void nullsAreRefusedWithTheParametersName() {
        refusedNull("address", () -> server.bind(null));
        refusedNull("host", () -> server.bind(null, 1));
        refusedNull("address", () -> server.advertise(null));
        refusedNull("policy", () -> server.recoveryPolicy(null));
        refusedNull("limits", () -> server.limits(null));
        refusedNull("listener", () -> server.onStateChange(null));
        refusedNull("listener", () -> server.onSession(null));
        refusedNull("address", () -> client.server(null));
        refusedNull("host", () -> client.server(null, 1));
        refusedNull("policy", () -> client.recoveryPolicy(null));
        refusedNull("limits", () -> client.limits(null));
        refusedNull("listener", () -> client.onStateChange(null));
    }

    @Test
    void aBuilderUsedAgainDoesNotChangeWhatItBuiltBefore() {
        client.server("127.0.0.1", 1).handle("a", ECHO).connect();
        ClientSpec first = provider.client;
        client.handle("b", ECHO).onStateChange((session, from, to, cause) -> { }).connect();
        assertEquals(Set.of("a"), first.handlers().keySet());
        assertEquals(0, first.stateListeners().size());
        assertEquals(Set.of("a", "b"), provider.client.handlers().keySet());
    }

    @Test
    void withoutTheImplementationModuleTheEntryPointSaysWhatIsMissing() {
        // This module's tests run without io.twinline.host: no TwinlineProvider is found.
        IllegalStateException e = assertThrows(IllegalStateException.class, Twinline::server);
        assertEquals("no twinline implementation found: add the module io.twinline.host", e.getMessage());
        assertThrows(IllegalStateException.class, Twinline::client);
    }
}
