package io.twinline.transport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;

/** Opens sockets with twinline's options: no Nagle delay (frames are coalesced by the writer), keep-alive. */
public final class Sockets {
    private Sockets() {
    }

    /**
     * Connects to {@code address}, resolving it now if it is unresolved.
     *
     * @throws IOException if the connection cannot be made within {@code timeout}
     */
    public static Socket connect(InetSocketAddress address, Duration timeout) throws IOException {
        return connect(address, timeout, new Socket());
    }

    /**
     * Connects {@code socket}, unconnected, to {@code address}, as {@link #connect(InetSocketAddress, Duration)}
     * does; closes it if it cannot.
     *
     * @throws IOException if the connection cannot be made within {@code timeout}
     */
    public static Socket connect(InetSocketAddress address, Duration timeout, Socket socket) throws IOException {
        InetSocketAddress target = address.isUnresolved()
                ? new InetSocketAddress(address.getHostString(), address.getPort())
                : address;
        try {
            if (target.isUnresolved()) {
                throw new java.net.UnknownHostException(address.getHostString());
            }
            configure(socket);
            socket.connect(target, timeoutMillis(timeout));
            return socket;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /**
     * A timeout in whole milliseconds for the socket API, in which 0 means no timeout at all: zero stays 0 (none),
     * and a positive timeout under a millisecond (the last moments of a deadline) becomes 1, not 0.
     *
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    public static int timeoutMillis(Duration timeout) {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative: " + timeout);
        }
        if (timeout.isZero()) {
            return 0;
        }
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
    }

    /** Applies twinline's options to an accepted or new socket. */
    public static void configure(Socket socket) throws IOException {
        socket.setTcpNoDelay(true);
        socket.setKeepAlive(true);
    }

    /** Binds a listening socket. */
    public static ServerSocket listen(InetSocketAddress address, int backlog) throws IOException {
        return bind(new ServerSocket(), address, backlog);
    }

    /** Binds a listening socket whose accepted sockets are {@link ReadAheadSocket}s, for TLS to be layered on. */
    public static ServerSocket listenReadAhead(InetSocketAddress address, int backlog) throws IOException {
        ServerSocket server = new ServerSocket() {
            @Override
            public Socket accept() throws IOException {
                Socket socket = new ReadAheadSocket();
                implAccept(socket);
                return socket;
            }
        };
        return bind(server, address, backlog);
    }

    private static ServerSocket bind(ServerSocket server, InetSocketAddress address, int backlog) throws IOException {
        try {
            server.setReuseAddress(true);
            server.bind(address, backlog);
            return server;
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
    }
}
