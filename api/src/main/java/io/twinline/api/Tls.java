package io.twinline.api;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS 1.3 for both channels of a session, with the JDK's own TLS. Immutable; each {@code with…} method returns a
 * copy. Key material and trust anchors are read when the method is called, so a missing file or a wrong password is
 * an error at configuration time, not at the first connection.
 *
 * <p>A server needs its own key and certificate chain ({@link #keys(Path, Path)} from PEM files, or
 * {@link #keyStore(Path, char[])} from a PKCS#12 store); it may ask every client for a certificate signed by the
 * anchors it trusts ({@link #requireClientCertificates()}). A client needs the anchors that signed the server's
 * certificate ({@link #trusting(Path)}; without them, the JDK's default anchors), checks that the certificate names
 * the host it dials (or {@link #serverName(String)}), and shows its own certificate when it has keys.
 *
 * <pre>{@code
 * Tls server = Tls.keys(Path.of("server.pem"), Path.of("server.key"))
 *         .trusting(Path.of("ca.pem")).requireClientCertificates();
 * Tls client = Tls.trustingOnly(Path.of("ca.pem")).withKeys(Path.of("client.pem"), Path.of("client.key"));
 * }</pre>
 *
 * <p>With mutual TLS, a session is bound to the client certificate it was opened with: a re-attach over a connection
 * with another certificate is refused, even with the right token.
 */
public final class Tls {
    private final KeyManager[] keys;
    private final TrustManager[] trust;
    private final boolean requireClientCertificates;
    private final String serverName;
    private final SSLContext context;

    private Tls(KeyManager[] keys, TrustManager[] trust, boolean requireClientCertificates, String serverName,
                SSLContext context) {
        this.keys = keys;
        this.trust = trust;
        this.requireClientCertificates = requireClientCertificates;
        this.serverName = serverName;
        this.context = context;
    }

    /**
     * TLS with this host's key and certificate chain from PEM files.
     *
     * @param certificateChain PEM file with the host's certificate first, then any intermediates
     * @param privateKey PEM file with the matching unencrypted PKCS#8 key ({@code BEGIN PRIVATE KEY})
     * @return the settings, trusting the JDK's default anchors
     * @throws IllegalArgumentException if a file cannot be read or holds no valid certificate or key
     */
    public static Tls keys(Path certificateChain, Path privateKey) {
        return new Tls(keyManagers(certificateChain, privateKey), null, false, null, null);
    }

    /**
     * TLS with this host's key and certificate chain from a PKCS#12 key store.
     *
     * @param store the PKCS#12 file, holding one private key entry
     * @param password the store's password, also the key's
     * @return the settings, trusting the JDK's default anchors
     * @throws IllegalArgumentException if the store cannot be read or opened with {@code password}
     */
    public static Tls keyStore(Path store, char[] password) {
        try {
            KeyStore ks = loadPkcs12(store, password);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, password);
            return new Tls(kmf.getKeyManagers(), null, false, null, null);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot use key store " + store + ": " + e.getMessage(), e);
        }
    }

    /**
     * TLS for a client without a certificate of its own, trusting the anchors in a PEM file.
     *
     * @param anchors PEM file with one or more CA certificates
     * @return the settings
     * @throws IllegalArgumentException if the file cannot be read or holds no certificate
     */
    public static Tls trustingOnly(Path anchors) {
        return new Tls(null, trustManagers(anchors), false, null, null);
    }

    /**
     * TLS on an {@link SSLContext} the embedder built (its key managers, trust managers and provider are used as
     * they are). Only TLS 1.3 is enabled on its sockets.
     *
     * @param context an initialised context
     * @return the settings
     * @throws NullPointerException if {@code context} is null
     */
    public static Tls context(SSLContext context) {
        return new Tls(null, null, false, null, Objects.requireNonNull(context, "context"));
    }

    /**
     * Adds this host's key and certificate from PEM files (for a client, the certificate it shows the server).
     *
     * @param certificateChain PEM file with the host's certificate first, then any intermediates
     * @param privateKey PEM file with the matching unencrypted PKCS#8 key
     * @return a copy with these keys
     * @throws IllegalArgumentException as {@link #keys(Path, Path)}
     * @throws IllegalStateException if these settings wrap an embedder's {@link SSLContext}
     */
    public Tls withKeys(Path certificateChain, Path privateKey) {
        checkOwnContext();
        return new Tls(keyManagers(certificateChain, privateKey), trust, requireClientCertificates, serverName, null);
    }

    /**
     * Adds this host's key and certificate chain from a PKCS#12 store (for a client, the certificate it shows the
     * server).
     *
     * @param store the PKCS#12 file, holding one private key entry
     * @param password the store's password, also the key's
     * @return a copy with these keys
     * @throws IllegalArgumentException as {@link #keyStore(Path, char[])}
     * @throws IllegalStateException if these settings wrap an embedder's {@link SSLContext}
     */
    public Tls withKeyStore(Path store, char[] password) {
        checkOwnContext();
        return new Tls(keyStore(store, password).keys, trust, requireClientCertificates, serverName, null);
    }

    /**
     * Trusts the anchors in a PEM file instead of the JDK's default ones.
     *
     * @param anchors PEM file with one or more CA certificates
     * @return a copy with these anchors
     * @throws IllegalArgumentException if the file cannot be read or holds no certificate
     * @throws IllegalStateException if these settings wrap an embedder's {@link SSLContext}
     */
    public Tls trusting(Path anchors) {
        checkOwnContext();
        return new Tls(keys, trustManagers(anchors), requireClientCertificates, serverName, null);
    }

    /**
     * Trusts the certificates in a PKCS#12 store instead of the JDK's default anchors.
     *
     * @param store the PKCS#12 file with the anchors as certificate entries
     * @param password the store's password
     * @return a copy with these anchors
     * @throws IllegalArgumentException if the store cannot be read or opened with {@code password}
     * @throws IllegalStateException if these settings wrap an embedder's {@link SSLContext}
     */
    public Tls trustingStore(Path store, char[] password) {
        checkOwnContext();
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(loadPkcs12(store, password));
            return new Tls(keys, tmf.getTrustManagers(), requireClientCertificates, serverName, null);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot use trust store " + store + ": " + e.getMessage(), e);
        }
    }

    /**
     * On a server: every client must show a certificate signed by a trusted anchor (mutual TLS); a session is
     * then bound to that certificate.
     *
     * @return a copy that requires client certificates
     */
    public Tls requireClientCertificates() {
        return new Tls(keys, trust, true, serverName, context);
    }

    /**
     * On a client: the name the server's certificate must carry, instead of the host dialled (for a server reached
     * by an address its certificate does not name).
     *
     * @param name the DNS name or IP address the certificate must name
     * @return a copy with this name
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public Tls serverName(String name) {
        if (Objects.requireNonNull(name, "name").isBlank()) {
            throw new IllegalArgumentException("server name must not be blank");
        }
        return new Tls(keys, trust, requireClientCertificates, name, context);
    }

    /**
     * Whether a server asks every client for a trusted certificate.
     *
     * @return {@code true} after {@link #requireClientCertificates()}
     */
    public boolean requiresClientCertificates() {
        return requireClientCertificates;
    }

    /**
     * The name a client checks the server's certificate against.
     *
     * @return the name given to {@link #serverName}, or null for the host the client dials
     */
    public String expectedServerName() {
        return serverName;
    }

    /**
     * The context sockets are made from: the embedder's, or one made of these keys and anchors.
     *
     * @return an initialised TLS context
     * @throws IllegalStateException if the JDK offers no TLS 1.3 (it always does)
     */
    public SSLContext sslContext() {
        if (context != null) {
            return context;
        }
        try {
            SSLContext made = SSLContext.getInstance("TLSv1.3");
            made.init(keys, trust, null);
            return made;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("TLS 1.3 unavailable: " + e.getMessage(), e);
        }
    }

    /**
     * Whether this host has keys to show: a server must.
     *
     * @return {@code true} if keys were given, or an embedder's context (which is taken to hold them)
     */
    public boolean hasKeys() {
        return keys != null || context != null;
    }

    /** Whether anchors were given ({@link #trusting}, {@link #trustingStore}) or are the embedder's context's. */
    boolean hasOwnAnchors() {
        return trust != null || context != null;
    }

    private void checkOwnContext() {
        if (context != null) {
            throw new IllegalStateException("these settings wrap an SSLContext: configure keys and anchors there");
        }
    }

    private static KeyStore loadPkcs12(Path store, char[] password) {
        try (InputStream in = Files.newInputStream(store)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, password);
            return ks;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read PKCS#12 store " + store + ": " + e.getMessage(), e);
        }
    }

    private static List<X509Certificate> certificates(Path pem) {
        try (InputStream in = Files.newInputStream(pem)) {
            List<X509Certificate> certs = new ArrayList<>();
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                certs.add((X509Certificate) c);
            }
            if (certs.isEmpty()) {
                throw new IllegalArgumentException("no certificate in " + pem);
            }
            return certs;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read certificates from " + pem + ": " + e.getMessage(), e);
        }
    }

    private static TrustManager[] trustManagers(Path anchors) {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            int i = 0;
            for (X509Certificate c : certificates(anchors)) {
                ks.setCertificateEntry("anchor-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            return tmf.getTrustManagers();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot trust " + anchors + ": " + e.getMessage(), e);
        }
    }

    private static KeyManager[] keyManagers(Path certificateChain, Path privateKey) {
        List<X509Certificate> chain = certificates(certificateChain);
        PrivateKey key = privateKey(privateKey, chain.getFirst().getPublicKey().getAlgorithm());
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            char[] none = new char[0];
            ks.setKeyEntry("host", key, none, chain.toArray(new Certificate[0]));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, none);
            return kmf.getKeyManagers();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("key in " + privateKey + " does not fit the certificate in "
                    + certificateChain + ": " + e.getMessage(), e);
        }
    }

    private static PrivateKey privateKey(Path pem, String algorithm) {
        String text;
        try {
            text = Files.readString(pem, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read private key " + pem + ": " + e.getMessage(), e);
        }
        String begin = "-----BEGIN PRIVATE KEY-----";
        String end = "-----END PRIVATE KEY-----";
        int from = text.indexOf(begin);
        int to = text.indexOf(end);
        if (from < 0 || to < from) {
            throw new IllegalArgumentException(pem + " holds no unencrypted PKCS#8 key (" + begin + ")");
        }
        try {
            byte[] der = Base64.getMimeDecoder().decode(text.substring(from + begin.length(), to));
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read the " + algorithm + " key in " + pem + ": "
                    + e.getMessage(), e);
        }
    }
}
