package io.twinline.host.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.Authenticator;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server's {@code --credentials} file and the client's {@code --credential-file}. */
class CredentialsFileTest {
    @TempDir
    Path dir;

    private static Authenticator.Attempt presenting(String secret) {
        return new Authenticator.Attempt(new InetSocketAddress("127.0.0.1", 1), Optional.empty(),
                secret.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aSecretNamesItsPrincipalAndAnyOtherIsRefused() throws Exception {
        Path file = Files.writeString(dir.resolve("creds"), "# comment\n\nalice  s3cret-a\nbob\ts3cret-b\n");
        Authenticator auth = CredentialsFile.read(file);
        assertEquals("alice", auth.authenticate(presenting("s3cret-a")));
        assertEquals("bob", auth.authenticate(presenting("s3cret-b")));
        assertEquals("unknown credential",
                assertThrows(Authenticator.Refused.class, () -> auth.authenticate(presenting("s3cret"))).getMessage());
        assertEquals("no credential",
                assertThrows(Authenticator.Refused.class, () -> auth.authenticate(presenting(""))).getMessage());
    }

    @Test
    void aFileThatDoesNotFitIsAUsageErrorNamingTheLine() throws Exception {
        Path bad = Files.writeString(dir.resolve("bad"), "alice s3cret\nbob\n");
        UsageException e = assertThrows(UsageException.class, () -> CredentialsFile.read(bad));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
        Path empty = Files.writeString(dir.resolve("empty"), "# nobody\n");
        assertThrows(UsageException.class, () -> CredentialsFile.read(empty));
        assertThrows(UsageException.class, () -> CredentialsFile.read(dir.resolve("missing")));
    }

    @Test
    void aClientsSecretIsTheFileWithoutItsFinalLineBreak() throws Exception {
        assertArrayEquals("s3cret".getBytes(StandardCharsets.UTF_8),
                CredentialsFile.secret(Files.writeString(dir.resolve("a"), "s3cret\n")));
        assertArrayEquals("s3cret".getBytes(StandardCharsets.UTF_8),
                CredentialsFile.secret(Files.writeString(dir.resolve("b"), "s3cret\r\n")));
        assertThrows(UsageException.class, () -> CredentialsFile.secret(Files.writeString(dir.resolve("c"), "\n")));
        assertThrows(UsageException.class,
                () -> CredentialsFile.secret(Files.writeString(dir.resolve("d"), "x".repeat(2049))));
    }
}
