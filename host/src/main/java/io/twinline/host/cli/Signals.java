package io.twinline.host.cli;

/**
 * How a command hears SIGINT and SIGTERM. In the JVM ({@link #JVM}) through a shutdown hook: the JVM runs it on a
 * thread of its own and, once it returns, exits with 128 + the signal's number (130 for SIGINT, 143 for SIGTERM),
 * whatever the main thread asks for meanwhile. A hook that blocks holds the exit back, so each waits only for a
 * bounded time. Tests raise a signal through an implementation of their own.
 */
interface Signals {

    /**
     * Runs {@code onSignal} on a thread named {@code name} when the process is asked to end, until the returned
     * registration is closed. The JVM also runs it when the program calls {@code System.exit} without closing it.
     */
    Registration onSignal(String name, Runnable onSignal);

    /** Closing it stops listening; once the signal's action has started, it runs to its end. */
    interface Registration extends AutoCloseable {
        @Override
        void close();
    }

    /** SIGINT and SIGTERM through a JVM shutdown hook. */
    Signals JVM = (name, onSignal) -> {
        Thread hook = new Thread(onSignal, name);
        Runtime.getRuntime().addShutdownHook(hook);
        return () -> {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook runs now, or has run
            }
        };
    };
}
