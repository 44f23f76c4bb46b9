package io.twinline.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.Limits;
import io.twinline.api.RemoteFailureException;
import io.twinline.api.Twinline;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import io.twinline.host.cli.Workload.ReverseAnswer;
import io.twinline.host.cli.Workload.ReverseRequest;
import java.nio.ByteBuffer;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The ledger's routes as {@code twinline server} serves them, called by a client that announces the smallest frame
 * limit (1,024 bytes): bad input fails the call with a message, and the server goes on serving.
 */
class LedgerRoutesTest {
    /** Bounds each call, so that a route that never answers fails the test instead of hanging it. */
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final Ledger clientLedger = new Ledger();
    private TwinlineServer server;
    private TwinlineClient client;

    @BeforeEach
    void start() {
        Ledger serverLedger = new Ledger();
        server = Twinline.server().bind("127.0.0.1", 0)
                .handle(Ledger.ADD, serverLedger.add)
                .handle(Ledger.TOTAL, serverLedger.total)
                .handle(Workload.REVERSE, Workload.reverseHandler())
                .start();
        client = Twinline.client().server("127.0.0.1", server.address().getPort())
                .limits(Limits.defaults().withMaxMessageBytes(1024))
                .handle(Ledger.ADD, clientLedger.add)
                .connect();
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    private byte[] call(String route, byte[] body) {
        return client.call(route, body, WAIT);
    }

    private RemoteFailureException failure(String route, byte[] body) {
        return assertThrows(RemoteFailureException.class, () -> call(route, body));
    }

    @Test
    void reversePayloadBeyondTheCallersMessageLimitFailsTheCallAndTheServerGoesOn() {
        RemoteFailureException e = failure(Workload.REVERSE, new ReverseRequest(10, 2, 2000).encode());
        assertTrue(e.getMessage().contains("payload of 2000 bytes") && e.getMessage().contains("at most 1024 bytes"),
                e.getMessage());

        ReverseAnswer answer = ReverseAnswer.decode(call(Workload.REVERSE, new ReverseRequest(10, 2, 1024).encode()));
        assertEquals(new ReverseAnswer(clientLedger.total(client.session()), 10, 0), answer);
    }

    @Test
    void reverseRefusesAMalformedRequestNamingWhatIsWrong() {
        assertTrue(failure(Workload.REVERSE, new byte[11]).getMessage().contains("12-byte body"));
        assertTrue(failure(Workload.REVERSE, new byte[13]).getMessage().contains("got 13 bytes"));
        assertTrue(failure(Workload.REVERSE, new ReverseRequest(-1, 2, 64).encode()).getMessage()
                .contains("count must not be negative: -1"));
        assertTrue(failure(Workload.REVERSE, new ReverseRequest(5, 0, 64).encode()).getMessage()
                .contains("concurrency must be at least 1: 0"));
        assertTrue(failure(Workload.REVERSE, new ReverseRequest(5, 2, 7).encode()).getMessage()
                .contains("payload must be at least 8 bytes (the amount): 7"));
        assertEquals(0, clientLedger.total(client.session()), "no call back was made");
    }

    @Test
    void reverseCountsCallsBackThatFailAndMakesTheRest() {
        try (TwinlineClient picky = Twinline.client().server("127.0.0.1", server.address().getPort())
                .handle(Ledger.ADD, (session, body) -> {
                    if (ByteBuffer.wrap(body).getLong() < 0) {
                        throw new IllegalStateException("negative amounts refused");
                    }
                    return Ledger.encode(0);
                })
                .connect()) {
            ReverseAnswer answer = ReverseAnswer.decode(picky.call(Workload.REVERSE,
                    new ReverseRequest(200, 4, 64).encode(), WAIT));
            assertEquals(200, answer.ok() + answer.failed(), answer.toString());
            assertTrue(answer.failed() > 0 && answer.ok() > 0, answer.toString());
        }
    }

    @Test
    void addRefusesAShortBodyAndAnOverflowLeavingTheTotal() {
        assertTrue(failure(Ledger.ADD, new byte[7]).getMessage().contains("8-byte amount, got 7 bytes"));
        assertEquals(Long.MAX_VALUE, Ledger.decode(call(Ledger.ADD, Ledger.encode(Long.MAX_VALUE))));
        assertTrue(failure(Ledger.ADD, Ledger.encode(1)).getMessage().contains("overflows"));
        assertEquals(Long.MAX_VALUE, Ledger.decode(call(Ledger.TOTAL, new byte[0])));
    }

    @Test
    void totalRefusesABody() {
        assertTrue(failure(Ledger.TOTAL, new byte[1]).getMessage().contains("empty body, got 1 bytes"));
    }
}
