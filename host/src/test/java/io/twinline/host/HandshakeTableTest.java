package io.twinline.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.twinline.transport.Endpoint;
import java.net.InetAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The bounds of the connections in handshake, and who gives way when the table is full. */
class HandshakeTableTest {

    private static InetAddress at(int last) throws Exception {
        return InetAddress.getByAddress(new byte[] {10, 0, 0, (byte) last});
    }

    /** An endpoint that is only a name. */
    private static Endpoint named(String name) {
        return new Endpoint() {
            @Override
            public java.io.InputStream input() {
                return java.io.InputStream.nullInputStream();
            }

            @Override
            public java.io.OutputStream output() {
                return java.io.OutputStream.nullOutputStream();
            }

            @Override
            public void readTimeout(Duration timeout) {
            }

            @Override
            public void shutdownOutput() {
            }

            @Override
            public void close() {
            }

            @Override
            public void abort() {
            }

            @Override
            public String remote() {
                return name;
            }

            @Override
            public int localPort() {
                return 0;
            }
        };
    }

    @Test
    void anAddressPastItsBoundIsShedAndTheOthersStillGetIn() throws Exception {
        HandshakeTable table = new HandshakeTable(10, 3);
        for (int i = 0; i < 3; i++) {
            assertNotNull(table.admit(at(1), named("a" + i)).ticket());
        }
        HandshakeTable.Admission fourth = table.admit(at(1), named("a3"));
        assertNull(fourth.ticket());
        assertNull(fourth.evicted(), "nobody else gave way");
        assertNotNull(table.admit(at(2), named("b0")).ticket());
        assertEquals(4, table.size());
    }

    @Test
    void whenFullANewcomerDisplacesTheOldestOfTheHeaviestAddressUnlessItsOwnWouldBeAsHeavy() throws Exception {
        HandshakeTable table = new HandshakeTable(5, 4);
        Endpoint oldest = named("a0");
        table.admit(at(1), oldest);
        for (int i = 1; i < 4; i++) {
            table.admit(at(1), named("a" + i));
        }
        table.admit(at(2), named("b0"));
        assertEquals(5, table.size());

        HandshakeTable.Admission newcomer = table.admit(at(3), named("c0"));
        assertNotNull(newcomer.ticket(), "a client from a third address gets in");
        assertSame(oldest, newcomer.evicted(), "the oldest of the address holding the most gives way");
        assertEquals(5, table.size());

        // 10.0.0.1 now holds 3, 10.0.0.2 and 10.0.0.3 one each: a second from 10.0.0.2 would hold 2, fewer than 3.
        assertNotNull(table.admit(at(2), named("b1")).evicted());
        // Now 2, 2, 1: a newcomer from 10.0.0.2 would hold 3, more than the heaviest's 2: it is shed.
        HandshakeTable.Admission heavy = table.admit(at(2), named("b2"));
        assertNull(heavy.ticket());
        assertNull(heavy.evicted());
    }

    @Test
    void ipv6AddressesOfOnePrefixShareOnePlaceInTheBound() throws Exception {
        HandshakeTable table = new HandshakeTable(10, 2);
        InetAddress one = InetAddress.getByName("2001:db8:1:2::1");
        InetAddress two = InetAddress.getByName("2001:db8:1:2:ffff::9");
        InetAddress elsewhere = InetAddress.getByName("2001:db8:1:3::1");
        assertNotNull(table.admit(one, named("a")).ticket());
        assertNotNull(table.admit(two, named("b")).ticket());
        assertNull(table.admit(InetAddress.getByName("2001:db8:1:2::77"), named("c")).ticket(),
                "a third from the same /64 is past its bound of two");
        assertNotNull(table.admit(elsewhere, named("d")).ticket(), "another /64 is another address");
    }

    @Test
    void doneGivesRoomBackOnceAndAnEvictedTicketIsAlreadyDone() throws Exception {
        HandshakeTable table = new HandshakeTable(2, 2);
        HandshakeTable.Ticket first = table.admit(at(1), named("a0")).ticket();
        HandshakeTable.Ticket second = table.admit(at(1), named("a1")).ticket();
        table.done(first);
        table.done(first);
        assertEquals(1, table.size());
        HandshakeTable.Ticket other = table.admit(at(2), named("b0")).ticket();
        assertNotNull(other);
        // Full (a1, b0): a newcomer from 10.0.0.3 would hold 1, as many as the heaviest: it is shed.
        assertNull(table.admit(at(3), named("c0")).ticket());
        table.done(second);
        table.done(other);
        assertEquals(0, table.size());
        // A connection without an address counts under one key of its own.
        assertNotNull(table.admit(null, named("sim")).ticket());
        assertEquals(1, table.size());
    }
}
