package io.twinline.host;

import io.twinline.api.Tls;
import io.twinline.transport.Endpoint;
import io.twinline.transport.Sockets;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketException;
import java.net.UnknownHostException;
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

    /**
     * This network with TLS 1.3 on every connection, for a server or a client.
     *
     * @throws UnsupportedOperationException if this network has no TCP sockets to run TLS over (the simulation's)
     */
    default Network withTls(Tls tls, boolean server) {
        throw new UnsupportedOperationException("TLS runs over TCP only, not over " + getClass().getSimpleName());
    }

    /** A listening endpoint. */
    interface Listener extends AutoCloseable {
        /** Waits for the next connection; throws once closed. */
        Endpoint accept() throws IOException;

        InetSocketAddress address();

        @Override
        void close();
    }

    /** {@code host:port}, {@code [v6addr]:port} for an IPv6 address, without {@link InetSocketAddress}'s slash. */
    static String hostPort(InetSocketAddress address) {
        String host = address.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    /**
     * Why dialling or listening failed, in words for a one-line message: {@code unknown host nosuchhost.invalid},
     * {@code address already in use}, {@code connection refused}. The JDK's socket errors are the operating
     * system's sentences, capitalised; they read here as the second half of "cannot listen on ADDR: ...".
     */
    static String inWords(IOException e) {
        String message = e.getMessage();
        if (e instanceof UnknownHostException) {
            return "unknown host " + message;
        }
        if (message == null || message.isBlank()) {
            return e.getClass().getSimpleName();
        }
        if (e instanceof SocketException && message.length() > 1 && Character.isUpperCase(message.charAt(0))
                && Character.isLowerCase(message.charAt(1))) {
            return Character.toLowerCase(message.charAt(0)) + message.substring(1);
        }
        return message;
    }

    /** Real TCP with twinline's socket options. */
    Network TCP = new Network() {
        @Override
        public Network withTls(Tls tls, boolean server) {
            return server ? TlsNetwork.server(tls) : TlsNetwork.client(tls);
        }

        @Override
        public Endpoint dial(InetSocketAddress address, Duration timeout) throws IOException {
            return Endpoint.of(Sockets.connect(address, timeout));
        }

        @Override
        public Listener listen(InetSocketAddress address) throws IOException {
            return listening(Sockets.listen(address, BACKLOG));
        }
    };

    /** A burst of reconnecting clients is not refused while the accept loop catches up. */
    int BACKLOG = 1024;

    /** A listener over a bound server socket, whose accepted sockets get twinline's options. */
    static Listener listening(ServerSocket server) {
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
}
