package dev.nearline.triton.internal;

import dev.nearline.api.ModelSignature;
import dev.nearline.api.ScoringException;
import dev.nearline.triton.internal.proto.ModelInferRequest;
import dev.nearline.triton.internal.proto.ModelMetadataRequest;
import dev.nearline.triton.internal.proto.ModelReadyRequest;
import dev.nearline.triton.internal.proto.ServerLiveRequest;
import dev.nearline.triton.internal.proto.ServerMetadataRequest;
import dev.nearline.triton.internal.proto.ServerReadyRequest;
import io.grpc.CallOptions;
import io.grpc.ChannelCredentials;
import io.grpc.ClientCall;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * KServe v2 over gRPC with grpc-java on the Netty transport: one channel (HTTP/2, multiplexed)
 * per model, asynchronous unary calls, inputs and outputs as raw contents. The channel's inbound
 * message limit is raised from grpc-java's 4 MiB default to the configured maximum. Responses are
 * handled on a small daemon executor of its own; {@link #close()} shuts channel and executor down.
 */
public final class GrpcTransport implements Transport {
    /** How grpc-java's deframer describes a message over the inbound size limit. */
    private static final String TOO_LARGE = "gRPC message exceeds maximum size";

    private final TransportConfig config;
    private final ExecutorService executor;
    private final ManagedChannel channel;
    private final GrpcCodec codec;

    /** A transport for {@code config}; connects lazily on the first call. */
    public GrpcTransport(TransportConfig config) {
        this.config = config;
        ChannelCredentials credentials;
        if (!config.tls()) {
            credentials = InsecureChannelCredentials.create();
        } else if (config.trustStore() == null) {
            credentials = TlsChannelCredentials.create();
        } else {
            credentials = TlsChannelCredentials.newBuilder().trustManager(Tls.trustManagers(config.trustStore())).build();
        }
        this.executor = DaemonThreads.cachedPool("nearline-triton-grpc");
        NettyChannelBuilder b = NettyChannelBuilder.forAddress(config.baseUrl().getHost(), config.baseUrl().getPort(),
                        credentials)
                .maxInboundMessageSize(config.maxMessageBytes())
                .withOption(ChannelOption.CONNECT_TIMEOUT_MILLIS,
                        (int) Math.min(Integer.MAX_VALUE, Math.max(1, config.connectTimeout().toMillis())))
                .userAgent("nearline-triton")
                .executor(executor);
        if (!config.headers().isEmpty()) {
            Metadata headers = new Metadata();
            for (Map.Entry<String, String> h : config.headers().entrySet()) {
                headers.put(Metadata.Key.of(h.getKey().toLowerCase(Locale.ROOT), Metadata.ASCII_STRING_MARSHALLER),
                        h.getValue());
            }
            b.intercept(MetadataUtils.newAttachHeadersInterceptor(headers));
        }
        this.channel = b.build();
        this.codec = new GrpcCodec(config.model(), config.version());
    }

    @Override
    public CompletableFuture<ServerMetadata> serverMetadata(Duration timeout, boolean waitForConnection) {
        return unary(GrpcInferenceService.SERVER_METADATA, ServerMetadataRequest.getDefaultInstance(), timeout,
                waitForConnection)
                .thenApply(r -> new ServerMetadata(r.getName(), r.getVersion(), r.getExtensionsList()));
    }

    @Override
    public CompletableFuture<ModelSignature> modelMetadata(Duration timeout, boolean waitForConnection) {
        ModelMetadataRequest request = ModelMetadataRequest.newBuilder()
                .setName(config.model()).setVersion(config.version()).build();
        return unary(GrpcInferenceService.MODEL_METADATA, request, timeout, waitForConnection)
                .thenApply(GrpcCodec::signature);
    }

    @Override
    public CompletableFuture<Boolean> serverLive(Duration timeout) {
        return unary(GrpcInferenceService.SERVER_LIVE, ServerLiveRequest.getDefaultInstance(), timeout, false)
                .thenApply(r -> r.getLive());
    }

    @Override
    public CompletableFuture<Boolean> serverReady(Duration timeout) {
        return unary(GrpcInferenceService.SERVER_READY, ServerReadyRequest.getDefaultInstance(), timeout, false)
                .thenApply(r -> r.getReady());
    }

    @Override
    public CompletableFuture<Boolean> modelReady(Duration timeout) {
        ModelReadyRequest request = ModelReadyRequest.newBuilder()
                .setName(config.model()).setVersion(config.version()).build();
        return unary(GrpcInferenceService.MODEL_READY, request, timeout, false).thenApply(r -> r.getReady());
    }

    @Override
    public InferCall prepare(String id, RequestLayout layout, boolean binary) {
        ModelInferRequest request = codec.encode(id, layout);
        return (timeout, waitForConnection) -> unary(GrpcInferenceService.MODEL_INFER, request, timeout, waitForConnection)
                .thenApply(response -> codec.decode(response, layout, id));
    }

    @Override
    public void resetConnectBackoff() {
        // After a failed connection grpc-java waits (1s, growing to 2 minutes) before the next
        // attempt; a retry or breaker probe should reach a server that is back at once.
        channel.resetConnectBackoff();
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            executor.shutdownNow();
        }
    }

    /**
     * One unary call. Without {@code waitForConnection} a call on a channel whose last connection
     * attempt failed fails at once (grpc-java's default); with it, the call waits for the reconnect
     * that {@link #resetConnectBackoff()} started, within its deadline.
     */
    private <Q, R> CompletableFuture<R> unary(MethodDescriptor<Q, R> method, Q request, Duration timeout,
            boolean waitForConnection) {
        CompletableFuture<R> result = new CompletableFuture<>();
        ClientCall<Q, R> call;
        try {
            CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS);
            call = channel.newCall(method, waitForConnection ? options.withWaitForReady() : options);
        } catch (RuntimeException e) {
            result.completeExceptionally(RemoteFailure.definite(ScoringException.Kind.UNAVAILABLE,
                    "cannot start a gRPC call (" + e + ")", e));
            return result;
        }
        ClientCalls.asyncUnaryCall(call, request, new StreamObserver<R>() {
            @Override
            public void onNext(R value) {
                result.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(failure(Status.fromThrowable(t), timeout, t));
            }

            @Override
            public void onCompleted() {
                if (!result.isDone()) {
                    result.completeExceptionally(RemoteFailure.definite(ScoringException.Kind.INTERNAL,
                            "gRPC call completed without a response", null));
                }
            }
        });
        return result;
    }

    /** The failure for a gRPC status, as Triton maps its errors to status codes. */
    static RemoteFailure failure(Status status, Duration timeout, Throwable cause) {
        String description = status.getDescription() == null ? "" : ": " + Wire.printable(status.getDescription());
        String message = "gRPC " + status.getCode() + description;
        switch (status.getCode()) {
            case UNAVAILABLE:
                return RemoteFailure.unavailable(message, cause);
            case RESOURCE_EXHAUSTED:
                // grpc-java reports a response over the inbound limit with this status too, raised on
                // our side: that is no overload, and retrying cannot help.
                if (status.getDescription() != null && status.getDescription().startsWith(TOO_LARGE)) {
                    return RemoteFailure.definite(ScoringException.Kind.INTERNAL, message
                            + " (raise maxMessageSize)", cause);
                }
                return RemoteFailure.overloaded(message);
            case DEADLINE_EXCEEDED:
                return RemoteFailure.timeout("no answer within " + timeout.toMillis() + "ms (" + message + ")", cause);
            case INVALID_ARGUMENT:
            case OUT_OF_RANGE:
            case FAILED_PRECONDITION:
            case ALREADY_EXISTS:
                return RemoteFailure.definite(ScoringException.Kind.INVALID_INPUT, message, cause);
            case NOT_FOUND:
                return RemoteFailure.definite(ScoringException.Kind.UNAVAILABLE, message
                        + " (is the model name right and the model loaded?)", cause);
            case UNAUTHENTICATED:
            case PERMISSION_DENIED:
                return RemoteFailure.definite(ScoringException.Kind.UNAVAILABLE, message + " (check the credentials)",
                        cause);
            case CANCELLED:
                return RemoteFailure.definite(ScoringException.Kind.UNAVAILABLE, message, cause);
            default:
                return RemoteFailure.definite(ScoringException.Kind.INTERNAL, message, cause);
        }
    }
}
