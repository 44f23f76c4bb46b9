package io.twinline.host;

import io.twinline.transport.Endpoint;
import io.twinline.transport.Sockets;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;

/**
 * How runtimes open and accept connections: over TCP ({@link #TCP}), or over the simulated network of the tests,
 * so that the simulation runs the real session and recovery code.
 */
interface Network {

    /** Opens a connection to {@code address} within {@code timeout}. */
    Endpoint dial(InetSocketAddress address, Duration timeout) throws IOException;

    /** Starts listening on {@code address}. */
    Listener listen(InetSocketAddress address) throws IOException;

    /** A listening endpoint. */
    interface Listener extends AutoCloseable {
        /** Waits for the next connection; throws once closed. */
        Endpoint accept() throws IOException;

        InetSocketAddress address();

        @Override
        void close();
    }

    /** Real TCP with twinline's socket options. */
    Network TCP = new Network() {
        @Override
        public Endpoint dial(InetSocketAddress address, Duration timeout) throws IOException {
            return Endpoint.of(Sockets.connect(address, timeout));
        }

        @Override
        public Listener listen(InetSocketAddress address) throws IOException {
            // A backlog of 1024: a burst of reconnecting clients is not refused while the accept loop catches up.
            ServerSocket server = Sockets.listen(address, 1024);
            return new Listener() {
                @Override
                public Endpoint accept() throws IOException {
                    var socket = server.accept();
                    try {
                        Sockets.configure(socket);
                    } catch (IOException e) {
                        socket.close();
                        throw e;
                    }
                    return Endpoint.of(socket);
                }

                @Override
                public InetSocketAddress address() {
                    return (InetSocketAddress) server.getLocalSocketAddress();
                }

                @Override
                public void close() {
                    try {
                        server.close();
                    } catch (IOException ignored) {
                        // nothing more to do with a listener we are dropping
                    }
                }
            };
        }
    };
}
