package io.twinline.bench;

/**
 * One request/response system under test, measured with the same payload bytes: twinline, gRPC-java (default and
 * direct-executor configurations), and a raw blocking-socket floor.
 */
interface Peer extends AutoCloseable {

    /** Sends {@code body} and returns the echoed answer. Thread-safe; blocking. */
    byte[] call(byte[] body) throws Exception;

    @Override
    void close() throws Exception;

    static Peer start(String name) throws Exception {
        return switch (name) {
            case "twinline" -> new TwinlinePeer(false, io.twinline.api.Limits.defaults());
            case "twinline-reverse" -> new TwinlinePeer(true, io.twinline.api.Limits.defaults());
            // The kernel's own send buffer sizing (Linux grows it to 4 MiB) instead of twinline's 128 KiB.
            case "twinline-osbuf" -> new TwinlinePeer(false, io.twinline.api.Limits.defaults().withSendBufferBytes(0));
            case "twinline-tls" -> new TwinlinePeer(false, io.twinline.api.Limits.defaults(), true);
            case "grpc-default" -> new GrpcPeer(false);
            case "grpc-direct" -> new GrpcPeer(true);
            case "grpc-direct-tls" -> new GrpcPeer(true, true);
            case "raw" -> new RawSocketPeer(false);
            case "raw-yield" -> new RawSocketPeer(true);
            case "raw-tls" -> new RawSocketPeer(false, true);
            default -> throw new IllegalArgumentException("unknown peer: " + name);
        };
    }
}
