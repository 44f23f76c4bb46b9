package io.twinline.transport;

/** The outcome carried by a RESPONSE; a u8 on the wire. */
public enum ResponseStatus {
    /** The handler returned; the body is its result. */
    OK(0),
    /** The handler threw; the body is the UTF-8 message. */
    HANDLER_FAILED(1),
    /** No handler for the route; the body is the UTF-8 message. The handler did not run. */
    NO_SUCH_ROUTE(2);

    private final int code;

    ResponseStatus(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    static ResponseStatus ofCode(int code) {
        return switch (code) {
            case 0 -> OK;
            case 1 -> HANDLER_FAILED;
            case 2 -> NO_SUCH_ROUTE;
            default -> null;
        };
    }
}
