package io.twinline.host.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A certificate authority made for one run (the demo's {@code --tls}, and the tests): an EC key and a CA
 * certificate, and host certificates it signs, each in a PKCS#12 store with its chain. Made with the runtime's own
 * {@code keytool} (in every JDK and in the twinline image), so no library is needed. Nothing here is fit for
 * production keys: the password is fixed and the files sit in a temporary directory.
 */
public final class ThrowawayCa {
    /** The password of every store made here. */
    public static final String PASSWORD = "twinline-throwaway";

    private final Path dir;
    private final Path caStore;
    private final Path caPem;

    private ThrowawayCa(Path dir) {
        this.dir = dir;
        this.caStore = dir.resolve("ca.p12");
        this.caPem = dir.resolve("ca.pem");
    }

    /**
     * Makes a CA named {@code name} in {@code dir}.
     *
     * @throws IOException if keytool cannot be run or fails
     */
    public static ThrowawayCa create(Path dir, String name) throws IOException {
        Files.createDirectories(dir);
        ThrowawayCa ca = new ThrowawayCa(dir);
        ca.keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + name,
                "-ext", "bc:c", "-validity", "2", "-keystore", ca.caStore.toString());
        ca.keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", ca.caStore.toString(), "-file",
                ca.caPem.toString());
        return ca;
    }

    /** The CA's certificate, PEM: the anchor to trust. */
    public Path certificate() {
        return caPem;
    }

    /**
     * Issues a certificate for {@code cn} with the subject alternative names {@code san} (keytool's syntax, for
     * example {@code dns:localhost,ip:127.0.0.1}, or null for none), valid from {@code startDate} (keytool's
     * syntax, for example {@code -3d}, or null for now) for {@code days} days.
     *
     * @return a PKCS#12 store with the key and its chain (the certificate, then the CA's), password {@link #PASSWORD}
     * @throws IOException if keytool fails
     */
    public Path issue(String file, String cn, String san, String startDate, int days) throws IOException {
        Path store = dir.resolve(file + ".p12");
        Path request = dir.resolve(file + ".csr");
        Path cert = dir.resolve(file + ".pem");
        keytool("-genkeypair", "-alias", "host", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + cn,
                "-validity", "2", "-keystore", store.toString());
        keytool("-certreq", "-alias", "host", "-keystore", store.toString(), "-file", request.toString());
        List<String> sign = new ArrayList<>(List.of("-gencert", "-rfc", "-alias", "ca", "-keystore",
                caStore.toString(), "-infile", request.toString(), "-outfile", cert.toString(), "-validity",
                Integer.toString(days)));
        if (san != null) {
            sign.addAll(List.of("-ext", "san=" + san));
        }
        if (startDate != null) {
            sign.addAll(List.of("-startdate", startDate));
        }
        keytool(sign.toArray(new String[0]));
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", caPem.toString(), "-keystore",
                store.toString());
        keytool("-importcert", "-alias", "host", "-file", cert.toString(), "-keystore", store.toString());
        return store;
    }

    /**
     * Makes a self-signed certificate for {@code cn} that no CA here vouches for.
     *
     * @return a PKCS#12 store with the key and certificate, password {@link #PASSWORD}
     * @throws IOException if keytool fails
     */
    public Path selfSigned(String file, String cn, String san) throws IOException {
        Path store = dir.resolve(file + ".p12");
        keytool("-genkeypair", "-alias", "host", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + cn,
                "-ext", "san=" + san, "-validity", "2", "-keystore", store.toString());
        return store;
    }

    private void keytool(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        command.addAll(List.of("-storetype", "PKCS12", "-storepass", PASSWORD));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("keytool " + args[0] + " did not finish");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while keytool ran", e);
        }
        if (p.exitValue() != 0) {
            throw new IOException("keytool " + String.join(" ", args) + " failed: " + output.strip());
        }
    }
}
