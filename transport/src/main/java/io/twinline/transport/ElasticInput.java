package io.twinline.transport;

import java.io.IOException;
import java.io.InputStream;

/**
 * A buffered input stream whose buffer follows the traffic: small while a connection carries only heartbeats,
 * doubled (up to a maximum) while reads keep filling it, and shrunk back once reads have stayed small for a while.
 * With thousands of mostly idle sessions, each connection's reader then holds {@value #MIN_BYTES} bytes while it
 * waits instead of the maximum.
 *
 * <p>Read by one thread at a time (a connection's reader), like {@link java.io.BufferedInputStream}.
 */
final class ElasticInput extends InputStream {
    /** The buffer of a quiet connection: a few heartbeat or small request frames. */
    static final int MIN_BYTES = 256;
    /** Consecutive small fills after which a grown buffer is given back. */
    static final int SMALL_FILLS_BEFORE_SHRINK = 16;

    private final InputStream in;
    private final int maxBytes;
    private final ByteMeter meter;
    private final java.util.function.LongSupplier clock;
    private volatile long total;
    /** When the last read from the stream below returned bytes, on {@link #clock}. */
    private volatile long lastProgressNanos;
    private byte[] buffer = new byte[MIN_BYTES];
    private int pos;
    private int count;
    private int smallFills;
    /** A resize planned by the last fill, applied when the buffer is next empty. */
    private boolean grow;
    private boolean shrink;

    ElasticInput(InputStream in, int maxBytes) {
        this(in, maxBytes, ByteMeter.NONE, System::nanoTime);
    }

    /**
     * @param meter told of every byte read from {@code in}
     * @param clock read after each read from {@code in} that returns bytes ({@link #lastProgressNanos()})
     */
    ElasticInput(InputStream in, int maxBytes, ByteMeter meter, java.util.function.LongSupplier clock) {
        if (maxBytes < MIN_BYTES) {
            throw new IllegalArgumentException("maxBytes below " + MIN_BYTES + ": " + maxBytes);
        }
        this.in = in;
        this.maxBytes = maxBytes;
        this.meter = meter;
        this.clock = clock;
        this.lastProgressNanos = clock.getAsLong();
    }

    /**
     * Returns when a read from the stream below last returned bytes (creation time at first): progress, however
     * far the frame those bytes belong to is from complete.
     */
    long lastProgressNanos() {
        return lastProgressNanos;
    }

    /** Counts from now, as if bytes had just arrived. */
    void progressNow() {
        lastProgressNanos = clock.getAsLong();
    }

    /** Returns the bytes read from the stream below so far. */
    long total() {
        return total;
    }

    private void counted(int n) {
        if (n > 0) {
            total += n; // one reader at a time: no lost update
            lastProgressNanos = clock.getAsLong();
            meter.received(n);
        }
    }

    /** Returns how many bytes are buffered: the next read of up to that many needs no system call. */
    int buffered() {
        return count - pos;
    }

    /** Returns the buffer's current size, for tests. */
    int capacity() {
        return buffer.length;
    }

    /**
     * Waits until at least one byte is buffered, or the stream has ended (which the next read reports). A reader
     * that waits here between frames, rather than inside a frame decoder, parks a few frames shallower: with
     * thousands of idle connections, the parked stacks are most of their memory.
     */
    void awaitInput() throws IOException {
        if (pos >= count) {
            resizeIfPlanned();
            fill();
        }
    }

    /** Refills the empty buffer with one read of the stream below; returns what that read returned. */
    private int fill() throws IOException {
        pos = 0;
        count = 0;
        int n = in.read(buffer, 0, buffer.length);
        counted(n);
        if (n <= 0) {
            return n;
        }
        count = n;
        if (n == buffer.length && buffer.length < maxBytes) {
            // A full read: more is probably waiting. Grow for the next fill (the bytes read stay where they are).
            smallFills = 0;
            grow = true;
        } else if (n < buffer.length / 8 && buffer.length > MIN_BYTES) {
            if (++smallFills >= SMALL_FILLS_BEFORE_SHRINK) {
                smallFills = 0;
                shrink = true;
            }
        } else {
            smallFills = 0;
        }
        return n;
    }

    /** Applies a planned resize; only when the buffer is empty, so nothing has to be copied. */
    private void resizeIfPlanned() {
        if (grow) {
            grow = false;
            buffer = new byte[Math.min(maxBytes, buffer.length * 2)];
        } else if (shrink) {
            shrink = false;
            buffer = new byte[MIN_BYTES];
        }
    }

    @Override
    public int read() throws IOException {
        if (pos >= count) {
            resizeIfPlanned();
            if (fill() <= 0) {
                return -1;
            }
        }
        return buffer[pos++] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        int available = count - pos;
        if (available <= 0) {
            resizeIfPlanned();
            if (len >= buffer.length) {
                int n = in.read(b, off, len); // a large body goes straight into its array, never copied twice
                counted(n);
                return n;
            }
            if (fill() <= 0) {
                return -1;
            }
            available = count;
        }
        int n = Math.min(available, len);
        System.arraycopy(buffer, pos, b, off, n);
        pos += n;
        return n;
    }

    @Override
    public int available() throws IOException {
        return buffered() + in.available();
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
