package io.twinline.bench;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * gRPC-java unary calls over its Netty transport on loopback, with a byte-array marshaller (no protobuf cost, the
 * same payload bytes as the others) and the blocking stub. {@code direct}: {@code directExecutor()} on server and
 * channel, gRPC's fastest configuration. One channel is one HTTP/2 connection, with gRPC's default flow control.
 * Both ends accept messages of up to {@link #MAX_MESSAGE_BYTES}, as twinline's default limits do (gRPC's own
 * default is 4 MiB), so that {@link HeadOfLineBench} can echo a 16 MiB body; smaller calls are not affected.
 */
final class GrpcPeer implements Peer {
    /** The longest message either end accepts: twinline's default {@code maxMessageBytes}, 16 MiB. */
    static final int MAX_MESSAGE_BYTES = 16 << 20;

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    static final MethodDescriptor<byte[], byte[]> ECHO = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("bench.Echo/echo")
            .setRequestMarshaller(BYTES)
            .setResponseMarshaller(BYTES)
            .build();

    private final Server server;
    private final ManagedChannel channel;

    GrpcPeer(boolean direct) throws IOException {
        this(direct, false);
    }

    /** With {@code tls}, TLS with the JDK's provider (Netty's {@code SslProvider.JDK}) and {@link BenchTls}'s keys. */
    GrpcPeer(boolean direct, boolean tls) throws IOException {
        ServerServiceDefinition service = ServerServiceDefinition.builder("bench.Echo")
                .addMethod(ECHO, ServerCalls.asyncUnaryCall((request, response) -> {
                    response.onNext(request);
                    response.onCompleted();
                }))
                .build();
        NettyServerBuilder serverBuilder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(service)
                .maxInboundMessageSize(MAX_MESSAGE_BYTES);
        if (direct) {
            serverBuilder.directExecutor();
        }
        if (tls) {
            serverBuilder.sslContext(GrpcSslContexts.configure(SslContextBuilder.forServer(BenchTls.serverKeys()),
                    SslProvider.JDK).build());
        }
        server = serverBuilder.build().start();
        NettyChannelBuilder channelBuilder = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
                .maxInboundMessageSize(MAX_MESSAGE_BYTES);
        if (tls) {
            channelBuilder.sslContext(GrpcSslContexts.configure(SslContextBuilder.forClient()
                    .trustManager(BenchTls.clientTrust()), SslProvider.JDK).build());
        } else {
            channelBuilder.usePlaintext();
        }
        if (direct) {
            channelBuilder.directExecutor();
        }
        channel = channelBuilder.build();
    }

    @Override
    public byte[] call(byte[] body) {
        return ClientCalls.blockingUnaryCall(channel, ECHO, CallOptions.DEFAULT, body);
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
