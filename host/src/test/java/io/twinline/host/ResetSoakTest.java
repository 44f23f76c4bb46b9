package io.twinline.host;

import static io.twinline.host.Testing.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.Channel;
import io.twinline.api.Handler;
import io.twinline.api.Session;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;

/**
 * Real TCP on loopback with {@code Testing.fastPolicy}, both directions: 150,000 calls each way
 * ({@code -Dtwinline.soak.calls} changes the number per direction) from 32 callers each way, each with a 60 s
 * timeout, while connections are reset from outside. None lost, none run twice, proved by ledger totals and per-id
 * run counters on both sides.
 *
 * <p>Each body carries its call's index and a random amount; the {@code add} handler at each end counts runs per index
 * and adds the amount to its ledger. Every 10,000 to 30,000 calls (and at least 20 ms apart) a killer thread picks the
 * client's channel A or B at random and, if its link is healthy, resets it with {@code ss -K sport = :<the client's
 * local port>}. If {@code ss} cannot be started, exits non-zero, or exits 0 without the link failing within 0.5 s, it
 * resets the link in-process through the network ({@code HostAccess.inject}, a reset by {@code FaultyNetwork})
 * instead. {@code ss -K} needs root and a kernel built with {@code CONFIG_INET_DIAG_DESTROY}; without root, iproute2 6.1's {@code ss} prints {@code SOCK_DESTROY answers:
 * Operation not permitted} and still exits 0, which is why the link is checked.
 *
 * <p>Requires: at least 8 resets, no failed call, every call answered each way, every index run exactly once at each
 * end, both ledgers equal to what was sent, and a working call at the end. Prints {@code soak: N calls each way, N
 * resets with ss -K, N in-process, N recoveries}.
 */
class ResetSoakTest {
    private static final int CALLS_EACH_WAY = Integer.getInteger("twinline.soak.calls", 150_000);

    /** A ledger that also counts runs per call id (the first 8 bytes of the body are the id, then the amount). */
    private static final class CountingLedger {
        final AtomicLongArray runs = new AtomicLongArray(CALLS_EACH_WAY);
        final AtomicLong total = new AtomicLong();
        final Handler add = (session, body) -> {
            ByteBuffer b = ByteBuffer.wrap(body);
            runs.incrementAndGet((int) b.getLong());
            return Ledger8.encode(total.addAndGet(b.getLong()));
        };

        String firstProblem(int answered) {
            for (int i = 0; i < runs.length(); i++) {
                long n = runs.get(i);
                if (n > 1) {
                    return "call " + i + " ran " + n + " times";
                }
            }
            return null;
        }
    }

    /** Encodes a long; a local copy so this test does not reach into the CLI package. */
    private static final class Ledger8 {
        static byte[] encode(long v) {
            return ByteBuffer.allocate(8).putLong(v).array();
        }
    }

    private static boolean killFromOutside(int localPort) {
        try {
            Process p = new ProcessBuilder("ss", "-K", "sport", "=", ":" + localPort)
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    /** {@code ss -K} exits 0 without killing anything when not allowed to: check that the link really failed. */
    private static boolean becomesUnhealthy(Link link) {
        long deadline = System.nanoTime() + 500_000_000L;
        while (link.isHealthy() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        return !link.isHealthy();
    }

    private static final class Direction {
        final AtomicInteger next = new AtomicInteger();
        final AtomicLong sent = new AtomicLong();
        final AtomicInteger ok = new AtomicInteger();
        final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();

        List<Thread> start(Session session, int callers) {
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < callers; c++) {
                threads.add(Thread.ofVirtual().start(() -> {
                    int id;
                    while ((id = next.getAndIncrement()) < CALLS_EACH_WAY) {
                        long amount = ThreadLocalRandom.current().nextLong(-1000, 1001);
                        byte[] body = ByteBuffer.allocate(16).putLong(id).putLong(amount).array();
                        try {
                            session.call("add", body, Duration.ofSeconds(60));
                            sent.addAndGet(amount);
                            ok.incrementAndGet();
                        } catch (RuntimeException e) {
                            failures.add("call " + id + ": " + e);
                        }
                    }
                }));
            }
            return threads;
        }
    }

    @Test
    void hundredThousandCallsBothWaysSurviveRepeatedResets() throws Exception {
        CountingLedger atServer = new CountingLedger();
        CountingLedger atClient = new CountingLedger();
        try (TwinlineServer server = Testing.server().handle("add", atServer.add).start();
             TwinlineClient client = Testing.client(server).handle("add", atClient.add).connect()) {
            TwinSession clientSide = Testing.twin(client);
            TwinSession serverSide = Testing.serverSide(server, client.session());
            Direction forward = new Direction();
            Direction reverse = new Direction();
            List<Thread> callers = new ArrayList<>(forward.start(clientSide, 32));
            callers.addAll(reverse.start(serverSide, 32));

            AtomicBoolean done = new AtomicBoolean();
            AtomicInteger outside = new AtomicInteger();
            AtomicInteger inside = new AtomicInteger();
            Thread killer = Thread.ofVirtual().start(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                while (!done.get()) {
                    // Paced by calls, not by the clock, so a faster build still sees a reset every 10,000-30,000
                    // calls (and at least 20 ms apart, to let a recovery finish now and then).
                    long mark = forward.next.get() + reverse.next.get() + 10_000 + random.nextInt(20_000);
                    try {
                        Thread.sleep(20);
                        while (!done.get() && forward.next.get() + reverse.next.get() < mark) {
                            Thread.sleep(2);
                        }
                    } catch (InterruptedException e) {
                        return;
                    }
                    Channel channel = random.nextBoolean() ? Channel.A : Channel.B;
                    Link link = clientSide.link(channel);
                    if (link == null || !link.isHealthy()) {
                        continue;
                    }
                    if (killFromOutside(link.connection.localPort()) && becomesUnhealthy(link)) {
                        outside.incrementAndGet();
                    } else {
                        HostAccess.inject(clientSide, channel == Channel.A ? Fault.RESET_A : Fault.RESET_B);
                        inside.incrementAndGet();
                    }
                }
            });
            for (Thread t : callers) {
                assertTrue(t.join(Duration.ofMinutes(3)), "caller finished");
            }
            done.set(true);
            killer.interrupt();
            killer.join();
            System.out.printf("soak: %d calls each way, %d resets with ss -K, %d in-process, %d recoveries%n",
                    CALLS_EACH_WAY, outside.get(), inside.get(), HostAccess.metrics(client).get("recoveries"));

            assertTrue(outside.get() + inside.get() >= 8, "the soak reset connections: " + outside + " + " + inside);
            assertEquals(List.of(), List.copyOf(forward.failures));
            assertEquals(List.of(), List.copyOf(reverse.failures));
            assertEquals(CALLS_EACH_WAY, forward.ok.get());
            assertEquals(CALLS_EACH_WAY, reverse.ok.get());
            assertNull(atServer.firstProblem(CALLS_EACH_WAY));
            assertNull(atClient.firstProblem(CALLS_EACH_WAY));
            for (int i = 0; i < CALLS_EACH_WAY; i++) {
                assertEquals(1, atServer.runs.get(i), "client call " + i + " ran once at the server");
                assertEquals(1, atClient.runs.get(i), "server call " + i + " ran once at the client");
            }
            assertEquals(forward.sent.get(), atServer.total.get(), "server ledger matches what the client sent");
            assertEquals(reverse.sent.get(), atClient.total.get(), "client ledger matches what the server sent");
            assertTrue(outside.get() + inside.get() >= 3, "connections were reset during the run");
            assertEquals("ok", Testing.text(client.call("echo", utf8("ok"))));
        }
    }
}
