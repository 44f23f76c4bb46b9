package io.twinline.transport;

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
}
