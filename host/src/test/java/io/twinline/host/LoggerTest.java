package io.twinline.host;

import static io.twinline.host.Testing.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.twinline.api.RemoteFailureException;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The library logs through {@link System.Logger}: in this JVM, with no other {@code LoggerFinder}, that is
 * java.util.logging, where a handler of the test's own sees each record with its level and the class that logged.
 */
class LoggerTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    /** Held here: java.util.logging keeps loggers weakly, and with them the level and handler set below. */
    private final java.util.logging.Logger jul = java.util.logging.Logger.getLogger(Logger.NAME);
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            record.getSourceClassName(); // inferred from the stack now, on the thread that logged
            records.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private Level levelBefore;

    @BeforeEach
    void listen() {
        levelBefore = jul.getLevel();
        jul.setLevel(Level.INFO);
        jul.addHandler(handler);
    }

    @AfterEach
    void stopListening() {
        jul.removeHandler(handler);
        jul.setLevel(levelBefore);
    }

    private LogRecord awaitRecord(String what, String prefix) {
        Testing.await(WAIT, () -> what + " in " + messages(), () -> find(prefix) != null);
        return find(prefix);
    }

    private LogRecord find(String prefix) {
        return records.stream().filter(r -> r.getMessage().startsWith(prefix)).findFirst().orElse(null);
    }

    private List<String> messages() {
        return records.stream().map(r -> r.getLevel() + " " + r.getMessage()).toList();
    }

    @Test
    void aSessionStartIsLoggedAtInfoByTheClassesThatStartedIt() {
        try (TwinlineServer server = Testing.server().start();
             TwinlineClient client = Testing.client(server).connect()) {
            String id = client.session().id();
            int port = server.address().getPort();

            LogRecord connected = awaitRecord("the client's line", "[" + id + "] connected to 127.0.0.1:" + port);
            assertEquals(Level.INFO, connected.getLevel());
            assertEquals(Logger.NAME, connected.getLoggerName());
            assertEquals(ClientRuntime.class.getName(), connected.getSourceClassName(),
                    "the source is the class that logged, not the facade");

            LogRecord accepted = awaitRecord("the server's line", "[" + id + "] new session from ");
            assertEquals(Level.INFO, accepted.getLevel());
            assertEquals(ServerRuntime.class.getName(), accepted.getSourceClassName());
        }
    }

    @Test
    void debugLinesArriveAsFineOnlyWhenFineIsEnabled() {
        try (TwinlineServer server = Testing.server().start();
             TwinlineClient client = Testing.client(server).connect()) {
            String id = client.session().id();
            String line = "[" + id + "] handler for 'fail' failed: IllegalStateException: boom: ";

            // The server logs before it answers, so the line would be here by the time the call has failed.
            assertThrows(RemoteFailureException.class, () -> client.call("fail", utf8("first")));
            assertEquals(List.of(), records.stream().filter(r -> r.getMessage().startsWith(line)).toList(),
                    "no DEBUG line at INFO");

            jul.setLevel(Level.FINE);
            assertThrows(RemoteFailureException.class, () -> client.call("fail", utf8("second")));
            LogRecord failed = awaitRecord("the DEBUG line", line);
            assertEquals(line + "second", failed.getMessage());
            assertEquals(Level.FINE, failed.getLevel(), "System.Logger's DEBUG is java.util.logging's FINE");
            assertEquals(RequestRunner.class.getName(), failed.getSourceClassName());
        }
    }

    @Test
    void aDisabledLevelFormatsNothing() {
        AtomicInteger formatted = new AtomicInteger();
        Object argument = new Object() {
            @Override
            public String toString() {
                formatted.incrementAndGet();
                return "argument";
            }
        };

        Logger.debug("[test] {}", argument);
        assertEquals(0, formatted.get(), "DEBUG is off at INFO: the argument was not turned into text");

        jul.setLevel(Level.FINE);
        Logger.debug("[test] {}", argument);
        assertEquals(1, formatted.get());
        assertEquals("[test] argument", find("[test] ").getMessage());
    }

    @Test
    void placeholdersAreFilledInOrderAndTheRestIsLeftAsWritten() {
        assertEquals("[s-1/A] A#1 failed: boom", Logger.fill("[{}/{}] {} failed: {}",
                new Object[] {"s-1", "A", "A#1", "boom"}));
        assertEquals("[s-1] {} and {}", Logger.fill("[{}] {} and {}", new Object[] {"s-1"}));
        assertEquals("[s-1]", Logger.fill("[{}]", new Object[] {"s-1", "unused"}));
        assertEquals("null -> 'r'", Logger.fill("{} -> '{}'", new Object[] {null, "r"}));
        assertEquals("no placeholder {0}", Logger.fill("no placeholder {0}", new Object[0]));
        assertEquals("{}", Logger.fill("{}", null));
    }
}
