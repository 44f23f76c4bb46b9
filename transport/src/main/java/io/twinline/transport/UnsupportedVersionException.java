package io.twinline.transport;

/** A HELLO or ATTACH carries the right magic but a protocol version this side does not speak. */
public class UnsupportedVersionException extends MalformedFrameException {
    private static final long serialVersionUID = 1L;

    private final int version;

    public UnsupportedVersionException(int version) {
        super("unsupported protocol version " + version + " (this side speaks " + FrameCodec.VERSION + ")");
        this.version = version;
    }

    public int version() {
        return version;
    }
}
