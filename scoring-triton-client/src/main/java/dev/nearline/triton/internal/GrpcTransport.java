package dev.nearline.triton.internal;

import dev.nearline.api.ModelSignature;
import dev.nearline.api.ScoringException;
import dev.nearline.triton.internal.proto.ModelConfigRequest;
import dev.nearline.triton.internal.proto.ModelInferRequest;
import dev.nearline.triton.internal.proto.ModelMetadataRequest;
import dev.nearline.triton.internal.proto.ModelReadyRequest;
import dev.nearline.triton.internal.proto.ServerLiveRequest;
import dev.nearline.triton.internal.proto.ServerMetadataRequest;
import dev.nearline.triton.internal.proto.ServerReadyRequest;
import io.grpc.CallOptions;
import io.grpc.ChannelCredentials;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Exception;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

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
    public CompletableFuture<OptionalInt> maxBatchSize(Duration timeout, boolean waitForConnection) {
        ModelConfigRequest request = ModelConfigRequest.newBuilder()
                .setName(config.model()).setVersion(config.version()).build();
        CompletableFuture<OptionalInt> result = new CompletableFuture<>();
        unary(GrpcInferenceService.MODEL_CONFIG, request, timeout, waitForConnection).whenComplete((r, error) -> {
            if (error == null) {
                int n = r.getConfig().getMaxBatchSize();
                if (n < 0) {
                    result.completeExceptionally(RemoteFailure.definite(ScoringException.Kind.INTERNAL,
                            "malformed metadata: model configuration has max_batch_size " + n + ", expected >= 0", null));
                } else {
                    result.complete(OptionalInt.of(n));
                }
                return;
            }
            Throwable cause = Caller.unwrap(error);
            Status status = cause instanceof RemoteFailure && cause.getCause() != null
                    ? Status.fromThrowable(cause.getCause()) : Status.UNKNOWN;
            if (status.getCode() == Status.Code.UNIMPLEMENTED || status.getCode() == Status.Code.NOT_FOUND) {
                result.complete(OptionalInt.empty()); // a plain KServe v2 server: no model configuration
            } else {
                result.completeExceptionally(cause);
            }
        });
        return result;
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
            DaemonThreads.shutdown(executor);
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
        long start = System.nanoTime();
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
                result.completeExceptionally(failure(Status.fromThrowable(t), timeout, System.nanoTime() - start,
                        channel.getState(false), config.baseUrl().getAuthority(), t));
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

    /**
     * The failure for a gRPC status, as Triton maps its errors to status codes. Decided by status code and
     * the cause's type, not by the description's text: a lost connection is UNAVAILABLE whatever status
     * grpc-java gives it, a TLS handshake or HTTP/2 handshake that fails is a misconfiguration (not worth a
     * retry), and a DEADLINE_EXCEEDED before our deadline is the server's own.
     *
     * @param elapsedNanos time from the start of the call to the failure
     * @param state        the channel's state at the failure: READY means the call had a connection
     * @param authority    host:port, for messages
     */
    static RemoteFailure failure(Status status, Duration timeout, long elapsedNanos, ConnectivityState state,
            String authority, @Nullable Throwable cause) {
        String description = status.getDescription() == null ? "" : ": " + Wire.printable(status.getDescription());
        String message = "gRPC " + status.getCode() + description;
        Throwable ssl = causeOfType(status.getCause(), SSLException.class);
        if (ssl != null) {
            return RemoteFailure.misconfigured("TLS handshake with " + authority + " failed (" + ssl.getMessage()
                    + "): a certificate the trust store does not trust, or a server that does not speak TLS (then use"
                    + " http://)", cause);
        }
        Throwable http2 = causeOfType(status.getCause(), Http2Exception.class);
        if (http2 != null && state != ConnectivityState.READY && status.getCode() != Status.Code.DEADLINE_EXCEEDED) {
            return RemoteFailure.misconfigured("the HTTP/2 handshake with " + authority + " failed (" + http2.getMessage()
                    + "): not a gRPC server (a REST port, or TLS expected: then use https://)", cause);
        }
        switch (status.getCode()) {
            case UNAVAILABLE:
                return RemoteFailure.unavailable(message, cause);
            case UNKNOWN:
            case INTERNAL:
                // grpc-java reports a connection that closed under a new call as UNKNOWN "channel closed"
                // (a ClosedChannelException): the server did not answer, so this is a lost connection.
                if (causeOfType(status.getCause(), ClosedChannelException.class) != null
                        || (status.getCode() == Status.Code.UNKNOWN
                                && causeOfType(status.getCause(), IOException.class) != null)) {
                    return RemoteFailure.unavailable(message + " (the connection was lost)", cause);
                }
                return RemoteFailure.definite(ScoringException.Kind.INTERNAL, message, cause);
            case RESOURCE_EXHAUSTED:
                // grpc-java reports a response over the inbound limit with this status too, raised on
                // our side: that is no overload, and retrying cannot help.
                if (status.getDescription() != null && status.getDescription().startsWith(TOO_LARGE)) {
                    return RemoteFailure.definite(ScoringException.Kind.INTERNAL, message
                            + " (raise maxMessageSize)", cause);
                }
                return RemoteFailure.overloaded(message);
            case DEADLINE_EXCEEDED: {
                long ms = TimeUnit.NANOSECONDS.toMillis(elapsedNanos);
                if (elapsedNanos < timeout.toNanos()) {
                    // Our deadline had not passed: the server gave up on its own (a queue timeout).
                    return RemoteFailure.timeout("the server answered " + message + " after " + ms + "ms, before our "
                            + timeout.toMillis() + "ms deadline", cause, true);
                }
                boolean connected = state == ConnectivityState.READY;
                return RemoteFailure.timeout((connected ? "no answer within " : "no connection within ")
                        + timeout.toMillis() + "ms (" + message + ")", cause, connected);
            }
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

    private static @Nullable Throwable causeOfType(@Nullable Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return c;
            }
        }
        return null;
    }
}
