package io.twinline.host.cli;

import io.twinline.api.Handler;
import io.twinline.api.Session;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The built-in service: route {@code add} adds a signed amount (the body's first 8 bytes, big-endian; the rest is
 * padding) to the calling session's total and returns the new total; route {@code total} (empty body) returns it.
 * Both server and client carry one, so both directions can be checked for exactness: a call run twice or lost
 * shows up as a total that differs from what the caller sent. Bad input (docs/OPERATIONS.md §2.4) fails the call
 * with an {@link IllegalArgumentException}, which the caller receives as a {@code RemoteFailureException}.
 */
final class Ledger {
    static final String ADD = "add";
    static final String TOTAL = "total";

    private final ConcurrentHashMap<String, AtomicLong> totals = new ConcurrentHashMap<>();

    final Handler add = (session, body) -> {
        if (body.length < Long.BYTES) {
            throw new IllegalArgumentException("add needs an 8-byte amount, got " + body.length + " bytes");
        }
        long amount = ByteBuffer.wrap(body).getLong();
        AtomicLong account = account(session);
        while (true) {
            long before = account.get();
            long after;
            try {
                after = Math.addExact(before, amount);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("add of " + amount + " to the total " + before
                        + " overflows a signed 64-bit number; the total is unchanged");
            }
            if (account.compareAndSet(before, after)) {
                return encode(after);
            }
        }
    };

    final Handler total = (session, body) -> {
        if (body.length != 0) {
            throw new IllegalArgumentException("total takes an empty body, got " + body.length + " bytes");
        }
        return encode(total(session));
    };

    long total(Session session) {
        return account(session).get();
    }

    private AtomicLong account(Session session) {
        return totals.computeIfAbsent(session.id(), id -> new AtomicLong());
    }

    static byte[] encode(long value) {
        return ByteBuffer.allocate(Long.BYTES).putLong(value).array();
    }

    static long decode(byte[] body) {
        if (body.length < Long.BYTES) {
            throw new IllegalArgumentException("expected an 8-byte number, got " + body.length + " bytes");
        }
        return ByteBuffer.wrap(body).getLong();
    }

    /** An {@code add} body of {@code size} bytes (at least 8) carrying {@code amount}. */
    static byte[] addBody(long amount, int size) {
        byte[] body = new byte[Math.max(Long.BYTES, size)];
        ByteBuffer.wrap(body).putLong(amount);
        return body;
    }
}
