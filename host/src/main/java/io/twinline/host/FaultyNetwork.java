package io.twinline.host;

import io.twinline.transport.Endpoint;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link Network} that can break its own connections: the one way faults are injected, installed in place of
 * the network a runtime would use (by {@code twinline client --faults} and the demo through
 * {@link TwinlineProviderImpl#useNetwork}, by tests directly). Each connection it opens or accepts can be reset,
 * silenced both ways, or made half-open (writes vanish, reads go on), without the session above knowing: it sees
 * only what a real network would show it. Until a fault is switched on, every byte passes straight through.
 */
final class FaultyNetwork implements Network {
    private final Network underlying;
    /** Connections accepted and not yet closed: a server's side, which {@link #crash} resets. */
    private final Set<FaultyEndpoint> accepted = ConcurrentHashMap.newKeySet();
    private final Set<Listener> listeners = ConcurrentHashMap.newKeySet();

    FaultyNetwork(Network underlying) {
        this.underlying = underlying;
    }

    /** Faults over TLS: a new faulty network (its own {@link #crashServers}) over {@code underlying} with TLS. */
    @Override
    public Network withTls(io.twinline.api.Tls tls, boolean server) {
        return new FaultyNetwork(underlying.withTls(tls, server));
    }

    @Override
    public Endpoint dial(InetSocketAddress address, Duration timeout) throws IOException {
        return new FaultyEndpoint(underlying.dial(address, timeout));
    }

    @Override
    public Listener listen(InetSocketAddress address) throws IOException {
        Listener inner = underlying.listen(address);
        Listener outer = new Listener() {
            @Override
            public Endpoint accept() throws IOException {
                FaultyEndpoint e = new FaultyEndpoint(inner.accept());
                accepted.add(e);
                return e;
            }

            @Override
            public InetSocketAddress address() {
                return inner.address();
            }

            @Override
            public void close() {
                listeners.remove(this);
                inner.close();
            }
        };
        listeners.add(outer);
        return outer;
    }

    /**
     * The listening process dies, as far as its peers can tell: every listener closes (new connections are refused)
     * and every connection accepted through this network is reset, with no GOODBYE.
     */
    void crashServers() {
        for (Listener l : listeners) {
            l.close();
        }
        for (FaultyEndpoint e : accepted) {
            e.abort();
        }
    }

    /**
     * Switches a fault on {@code endpoint}, which must have come from a {@code FaultyNetwork}.
     *
     * @return whether it did ({@code false} for an endpoint of another network)
     */
    static boolean inject(Endpoint endpoint, Fault fault) {
        if (!(endpoint instanceof FaultyEndpoint e)) {
            return false;
        }
        switch (fault) {
            case RESET_A, RESET_B -> e.abort();
            case SILENT_A, SILENT_B -> {
                e.dropWrites = true;
                e.dropReads = true;
            }
            case HALF_OPEN_A -> e.dropWrites = true;
        }
        return true;
    }

    /** One connection whose directions can be silenced. */
    private final class FaultyEndpoint extends ForwardingEndpoint {
        /** Bytes written vanish; the writer does not notice (a black-holed path). */
        volatile boolean dropWrites;
        /** Bytes that arrive are thrown away; the reader waits for more (a path lost the other way). */
        volatile boolean dropReads;

        FaultyEndpoint(Endpoint inner) {
            super(inner);
        }

        @Override
        public InputStream input() throws IOException {
            InputStream in = inner.input();
            return new ChunkInput() {
                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    while (true) {
                        int n = in.read(b, off, len);
                        if (n <= 0 || !dropReads) {
                            return n;
                        }
                    }
                }

                @Override
                public int available() throws IOException {
                    return dropReads ? 0 : in.available();
                }
            };
        }

        @Override
        public OutputStream output() throws IOException {
            OutputStream out = inner.output();
            return new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    if (!dropWrites) {
                        out.write(b);
                    }
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    if (!dropWrites) {
                        out.write(b, off, len);
                    }
                }

                @Override
                public void flush() throws IOException {
                    if (!dropWrites) {
                        out.flush();
                    }
                }
            };
        }

        @Override
        public void close() {
            accepted.remove(this);
            inner.close();
        }

        @Override
        public void abort() {
            accepted.remove(this);
            inner.abort();
        }
    }
}
