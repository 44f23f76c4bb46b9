package io.twinline.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.twinline.api.Twinline;
import io.twinline.api.TwinlineClient;
import io.twinline.api.TwinlineServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Preload}: once a server has started, a first session's handshake and calls in both directions load no
 * class that the preload promises, so no virtual thread of theirs loads one. Seen in a JVM of its own, which logs
 * every class it loads ({@code -Xlog:class+load}).
 */
class PreloadTest {
    /** Loaded by the child between the server's start and the first session, to mark that moment in the log. */
    static final class AfterServerStart {
    }

    /** The child JVM: a server starts (and preloads), then a client connects and calls, and is called back. */
    static final class FirstSession {
        public static void main(String[] args) throws Exception {
            TwinlineServer server = Twinline.server().bind("127.0.0.1", 0).handle("echo", (s, body) -> body).start();
            Class.forName(AfterServerStart.class.getName());
            TwinlineClient client = Twinline.client().server("127.0.0.1", server.address().getPort())
                    .handle("echo", (s, body) -> body).connect();
            client.session().call("echo", new byte[64], Duration.ofSeconds(30));
            server.session(client.session().id()).orElseThrow().call("echo", new byte[64], Duration.ofSeconds(30));
            client.close();
            server.close();
            System.out.println("first session done");
        }
    }

    private static final Pattern LOADED = Pattern.compile("\\[class,load\\] (\\S+) source:");

    @Test
    void aFirstSessionLoadsNoClassOfThePreloadedNestsOrOfTheTransport(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("class-load.log");
        String out = ChildJvm.run(FirstSession.class, dir,
                List.of("-Xlog:class+load=info:file=" + log, "-Dtinylog.level=off"));
        assertTrue(out.contains("first session done"), "the child ran its session: " + out);

        List<String> afterStart = new ArrayList<>();
        boolean started = false;
        for (String line : Files.readAllLines(log)) {
            Matcher m = LOADED.matcher(line);
            if (!m.find()) {
                continue;
            }
            String name = m.group(1);
            if (name.equals(AfterServerStart.class.getName())) {
                started = true;
            } else if (started && name.startsWith("io.twinline.") && !name.contains("/")) {
                afterStart.add(name); // a hidden class (a lambda's, "Name/0x..."): spun at first use, not loaded
            }
        }
        assertTrue(started, "the log marks the server's start");

        Set<Class<?>> preloadedNests = Set.copyOf(Preload.SESSION_CLASSES);
        List<String> lazy = new ArrayList<>();
        for (String name : afterStart) {
            Class<?> c = Class.forName(name, false, PreloadTest.class.getClassLoader());
            if (preloadedNests.contains(c.getNestHost()) || c.getPackageName().equals("io.twinline.transport")) {
                lazy.add(name);
            }
        }
        assertEquals(List.of(), lazy, "loaded by the first session although preloaded; all loaded then: " + afterStart);
    }
}
