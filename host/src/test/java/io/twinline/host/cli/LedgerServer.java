package io.twinline.host.cli;

import io.twinline.api.SessionState;
import io.twinline.api.Twinline;
import io.twinline.api.TwinlineServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;

/**
 * What {@code twinline server} serves, in the test's JVM, with what the tests check: the sessions in the order they
 * came, the {@code add} calls each one made, and how each one ended.
 */
final class LedgerServer implements AutoCloseable {
    final TwinlineServer server;
    final List<String> sessions = new CopyOnWriteArrayList<>();
    private final Map<String, LongAdder> adds = new ConcurrentHashMap<>();
    private final Map<String, SessionState> ends = new ConcurrentHashMap<>();

    LedgerServer() {
        Ledger ledger = new Ledger();
        server = Twinline.server().bind("127.0.0.1", 0)
                .handle(Ledger.ADD, (session, body) -> {
                    adds.computeIfAbsent(session.id(), id -> new LongAdder()).increment();
                    return ledger.add.handle(session, body);
                })
                .handle(Ledger.TOTAL, ledger.total)
                .handle(Workload.REVERSE, Workload.reverseHandler())
                .onSession(s -> sessions.add(s.id()))
                .onStateChange((s, from, to, cause) -> {
                    if (to.isTerminal()) {
                        ends.put(s.id(), to);
                    }
                })
                .start();
    }

    int port() {
        return server.address().getPort();
    }

    long adds(int sessionIndex) {
        if (sessions.size() <= sessionIndex) {
            return 0;
        }
        LongAdder n = adds.get(sessions.get(sessionIndex));
        return n == null ? 0 : n.sum();
    }

    /** How the session ended, or null while it lives. */
    SessionState end(int sessionIndex) {
        return sessions.size() <= sessionIndex ? null : ends.get(sessions.get(sessionIndex));
    }

    /** Waits up to {@code timeout} for {@code condition}; returns whether it came true. */
    static boolean await(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() >= end) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    @Override
    public void close() {
        server.close();
    }
}
