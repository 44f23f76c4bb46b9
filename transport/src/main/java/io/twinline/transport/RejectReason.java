package io.twinline.transport;

/** Why the server refused a HELLO or ATTACH; the code is a u16 on the wire. */
public enum RejectReason {
    /** The session id is not known (never was, or already ended). */
    UNKNOWN_SESSION(1),
    /** The token does not match the session's. */
    BAD_TOKEN(2),
    /** The server holds its maximum number of sessions. */
    SERVER_FULL(3),
    /** The protocol version is not one this server speaks. */
    UNSUPPORTED_VERSION(4),
    /** The server is shutting down. */
    SHUTTING_DOWN(5),
    /** The session has ended (DISCONNECTED or CLOSED) and takes no more connections. */
    SESSION_ENDED(6),
    /** The connection's client certificate is not the one the session was opened with. */
    UNAUTHORIZED(7),
    /** Any other reason; the detail says which. */
    OTHER(255);

    private final int code;

    RejectReason(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    static RejectReason ofCode(int code) {
        for (RejectReason r : values()) {
            if (r.code == code) {
                return r;
            }
        }
        return OTHER;
    }
}
