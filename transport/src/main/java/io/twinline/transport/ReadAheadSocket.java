package io.twinline.transport;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;

/**
 * A TCP socket whose input is read ahead into a buffer, for a TLS socket layered on it: the JDK's TLS reads each
 * record's five-byte header and then its body with separate reads of the socket under it, and with this buffer one
 * read of the network brings both, and whatever records follow them. Used by one reader at a time, like any
 * socket's input.
 */
public final class ReadAheadSocket extends Socket {
    /** Holds the largest TLS record (16 KiB of content and its overhead) with room to spare. */
    static final int BUFFER_BYTES = 17 * 1024;

    private volatile InputStream input;

    /** An unconnected socket: connect it, or accept into it with {@link Sockets#listen}'s server socket. */
    public ReadAheadSocket() {
    }

    @Override
    public InputStream getInputStream() throws IOException {
        InputStream in = input;
        if (in == null) {
            synchronized (this) {
                in = input;
                if (in == null) {
                    in = new BufferedInputStream(super.getInputStream(), BUFFER_BYTES);
                    input = in;
                }
            }
        }
        return in;
    }
}
