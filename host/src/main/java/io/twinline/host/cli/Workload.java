package io.twinline.host.cli;

import io.twinline.api.Handler;
import io.twinline.api.Session;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * The ledger workload of {@code twinline client} and {@code twinline demo}: many virtual threads calling
 * {@code add} on the server, while the server calls {@code add} back on the client through route
 * {@code reverse}; then both totals are compared with what was sent.
 */
final class Workload {
    static final String REVERSE = "reverse";
    /** A reverse batch waits this long: it is answered only after all its calls back are done. */
    private static final Duration REVERSE_TIMEOUT = Duration.ofMinutes(10);

    /**
     * What to run.
     *
     * @param calls how many forward calls, or -1 for as many as fit before the deadline
     * @param reverseCalls how many calls the server makes back, or -1 for batches until the deadline
     * @param deadlineNanos when to stop issuing calls ({@link System#nanoTime()}), or 0 for no deadline
     */
    record Plan(long calls, int concurrency, long reverseCalls, int payloadBytes, long deadlineNanos) {
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

    /** The server's route {@code reverse}: body = count u32, concurrency u32, payload u32; makes the calls back. */
    static Handler reverseHandler() {
        return (session, body) -> {
            ByteBuffer in = ByteBuffer.wrap(body);
            int count = in.getInt();
            int concurrency = Math.max(1, Math.min(in.getInt(), 4096));
            int payload = in.getInt();
            Progress progress = new Progress();
            AtomicLong sum = new AtomicLong();
            AtomicReference<String> error = new AtomicReference<>();
            runCallers(concurrency, count, 0, () -> {
                long amount = ThreadLocalRandom.current().nextLong(-1000, 1001);
                session.call(Ledger.ADD, Ledger.addBody(amount, payload));
                sum.addAndGet(amount);
            }, progress.reverseOk, progress.reverseFailed, error);
            return ByteBuffer.allocate(24).putLong(sum.get()).putLong(progress.reverseOk.sum())
                    .putLong(progress.reverseFailed.sum()).array();
        };
    }

    static Result run(TwinlineClient client, Ledger clientLedger, Plan plan, Progress progress) {
        AtomicLong sentSum = new AtomicLong();
        AtomicLong reverseSum = new AtomicLong();
        AtomicReference<String> error = new AtomicReference<>();
        Thread reverse = Thread.ofVirtual().name("workload/reverse").start(() -> {
            if (plan.reverseCalls() == 0) {
                return;
            }
            long remaining = plan.reverseCalls();
            while (remaining != 0 && (plan.deadlineNanos() == 0 || System.nanoTime() < plan.deadlineNanos())) {
                int batch = (int) (remaining < 0 ? Math.max(plan.concurrency(), 100) : Math.min(remaining, 1 << 30));
                byte[] request = ByteBuffer.allocate(12).putInt(batch).putInt(plan.concurrency())
                        .putInt(plan.payloadBytes()).array();
                try {
                    ByteBuffer answer = ByteBuffer.wrap(client.call(REVERSE, request, REVERSE_TIMEOUT));
                    reverseSum.addAndGet(answer.getLong());
                    progress.reverseOk.add(answer.getLong());
                    progress.reverseFailed.add(answer.getLong());
                } catch (TwinlineException e) {
                    progress.reverseFailed.add(batch);
                    error.compareAndSet(null, e.getMessage());
                    return;
                }
                if (remaining > 0) {
                    remaining -= batch;
                }
            }
        });
        runCallers(plan.concurrency(), plan.calls(), plan.deadlineNanos(), () -> {
            long amount = ThreadLocalRandom.current().nextLong(-1000, 1001);
            client.call(Ledger.ADD, Ledger.addBody(amount, plan.payloadBytes()));
            sentSum.addAndGet(amount);
        }, progress.ok, progress.failed, error);
        try {
            reverse.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long serverTotal;
        try {
            serverTotal = Ledger.decode(client.call(Ledger.TOTAL, new byte[0]));
        } catch (TwinlineException e) {
            error.compareAndSet(null, e.getMessage());
            serverTotal = Long.MIN_VALUE;
        }
        Session session = client.session();
        long ok = progress.ok.sum();
        long failed = progress.failed.sum();
        long reverseOk = progress.reverseOk.sum();
        long reverseFailed = progress.reverseFailed.sum();
        return new Result(ok + failed, ok, failed, reverseOk + reverseFailed, reverseOk, reverseFailed, sentSum.get(),
                serverTotal, reverseSum.get(), clientLedger.total(session), error.get());
    }

    /** One unit of work; throws to count as failed. */
    private interface Call {
        void run();
    }

    /**
     * Runs {@code count} calls (or, for -1, calls until the deadline) from {@code concurrency} virtual threads.
     */
    private static void runCallers(int concurrency, long count, long deadlineNanos, Call call, LongAdder ok,
                                   LongAdder failed, AtomicReference<String> error) {
        AtomicLong issued = new AtomicLong();
        List<Thread> threads = new ArrayList<>(concurrency);
        for (int i = 0; i < concurrency; i++) {
            threads.add(Thread.ofVirtual().name("workload/caller-" + i).start(() -> {
                while (true) {
                    if (deadlineNanos != 0 && System.nanoTime() >= deadlineNanos) {
                        return;
                    }
                    if (count >= 0 && issued.getAndIncrement() >= count) {
                        return;
                    }
                    try {
                        call.run();
                        ok.increment();
                    } catch (TwinlineException e) {
                        failed.increment();
                        error.compareAndSet(null, e.getMessage());
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
