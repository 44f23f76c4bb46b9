package io.twinline.bench;

import io.twinline.transport.ReadAheadSocket;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;

/**
 * The floor: request/response over one blocking TCP connection with request ids, one coalescing writer per side
 * (flush when its queue is empty) and one reader per side; the server echoes from its reader. No sessions, no
 * recovery, no acknowledgements: what this machine can do at best with the same threading model. With TLS, TLS 1.3
 * over the JDK's {@code SSLSocket} with the server authenticated ({@link BenchTls}), its TCP socket read through a
 * buffer as twinline's is: the floor of what TLS costs with the JDK's provider.
 */
final class RawSocketPeer implements Peer {
    private record Message(long id, byte[] body) {
    }

    /** One side's writer: drains the queue and flushes when it is empty. */
    private static final class Writer {
        private final LinkedTransferQueue<Message> queue = new LinkedTransferQueue<>();
        private final DataOutputStream out;
        private final boolean yieldBeforeFlush;

        Writer(Socket socket, boolean yieldBeforeFlush) throws IOException {
            this.yieldBeforeFlush = yieldBeforeFlush;
            out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 8192));
            Thread.ofVirtual().name("raw-writer").start(this::run);
        }

        void send(Message m) {
            queue.offer(m);
        }

        private void run() {
            try {
                while (true) {
                    Message m = queue.take();
                    do {
                        out.writeInt(m.body().length);
                        out.writeLong(m.id());
                        out.write(m.body());
                        m = queue.poll();
                        if (m == null && yieldBeforeFlush) {
                            Thread.yield(); // as twinline's writer does: let senders add to the batch first
                            m = queue.poll();
                        }
                    } while (m != null);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // closed
            }
        }
    }

    private static Message read(DataInputStream in) throws IOException {
        int length = in.readInt();
        long id = in.readLong();
        byte[] body = new byte[length];
        in.readFully(body);
        return new Message(id, body);
    }

    private final ServerSocket listener;
    private final Socket client;
    private final Writer clientWriter;
    private final ConcurrentHashMap<Long, CompletableFuture<byte[]>> waiting = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();

    /**
     * @param yieldBeforeFlush whether the writers yield once before flushing a batch (twinline's writers do), so
     *     that the floor has the same coalescing
     */
    RawSocketPeer(boolean yieldBeforeFlush) throws IOException {
        this(yieldBeforeFlush, false);
    }

    /** @param tls whether both ends run TLS 1.3 */
    RawSocketPeer(boolean yieldBeforeFlush, boolean tls) throws IOException {
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress()) {
            @Override
            public Socket accept() throws IOException {
                Socket s = tls ? new ReadAheadSocket() : new Socket();
                implAccept(s);
                return s;
            }
        };
        SSLContext serverTls = tls ? context(BenchTls.serverKeys().getKeyManagers(), null) : null;
        Thread.ofVirtual().name("raw-server").start(() -> {
            try (Socket raw = listener.accept()) {
                raw.setTcpNoDelay(true);
                Socket s = raw;
                if (serverTls != null) {
                    SSLSocket t = (SSLSocket) serverTls.getSocketFactory().createSocket(raw, null, true);
                    t.setUseClientMode(false);
                    s = t;
                }
                Writer writer = new Writer(s, yieldBeforeFlush);
                DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream(), 8192));
                while (true) {
                    writer.send(read(in));
                }
            } catch (IOException e) {
                // closed
            }
        });
        Socket raw = tls ? new ReadAheadSocket() : new Socket();
        raw.connect(listener.getLocalSocketAddress());
        raw.setTcpNoDelay(true);
        if (tls) {
            try {
                SSLSocket t = (SSLSocket) context(null, BenchTls.clientTrust().getTrustManagers()).getSocketFactory()
                        .createSocket(raw, "localhost", listener.getLocalPort(), true);
                t.startHandshake();
                client = t;
            } catch (IOException | RuntimeException e) {
                raw.close();
                listener.close();
                throw e;
            }
        } else {
            client = raw;
        }
        clientWriter = new Writer(client, yieldBeforeFlush);
        DataInputStream in = new DataInputStream(new BufferedInputStream(client.getInputStream(), 8192));
        Thread.ofVirtual().name("raw-client-reader").start(() -> {
            try {
                while (true) {
                    Message m = read(in);
                    waiting.remove(m.id()).complete(m.body());
                }
            } catch (EOFException e) {
                // closed
            } catch (IOException e) {
                // closed
            }
        });
    }

    private static SSLContext context(KeyManager[] keys, TrustManager[] trust) {
        try {
            SSLContext context = SSLContext.getInstance("TLSv1.3");
            context.init(keys, trust, null);
            return context;
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public byte[] call(byte[] body) throws Exception {
        long id = ids.incrementAndGet();
        CompletableFuture<byte[]> answer = new CompletableFuture<>();
        waiting.put(id, answer);
        clientWriter.send(new Message(id, body));
        return answer.get();
    }

    @Override
    public void close() throws IOException {
        client.close();
        listener.close();
    }
}
