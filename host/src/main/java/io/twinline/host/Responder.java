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
        /** {@code null} while the handler runs; the response once done. */
        Frame.Response response;
    }

    /** Starts a handler for a request; the host runs it on its own virtual thread. */
    interface Starter {
        void start(Frame.Request request);
    }

    private final int maxInFlight;
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
     * @param duplicateSuppressed told of each re-sent request answered or ignored without running again
     */
    Responder(int maxInFlight, Runnable duplicateSuppressed) {
        this.maxInFlight = maxInFlight;
        this.duplicateSuppressed = duplicateSuppressed;
    }

    /**
     * A REQUEST arrived. Starts its handler the first time the id is seen; re-sends the cached response for a
     * finished one (through {@code resend}); ignores one that is running or was acknowledged.
     *
     * @throws MalformedFrameException if the peer has more requests running than the announced limit allows
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
                if (running >= maxInFlight) {
                    throw new MalformedFrameException("peer exceeded its limit of " + maxInFlight
                            + " requests in flight");
                }
                if (entries.size() >= cacheLimit()) {
                    throw new MalformedFrameException("peer left " + entries.size()
                            + " responses unacknowledged (limit " + cacheLimit() + ")");
                }
                entries.put(request.id(), new Entry());
                entriesHighWater = Math.max(entriesHighWater, entries.size());
                running++;
                owed++;
                executed++;
                cached = null;
            } else {
                duplicateSuppressed.run();
                cached = entry.response;
                if (cached == null) {
                    return; // running: its response goes out when ready
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
     * @return the response to send now
     */
    Frame.Response complete(long id, ResponseStatus status, byte[] body) {
        Frame.Response response = new Frame.Response(id, status, body);
        synchronized (this) {
            running--;
            Entry entry = entries.get(id);
            if (entry != null) {
                entry.response = response;
            }
        }
        return response;
    }

    /** An ACK arrived: forget what it covers. */
    void onAck(Frame.Ack ack) {
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
                    entries.remove(id);
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
                entries.remove(id);
            }
        } else {
            entries.keySet().removeIf(id -> id < floor);
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
    synchronized void notStarted(long id) {
        Entry entry = entries.get(id);
        if (entry != null && entry.response == null) {
            entries.remove(id); // (an ACK may have dropped it already: only a peer that breaks the protocol does)
        }
        running--;
        owed--;
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
