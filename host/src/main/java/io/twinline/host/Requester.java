package io.twinline.host;

import io.twinline.api.CallInterruptedException;
import io.twinline.api.CallTimeoutException;
import io.twinline.api.NoSuchRouteException;
import io.twinline.api.RemoteFailureException;
import io.twinline.api.TwinlineException;
import io.twinline.transport.Connection;
import io.twinline.transport.FrameCodec;
import io.twinline.transport.Frame;
import io.twinline.transport.ResponseStatus;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

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
    static final class Call implements Connection.Writable {
        final long id;
        final String route;
        final byte[] routeBytes;
        final byte[] body;
        final CompletableFuture<Frame.Response> response = new CompletableFuture<>();
        final AtomicReference<Link> sentOn = new AtomicReference<>();
        Call(long id, String route, byte[] routeBytes, byte[] body) {
            this.id = id;
            this.route = route;
            this.routeBytes = routeBytes;
            this.body = body;
        }

        @Override
        public void writeTo(FrameCodec codec, DataOutputStream out) throws IOException {
            codec.writeRequest(id, routeBytes, body, out);
        }
    }

    private final String sessionId;
    private final int maxInFlight;
    private final int ackIdsPerFrame;
    private final Semaphore slots;
    private final Object idLock = new Object();
    private final AtomicLong lastId = new AtomicLong();
    private final ConcurrentSkipListMap<Long, Call> unanswered = new ConcurrentSkipListMap<>();
    private final AckBuffer acks = new AckBuffer();
    private volatile Link link;
    private volatile Function<Call, TwinlineException> refusal;
    /** Test-only switch: when off, a re-attached send channel does not re-send unanswered calls. */
    volatile boolean replayEnabled = true;

    /**
     * @param peerMaxFrameBytes the peer's frame limit, which every ACK must fit
     */
    Requester(String sessionId, int maxInFlight, int peerMaxFrameBytes) {
        this.ackIdsPerFrame = FrameCodec.ackIdsWithin(peerMaxFrameBytes);
        this.sessionId = sessionId;
        this.maxInFlight = maxInFlight;
        this.slots = new Semaphore(maxInFlight);
    }

    /**
     * Makes one call and waits for its answer.
     *
     * @param frameLimit the peer's frame limit, which the request must fit
     */
    byte[] call(String route, byte[] body, Duration timeout, int frameLimit) {
        byte[] routeBytes = route.getBytes(StandardCharsets.UTF_8);
        if (routeBytes.length == 0 || routeBytes.length > 255) {
            throw new IllegalArgumentException("route must be 1 to 255 UTF-8 bytes: '" + route + "'");
        }
        long frameBytes = (long) FrameCodec.REQUEST_OVERHEAD + routeBytes.length + body.length;
        if (frameBytes > frameLimit) {
            throw new IllegalArgumentException("request of " + body.length + " bytes exceeds the peer's frame limit of "
                    + frameLimit + " bytes");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        refuseIfEnded(route);
        try {
            if (!slots.tryAcquire(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new CallTimeoutException(sessionId, route, timeout);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CallInterruptedException(sessionId, route, e);
        }
        Call call;
        synchronized (idLock) {
            // Allocated and registered together, so floor() never passes an id that is about to be registered.
            call = new Call(lastId.incrementAndGet(), route, routeBytes, body);
            unanswered.put(call.id, call);
        }
        if (refusal != null) {
            // Ended while we registered: failAll may have missed this call.
            fail(call, refusal.apply(call));
        } else {
            trySend(call);
        }
        try {
            Frame.Response response = call.response.get(Math.max(0, deadline - System.nanoTime()),
                    TimeUnit.NANOSECONDS);
            return unwrap(call, response);
        } catch (TimeoutException e) {
            // The call keeps its slot until it is answered: it may still run at the peer, and only once.
            throw new CallTimeoutException(sessionId, route, timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CallInterruptedException(sessionId, route, e);
        } catch (ExecutionException e) {
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
            throw r.apply(new Call(NOT_SENT, route, new byte[0], new byte[0]));
        }
    }

    /** The id of a call refused before it was given one. */
    static final long NOT_SENT = 0;

    /** Sends the call on the current link unless it was already sent there or a replay will send it. */
    private void trySend(Call call) {
        Link l = link;
        if (l != null && !l.replaying && l.isHealthy()) {
            sendOn(l, call);
        }
    }

    private static void sendOn(Link l, Call call) {
        Link previous = call.sentOn.get();
        if (previous != l && call.sentOn.compareAndSet(previous, l)) {
            l.connection.send(call);
        }
    }

    /**
     * A new send link is attached: re-send every unanswered call on it in id order (DESIGN §5), then let new
     * calls through. Calls registered during the replay are caught by the second pass.
     */
    void linkUp(Link l) {
        l.replaying = true;
        link = l;
        if (replayEnabled) {
            for (Call call : unanswered.values()) {
                sendOn(l, call);
            }
        }
        l.replaying = false;
        for (Call call : unanswered.values()) {
            if (call.sentOn.get() == null || replayEnabled) {
                sendOn(l, call);
            }
        }
        // Acks sent on the old link may have been lost: repeat the floor, which covers them.
        l.connection.send(new Frame.Ack(floor(), new long[0]));
    }

    /** The send link failed or was closed; calls wait for the next one. */
    void linkDown(Link l) {
        if (link == l) {
            link = null;
        }
    }

    /** Called by the send channel's reader for each RESPONSE. */
    void onResponse(Frame.Response response) {
        Call call = unanswered.remove(response.id());
        acks.add(response.id());
        if (call != null) {
            slots.release();
            call.response.complete(response);
        }
    }

    /**
     * Called by the send channel's reader when it has nothing more buffered: sends the acks gathered since the
     * last flush, with the floor (every id below it is answered).
     */
    void flushAcks(Link l) {
        long[] ids = acks.drain(ackIdsPerFrame);
        while (ids != null) {
            l.connection.send(new Frame.Ack(floor(), ids));
            ids = acks.drain(ackIdsPerFrame);
        }
    }

    /** The lowest id not yet answered: every id below it has its response. */
    long floor() {
        synchronized (idLock) {
            Map.Entry<Long, Call> first = unanswered.firstEntry();
            return first != null ? first.getKey() : lastId.get() + 1;
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
            slots.release();
            call.response.completeExceptionally(e);
        }
    }

    int unansweredCount() {
        return unanswered.size();
    }

    int maxInFlight() {
        return maxInFlight;
    }

    long callsMade() {
        return lastId.get();
    }
}
