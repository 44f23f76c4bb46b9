package io.twinline.transport;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;

/**
 * A TCP socket whose input is read ahead into a buffer, for a TLS socket layered on it: the JDK's TLS reads each
 * record's five-byte header and then its body with separate reads of the socket under it, and with this buffer one
 * read of the network brings both, and whatever records follow them. Every call of {@link #getInputStream} gives the
 * one buffered stream, so no byte read ahead is lost to a second one. Used by one reader at a time, like any socket's
 * input.
 */
public final class ReadAheadSocket extends Socket {
    /** Holds the largest TLS record (16 KiB of content and its overhead) with room to spare. */
    static final int BUFFER_BYTES = 17 * 1024;

    private volatile Input input;

    /** An unconnected socket: connect it, or accept into it with {@link Sockets#listenReadAhead}'s server socket. */
    public ReadAheadSocket() {
    }

    @Override
    public InputStream getInputStream() throws IOException {
        Input in = input;
        if (in == null) {
            synchronized (this) {
                in = input;
                if (in == null) {
                    in = new Input(super.getInputStream());
                    input = in;
                }
            }
        }
        return in;
    }

    /** Closes the socket and the buffer with it: what was read ahead is not read after the close. */
    @Override
    public void close() throws IOException {
        try {
            super.close();
        } finally {
            Input in = input;
            if (in != null) {
                in.close(); // does not wait for a reader blocked in the socket: the socket's close frees it
            }
        }
    }

    /**
     * The buffer. {@link #available} is 0: the only caller above, the JDK's TLS, asks it when it closes, to drain
     * what is left, and the buffer's own answer would wait for a reader blocked in the socket underneath, holding
     * that close (a server's close of a connection still in its TLS handshake, at the handshake deadline).
     */
    private static final class Input extends BufferedInputStream {
        Input(InputStream socket) {
            super(socket, BUFFER_BYTES);
        }

        @Override
        public int available() {
            return 0;
        }
    }
}
