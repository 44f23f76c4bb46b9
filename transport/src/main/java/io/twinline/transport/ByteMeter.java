package io.twinline.transport;

import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Told of the bytes a connection reads from and writes to its socket, handshakes included: once per read or write
 * system call, not per frame. Called by the connection's reader and writer threads; must be thread-safe and fast.
 */
public interface ByteMeter {
    /** A meter that counts nothing. */
    ByteMeter NONE = new ByteMeter() {
        @Override
        public void received(int bytes) {
        }

        @Override
        public void sent(int bytes) {
        }
    };

    /** {@code bytes} (positive) were read from the socket. */
    void received(int bytes);

    /** {@code bytes} (positive) were written to the socket. */
    void sent(int bytes);

    /** The socket's input, counted into {@code meter} and into its own total. Read by one thread at a time. */
    final class Input extends FilterInputStream {
        private final ByteMeter meter;
        private volatile long total;

        Input(InputStream in, ByteMeter meter) {
            super(in);
            this.meter = meter;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                counted(1);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                counted(n);
            }
            return n;
        }

        private void counted(int n) {
            total += n; // one reader at a time: no lost update
            meter.received(n);
        }

        long total() {
            return total;
        }
    }

    /** The socket's output, counted into {@code meter} and into its own total. Written by one thread at a time. */
    final class Output extends FilterOutputStream {
        private final ByteMeter meter;
        private volatile long total;

        Output(OutputStream out, ByteMeter meter) {
            super(out);
            this.meter = meter;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            counted(1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            if (len > 0) {
                counted(len);
            }
        }

        private void counted(int n) {
            total += n; // one writer at a time: no lost update
            meter.sent(n);
        }

        long total() {
            return total;
        }
    }
}
