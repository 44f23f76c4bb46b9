package io.twinline.transport;

import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A buffered output stream that holds its buffer only between the first write of a batch and the flush that ends
 * it, returning it to a pool shared by all connections in between. An idle connection then holds no write buffer:
 * with thousands of mostly idle sessions, that is 8 KiB per connection less heap.
 *
 * <p>Used by one thread at a time (a connection's writer), like {@link java.io.BufferedOutputStream}.
 */
final class PooledOutput extends OutputStream {
    static final int BUFFER_BYTES = 8 * 1024;
    /** Enough spare buffers for the writers that run at once; more are left to the garbage collector. */
    private static final int POOL_MAX = 256;
    private static final ConcurrentLinkedQueue<byte[]> POOL = new ConcurrentLinkedQueue<>();
    private static final AtomicInteger POOLED = new AtomicInteger();

    private final OutputStream out;
    private final ByteMeter meter;
    private volatile long total;
    private byte[] buffer;
    private int count;

    PooledOutput(OutputStream out) {
        this(out, ByteMeter.NONE);
    }

    /** @param meter told of every byte written to {@code out} */
    PooledOutput(OutputStream out, ByteMeter meter) {
        this.out = out;
        this.meter = meter;
    }

    /** Returns the bytes written to the stream below so far. */
    long total() {
        return total;
    }

    private void counted(int n) {
        if (n > 0) {
            total += n; // one writer at a time: no lost update
            meter.sent(n);
        }
    }

    private byte[] buffer() {
        if (buffer == null) {
            byte[] pooled = POOL.poll();
            if (pooled != null) {
                POOLED.decrementAndGet();
            }
            buffer = pooled != null ? pooled : new byte[BUFFER_BYTES];
        }
        return buffer;
    }

    @Override
    public void write(int b) throws IOException {
        byte[] buf = buffer();
        if (count == buf.length) {
            drain();
        }
        buf[count++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (len >= BUFFER_BYTES) {
            drain(); // a large body goes straight to the socket, never copied
            out.write(b, off, len);
            counted(len);
            return;
        }
        byte[] buf = buffer();
        if (len > buf.length - count) {
            drain();
        }
        System.arraycopy(b, off, buf, count, len);
        count += len;
    }

    private void drain() throws IOException {
        if (count > 0) {
            out.write(buffer, 0, count);
            counted(count);
            count = 0;
        }
    }

    /** Writes what is buffered, gives the buffer back to the pool, and flushes the stream below. */
    @Override
    public void flush() throws IOException {
        drain();
        release();
        out.flush();
    }

    private void release() {
        if (buffer != null) {
            if (POOLED.incrementAndGet() <= POOL_MAX) {
                POOL.offer(buffer);
            } else {
                POOLED.decrementAndGet();
            }
            buffer = null;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            flush();
        } finally {
            out.close();
        }
    }
}
