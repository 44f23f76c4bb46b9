package io.twinline.bench;

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

/**
 * The floor: request/response over one blocking TCP connection with request ids, one coalescing writer per side
 * (flush when its queue is empty) and one reader per side; the server echoes from its reader. No sessions, no
 * recovery, no acknowledgements: what this machine can do at best with the same threading model.
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
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("raw-server").start(() -> {
            try (Socket s = listener.accept()) {
                s.setTcpNoDelay(true);
                Writer writer = new Writer(s, yieldBeforeFlush);
                DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream(), 8192));
                while (true) {
                    writer.send(read(in));
                }
            } catch (IOException e) {
                // closed
            }
        });
        client = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
        client.setTcpNoDelay(true);
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
