package io.twinline.host.cli;

import io.twinline.api.Handler;
import io.twinline.api.Session;
import io.twinline.api.SessionClosedException;
import io.twinline.api.SessionState;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineException;
import io.twinline.host.HostAccess;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The ledger workload of {@code twinline client} and {@code twinline demo}: many virtual threads calling
 * {@code add} on the server, while the server calls {@code add} back on the client through route
 * {@code reverse}; then both totals are compared with what was sent.
 *
 * <p>Calls are issued only on a live session. Once the client's session has ended, the run ends too, unless the
 * plan says to reconnect and the session ended {@code DISCONNECTED}: then the callers wait for the new session the
 * client opens ({@code ClientBuilder.reconnectAfterDisconnect}) and go on with it. The ledgers are checked on the
 * last session: the sums of what was sent are kept per session.
 */
final class Workload {
    static final String REVERSE = "reverse";
    /** A reverse batch waits this long: it is answered only after all its calls back are done. */
    private static final Duration REVERSE_TIMEOUT = Duration.ofMinutes(10);
    /**
     * The most calls back one {@code reverse} call asks for: a stop waits for the batch in flight, and 10,000 calls
     * take well under a second on a healthy network, while the round trip between batches costs next to nothing.
     */
    static final int REVERSE_BATCH = 10_000;
    /** How often a caller waiting for a replacement session looks for it. */
    private static final Duration REPLACEMENT_POLL = Duration.ofMillis(20);

    /**
     * What to run.
     *
     * @param calls how many forward calls, or -1 for as many as fit before the deadline
     * @param reverseCalls how many calls the server makes back, or -1 for batches until the deadline
     * @param deadlineNanos when to stop issuing calls ({@link System#nanoTime()}), or 0 for no deadline
     * @param reconnect whether to go on with the client's new session after one ends {@code DISCONNECTED}
     */
    record Plan(long calls, int concurrency, long reverseCalls, int payloadBytes, long deadlineNanos,
                boolean reconnect) {
        boolean pastDeadline() {
            return deadlineNanos != 0 && System.nanoTime() >= deadlineNanos;
        }
    }

    /** Asked for once, from a signal: no call is issued after it; calls in flight finish. */
    static final class Stop {
        private final CountDownLatch requested = new CountDownLatch(1);

        void request() {
            requested.countDown();
        }

        boolean requested() {
            return requested.getCount() == 0;
        }

        /** Waits up to {@code timeout} for a request; returns whether one came. */
        boolean await(Duration timeout) throws InterruptedException {
            return requested.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /** Live counters, read by progress lines and the demo's view. */
    static final class Progress {
        final LongAdder ok = new LongAdder();
        final LongAdder failed = new LongAdder();
        final LongAdder reverseOk = new LongAdder();
        final LongAdder reverseFailed = new LongAdder();
    }

    /** What happened, and whether both ledgers match what was sent. */
    record Result(long calls, long ok, long failed, long reverse, long reverseOk, long reverseFailed,
                  long sentSum, long serverTotal, long reverseSum, long clientTotal, String firstError) {
        boolean ledgerMatches() {
            return serverTotal == sentSum && clientTotal == reverseSum;
        }

        boolean success() {
            return failed == 0 && reverseFailed == 0 && ledgerMatches();
        }

        String summary() {
            return "calls=" + calls + " ok=" + ok + " failed=" + failed + " reverse=" + reverse + " reverse_ok="
                    + reverseOk + " ledger=" + (ledgerMatches() ? "match" : "mismatch");
        }
    }

    private Workload() {
    }

    /**
     * A {@code reverse} request: make {@code count} {@code add} calls back to the caller, from {@code concurrency}
     * threads, each with a body of {@code payloadBytes}. On the wire, 12 bytes: the three as big-endian signed 32-bit
     * integers, in that order (docs/OPERATIONS.md §2.4).
     */
    record ReverseRequest(int count, int concurrency, int payloadBytes) {
        static final int BYTES = 12;
        /** The most threads one request gets on the server: what a client asks for is a wish, not a command. */
        static final int MOST_THREADS = 4096;

        byte[] encode() {
            return ByteBuffer.allocate(BYTES).putInt(count).putInt(concurrency).putInt(payloadBytes).array();
        }

        /**
         * @param largestAddBody the largest {@code add} body the caller's message limit admits
         * @throws IllegalArgumentException for a body of another length, a negative count, a concurrency below 1, or
         *         a payload below 8 bytes or above {@code largestAddBody}
         */
        static ReverseRequest decode(byte[] body, int largestAddBody) {
            if (body.length != BYTES) {
                throw new IllegalArgumentException("reverse needs a 12-byte body (count, concurrency, payload: "
                        + "big-endian 32-bit integers), got " + body.length + " bytes");
            }
            ByteBuffer in = ByteBuffer.wrap(body);
            int count = in.getInt();
            int concurrency = in.getInt();
            int payload = in.getInt();
            if (count < 0) {
                throw new IllegalArgumentException("reverse count must not be negative: " + count);
            }
            if (concurrency < 1) {
                throw new IllegalArgumentException("reverse concurrency must be at least 1: " + concurrency);
            }
            if (payload < Long.BYTES) {
                throw new IllegalArgumentException("reverse payload must be at least 8 bytes (the amount): " + payload);
            }
            if (payload > largestAddBody) {
                throw new IllegalArgumentException("reverse payload of " + payload + " bytes does not fit the calls "
                        + "back: the caller's message limit admits add bodies of at most " + largestAddBody + " bytes");
            }
            return new ReverseRequest(count, concurrency, payload);
        }
    }

    /**
     * A {@code reverse} answer: the sum of the amounts whose calls back succeeded, and how many succeeded and failed.
     * On the wire, 24 bytes: the three as big-endian signed 64-bit integers, in that order.
     */
    record ReverseAnswer(long sum, long ok, long failed) {
        byte[] encode() {
            return ByteBuffer.allocate(24).putLong(sum).putLong(ok).putLong(failed).array();
        }

        static ReverseAnswer decode(byte[] body) {
            if (body.length != 24) {
                throw new IllegalArgumentException("a reverse answer has 24 bytes, got " + body.length);
            }
            ByteBuffer in = ByteBuffer.wrap(body);
            return new ReverseAnswer(in.getLong(), in.getLong(), in.getLong());
        }
    }

    /**
     * The server's route {@code reverse}: makes the calls back that the request asks for, each with a random amount
     * in -1000..1000, and answers once all are done. Bad input fails the call (the caller gets a
     * {@code RemoteFailureException}); a call back that fails is counted as failed and the others go on; once the
     * session has ended no more are made.
     */
    static Handler reverseHandler() {
        return (session, body) -> {
            ReverseRequest request = ReverseRequest.decode(body, HostAccess.largestBody(session, Ledger.ADD));
            Progress progress = new Progress();
            AtomicLong sum = new AtomicLong();
            AtomicReference<String> error = new AtomicReference<>();
            runCallers(Math.min(request.concurrency(), ReverseRequest.MOST_THREADS), request.count(), 0,
                    () -> session.state().isTerminal() ? null : session, s -> {
                        long amount = ThreadLocalRandom.current().nextLong(-1000, 1001);
                        s.call(Ledger.ADD, Ledger.addBody(amount, request.payloadBytes()));
                        sum.addAndGet(amount);
                    }, progress.reverseOk, progress.reverseFailed, error);
            return new ReverseAnswer(sum.get(), progress.reverseOk.sum(), progress.reverseFailed.sum()).encode();
        };
    }

    static Result run(TwinlineClient client, Ledger clientLedger, Plan plan, Progress progress, Stop stop) {
        // What was sent on each session, by session id: the ledgers are checked on the last one.
        ConcurrentHashMap<String, LongAdder> sentSums = new ConcurrentHashMap<>();
        ConcurrentHashMap<String, LongAdder> reverseSums = new ConcurrentHashMap<>();
        AtomicReference<String> error = new AtomicReference<>();
        Supplier<Session> sessionForNextCall = () -> nextSession(client, plan, stop);
        Thread reverse = Thread.ofVirtual().name("workload/reverse").start(() -> {
            long remaining = plan.reverseCalls();
            while (remaining != 0 && !plan.pastDeadline()) {
                Session session = sessionForNextCall.get();
                if (session == null) {
                    return;
                }
                int batch = (int) (remaining < 0 ? Math.max(plan.concurrency(), 100)
                        : Math.min(remaining, REVERSE_BATCH));
                byte[] request = new ReverseRequest(batch, plan.concurrency(), plan.payloadBytes()).encode();
                try {
                    ReverseAnswer answer = ReverseAnswer.decode(session.call(REVERSE, request, REVERSE_TIMEOUT));
                    sumFor(reverseSums, session).add(answer.sum());
                    progress.reverseOk.add(answer.ok());
                    progress.reverseFailed.add(answer.failed());
                } catch (TwinlineException | IllegalArgumentException e) {
                    progress.reverseFailed.add(batch);
                    error.compareAndSet(null, e.getMessage());
                    if (!session.state().isTerminal()) {
                        return; // the server refused the request: every other batch would be refused too
                    }
                }
                if (remaining > 0) {
                    remaining -= batch;
                }
            }
        });
        runCallers(plan.concurrency(), plan.calls(), plan.deadlineNanos(), sessionForNextCall, s -> {
            long amount = ThreadLocalRandom.current().nextLong(-1000, 1001);
            s.call(Ledger.ADD, Ledger.addBody(amount, plan.payloadBytes()));
            sumFor(sentSums, s).add(amount);
        }, progress.ok, progress.failed, error);
        try {
            reverse.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Session last = client.session();
        long serverTotal;
        try {
            serverTotal = Ledger.decode(last.call(Ledger.TOTAL, new byte[0]));
        } catch (TwinlineException e) {
            error.compareAndSet(null, e.getMessage());
            serverTotal = Long.MIN_VALUE;
        }
        long ok = progress.ok.sum();
        long failed = progress.failed.sum();
        long reverseOk = progress.reverseOk.sum();
        long reverseFailed = progress.reverseFailed.sum();
        return new Result(ok + failed, ok, failed, reverseOk + reverseFailed, reverseOk, reverseFailed,
                sumFor(sentSums, last).sum(), serverTotal, sumFor(reverseSums, last).sum(), clientLedger.total(last),
                error.get());
    }

    private static LongAdder sumFor(ConcurrentHashMap<String, LongAdder> sums, Session session) {
        return sums.computeIfAbsent(session.id(), id -> new LongAdder());
    }

    /**
     * The session to make the next call on, or null when no more calls are to be made: a stop was requested, the
     * deadline passed, or the session has ended and no new one is coming. With {@code plan.reconnect()}, a session
     * that ended {@code DISCONNECTED} is being replaced by the client on a thread of its own; this waits for the
     * replacement, however long the client takes to reach the server again.
     */
    private static Session nextSession(TwinlineClient client, Plan plan, Stop stop) {
        try {
            while (!stop.requested() && !plan.pastDeadline()) {
                Session session = client.session();
                SessionState state = session.state();
                if (!state.isTerminal()) {
                    return session;
                }
                if (!plan.reconnect() || state != SessionState.DISCONNECTED) {
                    return null;
                }
                stop.await(REPLACEMENT_POLL);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return null;
    }

    /** One call on a session; throws to count as failed. */
    private interface Call {
        void on(Session session);
    }

    /**
     * Runs {@code count} calls (or, for -1, calls until the deadline) from {@code concurrency} virtual threads, each
     * on the session {@code sessionForNextCall} gives, until it gives null. A call that fails is counted as failed
     * and the thread goes on with the next, except after a {@link SessionClosedException} (that thread ends) and an
     * {@link IllegalArgumentException} (all end): the call could not be made at all (a body too large for the
     * peer), and every other call of the run would fail the same way.
     */
    private static void runCallers(int concurrency, long count, long deadlineNanos,
                                   Supplier<Session> sessionForNextCall, Call call, LongAdder ok, LongAdder failed,
                                   AtomicReference<String> error) {
        AtomicLong issued = new AtomicLong();
        AtomicBoolean impossible = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>(concurrency);
        for (int i = 0; i < concurrency; i++) {
            threads.add(Thread.ofVirtual().name("workload/caller-" + i).start(() -> {
                while (!impossible.get()) {
                    if (deadlineNanos != 0 && System.nanoTime() >= deadlineNanos) {
                        return;
                    }
                    Session session = sessionForNextCall.get();
                    if (session == null) {
                        return;
                    }
                    if (count >= 0 && issued.getAndIncrement() >= count) {
                        return;
                    }
                    try {
                        call.on(session);
                        ok.increment();
                    } catch (SessionClosedException e) {
                        // A session being closed refuses new calls at once, before its state says CLOSED, and is
                        // never replaced: this thread is done.
                        failed.increment();
                        error.compareAndSet(null, e.getMessage());
                        return;
                    } catch (TwinlineException e) {
                        failed.increment();
                        error.compareAndSet(null, e.getMessage());
                    } catch (IllegalArgumentException e) {
                        failed.increment();
                        error.compareAndSet(null, e.getMessage());
                        impossible.set(true);
                    } catch (RuntimeException e) {
                        failed.increment();
                        error.compareAndSet(null, e.toString());
                    }
                }
            }));
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
