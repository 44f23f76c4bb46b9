package io.twinline.api;

import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.Objects;
import java.util.Optional;

/**
 * Decides who may open a session on a server ({@link ServerBuilder#authenticator}): it sees what the client
 * presented and either names a principal, which the session then carries ({@link Session#principal()}), or refuses.
 * A refused client is answered REJECTED {@code UNAUTHORIZED} with the refusal's message, and its connect fails
 * with {@link ConnectFailedException}; no session slot was taken.
 *
 * <p>Runs once per HELLO, on that connection's handshake thread, before the session exists; a re-attach is not
 * authenticated again, since it must show the session's token (and, with mutual TLS, the same client certificate).
 * It should answer quickly: the client waits for it. An exception other than {@link Refused} refuses too, and is
 * logged as a bug of the authenticator.
 */
@FunctionalInterface
public interface Authenticator {

    /**
     * Names the principal a client opens its session as, or refuses it.
     *
     * @param attempt what the client presented
     * @return the principal's name, not blank
     * @throws Refused to refuse the client; the message is sent to it
     */
    String authenticate(Attempt attempt) throws Refused;

    /**
     * What a client presented with its HELLO.
     *
     * @param address where the connection came from (for a connection that has no IP address, an unresolved one)
     * @param certificate the client's certificate, verified against the server's trust anchors (mutual TLS), if any
     * @param credential the bytes the client gave {@link ClientBuilder#credential} (empty: none); a copy
     */
    record Attempt(InetSocketAddress address, Optional<X509Certificate> certificate, byte[] credential) {
        /**
         * Copies the credential.
         *
         * @throws NullPointerException if any argument is null
         */
        public Attempt {
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(certificate, "certificate");
            credential = credential.clone();
        }

        /**
         * The credential.
         *
         * @return a copy of the credential's bytes
         */
        @Override
        public byte[] credential() {
            return credential.clone();
        }
    }

    /** Thrown by an authenticator that refuses a client; the message says why, to the client and the log. */
    final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        /**
         * A refusal.
         *
         * @param reason why, in a few words (sent to the client)
         */
        public Refused(String reason) {
            super(reason);
        }
    }
}
