package io.twinline.host;

import io.twinline.transport.Endpoint;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;

/**
 * An {@link Endpoint} that passes every call to another: the base of the endpoints a {@link Network} decorator
 * hands out ({@link FaultyNetwork}), which override only what they change.
 */
class ForwardingEndpoint implements Endpoint {
    /** The endpoint underneath. */
    protected final Endpoint inner;

    ForwardingEndpoint(Endpoint inner) {
        this.inner = inner;
    }

    /** An input stream read in chunks only: a single byte is read as a chunk of one. */
    abstract static class ChunkInput extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public abstract int read(byte[] b, int off, int len) throws IOException;
    }

    @Override
    public InputStream input() throws IOException {
        return inner.input();
    }

    @Override
    public OutputStream output() throws IOException {
        return inner.output();
    }

    @Override
    public void readTimeout(Duration timeout) throws IOException {
        inner.readTimeout(timeout);
    }

    @Override
    public void sendBufferBytes(int bytes) throws IOException {
        inner.sendBufferBytes(bytes);
    }

    @Override
    public void shutdownOutput() throws IOException {
        inner.shutdownOutput();
    }

    @Override
    public void close() {
        inner.close();
    }

    @Override
    public void abort() {
        inner.abort();
    }

    @Override
    public String remote() {
        return inner.remote();
    }

    @Override
    public int localPort() {
        return inner.localPort();
    }

    @Override
    public java.net.InetSocketAddress remoteSocketAddress() {
        return inner.remoteSocketAddress();
    }

    @Override
    public java.security.cert.Certificate peerCertificate() {
        return inner.peerCertificate();
    }
}
