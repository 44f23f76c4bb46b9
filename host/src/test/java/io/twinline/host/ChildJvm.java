package io.twinline.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A JVM of its own for a test that needs one fresh (nothing loaded, no poller started), and the JDK's tools to
 * read what it recorded.
 */
final class ChildJvm {
    private ChildJvm() {
    }

    /**
     * Runs {@code main} with this JVM's java, {@code jvmOptions} and every class this test JVM sees on the class
     * path; returns what it printed, once it exited 0.
     */
    static String run(Class<?> main, Path dir, List<String> jvmOptions) throws Exception {
        List<String> path = new ArrayList<>();
        path.add(Path.of(main.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        for (String property : List.of("jdk.module.path", "java.class.path")) {
            String value = System.getProperty(property);
            if (value != null && !value.isEmpty()) {
                path.add(value);
            }
        }
        List<String> command = new ArrayList<>(List.of("--enable-preview"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", String.join(File.pathSeparator, path), main.getName()));
        return jdkTool("java", dir, command.toArray(String[]::new));
    }

    /** Runs a tool of this JVM's JDK ({@code java}, {@code jfr}); returns what it printed, once it exited 0. */
    static String jdkTool(String tool, Path dir, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", tool).toString());
        command.addAll(List.of(args));
        Path out = Files.createTempFile(dir, tool, ".out");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        boolean ended = p.waitFor(2, TimeUnit.MINUTES);
        if (!ended) {
            p.destroyForcibly();
        }
        String printed = Files.readString(out);
        assertTrue(ended, tool + " ended: " + printed);
        assertEquals(0, p.exitValue(), tool + "'s exit code: " + printed);
        return printed;
    }
}
