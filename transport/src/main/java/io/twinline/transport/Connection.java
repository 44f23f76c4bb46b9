package io.twinline.transport;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * One TCP connection carrying frames: a blocking {@link #read()} for its one reader thread and a queue drained by
 * a writer ({@link #runWriter()}), which writes everything queued and flushes only when the queue is empty, so
 * frames coalesce under load into few system calls.
 *
 * <p>The writer is a thread only while the connection is in use: a sender that finds none running has one started
 * ({@link #writers}), or becomes the writer itself ({@link #sendAndDrain}). The writer waits for more frames while
 * the connection carries data, and ends once it has carried nothing but heartbeats for a while
 * ({@link #retireWriterAfter}): an idle connection holds no parked writer, whose stack would be a large part of an
 * idle session's memory, and pays a thread start per heartbeat instead. At most one writer runs at a time.
 *
 * <p>{@link #send} never blocks: the queue is unbounded here because the session above bounds what it queues
 * (calls in flight, responses owed, one PING at a time, and after a re-attach one window of repeated ACK ids).
 */
public final class Connection implements AutoCloseable {
    // Up to 8 KiB each way: enough to coalesce a burst of small frames into one system call (large bodies bypass
    // the buffers). The write buffer is held only while a batch is written (PooledOutput); the read buffer is 256
    // bytes while the connection is quiet and grows with the traffic (ElasticInput).
    private static final int BUFFER_BYTES = 8 * 1024;
    /** Handshake frames are small; a stranger's first frame is read with this limit, not the session's. */
    public static final int HANDSHAKE_FRAME_LIMIT = 4096;
    private static final Object CLOSE_NOW = new Object();
    private static final Object FLUSH_AND_CLOSE = new Object();

    /** Starts a thread that calls {@link #runWriter()}; returns {@code false} if no thread can be started any more. */
    public interface WriterStarter {
        boolean startWriter();
    }

    /** Something the writer thread encodes itself, when a plain {@link Frame} would mean an extra copy. */
    public interface Writable {
        void writeTo(FrameCodec codec, DataOutputStream out) throws IOException;
    }

    private final Endpoint endpoint;
    private final FrameCodec handshakeCodec = new FrameCodec(HANDSHAKE_FRAME_LIMIT);
    private final FrameCodec readCodec;
    private volatile FrameCodec writeCodec;
    private final PooledOutput pooledOut;
    private final ElasticInput input;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final LongSupplier nanoClock;
    private final LinkedTransferQueue<Object> queue = new LinkedTransferQueue<>();
    /** Held by the one writer running, from the sender that started it until it finds nothing left to write. */
    private final AtomicBoolean writing = new AtomicBoolean();
    private volatile WriterStarter starter;
    private volatile long retireAfterNanos;
    /** When the writer last flushed a batch that held more than heartbeats (creation time at first). */
    private volatile long lastDataWriteNanos;
    /** Counted down once the writer will write no more: after FLUSH_AND_CLOSE, CLOSE_NOW or a write error. */
    private final CountDownLatch outputDone = new CountDownLatch(1);
    private volatile long lastWriteNanos;
    private volatile boolean closed;
    private volatile java.util.function.Supplier<Frame> piggyback = () -> null;
    private volatile java.util.function.BooleanSupplier moreExpected = () -> false;

    /**
     * @param readLimit the largest frame this side accepts
     * @param writeLimit the largest frame the peer accepts (from its handshake; see {@link #writeLimit(int)})
     */
    public Connection(Socket socket, int readLimit, int writeLimit, LongSupplier nanoClock) throws IOException {
        this(Endpoint.of(socket), readLimit, writeLimit, nanoClock);
    }

    /**
     * @param readLimit the largest frame this side accepts
     * @param writeLimit the largest frame the peer accepts (from its handshake; see {@link #writeLimit(int)})
     */
    public Connection(Endpoint endpoint, int readLimit, int writeLimit, LongSupplier nanoClock) throws IOException {
        this(endpoint, readLimit, writeLimit, nanoClock, ByteMeter.NONE);
    }

    /**
     * @param readLimit the largest frame this side accepts
     * @param writeLimit the largest frame the peer accepts (from its handshake; see {@link #writeLimit(int)})
     * @param meter told of every byte read and written, handshakes included
     */
    public Connection(Endpoint endpoint, int readLimit, int writeLimit, LongSupplier nanoClock, ByteMeter meter)
            throws IOException {
        this.endpoint = endpoint;
        this.readCodec = new FrameCodec(readLimit);
        this.writeCodec = new FrameCodec(writeLimit);
        this.input = new ElasticInput(endpoint.input(), BUFFER_BYTES, meter, nanoClock);
        this.in = new DataInputStream(input);
        this.pooledOut = new PooledOutput(endpoint.output(), meter);
        this.out = new DataOutputStream(pooledOut);
        this.nanoClock = nanoClock;
        long now = nanoClock.getAsLong();
        this.lastWriteNanos = now;
        this.lastDataWriteNanos = now;
    }

    /**
     * Loads and initializes, on the calling thread, the classes every connection needs and {@code alsoThese}, each
     * with every member of its nest ({@link Class#getNestMembers()}: nested, local and anonymous classes, and
     * javac's holders of an enum switch's map). A virtual thread that loads or initializes a class holds its carrier
     * meanwhile, and the first handshakes and calls of a runtime would all do so at once on the same classes, so
     * runtimes call this when they start.
     *
     * <p>Safe to call again: a class already initialized costs a look-up in its loader's table, and the nest is read
     * from the class file, so no name is guessed and no missing class is searched for. A member that cannot be
     * loaded is left out of the nest by the JDK and is then loaded on first use, as without this call.
     */
    public static void preloadClasses(Class<?>... alsoThese) {
        initialize(alsoThese);
        initialize(Connection.class, ElasticInput.class, PooledOutput.class, FrameCodec.class, FrameType.class,
                Frame.class, ResponseStatus.class, RejectReason.class, MalformedFrameException.class,
                Endpoint.class, Sockets.class, DataInputStream.class, DataOutputStream.class,
                LinkedTransferQueue.class);
    }

    private static void initialize(Class<?>... classes) {
        for (Class<?> c : classes) {
            for (Class<?> member : c.getNestMembers()) {
                try {
                    Class.forName(member.getName(), true, member.getClassLoader());
                } catch (ClassNotFoundException e) {
                    throw new IllegalStateException(e); // cannot happen: the JDK has just loaded it
                }
            }
        }
    }

    /**
     * Reads the next frame. Only the reader thread calls this.
     *
     * @throws java.io.EOFException if the peer closed the connection
     * @throws MalformedFrameException if the peer sent something that is not a frame
     */
    public Frame read() throws IOException {
        input.awaitInput(); // an idle reader parks here, not deep in the decoder
        return readCodec.read(in);
    }

    /**
     * Reads one handshake frame with the small handshake limit, so an unauthenticated peer cannot make this side
     * allocate a large buffer. Only before the reader thread starts.
     */
    public Frame readHandshake() throws IOException {
        return handshakeCodec.read(in);
    }

    /** Writes and flushes a frame at once, from the handshaking thread, before {@link #writers} is called. */
    public void writeHandshake(Frame frame) throws IOException {
        writeCodec.write(frame, out);
        out.flush();
    }

    /**
     * Sets what the writer adds to each batch just before it flushes: frames that can wait for the next batch, such
     * as acknowledgements, ride along instead of costing a write and a wake-up of their own.
     */
    void piggyback(java.util.function.Supplier<Frame> frames) {
        this.piggyback = java.util.Objects.requireNonNull(frames, "frames");
    }

    /**
     * Sets how the writer tells whether more frames are about to be queued (calls in flight, handlers running), in
     * which case it lets their threads run once before it flushes a batch.
     */
    void moreExpected(java.util.function.BooleanSupplier hint) {
        this.moreExpected = java.util.Objects.requireNonNull(hint, "hint");
    }

    /** Sets the peer's frame limit, once the handshake has told it. Before the writer starts. */
    void writeLimit(int peerMaxFrameBytes) {
        this.writeCodec = new FrameCodec(peerMaxFrameBytes);
    }

    /**
     * How an established connection writes, given once by {@link #establish} when the handshake is done.
     *
     * @param peerMaxFrameBytes the largest frame the peer accepts (from its handshake)
     * @param retireWriterAfter how long the connection must carry only heartbeats before an idle writer thread ends;
     *     zero ends it whenever the queue is empty (see {@link #retireWriterAfter})
     * @param writers how a writer thread is started when frames are queued and none runs
     * @param piggyback what the writer adds to each batch just before it flushes, or null
     * @param moreExpected whether more frames are about to be queued (see {@link #moreExpected})
     */
    public record Established(int peerMaxFrameBytes, java.time.Duration retireWriterAfter, WriterStarter writers,
                              java.util.function.Supplier<Frame> piggyback,
                              java.util.function.BooleanSupplier moreExpected) {
        public Established {
            java.util.Objects.requireNonNull(retireWriterAfter, "retireWriterAfter");
            java.util.Objects.requireNonNull(writers, "writers");
            java.util.Objects.requireNonNull(moreExpected, "moreExpected");
            if (piggyback == null) {
                piggyback = () -> null;
            }
        }
    }

    /**
     * Ends the handshake phase: reads block without a timeout from now on (heartbeats detect silence), frames are
     * checked against the peer's limit, and a writer is started for anything already queued. Called once, by the
     * thread that attaches the connection to a session, before its reader starts.
     */
    public void establish(Established settings) throws IOException {
        endpoint.readTimeout(java.time.Duration.ZERO);
        writeLimit(settings.peerMaxFrameBytes());
        retireWriterAfter(settings.retireWriterAfter());
        piggyback(settings.piggyback());
        moreExpected(settings.moreExpected());
        writers(settings.writers());
    }

    /** Sets the socket's read timeout (handshakes use one; established connections rely on heartbeats). */
    public void readTimeout(java.time.Duration timeout) throws IOException {
        endpoint.readTimeout(timeout);
    }

    /**
     * Sets how a writer thread is started when frames are queued and none runs, and starts one if frames are
     * already queued. Until this is called, frames only queue.
     */
    void writers(WriterStarter writerStarter) {
        this.starter = java.util.Objects.requireNonNull(writerStarter, "writerStarter");
        if (!queue.isEmpty()) {
            ensureWriter();
        }
    }

    /**
     * Sets how long the connection must carry nothing but heartbeats (PING, PONG) before its writer thread ends
     * when the queue runs empty (it also waits while more frames are expected, see {@link #moreExpected}); zero
     * ends it whenever the queue is empty, for a connection whose senders mostly write their own frames
     * ({@link #sendAndDrain}).
     */
    void retireWriterAfter(java.time.Duration idle) {
        this.retireAfterNanos = idle.toNanos();
    }

    /** Queues a frame for the writer. Never blocks; frames queued after close are dropped. */
    public void send(Frame frame) {
        if (!closed) {
            queue.offer(frame);
            ensureWriter();
        }
    }

    /** Queues something the writer encodes itself. Never blocks; dropped after close. */
    public void send(Writable writable) {
        if (!closed) {
            queue.offer(writable);
            ensureWriter();
        }
    }

    /**
     * Queues a frame and, if no writer runs, writes what is queued on the calling thread (which may block on a
     * full socket) and hands the right to write back as soon as the queue is empty: it never waits for more. For
     * a thread whose last act this is, such as a request's handler: no other thread has to be woken or started to
     * send its response.
     *
     * @throws IOException if writing failed (the connection has then failed)
     */
    public void sendAndDrain(Frame frame) throws IOException {
        if (!closed) {
            queue.offer(frame);
            if (!writing.get() && writing.compareAndSet(false, true)) {
                writeLoop(true);
            }
        }
    }

    /**
     * Sends a small frame such as a PONG from a thread that must not be held up (a reader): if nothing is queued
     * and no writer runs, writes just this frame on the calling thread and hands the right to write back, leaving
     * anything queued meanwhile to a writer it starts; otherwise queues it like {@link #send(Frame)}. It never
     * drains other threads' frames, so a reader is not kept from reading by a backlog of responses.
     *
     * @throws IOException if writing failed (the connection has then failed)
     */
    public void sendAlone(Frame frame) throws IOException {
        if (closed) {
            return;
        }
        if (queue.isEmpty() && !writing.get() && writing.compareAndSet(false, true)) {
            write(frame);
            out.flush(); // throws on a failed connection, keeping the right: nothing more is written on it
            lastWriteNanos = nanoClock.getAsLong();
            handBackToWriter(); // frames queued while this one was written go to a writer, not to this thread
        } else {
            send(frame);
        }
    }

    /** Gives the right to write back; if frames are queued, has a writer started for them. */
    private void handBackToWriter() {
        writing.set(false);
        if (!queue.isEmpty() && !closed) {
            ensureWriter();
        }
    }

    private void ensureWriter() {
        WriterStarter s = starter;
        if (s != null && !writing.get() && writing.compareAndSet(false, true)) {
            boolean started;
            try {
                started = s.startWriter();
            } catch (Throwable t) { // no thread to be had (out of memory): this connection cannot be served
                started = false;
            }
            if (!started) {
                // Shutting down, or no thread: what is queued goes with the connection, whose failure is noticed
                // (by its reader, or by the heartbeat) as any other.
                close();
            }
        }
    }

    /**
     * Writes queued frames. Runs on the writer thread started through {@link #writers}, which holds the right to
     * write. Returns when the queue is empty, no more frames are
     * expected and the connection has carried only heartbeats for the retire time (handing the right back), or
     * after {@link #close()} or {@link #flushAndClose}; throws on a write error (keeping the right: nothing more
     * is written on a failed connection).
     */
    public void runWriter() throws IOException {
        writeLoop(false);
    }

    /** The writer's loop; {@code drainOnly} hands the right back whenever the queue is empty. */
    private void writeLoop(boolean drainOnly) throws IOException {
        boolean failed = true;
        try {
            Object item = queue.poll();
            while (true) {
                if (item == null) {
                    long retireAfter = retireAfterNanos;
                    if (!drainOnly && retireAfter > 0 && (moreExpected.getAsBoolean()
                            || nanoClock.getAsLong() - lastDataWriteNanos < retireAfter)) {
                        // Frames are on their way, or the connection is in use: wait for them instead of ending. A
                        // heartbeat comes within an interval, so a writer of an idle connection ends by then. With
                        // no retire time the writer never waits: those who queue frames drain them themselves.
                        item = queue.take();
                    } else {
                        writing.set(false);
                        // A sender that queued after the poll but still saw this writer running left its frame here.
                        if (queue.isEmpty() || !writing.compareAndSet(false, true)) {
                            failed = false;
                            return;
                        }
                        item = queue.poll();
                        continue;
                    }
                }
                boolean yielded = false;
                boolean data = false;
                do {
                    if (item == CLOSE_NOW) {
                        failed = false;
                        outputDone.countDown();
                        return;
                    }
                    if (item == FLUSH_AND_CLOSE) {
                        out.flush();
                        endpoint.shutdownOutput();
                        failed = false;
                        outputDone.countDown();
                        return;
                    }
                    write(item);
                    data |= !(item instanceof Frame.Ping || item instanceof Frame.Pong);
                    item = queue.poll();
                    if (item == null && data && !yielded && moreExpected.getAsBoolean()) {
                        // More frames are on their way (calls in flight, handlers running): before paying a system
                        // call for the batch, let those about to add to it run once. On few cores that coalesces
                        // many frames per flush. Otherwise (a lone call, a batch of heartbeats only) the batch is
                        // flushed at once: on a starved host a yield waits behind every runnable thread.
                        yielded = true;
                        Thread.yield();
                        item = queue.poll();
                    }
                } while (item != null);
                Frame extra = piggyback.get();
                if (extra != null) {
                    write(extra);
                }
                out.flush();
                long flushed = nanoClock.getAsLong();
                lastWriteNanos = flushed;
                if (data) {
                    lastDataWriteNanos = flushed;
                }
                item = queue.poll();
            }
        } catch (InterruptedException e) {
            // Interrupted while waiting for frames (the group is being cancelled): hand the right back, so that a
            // frame queued later still gets a writer while the connection lives.
            Thread.currentThread().interrupt();
            failed = false;
            handBackToWriter();
        } finally {
            if (failed) {
                outputDone.countDown();
            }
        }
    }

    private void write(Object item) throws IOException {
        if (item instanceof Frame frame) {
            writeCodec.write(frame, out);
        } else {
            ((Writable) item).writeTo(writeCodec, out);
        }
    }

    /**
     * Lets the writer send what is queued, then closes, waiting at most {@code waitMillis} for the writer. Used for
     * GOODBYE, so the last frames are not cut off.
     */
    public void flushAndClose(long waitMillis) {
        if (!closed) {
            queue.offer(FLUSH_AND_CLOSE);
            ensureWriter();
            try {
                outputDone.await(waitMillis, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        close();
    }

    /**
     * Closes a connection whose last frame has been written (by {@link #writeHandshake}), so that the peer reads that
     * frame and then an orderly end of stream: sends FIN, reads and discards what the peer still sends until it
     * closes, {@code maxBytes} have come or {@code wait} has passed, then closes. Closed with bytes unread, the socket
     * would send a TCP reset instead, and a reset can overtake the last frame (if that frame is lost and re-sent) or
     * discard it while it still waits in this side's send buffer. Only from the handshaking thread, before a reader
     * starts; never throws. {@code wait} is cut to a minute.
     *
     * @return how many bytes were read and dropped
     */
    public int lingeringClose(java.time.Duration wait, int maxBytes) {
        int discarded = 0;
        try {
            long deadline = nanoClock.getAsLong() + Math.min(wait.toMillis(), 60_000) * 1_000_000;
            endpoint.shutdownOutput();
            byte[] discard = new byte[Math.clamp(maxBytes, 1, 4096)];
            while (discarded < maxBytes) {
                long left = deadline - nanoClock.getAsLong();
                if (left < 1_000_000) {
                    break; // under a millisecond: a socket timeout cannot say less
                }
                endpoint.readTimeout(java.time.Duration.ofNanos(left));
                int n = in.read(discard, 0, Math.min(discard.length, maxBytes - discarded));
                if (n < 0) {
                    break; // the peer closed: nothing unread is left
                }
                discarded += n;
            }
        } catch (IOException | RuntimeException e) {
            // timed out, reset or closed (or odd arguments): close below either way
        } finally {
            close();
        }
        return discarded;
    }

    /** Closes the socket at once, which ends the reader's {@link #read()} and the writer. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        queue.offer(CLOSE_NOW);
        endpoint.close();
        outputDone.countDown(); // nothing more will be written: a flushAndClose waiting elsewhere may go on
    }


    public boolean isClosed() {
        return closed;
    }

    /**
     * Whether a thread holds the right to write: a writer thread (also for the moment between taking the right and
     * its start), a sender draining the queue, or a reader writing a PONG; and for good once a write failed. For
     * tests.
     */
    public boolean writerActive() {
        return writing.get();
    }

    /**
     * Counts the connection's silence from now, as if bytes had just been read: for a connection whose peer owed
     * nothing until now (a session's channel A while channel B was being attached).
     */
    public void countSilenceFromNow() {
        input.progressNow();
    }

    /**
     * Returns when bytes last arrived on the connection, on the connection's clock: any bytes, not only a frame's
     * last, so a long frame arriving slowly shows progress all along (PROTOCOL §7). Creation time at first.
     */
    public long lastReadNanos() {
        return input.lastProgressNanos();
    }

    /** Returns when the writer last flushed, on the connection's clock. */
    public long lastWriteNanos() {
        return lastWriteNanos;
    }

    /** Returns the bytes read from the socket so far, handshake included. */
    public long bytesReceived() {
        return input.total();
    }

    /** Returns the bytes written to the socket so far, handshake included. */
    public long bytesSent() {
        return pooledOut.total();
    }

    /** Returns the peer's address, for logs. */
    public String remoteAddress() {
        return endpoint.remote();
    }

    /** Returns the local port, which identifies this connection in {@code ss} output and logs. */
    public int localPort() {
        return endpoint.localPort();
    }

    /** Returns the endpoint underneath (a fault injector's way to the connection it breaks). */
    public Endpoint endpoint() {
        return endpoint;
    }

}
