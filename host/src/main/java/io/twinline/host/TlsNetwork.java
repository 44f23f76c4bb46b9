package io.twinline.host;

import io.twinline.api.Tls;
import io.twinline.transport.Endpoint;
import io.twinline.transport.ReadAheadSocket;
import io.twinline.transport.Sockets;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.cert.Certificate;
import java.time.Duration;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * TCP with TLS 1.3 on every connection, layered on the sockets of {@link Network#TCP}. One {@link SSLContext} per
 * runtime, so a client's re-attach resumes the TLS session of an earlier connection to the same server. A client
 * completes the TLS handshake inside {@link #dial}, within the dial's timeout, checking that the server's
 * certificate names the host it dialled; a server's handshake runs on the connection's own thread at its first
 * read, under the handshake deadline of every new connection (PROTOCOL §4.6).
 */
final class TlsNetwork implements Network {
    private final SSLContext context;
    private final SSLSocketFactory factory;
    private final boolean server;
    private final boolean requireClientCertificates;
    private final String serverName;

    private TlsNetwork(Tls tls, boolean server) {
        this.context = tls.sslContext();
        this.factory = context.getSocketFactory();
        this.server = server;
        this.requireClientCertificates = tls.requiresClientCertificates();
        this.serverName = tls.expectedServerName();
    }

    /** A server's network: accepts TLS connections with {@code tls}'s keys. */
    static TlsNetwork server(Tls tls) {
        return new TlsNetwork(tls, true);
    }

    /** A client's network: dials TLS connections and checks the server's certificate. */
    static TlsNetwork client(Tls tls) {
        return new TlsNetwork(tls, false);
    }

    @Override
    public Endpoint dial(InetSocketAddress address, Duration timeout) throws IOException {
        if (server) {
            throw new IllegalStateException("a server's TLS network does not dial");
        }
        long start = System.nanoTime();
        Socket raw = Sockets.connect(address, timeout, new ReadAheadSocket());
        String name = serverName != null ? serverName : address.getHostString();
        try {
            SSLSocket tls = (SSLSocket) factory.createSocket(raw, name, address.getPort(), true);
            SSLParameters params = tls.getSSLParameters();
            params.setProtocols(new String[] {"TLSv1.3"});
            params.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name `name`
            if (isHostName(name)) {
                params.setServerNames(java.util.List.of(new SNIHostName(name)));
            }
            tls.setSSLParameters(params);
            tls.setUseClientMode(true);
            long left = timeout.toNanos() - (System.nanoTime() - start);
            tls.setSoTimeout(Sockets.timeoutMillis(Duration.ofNanos(Math.max(1, left))));
            try {
                tls.startHandshake();
            } catch (SSLException e) {
                throw new SSLException("TLS handshake failed: " + e.getMessage()
                        + " (does the server run TLS, with a certificate for " + name + " that this client trusts?)",
                        e);
            }
            tls.setSoTimeout(0);
            return new TlsEndpoint(tls, raw);
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    @Override
    public Listener listen(InetSocketAddress address) throws IOException {
        if (!server) {
            throw new IllegalStateException("a client's TLS network does not listen");
        }
        Listener tcp = Network.listening(Sockets.listenReadAhead(address, BACKLOG));
        return new Listener() {
            @Override
            public Endpoint accept() throws IOException {
                Endpoint accepted = tcp.accept();
                Socket raw = ((Endpoint.SocketEndpoint) accepted).socket();
                try {
                    SSLSocket tls = (SSLSocket) factory.createSocket(raw, null, true);
                    tls.setUseClientMode(false);
                    SSLParameters params = tls.getSSLParameters();
                    params.setProtocols(new String[] {"TLSv1.3"});
                    params.setNeedClientAuth(requireClientCertificates);
                    tls.setSSLParameters(params);
                    return new TlsEndpoint(tls, raw); // the handshake runs at the first read, on its own thread
                } catch (IOException | RuntimeException e) {
                    accepted.close();
                    throw e;
                }
            }

            @Override
            public InetSocketAddress address() {
                return tcp.address();
            }

            @Override
            public void close() {
                tcp.close();
            }
        };
    }

    private static boolean isHostName(String name) {
        return !name.isEmpty() && name.indexOf(':') < 0 && !Character.isDigit(name.charAt(name.length() - 1));
    }

    /** How long a close waits for TLS's close_notify to be written before it closes the TCP socket underneath. */
    static final long CLOSE_NOTIFY_MILLIS = 200;

    /** A TLS socket as an endpoint; a reset goes to the TCP socket underneath, with no TLS close alert. */
    static final class TlsEndpoint extends ForwardingEndpoint {
        private final SSLSocket tls;
        /** The TCP socket underneath, closed and reset as a plain one is. */
        private final Endpoint tcp;

        TlsEndpoint(SSLSocket tls, Socket raw) {
            super(Endpoint.of(tls));
            this.tls = tls;
            this.tcp = Endpoint.of(raw);
        }

        /**
         * Sends TLS's close_notify and closes, but waits for the first at most {@link #CLOSE_NOTIFY_MILLIS}: the JDK
         * writes it under the lock a writer blocked on a full send buffer holds (a peer that stopped reading), and
         * closing the TCP socket underneath is what frees that writer.
         */
        @Override
        public void close() {
            Thread notify = Thread.ofVirtual().name("tls-close").start(() -> {
                try {
                    tls.close();
                } catch (IOException ignored) {
                    // the TCP socket is closed below either way
                }
            });
            try {
                notify.join(java.time.Duration.ofMillis(CLOSE_NOTIFY_MILLIS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            tcp.close();
        }

        @Override
        public void abort() {
            tcp.abort();
        }

        @Override
        public Certificate peerCertificate() {
            try {
                Certificate[] chain = tls.getSession().getPeerCertificates();
                return chain.length == 0 ? null : chain[0];
            } catch (SSLPeerUnverifiedException e) {
                return null;
            }
        }
    }
}
