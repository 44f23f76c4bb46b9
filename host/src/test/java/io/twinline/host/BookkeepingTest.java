package io.twinline.host;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.CallTimeoutException;
import io.twinline.api.Channel;
import io.twinline.transport.Connection;
import io.twinline.transport.Frame;
import io.twinline.transport.FrameCodec;
import io.twinline.transport.MalformedFrameException;
import io.twinline.transport.ResponseStatus;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The requester's and responder's bookkeeping (DESIGN §5), without sessions around them. Requester: unanswered calls
 * are re-sent in id order on each new link and answered ones are not, whatever order the table holds them in; a call
 * made while the channel is down is sent after the replayed ones; a late hand-over of an older link leaves the
 * requester on the newer one; a re-attach repeats the answered ids of the latest window in frames the peer accepts;
 * the floor follows answers in any order and jumps when a long call ends; callers past the bound wait for a slot, and
 * one that finds none in time is told it was not sent; a timed-out call keeps its slot and is acknowledged when its
 * late answer comes. Responder: each id runs once and a finished one is answered from the cache; acknowledgements
 * prune the cache by id and by floor, a far jump in one pass; a peer past its in-flight limit, or one that never
 * acknowledges, is a protocol violation before the cache grows without bound; a handler never started is neither
 * running nor owed and a re-sent request starts it. Both still count, floor and de-duplicate correctly after a burst.
 */
class BookkeepingTest {

    /** A link whose far end the test reads frames from. */
    private static final class Wire {
        final Link link;
        final DataInputStream farEnd;
        final FrameCodec codec = new FrameCodec(1 << 20);

        Wire(int generation) throws IOException {
            SimNetwork net = new SimNetwork();
            var listener = net.listen(new InetSocketAddress("127.0.0.1", 0));
            var near = net.dial(listener.address(), Duration.ofSeconds(1));
            var far = listener.accept();
            Connection connection = new Connection(near, 1 << 20, 1 << 20, System::nanoTime);
            link = new Link(Channel.A, connection, generation);
            connection.establish(new Connection.Established(1 << 20, Duration.ZERO, () -> {
                Thread.ofVirtual().start(() -> {
                    try {
                        connection.runWriter();
                    } catch (IOException ignored) {
                        // the test closes the link
                    }
                });
                return true;
            }, null, () -> false, Connection.Bodies.ALL, 64, 1 << 20));
            farEnd = new DataInputStream(far.input());
        }

        Frame next() throws IOException {
            return codec.read(farEnd);
        }
    }

    private static CompletableFuture<byte[]> callAsync(Requester requester, String body, Duration timeout) {
        CompletableFuture<byte[]> answer = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                answer.complete(requester.call("r", body.getBytes(), timeout, 1 << 20));
            } catch (Throwable t) {
                answer.completeExceptionally(t);
            }
        });
        return answer;
    }

    private static void awaitUnanswered(Requester requester, int n) {
        Testing.await(Duration.ofSeconds(5), n + " calls registered", () -> requester.unansweredCount() == n);
    }

    /**
     * Two ATTACHes of the send channel handled at once (issue #14, race 1): the session installs the newer link,
     * closes the older, and both hand theirs to the requester, the older one last. The requester must stay on the
     * newer link; before, it took the closed one, and every later call waited there unsent until its timeout.
     */
    @Test
    void aLateHandOverOfAnOlderLinkLeavesTheRequesterOnTheNewerOne() throws Exception {
        Wire older = new Wire(5);
        Wire newer = new Wire(6);
        Requester requester = new Requester("s-t", 4, 1 << 20, System::nanoTime);
        requester.linkUp(newer.link);
        older.link.markFailed(io.twinline.api.FailureCause.OTHER); // as attach does to the link the newer one replaced
        older.link.close();
        assertEquals(0, requester.linkUp(older.link), "nothing replayed on a link that is not the current one");
        CompletableFuture<byte[]> answer = callAsync(requester, "after", Duration.ofSeconds(30));
        CompletableFuture<Frame> arrived = CompletableFuture.supplyAsync(() -> {
            try {
                Frame frame;
                do {
                    frame = newer.next(); // the hand-over's ACK of the floor comes first
                } while (frame instanceof Frame.Ack);
                return frame;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, r -> Thread.ofVirtual().start(r));
        Frame.Request request = assertInstanceOf(Frame.Request.class, arrived.get(10, TimeUnit.SECONDS),
                "the call went out on the newer link");
        requester.onResponse(new Frame.Response(request.id(), ResponseStatus.OK, "ok".getBytes()));
        assertArrayEquals("ok".getBytes(), answer.get(10, TimeUnit.SECONDS));
    }

    @Test
    void unansweredCallsAreResentInIdOrderOnEachNewLinkAndAnsweredOnesAreNot() throws Exception {
        Requester requester = new Requester("s-t", 16, 1 << 20, System::nanoTime);
        List<CompletableFuture<byte[]>> answers = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            answers.add(callAsync(requester, "call" + i, Duration.ofSeconds(10)));
            awaitUnanswered(requester, i); // ids follow the order of the calls
        }
        Wire first = new Wire(1);
        requester.linkUp(first.link);
        assertEquals(new Frame.Ack(1, new long[0]), first.next(), "the repeated ACK overtakes the replay");
        assertEquals(1L, ((Frame.Request) first.next()).id());
        assertEquals(2L, ((Frame.Request) first.next()).id());
        assertEquals(3L, ((Frame.Request) first.next()).id());

        requester.onResponse(new Frame.Response(2, ResponseStatus.OK, "two".getBytes()));
        assertArrayEquals("two".getBytes(), answers.get(1).get());
        requester.linkDown(first.link);

        Wire second = new Wire(2);
        requester.linkUp(second.link);
        assertEquals(new Frame.Ack(1, new long[] {2}), second.next(),
                "floor stays at the oldest unanswered call, and the answered id above it is acknowledged again");
        assertEquals(1L, ((Frame.Request) second.next()).id());
        assertEquals(3L, ((Frame.Request) second.next()).id());
        requester.onResponse(new Frame.Response(1, ResponseStatus.OK, new byte[0]));
        requester.onResponse(new Frame.Response(3, ResponseStatus.OK, new byte[0]));
        answers.get(0).get();
        answers.get(2).get();
        assertEquals(4, requester.floor(), "everything answered: the floor is past the last id");
        requester.flushAcks(second.link);
        Frame.Ack ack = (Frame.Ack) second.next();
        assertEquals(4, ack.floor());
        assertArrayEquals(new long[] {2, 1, 3}, ack.ids(), "every response received is acknowledged");
    }

    @Test
    void aReattachRepeatsTheAnsweredIdsOfTheLatestWindowInFramesThePeerAccepts() throws Exception {
        // 16 slots: a window of 8 x 16 + 1024 = 1152 ids, in one ACK (up to 4096 ids fit one frame).
        Requester requester = new Requester("s-t", 16, 1 << 20, System::nanoTime);
        CompletableFuture<byte[]> held = callAsync(requester, "held", Duration.ofSeconds(60)); // holds the floor
        awaitUnanswered(requester, 1);
        long last = 1;
        for (int batch = 0; batch < 87; batch++) { // 15 calls at a time beside the held one: ids up to 1306
            List<CompletableFuture<byte[]>> answers = new ArrayList<>();
            for (int i = 0; i < 15; i++) {
                answers.add(callAsync(requester, "call", Duration.ofSeconds(10)));
            }
            awaitUnanswered(requester, 16);
            for (int i = 0; i < 15; i++) {
                requester.onResponse(new Frame.Response(++last, ResponseStatus.OK, new byte[0]));
            }
            for (CompletableFuture<byte[]> a : answers) {
                a.get();
            }
        }
        while (requester.pendingAck() != null) {
            // every gathered ack went out on the old link, and was lost with it
        }
        Wire wire = new Wire(1);
        requester.linkUp(wire.link);
        java.util.SortedSet<Long> repeated = new java.util.TreeSet<>();
        int frames = 0;
        while (repeated.size() < 1152) {
            Frame.Ack ack = (Frame.Ack) wire.next();
            assertTrue(ack.ids().length > 0, "answered ids are repeated"); // fails at once instead of waiting
            frames++;
            assertEquals(1, ack.floor());
            assertTrue(ack.ids().length <= FrameCodec.MAX_ACK_IDS, "fits a frame: " + ack.ids().length);
            for (long id : ack.ids()) {
                assertTrue(repeated.add(id), "each id once: " + id);
            }
        }
        assertEquals(1, frames, "1152 ids fit one frame");
        assertEquals(1L, ((Frame.Request) wire.next()).id(), "the held call is replayed after the repeated ACK");
        assertEquals(1306L, last);
        assertEquals(last - 1152 + 1, repeated.first(), "the window's first id");
        assertEquals(last, repeated.last());
        requester.onResponse(new Frame.Response(1, ResponseStatus.OK, new byte[0]));
        held.get(); // the held caller's thread ends
    }

    /**
     * Makes calls 1..n, {@code batch} at a time (their ids are the next ones, in some order), and answers each at once
     * unless {@code keep} lists it; returns every call's answer. The requester needs {@code batch} + kept slots.
     */
    private static List<CompletableFuture<byte[]>> callsKeeping(Requester requester, int n, java.util.Set<Long> keep,
                                                              int batch) {
        List<CompletableFuture<byte[]>> answers = new ArrayList<>();
        int kept = 0;
        long next = 1;
        while (next <= n) {
            int size = (int) Math.min(batch, n - next + 1);
            for (int i = 0; i < size; i++) {
                answers.add(callAsync(requester, "call", Duration.ofSeconds(60)));
            }
            awaitUnanswered(requester, kept + size);
            for (long id = next; id < next + size; id++) {
                if (keep.contains(id)) {
                    kept++;
                } else {
                    requester.onResponse(new Frame.Response(id, ResponseStatus.OK, new byte[0]));
                }
            }
            awaitUnanswered(requester, kept);
            next += size;
        }
        return answers;
    }

    @Test
    void theReplayGoesOutInIdOrderWhateverOrderTheTableHoldsThemIn() throws Exception {
        Requester requester = new Requester("s-t", 4, 1 << 20, System::nanoTime);
        // 14, 15, 16 and 17 unanswered, then 16 answered: in a 16-bucket hash table 17 comes before 14.
        callsKeeping(requester, 17, java.util.Set.of(14L, 15L, 16L, 17L), 1);
        requester.onResponse(new Frame.Response(16, ResponseStatus.OK, new byte[0]));
        Wire wire = new Wire(1);
        requester.linkUp(wire.link);
        assertEquals(new Frame.Ack(14, new long[] {16}), wire.next());
        assertEquals(14L, ((Frame.Request) wire.next()).id());
        assertEquals(15L, ((Frame.Request) wire.next()).id());
        assertEquals(17L, ((Frame.Request) wire.next()).id());
    }

    @Test
    void theFloorFollowsAnswersInAnyOrderAndJumpsWhenALongCallEnds() throws Exception {
        Requester requester = new Requester("s-t", 8, 1 << 20, System::nanoTime);
        List<CompletableFuture<byte[]>> kept = callsKeeping(requester, 5, java.util.Set.of(1L, 2L, 3L, 4L, 5L), 5);
        requester.onResponse(new Frame.Response(2, ResponseStatus.OK, new byte[0]));
        requester.onResponse(new Frame.Response(4, ResponseStatus.OK, new byte[0]));
        assertEquals(1, requester.floor());
        requester.onResponse(new Frame.Response(1, ResponseStatus.OK, new byte[0]));
        assertEquals(3, requester.floor());
        requester.onResponse(new Frame.Response(5, ResponseStatus.OK, new byte[0]));
        assertEquals(3, requester.floor());
        requester.onResponse(new Frame.Response(3, ResponseStatus.OK, new byte[0]));
        assertEquals(6, requester.floor(), "everything answered: past the last id");
        for (CompletableFuture<byte[]> k : kept) {
            k.get();
        }
        // Ids 6 and 3,000 are held while the 2,993 between them are answered; then 6 ends: the floor jumps to 3,000,
        // and when 3,000 ends, past it.
        Requester longCalls = new Requester("s-t", 64, 1 << 20, System::nanoTime);
        List<CompletableFuture<byte[]>> held = callsKeeping(longCalls, 3000, java.util.Set.of(6L, 3000L), 60);
        assertEquals(6, longCalls.floor());
        longCalls.onResponse(new Frame.Response(6, ResponseStatus.OK, new byte[0]));
        assertEquals(3000, longCalls.floor());
        longCalls.onResponse(new Frame.Response(3000, ResponseStatus.OK, new byte[0]));
        assertEquals(3001, longCalls.floor());
        for (CompletableFuture<byte[]> h : held) {
            h.get();
        }
    }

    @Test
    void afterABurstTheRequesterStillCountsAndFloorsCorrectly() throws Exception {
        // 100 calls in flight at once, all answered: the ticker gives the burst's table back; calls go on as before.
        Requester requester = new Requester("s-t", 128, 1 << 20, System::nanoTime);
        List<CompletableFuture<byte[]>> burst = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            burst.add(callAsync(requester, "burst", Duration.ofSeconds(60)));
        }
        awaitUnanswered(requester, 100);
        for (long id = 1; id <= 100; id++) {
            requester.onResponse(new Frame.Response(id, ResponseStatus.OK, new byte[0]));
        }
        for (CompletableFuture<byte[]> b : burst) {
            b.get();
        }
        requester.shrinkIfIdle(); // as the ticker's round does: the table is replaced
        assertEquals(101, requester.floor());
        CompletableFuture<byte[]> next = callAsync(requester, "after", Duration.ofSeconds(60));
        awaitUnanswered(requester, 1);
        assertEquals(101, requester.floor(), "the new call is unanswered, in the new table");
        requester.onResponse(new Frame.Response(101, ResponseStatus.OK, "ok".getBytes()));
        assertArrayEquals("ok".getBytes(), next.get());
        assertEquals(102, requester.floor());
        assertEquals(0, requester.unansweredCount());
    }

    @Test
    void aCallMadeWhileTheChannelIsDownIsSentAfterTheReplayedOnes() throws Exception {
        Requester requester = new Requester("s-t", 16, 1 << 20, System::nanoTime);
        Wire first = new Wire(1);
        requester.linkUp(first.link);
        first.next(); // the floor ACK
        callAsync(requester, "early", Duration.ofSeconds(10));
        assertEquals(1L, ((Frame.Request) first.next()).id());
        requester.linkDown(first.link);
        callAsync(requester, "during recovery", Duration.ofSeconds(10));
        awaitUnanswered(requester, 2);
        Wire second = new Wire(2);
        requester.linkUp(second.link);
        second.next(); // the repeated ACK
        assertEquals(1L, ((Frame.Request) second.next()).id());
        assertEquals(2L, ((Frame.Request) second.next()).id());
    }

    @Test
    void callersPastTheBoundWaitForASlot() throws Exception {
        Wire wire = new Wire(1);
        Requester requester = linkedUp(new Requester("s-t", 2, 1 << 20, System::nanoTime), wire);
        CompletableFuture<byte[]> a = callAsync(requester, "a", Duration.ofSeconds(10));
        CompletableFuture<byte[]> b = callAsync(requester, "b", Duration.ofSeconds(10));
        CompletableFuture<byte[]> c = callAsync(requester, "c", Duration.ofSeconds(10));
        Frame.Request r1 = (Frame.Request) wire.next();
        Frame.Request r2 = (Frame.Request) wire.next();
        awaitUnanswered(requester, 2);
        assertTrue(!c.isDone(), "the third caller waits");
        requester.onResponse(new Frame.Response(r1.id(), ResponseStatus.OK, new byte[0]));
        Frame.Request r3 = (Frame.Request) wire.next();
        assertEquals(3L, r3.id(), "the freed slot let the third call out");
        requester.onResponse(new Frame.Response(r2.id(), ResponseStatus.OK, new byte[0]));
        requester.onResponse(new Frame.Response(r3.id(), ResponseStatus.OK, new byte[0]));
        a.get();
        b.get();
        c.get();
    }

    @Test
    void aCallThatFindsNoSlotInTimeIsToldItWasNotSent() throws Exception {
        Wire wire = new Wire(1);
        Requester requester = linkedUp(new Requester("s-t", 1, 1 << 20, System::nanoTime), wire);
        CompletableFuture<byte[]> holder = callAsync(requester, "holder", Duration.ofSeconds(10));
        wire.next(); // sent: it holds the only slot
        Throwable failure = assertThrows(Exception.class,
                () -> callAsync(requester, "late", Duration.ofMillis(50)).get(10, TimeUnit.SECONDS)).getCause();
        CallTimeoutException timeout = assertInstanceOf(CallTimeoutException.class, failure);
        assertFalse(timeout.sent(), "never sent, so it never runs");
        assertTrue(timeout.getMessage().contains("not sent"), timeout.getMessage());
        assertEquals(1, requester.unansweredCount(), "only the holder");
        requester.onResponse(new Frame.Response(1, ResponseStatus.OK, new byte[0]));
        holder.get(10, TimeUnit.SECONDS);
    }

    @Test
    void aTimedOutCallKeepsItsSlotAndIsAcknowledgedWhenItsLateAnswerComes() throws Exception {
        AtomicLong now = new AtomicLong(1_000_000_000L);
        Wire wire = new Wire(1);
        Requester requester = linkedUp(new Requester("s-t", 4, 1 << 20, now::get), wire);
        CompletableFuture<byte[]> slow = callAsync(requester, "slow", Duration.ofMillis(100));
        Frame.Request request = (Frame.Request) wire.next();
        // The session's ticker ends waits whose deadline passed, on the session's clock; here the test plays both.
        long deadline = requester.expireCalls(now.get());
        assertEquals(now.get() + Duration.ofMillis(100).toNanos(), deadline, "the deadline is on the given clock");
        now.addAndGet(Duration.ofMillis(99).toNanos());
        assertEquals(deadline, requester.expireCalls(now.get()), "not yet due");
        assertFalse(slow.isDone(), "still waiting a millisecond before its deadline");
        now.addAndGet(Duration.ofMillis(1).toNanos());
        assertEquals(Long.MAX_VALUE, requester.expireCalls(now.get()), "due: nothing else waits");
        Throwable failure = assertThrows(Exception.class, () -> slow.get(10, TimeUnit.SECONDS)).getCause();
        assertTrue(assertInstanceOf(CallTimeoutException.class, failure).sent(), "sent: it may still run, once");
        assertEquals(1, requester.unansweredCount(), "still kept: it may run, and must run only once");
        assertEquals(request.id(), requester.floor());
        requester.onResponse(new Frame.Response(request.id(), ResponseStatus.OK, new byte[0]));
        assertEquals(0, requester.unansweredCount());
        requester.flushAcks(wire.link);
        assertArrayEquals(new long[] {request.id()}, ((Frame.Ack) wire.next()).ids());
    }

    // ---- responder ----

    private static final class Started {
        final List<Long> ids = new ArrayList<>();
        final List<Frame.Response> resent = new ArrayList<>();
    }

    /** {@code requester} with {@code wire} as its send link, past the ACK(floor) that linking up sends. */
    private static Requester linkedUp(Requester requester, Wire wire) throws Exception {
        requester.linkUp(wire.link);
        wire.next();
        return requester;
    }

    private static Frame.Request request(long id) {
        return new Frame.Request(id, "r", new byte[0]);
    }

    @Test
    void eachIdRunsOnceAndAFinishedOneIsAnsweredFromTheCache() throws Exception {
        Started started = new Started();
        AtomicLong duplicates = new AtomicLong();
        Responder.Starter starter = r -> started.ids.add(r.id());
        Responder responder = new Responder(8, 1 << 30, 1L << 30, duplicates::incrementAndGet);
        responder.onRequest(request(1), starter, started.resent::add);
        responder.onRequest(request(1), starter, started.resent::add);   // re-sent while running: ignored
        assertEquals(List.of(1L), started.ids);
        assertEquals(List.of(), started.resent);
        Frame.Response done = responder.complete(1, 0, ResponseStatus.OK, "one".getBytes());
        responder.onRequest(request(1), starter, started.resent::add);   // re-sent after it finished: from the cache
        assertEquals(List.of(1L), started.ids, "never run twice");
        assertEquals(List.of(done), started.resent);
        assertEquals(2, duplicates.get());
        assertEquals(1, responder.cachedResponses());
        assertEquals(1, responder.executed());
    }

    /** A responder of {@code maxInFlight} that has run and answered requests 1..n, recorded in {@code started}. */
    private static Responder answeredUpTo(int maxInFlight, long n, Started started) throws Exception {
        Responder responder = new Responder(maxInFlight, 1 << 30, 1L << 30, () -> { });
        for (long id = 1; id <= n; id++) {
            responder.onRequest(request(id), r -> started.ids.add(r.id()), started.resent::add);
            responder.complete(id, 0, ResponseStatus.OK, new byte[0]);
        }
        return responder;
    }

    @Test
    @org.junit.jupiter.api.Timeout(10) // a jump walked id by id would take minutes
    void aFloorThatJumpsFarDropsEverythingBelowItInOnePass() throws Exception {
        Started started = new Started();
        Responder.Starter starter = r -> started.ids.add(r.id());
        Responder responder = answeredUpTo(64, 40, started);
        responder.onAck(new Frame.Ack(11, new long[0])); // a short rise: ids 1..10, one by one
        assertEquals(30, responder.cachedResponses());
        // A long call held the floor while a billion others were answered (ids 11..40 stand for their tail).
        responder.onAck(new Frame.Ack(1_000_000_001L, new long[0]));
        assertEquals(0, responder.cachedResponses(), "everything below the floor dropped, without a billion steps");
        responder.onRequest(request(25), starter, started.resent::add);
        assertEquals(40, started.ids.size(), "a late duplicate below the floor does not run");
        assertEquals(List.of(), started.resent);
        responder.onRequest(request(1_000_000_001L), starter, started.resent::add);
        assertEquals(1_000_000_001L, started.ids.get(40), "the next id runs");
    }

    @Test
    void afterABurstTheResponderStillDeduplicates() throws Exception {
        Started started = new Started();
        Responder.Starter starter = r -> started.ids.add(r.id());
        Responder responder = answeredUpTo(128, 100, started);
        long[] some = new long[] {7, 50, 99};
        responder.onAck(new Frame.Ack(101, some)); // all acknowledged: the burst's table is given back
        assertEquals(0, responder.cachedResponses());
        responder.onRequest(request(50), starter, started.resent::add);
        assertEquals(100, started.ids.size(), "an id of the burst is still a stale duplicate");
        responder.onRequest(request(101), starter, started.resent::add);
        Frame.Response done = responder.complete(101, 0, ResponseStatus.OK, "r".getBytes());
        responder.onRequest(request(101), starter, started.resent::add);
        assertEquals(List.of(done), started.resent, "the new table caches and answers a re-sent request");
        assertEquals(1, responder.cachedResponses());
    }

    @Test
    void acknowledgementsPruneTheCacheByIdAndByFloor() throws Exception {
        Started started = new Started();
        Responder.Starter starter = r -> started.ids.add(r.id());
        Responder responder = answeredUpTo(8, 4, started);
        assertEquals(4, responder.cachedResponses());
        responder.onAck(new Frame.Ack(1, new long[] {3}));
        assertEquals(3, responder.cachedResponses(), "3 acknowledged on its own");
        responder.onRequest(request(3), starter, started.resent::add);
        assertEquals(List.of(), started.resent, "an acknowledged id is neither re-run nor re-sent");
        responder.onAck(new Frame.Ack(3, new long[0]));
        assertEquals(1, responder.cachedResponses(), "1 and 2 are below the floor");
        responder.onRequest(request(2), starter, started.resent::add);
        assertEquals(List.of(1L, 2L, 3L, 4L), started.ids, "a late duplicate below the floor does not run");
        assertEquals(List.of(), started.resent);
    }

    @Test
    void aPeerThatNeverAcknowledgesIsStoppedBeforeTheCacheGrowsWithoutBound() throws Exception {
        Responder responder = new Responder(1, 1 << 30, 1L << 30, () -> { });
        long id = 1;
        MalformedFrameException e = null;
        for (; id < 10_000 && e == null; id++) {
            try {
                responder.onRequest(request(id), r -> { }, r -> { });
                responder.complete(id, 0, ResponseStatus.OK, new byte[0]);
            } catch (MalformedFrameException violation) {
                e = violation;
            }
        }
        assertTrue(e != null && e.getMessage().contains("unacknowledged"), String.valueOf(e));
        assertEquals(8 + 1024, responder.cachedResponses(), "bounded at 8 x maxInFlight + 1024");
    }

    @Test
    void aPeerPastItsInFlightLimitIsAProtocolViolation() throws Exception {
        Responder.Starter starter = r -> { };
        Responder responder = new Responder(2, 1 << 30, 1L << 30, () -> { });
        responder.onRequest(request(1), starter, r -> { });
        responder.onRequest(request(2), starter, r -> { });
        MalformedFrameException e = assertThrows(MalformedFrameException.class,
                () -> responder.onRequest(request(3), starter, r -> { }));
        assertTrue(e.getMessage().contains("limit of 2"), e.getMessage());
        responder.complete(1, 0, ResponseStatus.OK, new byte[0]);
        AtomicReference<String> ok = new AtomicReference<>("no");
        responder.onRequest(request(3), starter, r -> ok.set("resent"));
        assertEquals(2, responder.running(), "a slot freed: the next request runs");
        assertEquals("no", ok.get());
    }

    @Test
    void aHandlerNeverStartedIsNeitherRunningNorOwedAndARetryStartsIt() throws Exception {
        Started started = new Started();
        Responder.Starter starter = r -> started.ids.add(r.id());
        Responder responder = new Responder(1, 1 << 30, 1L << 30, () -> { });
        responder.onRequest(request(1), starter, started.resent::add);
        responder.notStarted(1, 0); // its scope was shutting down
        assertEquals(0, responder.running());
        assertEquals(0, responder.owed(), "an orderly close does not wait for it");
        responder.onRequest(request(1), starter, started.resent::add); // re-sent after a re-attach
        assertEquals(List.of(1L, 1L), started.ids, "it had no effect, so it runs now");
        assertEquals(1, responder.running(), "and holds the one slot again");
        Frame.Response done = responder.complete(1, 0, ResponseStatus.OK, new byte[0]);
        responder.onRequest(request(1), starter, started.resent::add);
        assertEquals(List.of(done), started.resent, "once finished, it is answered from the cache");
    }

    // ---- byte budgets (protocol version 2) ----

    private static Frame.Request request(long id, int bytes) {
        return new Frame.Request(id, "r", new byte[bytes]);
    }

    @Test
    void aPeerCannotPushTheResponderPastItsBudgetOfRequestBytes() throws Exception {
        Started started = new Started();
        Responder.Starter starter = r -> started.ids.add(r.id());
        Responder responder = new Responder(64, 1000, 1L << 30, () -> { });
        responder.onRequest(request(1, 600), starter, started.resent::add);
        responder.onRequest(request(2, 400), starter, started.resent::add);
        assertEquals(1000, responder.heldBytes());
        MalformedFrameException e = assertThrows(MalformedFrameException.class,
                () -> responder.onRequest(request(3, 1), starter, started.resent::add));
        assertTrue(e.getMessage().contains("budget of 1000 request bytes"), e.getMessage());
        assertThrows(MalformedFrameException.class, () -> responder.admit(4, 1, 0),
                "nor can a body arriving in parts");
        assertEquals(1000, responder.heldBytes(), "the refused request holds nothing");
        assertEquals(List.of(1L, 2L), started.ids);
        responder.complete(1, 600, ResponseStatus.OK, new byte[0]);
        responder.onRequest(request(3, 600), starter, started.resent::add);
        assertEquals(List.of(1L, 2L, 3L), started.ids, "an answered request gives its bytes back");
    }

    @Test
    void pastItsCacheBudgetTheResponderStartsNothingNewUntilAcksCome() throws Exception {
        Started started = new Started();
        Responder.Starter starter = r -> started.ids.add(r.id());
        Responder responder = new Responder(64, 1 << 20, 1000, () -> { });
        responder.onRequest(request(1), starter, started.resent::add);
        responder.complete(1, 0, ResponseStatus.OK, new byte[1000]); // the cache is now at its budget
        responder.onRequest(request(2), starter, started.resent::add);
        responder.onRequest(request(3), starter, started.resent::add);
        responder.onRequest(request(2), starter, started.resent::add); // re-sent while waiting: ignored
        assertEquals(List.of(1L), started.ids, "2 and 3 wait");
        assertEquals(2, responder.waitingCount());
        assertEquals(List.of(), responder.onAck(new Frame.Ack(1, new long[0])), "an ACK that frees nothing starts nothing");
        List<Frame.Request> ready = responder.onAck(new Frame.Ack(2, new long[0]));
        assertEquals(List.of(2L, 3L), ready.stream().map(Frame.Request::id).toList(), "in arrival order");
        assertEquals(0, responder.cachedBytes());
        assertEquals(2, responder.running());
    }

    @Test
    void aReplayAfterLostAcksFindsTheCacheFreedByTheAckBeforeIt() throws Exception {
        // The responder keeps at most 8 x 1 + 1024 = 1032 requests. Calls 1..1032 were answered, and every ACK was
        // lost with the link; call 1033 is unanswered. On the new link the requester must acknowledge before it
        // replays: with the replay first, request 1033 would find the cache full and close the link again, and the
        // ACK behind it, which would have freed the cache, would never be read.
        Requester requester = new Requester("s-t", 1, 1 << 20, System::nanoTime);
        Responder responder = new Responder(1, 1 << 20, 1L << 30, () -> { });
        Started started = new Started();
        Responder.Starter starter = r -> started.ids.add(r.id());
        for (long id = 1; id <= 1032; id++) {
            CompletableFuture<byte[]> answer = callAsync(requester, "c", Duration.ofSeconds(10));
            awaitUnanswered(requester, 1);
            responder.onRequest(request(id), starter, started.resent::add);
            requester.onResponse(responder.complete(id, 0, ResponseStatus.OK, new byte[0]));
            answer.get();
        }
        while (requester.pendingAck() != null) {
            // lost with the old link
        }
        callAsync(requester, "c", Duration.ofSeconds(10));
        awaitUnanswered(requester, 1);
        assertEquals(1032, responder.cachedResponses(), "the responder's cache is full");
        Wire wire = new Wire(1);
        requester.linkUp(wire.link);
        for (int read = 0; read < 2; read++) {
            switch (wire.next()) {
                case Frame.Ack a -> responder.onAck(a);
                case Frame.Request r -> responder.onRequest(r, starter, started.resent::add); // throws if full
                default -> throw new AssertionError();
            }
        }
        assertEquals(1033L, started.ids.getLast(), "the replayed call runs");
        assertEquals(0, responder.cachedResponses());
    }

    @Test
    void aCallerWaitsForBytesInFlightWithinItsTimeoutAndAnOversizedOneIsRefusedAtOnce() throws Exception {
        Requester requester = new Requester("s-t", 16, 1000, System::nanoTime);
        Wire wire = new Wire(1);
        linkedUp(requester, wire);
        CompletableFuture<byte[]> first = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> first.complete(requester.call("r", new byte[600], Duration.ofSeconds(10),
                1 << 20)));
        assertEquals(1L, ((Frame.Request) wire.next()).id());
        CompletableFuture<Throwable> timedOut = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                requester.call("r", new byte[600], Duration.ofMillis(50), 1 << 20);
                timedOut.complete(null);
            } catch (Throwable t) {
                timedOut.complete(t);
            }
        });
        assertInstanceOf(io.twinline.api.CallTimeoutException.class, timedOut.get(10, TimeUnit.SECONDS),
                "no room within its timeout");
        CompletableFuture<byte[]> second = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> second.complete(requester.call("r", new byte[600], Duration.ofSeconds(10),
                1 << 20)));
        Testing.await(Duration.ofSeconds(5), "the second call waits for room", requester::hasQueuedForBytes);
        assertEquals(600, requester.bytesInFlight());
        requester.onResponse(new Frame.Response(1, ResponseStatus.OK, new byte[0]));
        first.get(10, TimeUnit.SECONDS);
        Frame next = wire.next();
        while (next instanceof Frame.Ack) {
            next = wire.next();
        }
        assertEquals(2L, ((Frame.Request) next).id(), "sent once the first call's bytes came back");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> requester.call("r", new byte[1001], Duration.ofSeconds(1), 1 << 20));
        assertTrue(e.getMessage().contains("budget of 1000"), e.getMessage());
    }
}
