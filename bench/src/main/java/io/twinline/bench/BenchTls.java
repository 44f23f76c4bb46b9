package io.twinline.bench;

import io.twinline.api.Tls;
import io.twinline.host.cli.ThrowawayCa;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS material for the benchmark peers that run TLS: a throwaway CA and a server certificate for 127.0.0.1, made once
 * per JVM, with the JDK's own TLS at both ends of twinline and of gRPC (Netty's {@code SslProvider.JDK}), so that
 * both pay the same provider's costs. The server authenticates itself; clients show no certificate.
 */
final class BenchTls {
    private static Path dir;
    private static Path serverStore;
    private static Path anchor;

    private BenchTls() {
    }

    private static synchronized void make() {
        if (dir != null) {
            return;
        }
        try {
            dir = Files.createTempDirectory("twinline-bench-tls");
            ThrowawayCa ca = ThrowawayCa.create(dir, "bench CA");
            serverStore = ca.issue("server", "localhost", "dns:localhost,ip:127.0.0.1", null, 2);
            anchor = ca.certificate();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Tls twinlineServer() {
        make();
        return Tls.keyStore(serverStore, ThrowawayCa.PASSWORD.toCharArray());
    }

    static Tls twinlineClient() {
        make();
        return Tls.trustingOnly(anchor);
    }

    static KeyManagerFactory serverKeys() {
        make();
        try (InputStream in = Files.newInputStream(serverStore)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, ThrowawayCa.PASSWORD.toCharArray());
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, ThrowawayCa.PASSWORD.toCharArray());
            return kmf;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static TrustManagerFactory clientTrust() {
        make();
        try (InputStream in = Files.newInputStream(anchor)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            return tmf;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
