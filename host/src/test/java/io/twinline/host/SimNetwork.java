package io.twinline.host;

import io.twinline.transport.Endpoint;
import io.twinline.transport.FrameType;
import io.twinline.transport.Sockets;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An in-memory network for the simulation: each connection is a pair of bounded byte pipes, and faults are
 * switched on per connection and per direction (reset, silence, half-open) or for new connections (dials refused
 * while a path is lost). The session code above it is the real one.
 */
final class SimNetwork implements Network {
    private static final int PIPE_BYTES = 256 * 1024;

    private final ConcurrentHashMap<Integer, SimListener> listeners = new ConcurrentHashMap<>();
    private final AtomicInteger nextPort = new AtomicInteger(20_000);
    /** While positive, each dial is refused and the count decreases (a lost path, then found again). */
    final AtomicInteger refuseDials = new AtomicInteger();

    /**
     * A fault of the wire itself, applied to the REQUEST frames clients send, which shows that the simulation's
     * invariants bite: a request sent again on a later connection (the requester's replay) is dropped, or given an
     * id of its own so that the responder cannot know it for a repeat.
     */
    enum Mutation {
        NONE,
        /** Replayed requests vanish: a call whose first sending was lost is lost. */
        DROP_REPLAYS,
        /** Replayed requests arrive under a new id: a call that ran already runs again. */
        RENUMBER_REPLAYS
    }

    volatile Mutation mutation = Mutation.NONE;
    /** Request ids clients sent, with the connection each was first sent on. */
    private final ConcurrentHashMap<Long, SimEndpoint> firstSentOn = new ConcurrentHashMap<>();

    @Override
    public Endpoint dial(InetSocketAddress address, Duration timeout) throws IOException {
        if (refuseDials.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new ConnectException("simulated: no route to " + address);
        }
        SimListener listener = listeners.get(address.getPort());
        if (listener == null || listener.closed) {
            throw new ConnectException("simulated: connection refused by " + address);
        }
        int port = nextPort.incrementAndGet();
        Pipe toServer = new Pipe();
        Pipe toClient = new Pipe();
        SimEndpoint client = new SimEndpoint(toClient, toServer, "sim:" + address.getPort(), port);
        client.mutator = this::mutate;
        SimEndpoint server = new SimEndpoint(toServer, toClient, "sim:" + port, address.getPort());
        client.peer = server;
        server.peer = client;
        listener.pending.add(server);
        return client;
    }

    @Override
    public Listener listen(InetSocketAddress address) {
        int port = address.getPort() == 0 ? nextPort.incrementAndGet() : address.getPort();
        SimListener listener = new SimListener(new InetSocketAddress("127.0.0.1", port));
        listeners.put(port, listener);
        return listener;
    }

    private final class SimListener implements Listener {
        private static final SimEndpoint CLOSED = new SimEndpoint(null, null, "closed", 0);
        final LinkedBlockingQueue<SimEndpoint> pending = new LinkedBlockingQueue<>();
        final InetSocketAddress address;
        volatile boolean closed;

        SimListener(InetSocketAddress address) {
            this.address = address;
        }

        @Override
        public Endpoint accept() throws IOException {
            try {
                SimEndpoint e = pending.take();
                if (e == CLOSED) {
                    pending.add(CLOSED);
                    throw new SocketException("simulated listener closed");
                }
                return e;
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new SocketException("interrupted");
            }
        }

        @Override
        public InetSocketAddress address() {
            return address;
        }

        @Override
        public void close() {
            closed = true;
            listeners.remove(address.getPort(), this);
            pending.add(CLOSED);
        }
    }

    /** One direction of a connection. */
    static final class Pipe {
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition changed = lock.newCondition();
        private final byte[] ring = new byte[PIPE_BYTES];
        private int head;
        private int size;
        /** The writer sent FIN: the reader sees end of stream once the bytes are drained. */
        private boolean finished;
        /** Reset: both ends fail at once, bytes in flight are lost. */
        private boolean reset;
        /** The reading end closed itself: its reads fail. */
        private boolean readerClosed;
        /** Bytes written vanish (a black-holed path); the writer does not notice. */
        volatile boolean silent;
        /**
         * The reading end has stopped reading and its window is full (a frozen peer): reads wait, and writes wait
         * for a change (a reset, a close, the stall ending).
         */
        private boolean stalled;
        /** The name of the thread of the last write that had to wait because of a stall, or null. */
        private String stalledWriter;
        /** Bytes are delayed on the way (a slow path): writes go through, reads wait until the hold ends. */
        private boolean held;

        void write(byte[] b, int off, int len) throws IOException {
            lock.lock();
            try {
                while (len > 0) {
                    if (reset) {
                        throw new SocketException("simulated: connection reset");
                    }
                    if (finished) {
                        throw new SocketException("simulated: socket output is shut down");
                    }
                    if (silent || readerClosed) {
                        return; // the bytes leave and never arrive (a closed peer would reset; close enough)
                    }
                    if (stalled) {
                        stalledWriter = Thread.currentThread().getName();
                        changed.await();
                        continue;
                    }
                    if (size == ring.length) {
                        changed.await();
                        continue;
                    }
                    int tail = (head + size) % ring.length;
                    int n = Math.min(len, Math.min(ring.length - size, ring.length - tail));
                    System.arraycopy(b, off, ring, tail, n);
                    size += n;
                    off += n;
                    len -= n;
                    changed.signalAll();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SocketException("interrupted");
            } finally {
                lock.unlock();
            }
        }

        int read(byte[] b, int off, int len, long timeoutMillis) throws IOException {
            lock.lock();
            try {
                long deadline = timeoutMillis > 0 ? System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis) : 0;
                while (true) {
                    if (reset) {
                        throw new SocketException("simulated: connection reset");
                    }
                    if (readerClosed) {
                        throw new SocketException("simulated: socket closed");
                    }
                    if (size > 0 && !silent && !stalled && !held) {
                        int n = Math.min(len, Math.min(size, ring.length - head));
                        System.arraycopy(ring, head, b, off, n);
                        head = (head + n) % ring.length;
                        size -= n;
                        changed.signalAll();
                        return n;
                    }
                    if (finished && size == 0 && !held) {
                        return -1;
                    }
                    if (deadline != 0) {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            throw new SocketTimeoutException("simulated: read timed out");
                        }
                        changed.awaitNanos(left);
                    } else {
                        changed.await();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SocketException("interrupted");
            } finally {
                lock.unlock();
            }
        }

        int available() {
            lock.lock();
            try {
                return silent || stalled || held ? 0 : size;
            } finally {
                lock.unlock();
            }
        }

        private void update(Runnable change) {
            lock.lock();
            try {
                change.run();
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        void finish() {
            update(() -> finished = true);
        }

        void reset() {
            update(() -> {
                reset = true;
                size = 0;
            });
        }

        void closeReader() {
            update(() -> readerClosed = true);
        }

        void silence(boolean on) {
            update(() -> silent = on);
        }

        void stall(boolean on) {
            update(() -> stalled = on);
        }

        void hold(boolean on) {
            update(() -> held = on);
        }

        String stalledWriter() {
            lock.lock();
            try {
                return stalledWriter;
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Applies {@link #mutation} to one whole frame {@code from} sends (length prefix included): returns the bytes to
     * send instead, or null to drop it.
     */
    private byte[] mutate(SimEndpoint from, byte[] frame) {
        Mutation m = mutation;
        if (m == Mutation.NONE || frame.length < 13 || frame[4] != (byte) FrameType.REQUEST.code()) {
            return frame;
        }
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(frame);
        long id = b.getLong(5);
        SimEndpoint first = firstSentOn.putIfAbsent(id, from);
        if (first == null || first == from) {
            return frame;
        }
        if (m == Mutation.DROP_REPLAYS) {
            return null;
        }
        byte[] renumbered = frame.clone();
        java.nio.ByteBuffer.wrap(renumbered).putLong(5, id + (1L << 40));
        return renumbered;
    }

    /** One end of a simulated connection. */
    static final class SimEndpoint implements Endpoint {
        final Pipe in;
        final Pipe out;
        /** Sees each whole frame this end writes, when set (clients' ends): see {@link Mutation}. */
        volatile java.util.function.BiFunction<SimEndpoint, byte[], byte[]> mutator;
        /** Bytes of a frame written in part, while a mutator looks at whole frames. */
        private final java.io.ByteArrayOutputStream partial = new java.io.ByteArrayOutputStream();
        private final String remote;
        private final int localPort;
        volatile SimEndpoint peer;
        private volatile long readTimeoutMillis;

        SimEndpoint(Pipe in, Pipe out, String remote, int localPort) {
            this.in = in;
            this.out = out;
            this.remote = remote;
            this.localPort = localPort;
        }

        @Override
        public InputStream input() {
            return new InputStream() {
                private final byte[] one = new byte[1];

                @Override
                public int read() throws IOException {
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    return len == 0 ? 0 : in.read(b, off, len, readTimeoutMillis);
                }

                @Override
                public int available() {
                    return in.available();
                }
            };
        }

        @Override
        public OutputStream output() {
            return new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    out.write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    if (mutator == null) {
                        out.write(b, off, len);
                    } else {
                        writeFrames(b, off, len);
                    }
                }
            };
        }

        /** Cuts what is written into whole frames and passes each through the mutator. */
        private synchronized void writeFrames(byte[] b, int off, int len) throws IOException {
            partial.write(b, off, len);
            byte[] all = partial.toByteArray();
            int at = 0;
            while (all.length - at >= 4) {
                int length = java.nio.ByteBuffer.wrap(all, at, 4).getInt();
                if (length < 0 || all.length - at - 4 < length) {
                    break;
                }
                byte[] frame = java.util.Arrays.copyOfRange(all, at, at + 4 + length);
                byte[] sent = mutator.apply(this, frame);
                if (sent != null) {
                    out.write(sent, 0, sent.length);
                }
                at += 4 + length;
            }
            partial.reset();
            partial.write(all, at, all.length - at);
        }

        @Override
        public void readTimeout(Duration timeout) {
            readTimeoutMillis = Sockets.timeoutMillis(timeout); // under a millisecond is one, never 0 (none)
        }

        @Override
        public void shutdownOutput() {
            out.finish();
        }

        @Override
        public void close() {
            out.finish();
            in.closeReader();
        }

        @Override
        public void abort() {
            in.reset();
            out.reset();
        }

        @Override
        public String remote() {
            return remote;
        }

        @Override
        public int localPort() {
            return localPort;
        }
    }
}
