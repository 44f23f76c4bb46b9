package io.twinline.recovery;

/**
 * A reconnect try failed in a way no further try can mend (the server no longer knows the session, or refuses
 * its token): the reconnect loop stops at once.
 */
public class PermanentFailureException extends Exception {
    private static final long serialVersionUID = 1L;

    public PermanentFailureException(String message) {
        super(message);
    }
}
