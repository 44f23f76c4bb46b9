package io.twinline.host;

import java.util.ResourceBundle;

/**
 * Where {@code io.twinline.host} logs: the JDK's platform logging, one {@link System.Logger} named {@value #NAME},
 * so that an embedder's twinline lines go wherever its other logs go (java.util.logging, or whatever
 * {@link System.LoggerFinder} the application provides) and the library configures nothing. In the runtime image
 * that finder is tinylog's (module-info). Called on any thread.
 *
 * <p>Messages carry {@code {}} placeholders, filled in order with {@link String#valueOf(Object)} of each argument;
 * a placeholder with no argument left stays as written and extra arguments are ignored. Nothing is formatted
 * unless the platform logger accepts the level, so a disabled {@code debug} costs a level check.
 *
 * <p>One name for the whole library, so that one line configures it: {@code io.twinline.level = FINE} in
 * java.util.logging's {@code logging.properties}, for example.
 *
 * <p>This class implements {@link System.Logger} (delegating to the platform's logger) for one reason: the JDK
 * infers a record's source (java.util.logging's {@code LogRecord.getSourceClassName()}, the class and method in
 * the default console format) by skipping the frames of {@code System.Logger} implementations, so the source it
 * reports is the class that called {@code Logger.info(...)}, not this class. The command line logs its own lines
 * through the same instance ({@link HostAccess#logger()}).
 */
final class Logger implements System.Logger {
    /** The name of the one platform logger the library logs through. */
    static final String NAME = "io.twinline";

    static final Logger INSTANCE = new Logger(System.getLogger(NAME));

    private final System.Logger platform;

    private Logger(System.Logger platform) {
        this.platform = platform;
    }

    static void trace(String format, Object... args) {
        INSTANCE.emit(Level.TRACE, null, format, args);
    }

    static void trace(Throwable thrown, String format, Object... args) {
        INSTANCE.emit(Level.TRACE, thrown, format, args);
    }

    static void debug(String format, Object... args) {
        INSTANCE.emit(Level.DEBUG, null, format, args);
    }

    static void debug(Throwable thrown, String format, Object... args) {
        INSTANCE.emit(Level.DEBUG, thrown, format, args);
    }

    static void info(String format, Object... args) {
        INSTANCE.emit(Level.INFO, null, format, args);
    }

    static void info(Throwable thrown, String format, Object... args) {
        INSTANCE.emit(Level.INFO, thrown, format, args);
    }

    static void warn(String format, Object... args) {
        INSTANCE.emit(Level.WARNING, null, format, args);
    }

    static void warn(Throwable thrown, String format, Object... args) {
        INSTANCE.emit(Level.WARNING, thrown, format, args);
    }

    static void error(String format, Object... args) {
        INSTANCE.emit(Level.ERROR, null, format, args);
    }

    static void error(Throwable thrown, String format, Object... args) {
        INSTANCE.emit(Level.ERROR, thrown, format, args);
    }

    private void emit(Level level, Throwable thrown, String format, Object[] args) {
        if (!platform.isLoggable(level)) {
            return;
        }
        String message = fill(format, args);
        if (thrown == null) {
            platform.log(level, message);
        } else {
            platform.log(level, message, thrown);
        }
    }

    /** {@code format} with each {@code {}} replaced, in order, by the next argument. */
    static String fill(String format, Object[] args) {
        if (args == null || args.length == 0) {
            return format;
        }
        StringBuilder message = new StringBuilder(format.length() + 16 * args.length);
        int from = 0;
        int next = 0;
        for (int at = format.indexOf("{}"); at >= 0 && next < args.length; at = format.indexOf("{}", from)) {
            message.append(format, from, at).append(args[next++]);
            from = at + 2;
        }
        return message.append(format, from, format.length()).toString();
    }

    // ---- System.Logger, for the command line's own lines ----

    @Override
    public String getName() {
        return platform.getName();
    }

    @Override
    public boolean isLoggable(Level level) {
        return platform.isLoggable(level);
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String message, Throwable thrown) {
        platform.log(level, bundle, message, thrown);
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String format, Object... params) {
        platform.log(level, bundle, format, params);
    }
}
