package io.twinline.bench;

import io.twinline.api.Twinline;
import io.twinline.api.TwinlineClient;
import io.twinline.transport.Frame;
import io.twinline.transport.FrameCodec;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Sends mutated frames at a live server over many connections while a well-behaved session keeps calling it.
 *
 * <pre>java --enable-preview -cp bench/target/benchmarks.jar io.twinline.bench.Fuzz PORT FRAMES [WORKERS] [SEED]</pre>
 *
 * <p>Each worker connects again and again, and either mutates the handshake (HELLO or ATTACH) or opens a real
 * session (HELLO, WELCOME, ATTACH of B, ATTACHED) and then sends on channel A a run of frames of every kind a
 * client may send there (REQUEST, CONTINUATION, ACK, PING, PONG), some valid and some mutated, until the server
 * closes the connection; then it says GOODBYE on B, so the server forgets the session. Mutations: bit flips, bytes
 * inserted or deleted, a frame cut short, two frames spliced, the length or the type replaced (lengths at every
 * boundary: 0, 1, the limit and around it, the real length and around it, 2^31 − 1, 2^32 − 1), and a field's bytes
 * replaced by extreme values. Meanwhile one session calls {@code total} back to back; any failure of it is counted.
 * Prints the frames sent (and how many mutated), the connections, and the good session's calls and failures. The
 * seed (default: the time) is printed, so a run can be repeated.
 */
public final class Fuzz {
    private Fuzz() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        long frames = Long.parseLong(args[1]);
        int workers = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        long seed = args.length > 3 ? Long.parseLong(args[3]) : System.nanoTime();
        System.out.println("fuzz: seed " + seed + ", " + frames + " mutated frames, " + workers + " workers");
        InetSocketAddress server = new InetSocketAddress("127.0.0.1", port);
        AtomicLong mutatedLeft = new AtomicLong(frames);
        LongAdder sent = new LongAdder();
        LongAdder mutated = new LongAdder();
        LongAdder connections = new LongAdder();
        LongAdder sessions = new LongAdder();
        LongAdder goodCalls = new LongAdder();
        LongAdder goodFailures = new LongAdder();
        List<String> goodErrors = new java.util.concurrent.CopyOnWriteArrayList<>();
        TwinlineClient good = Twinline.client().server(server).connect();
        Thread caller = Thread.ofVirtual().start(() -> {
            while (mutatedLeft.get() > 0) {
                try {
                    good.call("total", new byte[0]);
                    goodCalls.increment();
                } catch (RuntimeException e) {
                    goodFailures.increment();
                    if (goodErrors.size() < 5) {
                        goodErrors.add(e.toString());
                    }
                }
            }
        });
        java.util.concurrent.atomic.AtomicReference<RuntimeException> fuzzerBug =
                new java.util.concurrent.atomic.AtomicReference<>();
        long start = System.nanoTime();
        SplittableRandom seeds = new SplittableRandom(seed);
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            SplittableRandom random = seeds.split();
            threads.add(Thread.ofVirtual().start(() -> {
                Worker worker = new Worker(server, random, mutatedLeft, sent, mutated, connections, sessions);
                try {
                    while (mutatedLeft.get() > 0) {
                        worker.round();
                    }
                } catch (RuntimeException e) {
                    fuzzerBug.compareAndSet(null, e); // the fuzzer's own: stop everything, and say so
                    mutatedLeft.set(0);
                }
            }));
        }
        Thread progress = Thread.ofVirtual().start(() -> {
            try {
                while (true) {
                    Thread.sleep(10_000);
                    System.out.println(String.format(Locale.ROOT, "  %.0fs: %,d mutated frames, good calls %,d",
                            (System.nanoTime() - start) / 1e9, mutated.sum(), goodCalls.sum()));
                }
            } catch (InterruptedException e) {
                // done
            }
        });
        for (Thread t : threads) {
            t.join();
        }
        caller.join();
        progress.interrupt();
        boolean goodStillNormal = good.session().state() == io.twinline.api.SessionState.NORMAL;
        good.close();
        System.out.println(String.format(Locale.ROOT,
                "fuzz: frames=%d mutated=%d connections=%d sessions=%d elapsed=%.1fs", sent.sum(), mutated.sum(),
                connections.sum(), sessions.sum(), (System.nanoTime() - start) / 1e9));
        System.out.println("good: calls=" + goodCalls.sum() + " failed=" + goodFailures.sum() + " session_normal="
                + goodStillNormal + (goodErrors.isEmpty() ? "" : " errors=" + goodErrors));
        if (fuzzerBug.get() != null) {
            System.out.println("fuzz: a bug of the fuzzer itself stopped the run:");
            fuzzerBug.get().printStackTrace(System.out);
            System.exit(2);
        }
        System.exit(goodFailures.sum() == 0 && goodStillNormal ? 0 : 1);
    }

    /** One worker's connections, one round at a time. */
    private static final class Worker {
        private final InetSocketAddress server;
        private final SplittableRandom random;
        private final AtomicLong mutatedLeft;
        private final LongAdder sent;
        private final LongAdder mutated;
        private final LongAdder connections;
        private final LongAdder sessions;
        private final FrameCodec codec = new FrameCodec(FrameCodec.FRAME_LIMIT);
        private long nextId = 1;

        Worker(InetSocketAddress server, SplittableRandom random, AtomicLong mutatedLeft, LongAdder sent,
               LongAdder mutated, LongAdder connections, LongAdder sessions) {
            this.server = server;
            this.random = random;
            this.mutatedLeft = mutatedLeft;
            this.sent = sent;
            this.mutated = mutated;
            this.connections = connections;
            this.sessions = sessions;
        }

        void round() {
            try {
                if (random.nextInt(4) == 0) {
                    handshakeRound();
                } else {
                    sessionRound();
                }
            } catch (IOException e) {
                // the server closed or reset the connection: what a mutated frame is for
            }
        }

        /** A mutated HELLO or ATTACH as a connection's first frame. */
        private void handshakeRound() throws IOException {
            byte[] valid = random.nextBoolean()
                    ? encode(new Frame.Hello(FrameCodec.VERSION, 1 << 20, 64, 1 << 20, credential()))
                    : encode(new Frame.Attach(FrameCodec.VERSION, random.nextLong(1, 1L << 40), token(),
                            random.nextInt(2), 1 << 20));
            try (Socket s = dial()) {
                send(s.getOutputStream(), mutate(valid, io.twinline.transport.Connection.HANDSHAKE_FRAME_LIMIT), true);
                // The end of the stream right after: a frame cut short then ends at once, not at the server's
                // handshake deadline (bench/flood.sh stalls half frames).
                s.shutdownOutput();
                drain(s.getInputStream());
            }
        }

        /** A real session, then a run of valid and mutated frames on channel A until the server closes it. */
        private void sessionRound() throws IOException {
            try (Socket a = dial()) {
                DataOutputStream outA = new DataOutputStream(a.getOutputStream());
                codec.write(new Frame.Hello(FrameCodec.VERSION, 1 << 20, 64, 1 << 20), outA);
                outA.flush();
                if (!(new FrameCodec(4096).read(new DataInputStream(a.getInputStream())) instanceof Frame.Welcome w)) {
                    return; // REJECTED (the server is full, say)
                }
                try (Socket b = dial()) {
                    DataOutputStream outB = new DataOutputStream(b.getOutputStream());
                    codec.write(new Frame.Attach(FrameCodec.VERSION, w.sessionId(), w.token(), 1, 1 << 20), outB);
                    outB.flush();
                    if (!(new FrameCodec(4096).read(new DataInputStream(b.getInputStream()))
                            instanceof Frame.Attached)) {
                        return;
                    }
                    sessions.increment();
                    Thread drainA = Thread.ofVirtual().start(() -> drainQuietly(a));
                    Thread drainB = Thread.ofVirtual().start(() -> drainQuietly(b));
                    try {
                        int run = 1 + random.nextInt(40);
                        for (int i = 0; i < run && mutatedLeft.get() > 0; i++) {
                            byte[] frame = encode(validOnA());
                            if (random.nextInt(3) == 0) {
                                send(a.getOutputStream(), mutate(frame, FrameCodec.FRAME_LIMIT), true);
                            } else {
                                send(a.getOutputStream(), frame, false);
                            }
                        }
                    } catch (IOException e) {
                        // A closed by the server: the point of the run
                    } finally {
                        try {
                            codec.write(new Frame.Goodbye("fuzz round over"), outB);
                            outB.flush();
                        } catch (IOException ignored) {
                            // B went too
                        }
                        a.close();
                        b.close();
                        drainA.interrupt();
                        drainB.interrupt();
                    }
                }
            }
        }

        private Frame validOnA() {
            return switch (random.nextInt(6)) {
                case 0 -> new Frame.Request(nextId++, "total", new byte[0]);
                case 1 -> new Frame.Request(nextId++, random.nextBoolean() ? "add" : "no-such-route",
                        bytes(random.nextInt(64)));
                case 2 -> new Frame.RequestHead(nextId++, "add", 70_000, bytes(1 + random.nextInt(65_536)));
                case 3 -> new Frame.Continuation(Math.max(1, nextId - 1), bytes(1 + random.nextInt(2048)));
                case 4 -> new Frame.Ack(random.nextLong(0, nextId + 2), ids());
                default -> random.nextBoolean() ? new Frame.Ping(random.nextLong(), random.nextInt(60_001))
                        : new Frame.Pong(random.nextLong());
            };
        }

        private byte[] mutate(byte[] valid, int limit) {
            byte[] m = switch (random.nextInt(8)) {
                case 0 -> flip(valid);
                case 1 -> insert(valid);
                case 2 -> delete(valid);
                case 3 -> java.util.Arrays.copyOf(valid, random.nextInt(valid.length)); // cut short
                case 4 -> splice(valid, encode(validOnA()));
                case 5 -> length(valid, limit);
                case 6 -> type(valid);
                default -> extremes(valid);
            };
            return m;
        }

        private byte[] flip(byte[] b) {
            byte[] m = b.clone();
            int flips = 1 + random.nextInt(8);
            for (int i = 0; i < flips; i++) {
                int at = random.nextInt(m.length);
                m[at] ^= (byte) (1 << random.nextInt(8));
            }
            return m;
        }

        private byte[] insert(byte[] b) {
            int at = random.nextInt(b.length + 1);
            byte[] extra = bytes(1 + random.nextInt(16));
            byte[] m = new byte[b.length + extra.length];
            System.arraycopy(b, 0, m, 0, at);
            System.arraycopy(extra, 0, m, at, extra.length);
            System.arraycopy(b, at, m, at + extra.length, b.length - at);
            return m;
        }

        private byte[] delete(byte[] b) {
            int at = random.nextInt(b.length);
            int n = 1 + random.nextInt(Math.min(16, b.length - at));
            byte[] m = new byte[b.length - n];
            System.arraycopy(b, 0, m, 0, at);
            System.arraycopy(b, at + n, m, at, b.length - at - n);
            return m;
        }

        private byte[] splice(byte[] first, byte[] second) {
            int cut = random.nextInt(first.length + 1);
            int from = random.nextInt(second.length + 1);
            byte[] m = new byte[cut + second.length - from];
            System.arraycopy(first, 0, m, 0, cut);
            System.arraycopy(second, from, m, cut, second.length - from);
            return m;
        }

        private byte[] length(byte[] b, int limit) {
            int real = b.length - 4;
            int[] choices = {0, 1, 2, limit - 1, limit, limit + 1, real - 1, real + 1, Integer.MAX_VALUE, -1,
                    random.nextInt()};
            byte[] m = b.clone();
            ByteBuffer.wrap(m).putInt(0, choices[random.nextInt(choices.length)]);
            return m;
        }

        private byte[] type(byte[] b) {
            byte[] m = b.clone();
            if (m.length > 4) {
                m[4] = (byte) random.nextInt(256);
            }
            return m;
        }

        /** A run of 1 to 8 bytes after the type set to 0x00, 0xFF, 0x7F or 0x80 (ids, lengths, counts at edges). */
        private byte[] extremes(byte[] b) {
            byte[] m = b.clone();
            if (m.length <= 5) {
                return flip(m);
            }
            int at = 5 + random.nextInt(m.length - 5);
            int n = Math.min(m.length - at, 1 + random.nextInt(8));
            byte[] values = {0, (byte) 0xFF, 0x7F, (byte) 0x80};
            byte v = values[random.nextInt(values.length)];
            for (int i = 0; i < n; i++) {
                m[at + i] = v;
            }
            return m;
        }

        /** Sends a frame; the run ends once FRAMES mutated frames have been written whole. */
        private void send(OutputStream out, byte[] bytes, boolean isMutated) throws IOException {
            out.write(bytes);
            out.flush();
            sent.increment();
            if (isMutated) {
                mutated.increment();
                mutatedLeft.decrementAndGet();
            }
        }

        private Socket dial() throws IOException {
            Socket s = new Socket();
            s.connect(server, 5000);
            s.setSoTimeout(10_000);
            connections.increment();
            return s;
        }

        private byte[] encode(Frame frame) {
            try {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                DataOutputStream out = new DataOutputStream(bytes);
                if (frame instanceof Frame.RequestHead h) {
                    byte[] route = h.route().getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    codec.writeRequestHead(h.id(), route, padded(h), h.chunk().length, out);
                } else {
                    codec.write(frame, out);
                }
                out.flush();
                return bytes.toByteArray();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        private static byte[] padded(Frame.RequestHead h) {
            return java.util.Arrays.copyOf(h.chunk(), h.bodyLength());
        }

        private byte[] bytes(int n) {
            byte[] b = new byte[n];
            random.nextBytes(b);
            return b;
        }

        private byte[] token() {
            return bytes(FrameCodec.TOKEN_BYTES);
        }

        private byte[] credential() {
            return random.nextInt(4) == 0 ? bytes(random.nextInt(64)) : new byte[0];
        }

        private long[] ids() {
            long[] ids = new long[random.nextInt(8)];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = random.nextLong(0, nextId + 4);
            }
            return ids;
        }

        private static void drain(InputStream in) throws IOException {
            byte[] sink = new byte[8192];
            while (in.read(sink) >= 0) {
                // until the server closes
            }
        }

        private static void drainQuietly(Socket s) {
            try {
                drain(s.getInputStream());
            } catch (IOException e) {
                // closed
            }
        }
    }
}
