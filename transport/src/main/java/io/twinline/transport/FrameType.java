package io.twinline.transport;

/** Frame type codes, the byte after a frame's length. */
public enum FrameType {
    HELLO(0x01),
    WELCOME(0x02),
    ATTACH(0x03),
    ATTACHED(0x04),
    REJECTED(0x05),
    REQUEST(0x10),
    RESPONSE(0x11),
    ACK(0x12),
    CONTINUATION(0x13),
    PING(0x20),
    PONG(0x21),
    GOODBYE(0x30);

    private static final FrameType[] BY_CODE = new FrameType[256];

    static {
        for (FrameType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;

    FrameType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** Returns the type with this code, or {@code null} if there is none. */
    static FrameType ofCode(int code) {
        return BY_CODE[code & 0xFF];
    }
}
