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
        InetSocketAddress target = address.isUnresolved()
                ? new InetSocketAddress(address.getHostString(), address.getPort())
                : address;
        if (target.isUnresolved()) {
            throw new java.net.UnknownHostException(address.getHostString());
        }
        Socket socket = new Socket();
        try {
            configure(socket);
            socket.connect(target, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            return socket;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** Applies twinline's options to an accepted or new socket. */
    public static void configure(Socket socket) throws IOException {
        socket.setTcpNoDelay(true);
        socket.setKeepAlive(true);
    }

    /** Binds a listening socket. */
    public static ServerSocket listen(InetSocketAddress address, int backlog) throws IOException {
        ServerSocket server = new ServerSocket();
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
