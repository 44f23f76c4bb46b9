package io.twinline.host;

import io.twinline.transport.Endpoint;
import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The server's connections that are not yet part of an established session: from accept until the first frame is
 * answered (an ATTACH), or, for a HELLO, until its session leaves CONNECTING (channel B attached, or the session
 * ended). Bounded in all ({@code max}) and per peer address ({@code maxPerAddress}; an IPv6 address by its /64). A
 * newcomer past its address's bound is shed; a newcomer that finds the table full takes the place of the oldest
 * connection of the address that holds the most, if that address holds more than the newcomer's would, and is shed
 * otherwise. So a flood from some addresses cannot keep out a client from another, whose handshake takes a round
 * trip.
 *
 * <p>Thread-safe: one lock, held for a bounded walk (the addresses, or one address's connections); connections are
 * reset outside it. Runs on the accept loop ({@link #admit}) and on handshake and session threads ({@link #done}).
 */
final class HandshakeTable {
    /** The key of connections without an IP address (a simulated network). */
    private static final Object NO_ADDRESS = new Object();

    /** One connection in the table. */
    static final class Ticket {
        private final Object key;
        private final Endpoint endpoint;
        /** Guarded by the table's lock. */
        private boolean done;
        /** Set once a session created by this connection's HELLO holds the ticket until it leaves CONNECTING. */
        volatile boolean heldBySession;

        private Ticket(Object key, Endpoint endpoint) {
            this.key = key;
            this.endpoint = endpoint;
        }
    }

    /** What {@link #admit} did. */
    record Admission(Ticket ticket, Endpoint evicted) {
    }

    private final int max;
    private final int maxPerAddress;
    private final Map<Object, ArrayDeque<Ticket>> byAddress = new HashMap<>();
    private int total;

    HandshakeTable(int max, int maxPerAddress) {
        this.max = max;
        this.maxPerAddress = maxPerAddress;
    }

    /**
     * Takes a new connection from {@code from} (null: no address) into the table, or sheds it.
     *
     * @return its ticket (null if shed) and the connection it displaced (null if none), which the caller resets
     */
    synchronized Admission admit(InetAddress from, Endpoint endpoint) {
        Object key = key(from);
        ArrayDeque<Ticket> mine = byAddress.get(key);
        int held = mine == null ? 0 : mine.size();
        if (held >= maxPerAddress) {
            return new Admission(null, null);
        }
        Endpoint evicted = null;
        if (total >= max) {
            ArrayDeque<Ticket> heaviest = null;
            for (ArrayDeque<Ticket> q : byAddress.values()) {
                if (heaviest == null || q.size() > heaviest.size()) {
                    heaviest = q;
                }
            }
            if (heaviest == null || heaviest.size() <= held + 1) {
                return new Admission(null, null); // the newcomer's address would hold as many: it is the one shed
            }
            Ticket oldest = heaviest.pollFirst();
            oldest.done = true;
            total--;
            if (heaviest.isEmpty()) {
                byAddress.remove(oldest.key);
            }
            evicted = oldest.endpoint;
        }
        Ticket ticket = new Ticket(key, endpoint);
        byAddress.computeIfAbsent(key, k -> new ArrayDeque<>()).addLast(ticket);
        total++;
        return new Admission(ticket, evicted);
    }

    /**
     * Whose share a connection from {@code from} counts in: its IPv4 address, or its IPv6 address's /64 (the
     * smallest prefix a site is given, so one host cannot take a place per address of its own prefix).
     */
    private static Object key(InetAddress from) {
        if (from == null) {
            return NO_ADDRESS;
        }
        if (from instanceof java.net.Inet6Address) {
            return java.nio.ByteBuffer.wrap(from.getAddress(), 0, 8).getLong();
        }
        return from;
    }

    /** The connection of {@code ticket} has left the table (or was evicted). Idempotent. */
    synchronized void done(Ticket ticket) {
        if (ticket.done) {
            return;
        }
        ticket.done = true;
        total--;
        ArrayDeque<Ticket> q = byAddress.get(ticket.key);
        if (q != null) {
            q.remove(ticket);
            if (q.isEmpty()) {
                byAddress.remove(ticket.key);
            }
        }
    }

    /** Connections in the table now. */
    synchronized int size() {
        return total;
    }
}
