package io.twinline.host;

import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.twinline.api.RecoveryPolicy;
import io.twinline.recovery.Backoff;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Race 6 of issue #14: reconnect jitter must spread a herd of clients cut off together. Each client process here
 * is a fresh JVM whose first session's recovery thread asks for its first pause; the two processes must not pick
 * the same one. (A {@code ThreadLocalRandom} captured on the session's thread and used on a recovery thread draws
 * from that thread's uninitialized seed, a function of the thread's id, which two fresh JVMs share.)
 */
class BackoffSpreadTest {

    @Test
    void twoProcessesCutOffTogetherPickDifferentPauses(@TempDir Path dir) throws Exception {
        String first = lastLine(ChildJvm.run(FirstPause.class, dir, List.of()));
        String second = lastLine(ChildJvm.run(FirstPause.class, dir, List.of()));
        assertNotEquals(first, second, "the first reconnect pause of two fresh client processes");
    }

    private static String lastLine(String printed) {
        String[] lines = printed.strip().split("\n");
        return lines[lines.length - 1].strip();
    }

    /** Prints the first reconnect pause a fresh session's recovery thread takes, in nanoseconds. */
    public static final class FirstPause {
        public static void main(String[] args) throws Exception {
            RecoveryPolicy policy = RecoveryPolicy.defaults()
                    .withBackoff(Duration.ofMillis(100), Duration.ofSeconds(10), 1.0);
            Backoff backoff = TwinSession.newBackoff(policy);
            long[] pause = new long[1];
            Thread recovery = Thread.ofVirtual().start(() -> pause[0] = backoff.pauseNanos(5));
            recovery.join();
            System.out.println(pause[0]);
        }
    }
}
