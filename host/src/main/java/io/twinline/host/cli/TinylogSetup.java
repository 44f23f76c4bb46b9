package io.twinline.host.cli;

import org.tinylog.configuration.Configuration;

/**
 * Configures tinylog for the {@code twinline} command: one line per event on standard error, session id and channel
 * first (they lead every message), at the level of {@code --log-level}. Runs on the command's main thread before a
 * server or client starts.
 *
 * <p>The library's lines reach tinylog because the image also holds tinylog's {@link System.LoggerFinder} (module
 * {@code org.tinylog.api.jsl}); this class only configures the writer. {@code io.twinline.host} requires tinylog
 * statically, so where the command runs without it (a bare module path) there is nothing to configure, and its
 * lines go to the JDK's default.
 */
final class TinylogSetup {
    private TinylogSetup() {
    }

    /** Configures tinylog's writer when tinylog is there and has not logged yet (its configuration then freezes). */
    static void configure(String level) {
        if (!present() || Configuration.isFrozen()) {
            return;
        }
        Configuration.set("writer", "console");
        Configuration.set("writer.stream", "err");
        Configuration.set("writer.level", level);
        Configuration.set("writer.format", "{date:HH:mm:ss.SSS} {level|min-size=5} {message}");
        // tinylog's own shutdown hook would close its writers while the command's shutdown hook still logs the close.
        Configuration.set("autoshutdown", "false");
    }

    /**
     * Whether tinylog's api can be loaded from here: in the image, yes; on a module path where nothing required
     * {@code org.tinylog.api}, it is not in the boot layer and its classes are not found.
     */
    private static boolean present() {
        try {
            Class.forName("org.tinylog.configuration.Configuration", false, TinylogSetup.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }
}
