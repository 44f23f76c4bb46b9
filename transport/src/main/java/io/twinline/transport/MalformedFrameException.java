package io.twinline.transport;

import java.io.IOException;

/** The bytes on a connection are not a valid frame. The connection must be closed; the reason says why. */
public class MalformedFrameException extends IOException {
    private static final long serialVersionUID = 1L;

    public MalformedFrameException(String reason) {
        super(reason);
    }
}
