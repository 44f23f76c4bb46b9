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
 * <p>The writer keeps two lanes. Control frames (PING, PONG, ACK) go before any data still to be written; requests
 * and responses ({@link Frame.Message}) go out in chunks of at most {@link FrameCodec#CHUNK_BYTES}, the chunks of
 * long bodies taking turns with each other and with new messages, so neither a heartbeat nor a small call waits
 * behind a long body, nor behind many one-frame messages queued before it. A long body begins only while the long
 * bodies going stay within the peer's budget of bodies arriving ({@link Established#peerMaxArrivingBytes}); it
 * then waits, and shorter messages overtake it. Anything else (GOODBYE, a close) waits until every message queued
 * before it is written. The
 * reader joins the chunks back into whole {@link Frame.Request}s and {@link Frame.Response}s ({@link #read()}).
 *
 * <p>The writer is a thread only while the connection is in use: a sender that finds none running has one started
 * ({@link #writers}), or becomes the writer itself ({@link #sendAndDrain}). The writer waits for more frames while
 * the connection carries data, and ends once it has carried nothing but heartbeats for a while
 * ({@link #retireWriterAfter}): an idle connection holds no parked writer, whose stack would be a large part of an
 * idle session's memory, and pays a thread start per heartbeat instead. At most one writer runs at a time.
 *
 * <p>{@link #send} never blocks: the queue is unbounded here because the session above bounds what it queues
 * (calls in flight and their bytes, responses owed, one PING at a time, and after a re-attach one window of
 * repeated ACK ids).
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

    /**
     * What the reader does with the bodies of requests or responses that arrive in several frames. Called on the
     * reader thread, when a body's first frame arrives.
     */
    public interface Bodies {
        /** Keeps every body and admits any. */
        Bodies ALL = new Bodies() {
        };

        /**
         * Whether the body of message {@code id} is wanted; one that is not (a re-sent request already run, a
         * response already received) is read and dropped, and delivered with the body {@link Frame#DROPPED}.
         */
        default boolean wanted(long id) {
            return true;
        }

        /**
         * Admits a wanted body of {@code length} bytes before its bytes are kept, given the bytes of the bodies still
         * arriving on this connection besides it.
         *
         * @throws MalformedFrameException to refuse it: the read fails, and so does the connection
         */
        default void admit(long id, int length, long arrivingBytes) throws MalformedFrameException {
        }
    }

    /** A body arriving in several frames: its first frame, and the array its parts are copied into (null: dropped). */
    private static final class Arriving {
        final Frame head;
        final int length;
        final byte[] body;
        int filled;

        Arriving(Frame head, int length, byte[] body, int filled) {
            this.head = head;
            this.length = length;
            this.body = body;
            this.filled = filled;
        }
    }

    /** A message whose first {@code written} body bytes are on the wire; the writer thread's own. */
    private static final class Sending {
        final Frame.Message message;
        int written;

        Sending(Frame.Message message, int written) {
            this.message = message;
            this.written = written;
        }
    }

    private final Endpoint endpoint;
    // A codec holds only its frame limit, so every connection shares these.
    private static final FrameCodec handshakeCodec = new FrameCodec(HANDSHAKE_FRAME_LIMIT);
    private static final FrameCodec readCodec = new FrameCodec(FrameCodec.FRAME_LIMIT);
    private static final FrameCodec writeCodec = readCodec;
    /** The longest body this side accepts, and the peer's (a larger message is refused before it is queued). */
    private final int maxMessageBytes;
    private volatile int peerMaxMessageBytes;
    /** Bodies arriving in several frames, by id; the reader's own. */
    private java.util.HashMap<Long, Arriving> arriving;
    private long arrivingBytes;
    private volatile Bodies bodies = Bodies.ALL;
    private volatile int maxArriving = Integer.MAX_VALUE;
    /** The most bytes of long bodies the writer has begun and not finished at once (see {@link Established}). */
    private volatile long peerMaxArrivingBytes = Long.MAX_VALUE;
    private final PooledOutput pooledOut;
    private final ElasticInput input;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final LongSupplier nanoClock;
    private final LinkedTransferQueue<Object> queue = new LinkedTransferQueue<>();
    /** Body bytes of the long messages begun and not finished; the writer thread's own. */
    private long goingBytes;
    /** Held by the one writer running, from the sender that started it until it finds nothing left to write. */
    private final AtomicBoolean writing = new AtomicBoolean();
    /**
     * Held while bytes go into {@link #out} and until they are flushed: by the writer for each batch, by
     * {@link #sendAlone} and by {@link #writeHandshake}. The right to write ({@link #writing}) keeps writers apart;
     * this keeps a handshake's frame, written by the handshaking thread after the session has started this
     * connection's writer (a server attaches A before it writes WELCOME), from mixing with a batch, and the pooled
     * buffer of {@link PooledOutput} from being used by two threads at once.
     */
    private final java.util.concurrent.locks.ReentrantLock outputLock = new java.util.concurrent.locks.ReentrantLock();
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
     * @param maxMessageBytes the longest request or response body this side accepts
     * @param peerMaxMessageBytes the longest the peer accepts (from its handshake; see {@link #establish})
     */
    public Connection(Socket socket, int maxMessageBytes, int peerMaxMessageBytes, LongSupplier nanoClock)
            throws IOException {
        this(Endpoint.of(socket), maxMessageBytes, peerMaxMessageBytes, nanoClock);
    }

    /**
     * @param maxMessageBytes the longest request or response body this side accepts
     * @param peerMaxMessageBytes the longest the peer accepts (from its handshake; see {@link #establish})
     */
    public Connection(Endpoint endpoint, int maxMessageBytes, int peerMaxMessageBytes, LongSupplier nanoClock)
            throws IOException {
        this(endpoint, maxMessageBytes, peerMaxMessageBytes, nanoClock, ByteMeter.NONE);
    }

    /**
     * @param maxMessageBytes the longest request or response body this side accepts
     * @param peerMaxMessageBytes the longest the peer accepts (from its handshake; see {@link #establish})
     * @param meter told of every byte read and written, handshakes included
     */
    public Connection(Endpoint endpoint, int maxMessageBytes, int peerMaxMessageBytes, LongSupplier nanoClock,
                      ByteMeter meter) throws IOException {
        this.endpoint = endpoint;
        this.maxMessageBytes = maxMessageBytes;
        this.peerMaxMessageBytes = peerMaxMessageBytes;
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
     * Reads the next frame, with the chunks of a request or response joined: a body that arrives in several frames
     * is returned whole, as one {@link Frame.Request} or {@link Frame.Response}, once its last part is read. Only the
     * reader thread calls this.
     *
     * @throws java.io.EOFException if the peer closed the connection
     * @throws MalformedFrameException if the peer sent something that is not a frame, a body longer than this side
     *     accepts, a part of a body not begun, or more bodies at once than {@link Established#maxArriving}
     */
    public Frame read() throws IOException {
        while (true) {
            input.awaitInput(); // an idle reader parks here, not deep in the decoder
            Frame frame = readCodec.read(in);
            switch (frame) {
                case Frame.Request r -> {
                    return whole(r.id(), r.body().length, r);
                }
                case Frame.Response r -> {
                    return whole(r.id(), r.body().length, r);
                }
                case Frame.RequestHead h -> begin(h.id(), h.bodyLength(), h.chunk(), h);
                case Frame.ResponseHead h -> begin(h.id(), h.bodyLength(), h.chunk(), h);
                case Frame.Continuation c -> {
                    Frame done = proceed(c);
                    if (done != null) {
                        return done;
                    }
                }
                default -> {
                    return frame;
                }
            }
        }
    }

    private Frame whole(long id, int length, Frame message) throws MalformedFrameException {
        if (length > maxMessageBytes) {
            throw new MalformedFrameException("message " + id + " has a body of " + length + " bytes; this side"
                    + " accepts at most " + maxMessageBytes);
        }
        if (arriving != null && arriving.containsKey(id)) {
            throw new MalformedFrameException("message " + id + " begun again while its body is arriving");
        }
        return message;
    }

    private void begin(long id, int length, byte[] chunk, Frame head) throws MalformedFrameException {
        whole(id, length, head);
        if (arriving == null) {
            arriving = new java.util.HashMap<>();
        }
        if (arriving.size() >= maxArriving) {
            throw new MalformedFrameException("more than " + maxArriving + " bodies arriving at once");
        }
        Bodies b = bodies;
        byte[] body = null;
        if (b.wanted(id)) {
            b.admit(id, length, arrivingBytes);
            body = new byte[length];
            System.arraycopy(chunk, 0, body, 0, chunk.length);
            arrivingBytes += length;
        }
        arriving.put(id, new Arriving(head, length, body, chunk.length));
    }

    private Frame proceed(Frame.Continuation c) throws MalformedFrameException {
        Arriving a = arriving == null ? null : arriving.get(c.id());
        if (a == null) {
            throw new MalformedFrameException("CONTINUATION of " + c.id() + ", whose body is not arriving");
        }
        byte[] chunk = c.chunk();
        if (chunk.length > a.length - a.filled) {
            throw new MalformedFrameException("CONTINUATION of " + c.id() + " runs past its body of " + a.length
                    + " bytes");
        }
        if (a.body != null) {
            System.arraycopy(chunk, 0, a.body, a.filled, chunk.length);
        }
        a.filled += chunk.length;
        if (a.filled < a.length) {
            return null;
        }
        arriving.remove(c.id());
        byte[] body = a.body;
        if (body != null) {
            arrivingBytes -= a.length;
        } else {
            body = Frame.DROPPED;
        }
        if (arriving.isEmpty()) {
            arriving = null; // an idle connection holds no table
        }
        return switch (a.head) {
            case Frame.RequestHead h -> new Frame.Request(h.id(), h.route(), body);
            case Frame.ResponseHead h -> new Frame.Response(h.id(), h.status(), body);
            default -> throw new IllegalStateException("not a head: " + a.head);
        };
    }

    /** Bytes of the bodies arriving in parts now that are being kept. For the reader thread and tests. */
    public long arrivingBytes() {
        return arrivingBytes;
    }

    /**
     * Reads one handshake frame with the small handshake limit, so an unauthenticated peer cannot make this side
     * allocate a large buffer. Only before the reader thread starts.
     */
    public Frame readHandshake() throws IOException {
        return handshakeCodec.read(in);
    }

    /**
     * Writes and flushes a frame at once, from the handshaking thread, whole: never inside a batch of the writer's,
     * which may already run (see {@link #outputLock}).
     */
    public void writeHandshake(Frame frame) throws IOException {
        outputLock.lock();
        try {
            writeCodec.write(frame, out);
            out.flush();
        } finally {
            outputLock.unlock();
        }
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


    /**
     * How an established connection reads and writes, given once by {@link #establish} when the handshake is done.
     *
     * @param peerMaxMessageBytes the longest body the peer accepts (from its handshake)
     * @param retireWriterAfter how long the connection must carry only heartbeats before an idle writer thread ends;
     *     zero ends it whenever the queue is empty (see {@link #retireWriterAfter})
     * @param writers how a writer thread is started when frames are queued and none runs
     * @param piggyback what the writer adds to each batch just before it flushes, or null
     * @param moreExpected whether more frames are about to be queued (see {@link #moreExpected})
     * @param bodies what the reader keeps of bodies arriving in several frames
     * @param maxArriving the most bodies arriving in parts at once; one more fails the read
     * @param peerMaxArrivingBytes the most body bytes the peer takes arriving in parts at once (its announced
     *     {@code maxInFlightBytes}): the writer begins a long body only while those it has begun and not finished
     *     stay within it, or when none is going
     */
    public record Established(int peerMaxMessageBytes, java.time.Duration retireWriterAfter, WriterStarter writers,
                              java.util.function.Supplier<Frame> piggyback,
                              java.util.function.BooleanSupplier moreExpected, Bodies bodies, int maxArriving,
                              long peerMaxArrivingBytes) {
        public Established {
            if (peerMaxArrivingBytes < 1) {
                throw new IllegalArgumentException("peerMaxArrivingBytes must be at least 1: " + peerMaxArrivingBytes);
            }
            java.util.Objects.requireNonNull(retireWriterAfter, "retireWriterAfter");
            java.util.Objects.requireNonNull(writers, "writers");
            java.util.Objects.requireNonNull(moreExpected, "moreExpected");
            java.util.Objects.requireNonNull(bodies, "bodies");
            if (piggyback == null) {
                piggyback = () -> null;
            }
            if (maxArriving < 1) {
                throw new IllegalArgumentException("maxArriving must be at least 1: " + maxArriving);
            }
        }
    }

    /**
     * Ends the handshake phase: reads block without a timeout from now on (heartbeats detect silence), messages are
     * checked against the peer's limit, and a writer is started for anything already queued. Called once, by the
     * thread that attaches the connection to a session, before its reader starts.
     */
    public void establish(Established settings) throws IOException {
        endpoint.readTimeout(java.time.Duration.ZERO);
        peerMaxMessageBytes = settings.peerMaxMessageBytes();
        bodies = settings.bodies();
        maxArriving = settings.maxArriving();
        peerMaxArrivingBytes = settings.peerMaxArrivingBytes();
        retireWriterAfter(settings.retireWriterAfter());
        piggyback(settings.piggyback());
        moreExpected(settings.moreExpected());
        writers(settings.writers());
    }

    /** The longest body the peer accepts. */
    public int peerMaxMessageBytes() {
        return peerMaxMessageBytes;
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

    /** Queues a request or response the writer encodes itself, in chunks. Never blocks; dropped after close. */
    public void sendMessage(Frame.Message message) {
        if (!closed) {
            queue.offer(message);
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
            outputLock.lock();
            try {
                writeCodec.write(frame, out);
                out.flush(); // throws on a failed connection, keeping the right: nothing more is written on it
            } finally {
                outputLock.unlock();
            }
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

    /** A control frame: written before any data still to be written. */
    private static boolean isControl(Object item) {
        return item instanceof Frame.Ping || item instanceof Frame.Pong || item instanceof Frame.Ack;
    }

    /**
     * The writer's loop; {@code drainOnly} hands the right back whenever the queue is empty.
     *
     * <p>Each step moves what is queued into the two lanes, writes every control frame, then starts new messages
     * (their first frames, up to about a chunk's worth) and writes one chunk of the oldest long body still going,
     * which then goes to the back of the line. A frame that is neither (GOODBYE) waits until every message before it
     * is written whole. The batch is flushed when nothing is left.
     */
    private void writeLoop(boolean drainOnly) throws IOException {
        boolean failed = true;
        java.util.ArrayDeque<Object> control = null;
        java.util.ArrayDeque<Object> data = null;
        java.util.ArrayDeque<Sending> going = null;
        // Long bodies that would take those going past the peer's budget of bodies arriving: they begin, oldest
        // first, as the going ones finish. Shorter messages (one frame) overtake them.
        java.util.ArrayDeque<Frame.Message> held = null;
        goingBytes = 0;
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
                boolean wroteData = false;
                outputLock.lock();
                try {
                    while (true) {
                        // Bytes of messages written at once this round: past two chunks' worth (what a round of the
                        // lanes may write), the rest of the queue goes into the lanes, so a control frame queued
                        // behind many one-frame messages overtakes them.
                        int direct = 0;
                        for (; item != null; item = queue.poll()) { // into the lanes: everything queued now
                            if (item == CLOSE_NOW) {
                                failed = false;
                                outputDone.countDown();
                                return;
                            }
                            if (isEmpty(going) && isEmpty(data) && isEmpty(held)
                                    && direct < 2 * FrameCodec.CHUNK_BYTES) {
                                // Nothing long is going out, nothing waits and little went out this round: there is
                                // nothing to overtake, so the item is written at once, in the order it came (the
                                // common case, without a lane).
                                if (item == FLUSH_AND_CLOSE) {
                                    flushAndShutdownOutput();
                                    failed = false;
                                    return;
                                }
                                if (item instanceof Frame.Message m) {
                                    going = start(m, going);
                                    direct += firstFrameBytes(m);
                                } else {
                                    writeCodec.write((Frame) item, out);
                                }
                                wroteData |= !isControl(item) || item instanceof Frame.Ack;
                                continue;
                            }
                            if (isControl(item)) {
                                control = offer(control, item);
                            } else {
                                data = offer(data, item);
                            }
                        }
                        for (Object c; !isEmpty(control) && (c = control.poll()) != null; ) {
                            writeCodec.write((Frame) c, out);
                            wroteData |= c instanceof Frame.Ack;
                        }
                        int started = 0;
                        while (!isEmpty(held) && started < FrameCodec.CHUNK_BYTES && fits(held.peek())) {
                            Frame.Message m = held.poll();
                            going = start(m, going);
                            started += firstFrameBytes(m);
                            wroteData = true;
                        }
                        while (!isEmpty(data) && started < FrameCodec.CHUNK_BYTES) {
                            Object next = data.peek();
                            if (next instanceof Frame.Message m) {
                                data.poll();
                                if (!fits(m) || (!isEmpty(held) && m.body().length > FrameCodec.CHUNK_BYTES)) {
                                    if (!isGoing(going, m)) { // a copy of one going out is not sent again
                                        held = offer(held, m); // long bodies begin in the order they came
                                    }
                                    continue;
                                }
                                going = start(m, going);
                                started += firstFrameBytes(m);
                                wroteData = true;
                            } else if (isEmpty(going) && isEmpty(held)) {
                                data.poll();
                                if (next == FLUSH_AND_CLOSE) {
                                    flushAndShutdownOutput();
                                    failed = false;
                                    return;
                                }
                                writeCodec.write((Frame) next, out);
                                wroteData = true;
                            } else {
                                break; // it waits for the long bodies queued before it
                            }
                        }
                        if (!isEmpty(going)) {
                            Sending s = going.poll();
                            byte[] body = s.message.body();
                            int chunk = Math.min(FrameCodec.CHUNK_BYTES, body.length - s.written);
                            writeCodec.writeContinuation(s.message.id(), body, s.written, chunk, out);
                            s.written += chunk;
                            wroteData = true;
                            if (s.written < body.length) {
                                going.offer(s);
                            } else {
                                goingBytes -= body.length;
                            }
                        }
                        item = queue.poll();
                        if (item == null && isEmpty(control) && isEmpty(data) && isEmpty(going) && isEmpty(held)) {
                            if (wroteData && !yielded && moreExpected.getAsBoolean()) {
                                // More frames are on their way (calls in flight, handlers running): before paying a
                                // system call for the batch, let those about to add to it run once. On few cores that
                                // coalesces many frames per flush. Otherwise (a lone call, a batch of heartbeats only)
                                // the batch is flushed at once: on a starved host a yield waits behind every runnable
                                // thread.
                                yielded = true;
                                Thread.yield();
                                item = queue.poll();
                                if (item != null) {
                                    continue;
                                }
                            }
                            break;
                        }
                    }
                    Frame extra = piggyback.get();
                    if (extra != null) {
                        writeCodec.write(extra, out);
                    }
                    out.flush();
                } finally {
                    outputLock.unlock();
                }
                long flushed = nanoClock.getAsLong();
                lastWriteNanos = flushed;
                if (wroteData) {
                    lastDataWriteNanos = flushed;
                }
                item = queue.poll();
            }
        } catch (InterruptedException e) {
            // Interrupted while waiting for frames (the group is being cancelled): hand the right back, so that a
            // frame queued later still gets a writer while the connection lives. The lanes are empty: the writer
            // waits only then.
            Thread.currentThread().interrupt();
            failed = false;
            handBackToWriter();
        } finally {
            if (failed) {
                outputDone.countDown();
            }
        }
    }

    /**
     * Writes a message's first frame, and puts a message whose body goes on into {@code going}; returns the line.
     * A message already going out is not started again: it was queued twice (a response re-sent for a replayed
     * request just as its handler sent it), and a second copy would interleave with the first, which the peer
     * refuses.
     */
    private java.util.ArrayDeque<Sending> start(Frame.Message m, java.util.ArrayDeque<Sending> going)
            throws IOException {
        if (isGoing(going, m)) {
            return going;
        }
        checkOutgoing(m);
        int chunk = Math.min(FrameCodec.CHUNK_BYTES, m.body().length);
        m.writeHead(writeCodec, out, chunk);
        if (chunk == m.body().length) {
            return going;
        }
        goingBytes += m.body().length;
        return offer(going, new Sending(m, chunk));
    }

    /** About how many bytes the first frame of message {@code m} takes: its part of the body and a header. */
    private static int firstFrameBytes(Frame.Message m) {
        return Math.min(FrameCodec.CHUNK_BYTES, m.body().length) + 64;
    }

    /** Ends the output after the last frame: flushes, sends FIN, and tells whoever waits that nothing more comes. */
    private void flushAndShutdownOutput() throws IOException {
        out.flush();
        endpoint.shutdownOutput();
        outputDone.countDown();
    }

    /**
     * Whether message {@code m} may begin now: a body of one frame always may, a long one while the long bodies
     * going stay within the peer's budget of bodies arriving with it, or when none is going. So the peer never
     * holds more than that budget in bodies arriving in parts, and a lone body always goes.
     */
    private boolean fits(Frame.Message m) {
        int length = m.body().length;
        return length <= FrameCodec.CHUNK_BYTES || goingBytes == 0 || goingBytes + length <= peerMaxArrivingBytes;
    }

    private static <T> java.util.ArrayDeque<T> offer(java.util.ArrayDeque<T> lane, T item) {
        if (lane == null) {
            lane = new java.util.ArrayDeque<>();
        }
        lane.offer(item);
        return lane;
    }

    private static boolean isGoing(java.util.ArrayDeque<Sending> going, Frame.Message m) {
        if (going != null) {
            for (Sending s : going) {
                if (s.message == m) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean isEmpty(java.util.ArrayDeque<?> lane) {
        return lane == null || lane.isEmpty();
    }

    /** A message longer than the peer accepts is a bug above: the session checks each before it is queued. */
    private void checkOutgoing(Frame.Message m) {
        if (m.body().length > peerMaxMessageBytes) {
            throw new IllegalStateException("message " + m.id() + " of " + m.body().length
                    + " bytes exceeds the peer's limit of " + peerMaxMessageBytes);
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
