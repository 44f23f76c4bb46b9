package io.twinline.host;

import io.twinline.transport.Frame;
import io.twinline.transport.MalformedFrameException;
import io.twinline.transport.ResponseStatus;
import java.util.HashMap;
import java.util.function.Consumer;

/**
 * The answering half of a session, for its receive channel: runs each request id at most once while the session
 * lives, keeps each response until the requester acknowledges it, and answers a re-sent request from that cache
 * (or, if it is still running, when it finishes) instead of running it again (DESIGN §5).
 *
 * <p>{@link #onRequest} and {@link #onAck} run on the receive channel's reader thread; {@link #complete} on
 * handler threads. One lock guards the bookkeeping; no I/O or handler code runs under it.
 */
final class Responder {

    /** What the responder knows of one request id at or above the floor, until it is acknowledged. */
    private static final class Entry {
        /** {@code null} while the handler runs (or waits to); the response once done. */
        Frame.Response response;
        /** The request, while it waits to be started because too many responses are kept; else null. */
        Frame.Request waiting;
    }

    /** Starts a handler for a request; the host runs it on its own virtual thread. */
    interface Starter {
        void start(Frame.Request request);
    }

    private final int maxInFlight;
    private final long maxInFlightBytes;
    private final long maxCachedBytes;
    /** Body bytes of the requests running or waiting to start: the peer's budget of bytes in flight bounds them. */
    private long heldBytes;
    /** Body bytes of the responses kept for the peer's replay (done, not yet acknowledged). */
    private long cachedBytes;
    /** Requests waiting, in arrival order, for the kept responses to fall under {@link #maxCachedBytes}. */
    private final java.util.ArrayDeque<Frame.Request> waiting = new java.util.ArrayDeque<>();
    /**
     * By id. A hash map, not a sorted one: every request puts and every ACK removes here, so these must cost the
     * same whatever the number kept; the one ordered operation, dropping what an ACK's floor passed, walks the ids
     * the floor passed instead ({@link #dropBelowFloor}).
     */
    private HashMap<Long, Entry> entries = new HashMap<>();
    /** The most entries at once since {@link #entries} was last replaced: a hash table never shrinks. */
    private int entriesHighWater;
    /** Every id below this was answered and acknowledged: a request for it is a stale duplicate. */
    private long floor = 1;
    /**
     * Ids at or above the floor that were acknowledged one by one: bit {@code i} is id {@code floor + i}. One bit
     * each, so a single hung call that pins the floor costs 1 MiB per 8 million later calls, not an object each.
     */
    private java.util.BitSet acknowledged = new java.util.BitSet();
    /** Handlers running; written under the lock, read without it by {@link #runningNow()}. */
    private volatile int running;
    /**
     * Handlers started whose response is not yet queued for sending. Falls to zero after {@link #running} does: a
     * handler leaves {@code running} when its response exists and this count when the response is queued, so an
     * orderly close that waits for this one sends its GOODBYE after every response.
     */
    private int owed;
    private long executed;
    private final Runnable duplicateSuppressed;

    /**
     * @param maxInFlightBytes the request body bytes the peer may have running or waiting here at once (this side's
     *     announced budget)
     * @param maxCachedBytes the response bytes kept for replay past which new requests wait to start
     * @param duplicateSuppressed told of each re-sent request answered or ignored without running again
     */
    Responder(int maxInFlight, long maxInFlightBytes, long maxCachedBytes, Runnable duplicateSuppressed) {
        this.maxInFlight = maxInFlight;
        this.maxInFlightBytes = maxInFlightBytes;
        this.maxCachedBytes = maxCachedBytes;
        this.duplicateSuppressed = duplicateSuppressed;
    }

    /**
     * Whether a request with this id would be run: not below the floor, not acknowledged, not known. A body of a
     * request that would not is dropped as it arrives ({@link io.twinline.transport.Connection.Bodies}).
     */
    synchronized boolean isNew(long id) {
        return id >= floor && !isAcknowledged(id) && !entries.containsKey(id);
    }

    /**
     * Refuses a body about to arrive in parts if, with the {@code arrivingBytes} arriving besides it and the requests
     * held here, it would pass this side's budget of request bytes in flight.
     */
    synchronized void admit(long id, int length, long arrivingBytes) throws MalformedFrameException {
        checkBudget(id, length + arrivingBytes);
    }

    private void checkBudget(long id, long more) throws MalformedFrameException {
        if (heldBytes + more > maxInFlightBytes) {
            throw new MalformedFrameException("peer exceeded its budget of " + maxInFlightBytes
                    + " request bytes in flight: request " + id + " would make " + (heldBytes + more));
        }
    }

    /**
     * A REQUEST arrived. Starts its handler the first time the id is seen, unless more than {@code maxCachedBytes}
     * of responses are kept (it then waits for acknowledgements, see {@link #onAck}); re-sends the cached response
     * for a finished one (through {@code resend}); ignores one that is running, waiting or acknowledged.
     *
     * @throws MalformedFrameException if the peer has more requests in flight than the announced limits allow
     */
    void onRequest(Frame.Request request, Starter starter, Consumer<Frame.Response> resend)
            throws MalformedFrameException {
        Frame.Response cached;
        synchronized (this) {
            if (request.id() < floor || isAcknowledged(request.id())) {
                duplicateSuppressed.run();
                return;
            }
            Entry entry = entries.get(request.id());
            if (entry == null) {
                if (request.body() == Frame.DROPPED) {
                    // Its body was dropped as a duplicate's, and the request was forgotten meanwhile (a handler that
                    // never started while the session ended): there is nothing to run.
                    return;
                }
                if (running + waiting.size() >= maxInFlight) {
                    throw new MalformedFrameException("peer exceeded its limit of " + maxInFlight
                            + " requests in flight");
                }
                if (entries.size() >= cacheLimit()) {
                    throw new MalformedFrameException("peer left " + entries.size()
                            + " responses unacknowledged (limit " + cacheLimit() + ")");
                }
                checkBudget(request.id(), request.body().length);
                entry = new Entry();
                entries.put(request.id(), entry);
                entriesHighWater = Math.max(entriesHighWater, entries.size());
                heldBytes += request.body().length;
                if (cachedBytes >= maxCachedBytes || !waiting.isEmpty()) {
                    entry.waiting = request;
                    waiting.add(request);
                    return;
                }
                running++;
                owed++;
                executed++;
                cached = null;
            } else {
                duplicateSuppressed.run();
                cached = entry.response;
                if (cached == null) {
                    return; // running or waiting: its response goes out when ready
                }
            }
        }
        if (cached == null) {
            starter.start(request);
        } else {
            resend.accept(cached);
        }
    }

    /**
     * A handler finished: keep its response until acknowledged.
     *
     * @param requestBytes the body length of the request it answers
     * @return the response to send now
     */
    Frame.Response complete(long id, int requestBytes, ResponseStatus status, byte[] body) {
        Frame.Response response = new Frame.Response(id, status, body);
        synchronized (this) {
            running--;
            heldBytes -= requestBytes;
            Entry entry = entries.get(id);
            if (entry != null) {
                entry.response = response;
                cachedBytes += body.length;
            }
        }
        return response;
    }

    /**
     * An ACK arrived: forget what it covers, then take the requests that waited for it, in order, while the kept
     * responses stay under {@code maxCachedBytes}.
     *
     * @return the requests to start now (counted as running), oldest first; usually none
     */
    java.util.List<Frame.Request> onAck(Frame.Ack ack) {
        synchronized (this) {
            if (ack.floor() > floor) {
                long advance = ack.floor() - floor;
                long from = floor;
                floor = ack.floor();
                // Every id below the floor has its response at the requester, so none of them is running.
                dropBelowFloor(from);
                acknowledged = advance >= acknowledged.length() ? new java.util.BitSet()
                        : acknowledged.get((int) advance, acknowledged.length());
            }
            // An acknowledged response is dropped at once; its id is remembered as one bit until the floor passes.
            for (long id : ack.ids()) {
                Entry entry = entries.get(id);
                if (entry != null && entry.response != null) {
                    forget(id, entry);
                    if (id - floor < Integer.MAX_VALUE) {
                        acknowledged.set((int) (id - floor));
                    }
                }
            }
            if (entriesHighWater > 64 && entries.isEmpty()) {
                // A burst is over: give back its table, which a hash map never shrinks by itself.
                entries = new HashMap<>();
                entriesHighWater = 0;
            }
            return takeWaiting();
        }
    }

    private java.util.List<Frame.Request> takeWaiting() {
        java.util.List<Frame.Request> start = java.util.List.of();
        while (!waiting.isEmpty() && cachedBytes < maxCachedBytes) {
            Frame.Request next = waiting.poll();
            Entry entry = entries.get(next.id());
            if (entry == null || entry.waiting != next) {
                heldBytes -= next.body().length; // forgotten while it waited (only a peer that breaks the protocol)
                continue;
            }
            entry.waiting = null;
            running++;
            owed++;
            executed++;
            if (start.isEmpty()) {
                start = new java.util.ArrayList<>();
            }
            start.add(next);
        }
        return start;
    }

    private void forget(long id, Entry entry) {
        entries.remove(id);
        if (entry.response != null) {
            cachedBytes -= entry.response.body().length;
        }
    }

    /**
     * Drops every entry below the floor, which just rose from {@code from}: id by id over a rise no longer than
     * the entries kept, else by one pass over the entries (a long call that held the floor has ended). Either way
     * an ACK costs at most as many steps as there are entries, whatever floor a peer sends.
     */
    private void dropBelowFloor(long from) {
        if (floor - from <= entries.size()) {
            for (long id = from; id < floor; id++) {
                Entry entry = entries.get(id);
                if (entry != null) {
                    forget(id, entry);
                }
            }
        } else {
            entries.entrySet().removeIf(e -> {
                if (e.getKey() >= floor) {
                    return false;
                }
                if (e.getValue().response != null) {
                    cachedBytes -= e.getValue().response.body().length;
                }
                return true;
            });
        }
    }

    /**
     * The most requests kept at once, running or answered but not yet acknowledged. A well-behaved requester
     * acknowledges responses with its next batch of requests, after 64 of them, or within a heartbeat, so it
     * holds far fewer; the margin covers responses read in one long burst before the acknowledgement goes out. A
     * peer past it is not acknowledging: the connection is closed as for a malformed frame (recovery follows, and
     * the ACK after re-attach, with the floor and the answered ids above it, prunes).
     */
    private int cacheLimit() {
        return (int) Math.min(Integer.MAX_VALUE, 8L * maxInFlight + 1024); // no overflow for a huge maxInFlight
    }

    private boolean isAcknowledged(long id) {
        long offset = id - floor;
        return offset < Integer.MAX_VALUE && acknowledged.get((int) offset);
    }

    /** Returns how many responses are kept for re-sending (answered, not yet acknowledged). */
    synchronized int cachedResponses() {
        int n = 0;
        for (Entry e : entries.values()) {
            if (e.response != null) {
                n++;
            }
        }
        return n;
    }

    /** Handlers running now, without the lock: a hint for the writer, may be a moment stale. */
    int runningNow() {
        return running;
    }

    synchronized int running() {
        return running;
    }

    /**
     * The handler {@link #onRequest} asked for was never started (the reader's scope was shutting down with the
     * session): it neither runs nor is owed, and since it had no effect, a re-sent copy of the request may start
     * it. Called at most once per started request, instead of {@link #complete} and {@link #responseQueued}.
     */
    synchronized void notStarted(long id, int requestBytes) {
        Entry entry = entries.get(id);
        if (entry != null && entry.response == null) {
            entries.remove(id); // (an ACK may have dropped it already: only a peer that breaks the protocol does)
        }
        running--;
        owed--;
        heldBytes -= requestBytes;
    }

    /** Body bytes of the requests running or waiting to start. */
    synchronized long heldBytes() {
        return heldBytes;
    }

    /** Body bytes of the responses kept for replay. */
    synchronized long cachedBytes() {
        return cachedBytes;
    }

    /** Requests waiting for acknowledgements before they start. */
    synchronized int waitingCount() {
        return waiting.size();
    }

    /** A handler's response is queued for sending (or there was no link to queue it on): it is owed no more. */
    synchronized void responseQueued() {
        owed--;
    }

    /** Handlers started whose response is not yet queued. */
    synchronized int owed() {
        return owed;
    }

    /** Returns how many handlers were started, in all. */
    synchronized long executed() {
        return executed;
    }

}
