package io.twinline.transport;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;

/** An end for tests of a {@link Connection} alone: reads nothing, writes nowhere, and does nothing else. */
class StubEndpoint implements Endpoint {

    @Override
    public InputStream input() {
        return new ByteArrayInputStream(new byte[0]);
    }

    @Override
    public OutputStream output() {
        return OutputStream.nullOutputStream();
    }

    @Override
    public void readTimeout(Duration timeout) {
    }

    @Override
    public void shutdownOutput() {
    }

    @Override
    public void close() {
    }

    @Override
    public void abort() {
    }

    @Override
    public String remote() {
        return "test";
    }

    @Override
    public int localPort() {
        return 0;
    }
}
