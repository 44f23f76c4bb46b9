package io.twinline.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A server attaches channel A to its session, which may start the connection's writer, before it writes WELCOME
 * on the handshaking thread. A frame written that way must go out whole and once, never inside the writer's batch:
 * both share one pooled buffer, and used by two threads at once it wrote the writer's bytes twice and could hand
 * the buffer to another connection while still in use.
 */
class ConnectionHandshakeWriteTest {

    /** An end whose first write waits until released, and which keeps every byte written, in order. */
    private static final class HeldFirstWrite extends StubEndpoint {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final ByteArrayOutputStream wire = new ByteArrayOutputStream();
        private boolean first = true;

        @Override
        public OutputStream output() {
            return new OutputStream() {
                @Override
                public void write(int b) {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    byte[] copy = java.util.Arrays.copyOfRange(b, off, off + len); // what this call was given
                    boolean hold;
                    synchronized (HeldFirstWrite.this) {
                        hold = first;
                        first = false;
                    }
                    if (hold) {
                        entered.countDown();
                        try {
                            release.await(20, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    synchronized (wire) {
                        wire.write(copy, 0, copy.length);
                    }
                }
            };
        }
    }

    @Test
    void aHandshakeFrameWrittenWhileTheWriterFlushesGoesOutWholeAndOnce() throws Exception {
        HeldFirstWrite end = new HeldFirstWrite();
        Connection connection = new Connection(end, 1 << 20, 1 << 20, System::nanoTime);
        java.util.concurrent.atomic.AtomicReference<Thread> writer = new java.util.concurrent.atomic.AtomicReference<>();
        connection.writers(() -> {
            writer.set(Thread.ofVirtual().name("writer").start(() -> {
                try {
                    connection.runWriter();
                } catch (IOException e) {
                    // closed below
                }
            }));
            return true;
        });
        connection.send(new Frame.Ping(7));
        assertTrue(end.entered.await(20, TimeUnit.SECONDS), "the writer is flushing its batch");
        Thread handshake = Thread.ofVirtual().name("handshake").start(() -> {
            try {
                connection.writeHandshake(new Frame.Attached(0));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        // Without mutual exclusion the handshake's write is already done, and the join returns; with it, it waits for
        // the batch. Either way the batch is then let go.
        handshake.join(Duration.ofMillis(200));
        end.release.countDown();
        assertTrue(handshake.join(Duration.ofSeconds(20)), "the handshake's write finished");
        connection.close();
        assertTrue(writer.get().join(Duration.ofSeconds(20)), "the writer ended with the connection");

        byte[] bytes;
        synchronized (end.wire) {
            bytes = end.wire.toByteArray();
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        FrameCodec codec = new FrameCodec(FrameCodec.FRAME_LIMIT);
        List<Frame> frames = new ArrayList<>();
        while (in.available() > 0) {
            frames.add(codec.read(in));
        }
        assertEquals(2, frames.size(), "the PING and ATTACHED, each once: " + frames);
        assertInstanceOf(Frame.Ping.class, frames.get(0));
        assertInstanceOf(Frame.Attached.class, frames.get(1));
    }
}
