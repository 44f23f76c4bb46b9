package io.twinline.host.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP relay on loopback between a client and a server, standing in for the network: {@link #cut} breaks every
 * connection through it, and while it {@linkplain #refuse refuses} it closes each new connection at once, so that to
 * the client the server is gone. Runs on virtual threads of its own.
 */
final class Relay implements AutoCloseable {
    private final ServerSocket listener;
    private final InetSocketAddress target;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile boolean refusing;

    Relay(InetSocketAddress target) throws IOException {
        this.target = target;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("relay/accept").start(this::acceptLoop);
    }

    int port() {
        return listener.getLocalPort();
    }

    void refuse(boolean on) {
        refusing = on;
    }

    /** Closes every connection through the relay. */
    void cut() {
        for (Socket s : open) {
            close(s);
        }
    }

    @Override
    public void close() {
        close(listener);
        cut();
    }

    private void acceptLoop() {
        while (true) {
            Socket in;
            try {
                in = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            if (refusing) {
                close(in);
                continue;
            }
            try {
                Socket out = new Socket(target.getAddress(), target.getPort());
                open.add(in);
                open.add(out);
                pipe(in, out);
                pipe(out, in);
                if (refusing) { // refuse() and cut() came while this one was being connected
                    close(in);
                }
            } catch (IOException e) {
                close(in);
            }
        }
    }

    private void pipe(Socket from, Socket to) {
        Thread.ofVirtual().name("relay/pipe").start(() -> {
            try {
                from.getInputStream().transferTo(to.getOutputStream());
            } catch (IOException e) {
                // one side is gone: close both
            } finally {
                close(from);
                close(to);
            }
        });
    }

    private void close(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing what is already broken
        }
        if (c instanceof Socket s) {
            open.remove(s);
        }
    }
}
