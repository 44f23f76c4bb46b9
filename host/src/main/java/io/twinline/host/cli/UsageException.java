package io.twinline.host.cli;

/** A command line that cannot be run: the message is the one-line reason; the exit code is 2. */
final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }
}
