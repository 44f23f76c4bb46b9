package io.twinline.transport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;

/**
 * One end of a byte-stream connection: a TCP socket, or (in tests) a simulated link. {@link Connection} works over
 * either, so the same session code runs over TCP and over a simulated network.
 */
public interface Endpoint {

    InputStream input() throws IOException;

    OutputStream output() throws IOException;

    /** Sets the read timeout ({@link Duration#ZERO}: none); a read past it throws {@link java.net.SocketTimeoutException}. */
    void readTimeout(Duration timeout) throws IOException;

    /**
     * Bounds the bytes the operating system holds for sending (written and not yet acknowledged by the peer) to
     * about {@code bytes}; 0 leaves the system's own sizing. What is held there is written before anything written
     * later, a control frame included. Does nothing on an end without such a buffer.
     */
    default void sendBufferBytes(int bytes) throws IOException {
    }

    /** Sends an orderly end of stream (FIN) after what was written. */
    void shutdownOutput() throws IOException;

    /** Closes at once; a blocked read or write on this end fails. Idempotent, never throws. */
    void close();

    /** Closes with a reset (RST) instead of a FIN. */
    void abort();

    /** The peer's address, for logs. */
    String remote();

    /** The local port, for logs and {@code ss} output. */
    int localPort();

    /** The peer's IP address and port, or null for an end that has none (a simulated link). */
    default java.net.InetSocketAddress remoteSocketAddress() {
        return null;
    }

    /**
     * The certificate the peer showed in a TLS handshake that has completed, or null: plain TCP, or a peer that
     * showed none.
     */
    default java.security.cert.Certificate peerCertificate() {
        return null;
    }

    /** Wraps a connected TCP socket. */
    static Endpoint of(Socket socket) {
        return new SocketEndpoint(socket);
    }

    /** A TCP socket as an endpoint. */
    final class SocketEndpoint implements Endpoint {
        private final Socket socket;

        SocketEndpoint(Socket socket) {
            this.socket = socket;
        }

        /** The socket underneath, for a layer (TLS) that wraps it. */
        public Socket socket() {
            return socket;
        }

        @Override
        public InputStream input() throws IOException {
            return socket.getInputStream();
        }

        @Override
        public OutputStream output() throws IOException {
            return socket.getOutputStream();
        }

        @Override
        public void readTimeout(Duration timeout) throws IOException {
            socket.setSoTimeout(Sockets.timeoutMillis(timeout)); // Duration.ZERO: none
        }

        @Override
        public void sendBufferBytes(int bytes) throws IOException {
            if (bytes > 0) {
                socket.setSendBufferSize(bytes);
            }
        }

        @Override
        public void shutdownOutput() throws IOException {
            socket.shutdownOutput();
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing is best effort: the socket is unusable either way
            }
        }

        @Override
        public void abort() {
            try {
                socket.setSoLinger(true, 0);
            } catch (IOException ignored) {
                // already closed: nothing to reset
            }
            close();
        }

        @Override
        public String remote() {
            return String.valueOf(socket.getRemoteSocketAddress());
        }

        @Override
        public java.net.InetSocketAddress remoteSocketAddress() {
            return socket.getRemoteSocketAddress() instanceof java.net.InetSocketAddress a ? a : null;
        }

        @Override
        public int localPort() {
            return socket.getLocalPort();
        }
    }
}
