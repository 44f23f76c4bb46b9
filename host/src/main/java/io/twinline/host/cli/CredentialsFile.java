package io.twinline.host.cli;

import io.twinline.api.Authenticator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line's credentials: a server's {@code --credentials} file of lines {@code NAME SECRET} (blank lines and
 * lines starting with {@code #} ignored), each a principal and the secret its clients present; and a client's
 * {@code --credential-file}, whose contents are its secret.
 */
final class CredentialsFile {
    private CredentialsFile() {
    }

    /** One principal and its secret. */
    private record Entry(String name, byte[] secret) {
    }

    /**
     * An authenticator that names the principal whose secret a client presents, comparing every secret in
     * constant time, and refuses any other.
     *
     * @throws UsageException if the file cannot be read, holds a malformed line, or no entry at all
     */
    static Authenticator read(Path file) throws UsageException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UsageException("cannot read --credentials " + file + ": " + e.getMessage());
        }
        List<Entry> entries = new ArrayList<>();
        int number = 0;
        for (String line : lines) {
            number++;
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            String[] parts = trimmed.split("\\s+");
            if (parts.length != 2) {
                throw new UsageException("--credentials " + file + " line " + number + ": expected 'NAME SECRET'");
            }
            entries.add(new Entry(parts[0], parts[1].getBytes(StandardCharsets.UTF_8)));
        }
        if (entries.isEmpty()) {
            throw new UsageException("--credentials " + file + " names no one");
        }
        return attempt -> {
            byte[] presented = attempt.credential();
            String found = null;
            for (Entry e : entries) {
                if (MessageDigest.isEqual(e.secret(), presented) && found == null) {
                    found = e.name(); // every entry is compared, found or not
                }
            }
            if (found == null) {
                throw new Authenticator.Refused(presented.length == 0 ? "no credential" : "unknown credential");
            }
            return found;
        };
    }

    /**
     * A client's secret: the file's bytes without a final line break.
     *
     * @throws UsageException if the file cannot be read, is empty, or is longer than a HELLO may carry
     */
    static byte[] secret(Path file) throws UsageException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UsageException("cannot read --credential-file " + file + ": " + e.getMessage());
        }
        String secret = text.endsWith("\r\n") ? text.substring(0, text.length() - 2)
                : text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
        byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
        if (bytes.length == 0 || bytes.length > 2048) {
            throw new UsageException("--credential-file " + file + " must hold 1 to 2048 bytes: " + bytes.length);
        }
        return bytes;
    }
}
