package io.twinline.host;

import io.twinline.api.CallInterruptedException;
import io.twinline.api.CallTimeoutException;
import io.twinline.api.NoSuchRouteException;
import io.twinline.api.RemoteFailureException;
import io.twinline.api.TwinlineException;
import io.twinline.transport.FrameCodec;
import io.twinline.transport.Frame;
import io.twinline.transport.ResponseStatus;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The calling half of a session, for its send channel: assigns request ids, keeps every call until its response
 * arrives, re-sends every unanswered call in id order when the send channel is re-attached, and acknowledges
 * responses so the peer can forget them (DESIGN §5).
 *
 * <p>Callers run on their own threads; {@link #onResponse} runs on the send channel's reader thread;
 * {@link #linkUp} on whichever thread attaches a link.
 */
final class Requester {

    /** One call until its response arrives. Encoded by the writer thread straight from its parts. */
    static final class Call implements Frame.Message {
        final long id;
        /** When the caller stops waiting, on the session's clock. */
        final long deadline;
        final String route;
        final byte[] routeBytes;
        final byte[] body;
        final CompletableFuture<Frame.Response> response = new CompletableFuture<>();
        final AtomicReference<Link> sentOn = new AtomicReference<>();
        Call(long id, long deadline, String route, byte[] routeBytes, byte[] body) {
            this.id = id;
            this.deadline = deadline;
            this.route = route;
            this.routeBytes = routeBytes;
            this.body = body;
        }

        @Override
        public long id() {
            return id;
        }

        @Override
        public byte[] body() {
            return body;
        }

        @Override
        public void writeHead(FrameCodec codec, DataOutputStream out, int chunk) throws IOException {
            codec.writeRequestHead(id, routeBytes, body, chunk, out);
        }
    }

    private final String sessionId;
    private final LongSupplier nanoClock;
    private final int maxInFlight;
    private final int ackIdsPerFrame;
    private final Semaphore slots;
    /**
     * Request body bytes of the calls holding a slot may total at most this budget's size (the smaller of the two
     * ends' {@code maxInFlightBytes}). Fair, so a large call is not passed over for ever by small ones.
     */
    private final Semaphore bytes;
    private final int bytesBudget;
    /** Body bytes of the responses read since the last ACK went out: many of them are acknowledged at once. */
    private final AtomicLong unackedResponseBytes = new AtomicLong();
    private final Object idLock = new Object();
    private final AtomicLong lastId = new AtomicLong();
    /**
     * Calls sent or about to be, by id. A hash map, not a sorted one: every call puts and every response removes
     * here, so these must cost the same whatever the number in flight. Id order is needed only by {@link #floor}
     * (kept by {@link #floorHint}) and by the replay (which sorts a snapshot, at most {@code maxInFlight} calls).
     */
    private volatile ConcurrentHashMap<Long, Call> unanswered = new ConcurrentHashMap<>();
    /**
     * The most calls in flight at once since {@link #unanswered} was last replaced (guarded by {@link #idLock}): a
     * hash table never shrinks, so once empty after a burst it is replaced ({@link #shrinkIfIdle}).
     */
    private int inFlightHighWater;
    /**
     * No id below it is unanswered (guarded by {@link #idLock}); {@link #floor} moves it up past answered ids. It
     * only rises, so each id is passed over once; after a long call that held it ends, it jumps in one pass over
     * the calls instead.
     */
    private long floorHint = 1;
    private final AckBuffer acks = new AckBuffer();
    private volatile Link link;
    /** While true, new calls leave sending to the replay that is going on (see {@link #linkUp}). */
    private volatile boolean replaying;
    /** Held while a new send link is handed over ({@link #linkUp}). */
    private final Object handOver = new Object();
    private volatile Function<Call, TwinlineException> refusal;

    /**
     * @param maxInFlightBytes the most request body bytes unanswered at once
     * @param nanoClock the session's clock, which the ticker's {@link #expireCalls} also reads
     */
    Requester(String sessionId, int maxInFlight, int maxInFlightBytes, LongSupplier nanoClock) {
        this.ackIdsPerFrame = FrameCodec.ackIdsWithin(FrameCodec.FRAME_LIMIT);
        this.bytesBudget = maxInFlightBytes;
        this.bytes = new Semaphore(maxInFlightBytes, true);
        this.sessionId = sessionId;
        this.nanoClock = nanoClock;
        this.maxInFlight = maxInFlight;
        this.slots = new Semaphore(maxInFlight);
    }

    /**
     * Makes one call and waits for its answer.
     *
     * @param messageLimit the longest body the peer accepts, which the request must fit
     */
    byte[] call(String route, byte[] body, Duration timeout, int messageLimit) {
        byte[] routeBytes = route.getBytes(StandardCharsets.UTF_8);
        if (routeBytes.length == 0 || routeBytes.length > 255) {
            throw new IllegalArgumentException("route must be 1 to 255 UTF-8 bytes: '" + route + "'");
        }
        if (body.length > messageLimit) {
            throw new IllegalArgumentException("request of " + body.length + " bytes exceeds the peer's message limit"
                    + " of " + messageLimit + " bytes");
        }
        if (body.length > bytesBudget) {
            throw new IllegalArgumentException("request of " + body.length + " bytes exceeds the session's budget of "
                    + bytesBudget + " request bytes in flight");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        long deadline = nanoClock.getAsLong() + waitNanos(timeout);
        refuseIfEnded(route);
        try {
            if (!slots.tryAcquire(waitNanos(timeout), TimeUnit.NANOSECONDS)) {
                throw new CallTimeoutException(sessionId, route, timeout, false);
            }
            boolean room = false;
            try {
                // Within what is left of the same timeout: the caller waits for a slot and for room, not each in turn.
                room = body.length == 0 || bytes.tryAcquire(body.length, deadline - nanoClock.getAsLong(),
                        TimeUnit.NANOSECONDS);
            } finally {
                if (!room) {
                    slots.release();
                }
            }
            if (!room) {
                throw new CallTimeoutException(sessionId, route, timeout, false);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CallInterruptedException(sessionId, route, e, false);
        }
        Call call;
        synchronized (idLock) {
            // Allocated and registered together, so floor() never passes an id that is about to be registered.
            call = new Call(lastId.incrementAndGet(), deadline, route, routeBytes, body);
            unanswered.put(call.id, call);
            inFlightHighWater = Math.max(inFlightHighWater, maxInFlight - slots.availablePermits());
        }
        noteDeadline(deadline);
        if (refusal != null) {
            // Ended while we registered: failAll may have missed this call. It was not sent, and is told so.
            fail(call, refusal.apply(new Call(NOT_SENT, 0, route, routeBytes, body)));
        } else {
            trySend(call);
        }
        try {
            // An untimed wait: the session's ticker ends it at the deadline (expireCalls). A timed wait would put a
            // timer registration and its cancellation on every call's path; one ticker serves all calls instead.
            Frame.Response response = call.response.get();
            return unwrap(call, response);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CallInterruptedException(sessionId, route, e);
        } catch (ExecutionException e) {
            if (e.getCause() == TIMED_OUT) {
                // The call keeps its slot until it is answered: it may still run at the peer, and only once.
                throw new CallTimeoutException(sessionId, route, timeout);
            }
            if (e.getCause() instanceof TwinlineException t) {
                throw t;
            }
            throw new TwinlineException(sessionId, "call to '" + route + "' failed", e.getCause());
        }
    }

    private byte[] unwrap(Call call, Frame.Response response) {
        return switch (response.status()) {
            case OK -> response.body();
            case NO_SUCH_ROUTE -> throw new NoSuchRouteException(sessionId, call.route);
            case HANDLER_FAILED -> throw new RemoteFailureException(sessionId, call.route,
                    new String(response.body(), StandardCharsets.UTF_8));
        };
    }

    private void refuseIfEnded(String route) {
        Function<Call, TwinlineException> r = refusal;
        if (r != null) {
            throw r.apply(new Call(NOT_SENT, 0, route, new byte[0], new byte[0]));
        }
    }

    /** Completes the wait of a call whose deadline passed; the caller turns it into a {@link CallTimeoutException}. */
    private static final Exception TIMED_OUT = new Exception("deadline passed", null, false, false) {
    };

    /**
     * A lower bound of the deadlines of calls still waiting: nothing is due before it. Lowered by callers (rarely:
     * with equal timeouts each new deadline is later than the ones before), raised only by {@link #expireCalls}.
     */
    private final AtomicLong earliestDeadline = new AtomicLong(Long.MAX_VALUE);
    private volatile java.util.function.LongConsumer deadlineAlarm = deadline -> { };

    /** A lower bound of the deadlines of calls still waiting, or {@link Long#MAX_VALUE}. */
    long earliestDeadline() {
        return earliestDeadline.get();
    }

    /** Tells the session's ticker of a deadline earlier than any it knew, so it can wake in time. */
    void onEarlierDeadline(java.util.function.LongConsumer alarm) {
        this.deadlineAlarm = alarm;
    }

    private void noteDeadline(long deadline) {
        if (lowerEarliest(deadline)) {
            deadlineAlarm.accept(deadline);
        }
    }

    private boolean lowerEarliest(long deadline) {
        long current = earliestDeadline.get();
        while (deadline < current) {
            if (earliestDeadline.compareAndSet(current, deadline)) {
                return true;
            }
            current = earliestDeadline.get();
        }
        return false;
    }

    /**
     * Ends the wait of every call whose deadline is at or before {@code now} (the call itself stays unanswered and
     * keeps its slot). Called by the session's ticker.
     *
     * @return the earliest deadline still to come, or {@link Long#MAX_VALUE}
     */
    long expireCalls(long now) {
        if (now < earliestDeadline.get()) {
            return earliestDeadline.get();
        }
        // Reset first, then scan: a call registered during the scan either is seen by it or lowers the bound itself.
        earliestDeadline.set(Long.MAX_VALUE);
        long next = Long.MAX_VALUE;
        for (Call call : unanswered.values()) {
            if (call.response.isDone()) {
                continue;
            }
            if (call.deadline - now <= 0) {
                call.response.completeExceptionally(TIMED_OUT);
            } else if (call.deadline < next) {
                next = call.deadline;
            }
        }
        lowerEarliest(next);
        return earliestDeadline.get();
    }

    /**
     * Replaces the table of unanswered calls with a new, small one when it is empty after more than 64 calls were in
     * flight at once: a server holds thousands of idle sessions, and a burst must not leave each one a table sized
     * for it. Called by the session's ticker. Safe without stopping anyone: calls are put only under {@link #idLock},
     * which this holds, and an empty table has nothing to remove, expire or replay.
     */
    void shrinkIfIdle() {
        if (inFlightHighWater > 64 && unanswered.isEmpty()) {
            synchronized (idLock) {
                if (unanswered.isEmpty()) {
                    unanswered = new ConcurrentHashMap<>();
                    inFlightHighWater = 0;
                }
            }
        }
    }

    /** A timeout in nanoseconds, capped at about 36 years so that a deadline never overflows. */
    private static long waitNanos(Duration timeout) {
        long cap = 1L << 60;
        return timeout.compareTo(Duration.ofNanos(cap)) >= 0 ? cap : timeout.toNanos();
    }

    /** The id of a call refused before it was given one. */
    static final long NOT_SENT = 0;

    /** Sends the call on the current link unless it was already sent there or a replay will send it. */
    private void trySend(Call call) {
        Link l = link;
        if (l != null && !replaying && l.isHealthy()) {
            sendOn(l, call);
        }
    }

    /** Sends the call on {@code l} unless it was sent there already; returns whether it was sent again. */
    private static boolean sendOn(Link l, Call call) {
        Link previous = call.sentOn.get();
        if (previous != l && call.sentOn.compareAndSet(previous, l)) {
            l.connection.sendMessage(call);
            return previous != null;
        }
        return false;
    }

    /**
     * A new send link is attached: re-send every unanswered call on it in id order (DESIGN §5), then let new
     * calls through. Calls registered during the replay are caught by the second pass.
     *
     * <p>Only a working link newer than the current one is taken: two ATTACHes handled at once hand theirs over in
     * any order, and the older one, already closed by the newer one's attach, must not replace it. Hand-overs are
     * serialized, so that this check and the switch are one step.
     *
     * @return how many calls the replay sent again (calls sent on an earlier link); 0 for a link not taken
     */
    int linkUp(Link l) {
        synchronized (handOver) {
            Link current = link;
            if (!l.isHealthy() || (current != null && current.generation > l.generation)) {
                return 0;
            }
            return takeLink(l);
        }
    }

    private int takeLink(Link l) {
        replaying = true;
        link = l;
        // The repeated ACK first: it goes in the control lane, ahead of the replay, so the responder frees what it
        // kept for acknowledged calls before the replayed requests can find its cache full (PROTOCOL §6.1 R6).
        repeatAcks(l);
        int replayed = 0;
        for (Call call : unansweredInIdOrder()) {
            if (sendOn(l, call)) {
                replayed++;
            }
        }
        replaying = false;
        for (Call call : unansweredInIdOrder()) {
            if (sendOn(l, call)) {
                replayed++;
            }
        }
        return replayed;
    }

    /** A snapshot of the unanswered calls, lowest id first. */
    private List<Call> unansweredInIdOrder() {
        List<Call> calls = new ArrayList<>(unanswered.values());
        calls.sort(Comparator.comparingLong(call -> call.id));
        return calls;
    }

    /**
     * Acknowledges again, on a new send link, what acks sent on the old one may have lost: the floor, which covers
     * every id below it, and the answered ids above it among the last {@link #repeatWindow} ids. Lost acks are among
     * the last ones sent; while a long-running call holds the floor, the responder would otherwise keep their
     * responses until that call ends, and repeated failures could fill its cache (PROTOCOL §6.3). The responder
     * ignores ids it has already dropped.
     */
    private void repeatAcks(Link l) {
        long floor;
        long last;
        synchronized (idLock) { // no id is allocated and not yet registered in between
            floor = floor();
            last = lastId.get();
        }
        long from = Math.max(floor + 1, last - repeatWindow() + 1);
        long[] frame = new long[(int) Math.min(ackIdsPerFrame, Math.max(1, last - from + 1))];
        int n = 0;
        boolean sent = false;
        for (long id = from; id <= last; id++) {
            if (!unanswered.containsKey(id)) {
                frame[n++] = id;
                if (n == frame.length) { // one frame's worth at a time: no window-sized array
                    l.connection.send(new Frame.Ack(floor, frame.clone()));
                    sent = true;
                    n = 0;
                }
            }
        }
        if (n > 0 || !sent) {
            l.connection.send(new Frame.Ack(floor, Arrays.copyOf(frame, n)));
        }
    }

    /**
     * How many of the latest ids a re-attach acknowledges again: as many as the responder may keep responses for
     * ({@code 8 × maxInFlight + 1024}, in long arithmetic: {@code maxInFlight} has no upper bound).
     */
    private long repeatWindow() {
        return 8L * maxInFlight + 1024;
    }

    /** The send link failed or was closed; calls wait for the next one. */
    void linkDown(Link l) {
        if (link == l) {
            link = null;
        }
    }

    /**
     * Whether the call {@code id} is still unanswered: the send channel's reader keeps the body of a response
     * arriving in parts only then.
     */
    boolean isUnanswered(long id) {
        return unanswered.containsKey(id);
    }

    /** Called by the send channel's reader for each RESPONSE. */
    void onResponse(Frame.Response response) {
        Call call = unanswered.remove(response.id());
        acks.add(response.id());
        unackedResponseBytes.addAndGet(response.body().length);
        if (call != null) {
            release(call);
            call.response.complete(response);
        }
    }

    private void release(Call call) {
        if (call.body.length > 0) {
            bytes.release(call.body.length);
        }
        slots.release();
    }

    /**
     * How many acknowledgements may wait for a batch of requests to ride on before they are sent on their own. Small
     * next to the responder's cache limit (8 x maxInFlight + 1024), so a requester never comes near it.
     */
    static final int ACKS_BEFORE_FLUSH = 64;

    /**
     * How many response body bytes may be read before their acknowledgement goes out on its own: the responder keeps
     * each response until it is acknowledged, and counts them against its own budget.
     */
    static final long ACK_BYTES_BEFORE_FLUSH = 1 << 20;

    /**
     * Called by the send channel's reader after each response: sends the acks alone if many, or many bytes' worth,
     * have gathered.
     */
    void maybeFlushAcks(Link l) {
        if (acks.size() >= ACKS_BEFORE_FLUSH || unackedResponseBytes.get() >= ACK_BYTES_BEFORE_FLUSH) {
            flushAcks(l);
        }
    }

    /**
     * The send channel writer's piggyback: an ACK of what gathered since the last one, written in the same batch
     * as the requests being flushed (no frame of its own, no wake-up of its own), or {@code null}.
     */
    Frame.Ack pendingAck() {
        unackedResponseBytes.set(0);
        long[] ids = acks.drain(ackIdsPerFrame);
        return ids == null ? null : new Frame.Ack(floor(), ids);
    }

    boolean hasPendingAcks() {
        return acks.size() > 0;
    }

    /** Sends every gathered ack now, with the floor (every id below it is answered). */
    void flushAcks(Link l) {
        unackedResponseBytes.set(0);
        long[] ids = acks.drain(ackIdsPerFrame);
        while (ids != null) {
            l.connection.send(new Frame.Ack(floor(), ids));
            ids = acks.drain(ackIdsPerFrame);
        }
    }

    /** The lowest id not yet answered: every id below it has its response. */
    long floor() {
        synchronized (idLock) {
            long last = lastId.get();
            if (last - floorHint > 2L * maxInFlight + 64 && !unanswered.containsKey(floorHint)) {
                // The call that held the floor was answered after many later ones: find the lowest unanswered id in
                // one pass over the calls (at most maxInFlight) instead of a step over every id issued since. No id is
                // put meanwhile (this lock); one removed meanwhile only leaves a lower bound, which the steps below
                // pass.
                long lowest = last + 1;
                for (long id : unanswered.keySet()) {
                    if (id >= floorHint && id < lowest) {
                        lowest = id;
                    }
                }
                floorHint = lowest;
            }
            while (floorHint <= last && !unanswered.containsKey(floorHint)) {
                floorHint++; // answered (ids are registered as they are allocated, under this lock)
            }
            return floorHint;
        }
    }

    /** The session is closing: new calls fail with the exception {@code refusal} makes; calls in flight go on. */
    void failNew(Function<Call, TwinlineException> refusal) {
        this.refusal = refusal;
    }

    /**
     * The session ended: every waiting caller fails with the exception {@code refusal} makes, at once, and every
     * later call fails with it too.
     */
    void failAll(Function<Call, TwinlineException> refusal) {
        this.refusal = refusal;
        for (Call call : unanswered.values()) {
            fail(call, refusal.apply(call));
        }
    }

    private void fail(Call call, TwinlineException e) {
        if (unanswered.remove(call.id, call)) {
            release(call);
            call.response.completeExceptionally(e);
        }
    }

    /** Calls holding a slot now (sent or about to be), cheaply: a hint for the writer, not exact. */
    int inFlight() {
        return maxInFlight - slots.availablePermits();
    }

    int unansweredCount() {
        return unanswered.size();
    }

    int maxInFlight() {
        return maxInFlight;
    }

    /** The most request body bytes in flight at once. */
    int bytesBudget() {
        return bytesBudget;
    }

    /** Whether a caller is waiting for room in the budget of bytes in flight. For tests. */
    boolean hasQueuedForBytes() {
        return bytes.hasQueuedThreads();
    }

    /** Request body bytes of the calls holding a slot now. */
    long bytesInFlight() {
        return bytesBudget - bytes.availablePermits();
    }

    long callsMade() {
        return lastId.get();
    }
}
