package io.twinline.host;

import static io.twinline.host.Testing.text;
import static io.twinline.host.Testing.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.twinline.api.Session;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Many callers multiplexed over one channel, and many sessions on one server, both directions at once: a thousand
 * callers each way on one session get their own answers, fifty sessions call both ways at once, and callers past
 * {@code maxInFlight} wait for a slot instead of failing.
 */
class ConcurrencyTest {

    /** Starts {@code callers} virtual threads that each call once, all released together; returns mismatches. */
    private static List<String> callConcurrently(Session session, String prefix, int callers, CountDownLatch go,
                                                 List<Thread> threads) {
        List<String> problems = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int i = 0; i < callers; i++) {
            String body = prefix + "-" + i;
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    go.await();
                    String answer = text(session.call("echo", utf8(body), Duration.ofSeconds(60)));
                    if (!answer.equals(body)) {
                        problems.add(body + " answered with " + answer);
                    }
                } catch (Exception e) {
                    problems.add(body + " failed: " + e);
                }
            }));
        }
        return problems;
    }

    @Test
    void thousandCallersEachWayOnOneSessionGetTheirOwnAnswers() throws Exception {
        try (TwinlineServer server = Testing.server().start();
             TwinlineClient client = Testing.client(server).connect()) {
            Session serverSide = Testing.serverSide(server, client.session());
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            List<String> forward = callConcurrently(client.session(), "c", 1200, go, threads);
            List<String> reverse = callConcurrently(serverSide, "s", 1200, go, threads);
            go.countDown();
            for (Thread t : threads) {
                assertEquals(true, t.join(Duration.ofSeconds(60)), "caller finished");
            }
            assertEquals(List.of(), forward);
            assertEquals(List.of(), reverse);
        }
    }

    @Test
    void fiftySessionsOnOneServerCallBothWaysAtOnce() throws Exception {
        int sessions = 60;
        Testing.RunCounter serverRuns = new Testing.RunCounter();
        try (TwinlineServer server = Testing.server().handle("count", serverRuns.handler).start()) {
            List<TwinlineClient> clients = new ArrayList<>();
            List<Testing.RunCounter> clientRuns = new ArrayList<>();
            try {
                for (int i = 0; i < sessions; i++) {
                    Testing.RunCounter runs = new Testing.RunCounter();
                    clientRuns.add(runs);
                    clients.add(Testing.client(server).handle("count", runs.handler).connect());
                }
                assertEquals(sessions, server.sessions().size());
                ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
                AtomicInteger answered = new AtomicInteger();
                CountDownLatch done = new CountDownLatch(sessions * 2);
                for (int i = 0; i < sessions; i++) {
                    Session c = clients.get(i).session();
                    Session s = Testing.serverSide(server, c);
                    for (Session side : List.of(c, s)) {
                        String tag = (side == c ? "c" : "s") + c.id();
                        Thread.ofVirtual().start(() -> {
                            try {
                                for (int k = 0; k < 20; k++) {
                                    String body = tag + "-" + k;
                                    if (!text(side.call("count", utf8(body))).equals(body)) {
                                        problems.add("wrong answer to " + body);
                                    }
                                    answered.incrementAndGet();
                                }
                            } catch (Exception e) {
                                problems.add(tag + ": " + e);
                            } finally {
                                done.countDown();
                            }
                        });
                    }
                }
                assertEquals(true, done.await(60, TimeUnit.SECONDS), "all sessions finished");
                assertEquals(List.of(), List.copyOf(problems));
                assertEquals(sessions * 2 * 20, answered.get());
                assertEquals(sessions * 20, serverRuns.runs.size());
                assertNull(serverRuns.firstDuplicate());
                for (Testing.RunCounter runs : clientRuns) {
                    assertEquals(20, runs.runs.size());
                    assertNull(runs.firstDuplicate());
                }
            } finally {
                clients.forEach(TwinlineClient::close);
            }
        }
    }

    @Test
    void callersPastMaxInFlightWaitForASlotInsteadOfFailing() throws Exception {
        try (TwinlineServer server = Testing.server().start();
             TwinlineClient client = Testing.client(server)
                     .limits(io.twinline.api.Limits.defaults().withMaxInFlight(4)).connect()) {
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            List<String> problems = new java.util.concurrent.CopyOnWriteArrayList<>();
            AtomicInteger peak = new AtomicInteger();
            TwinSession session = Testing.twin(client);
            for (int i = 0; i < 40; i++) {
                threads.add(Thread.ofVirtual().start(() -> {
                    try {
                        go.await();
                        client.call("slow", utf8("20"));
                        peak.accumulateAndGet(session.requester().unansweredCount(), Math::max);
                    } catch (Exception e) {
                        problems.add(e.toString());
                    }
                }));
            }
            go.countDown();
            for (Thread t : threads) {
                assertEquals(true, t.join(Duration.ofSeconds(30)));
            }
            assertEquals(List.of(), problems);
            assertEquals(true, peak.get() <= 4, "never more than 4 unanswered, saw " + peak.get());
        }
    }
}
