package dev.nearline.triton.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.ScoringException.Kind;
import io.grpc.ConnectivityState;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Error;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Exception;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/**
 * How {@link GrpcTransport#failure} classifies what grpc-java reports, by status code and cause type: the
 * statuses are the ones grpc-java's Netty transport produces for these events.
 */
class GrpcFailureTest {
    private static final Duration TIMEOUT = Duration.ofMillis(300);

    private static RemoteFailure classify(Status status, long elapsedMs, ConnectivityState state) {
        return GrpcTransport.failure(status, TIMEOUT, TimeUnit.MILLISECONDS.toNanos(elapsedMs), state, "h:8001",
                status.asRuntimeException());
    }

    @Test
    void failure_unknownChannelClosed_isARetryableLostConnection() {
        // What grpc-java's Netty transport reports when a connection closes under a new call.
        Status status = Status.UNKNOWN.withDescription("channel closed").withCause(new ClosedChannelException());

        RemoteFailure f = classify(status, 2, ConnectivityState.IDLE);

        assertThat(f.kind()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(f.retryable()).isTrue();
        assertThat(f.serverDown()).isTrue();
        assertThat(f.getMessage()).contains("the connection was lost");
    }

    @Test
    void failure_unknownWithoutACause_staysInternal() {
        RemoteFailure f = classify(Status.UNKNOWN.withDescription("boom"), 2, ConnectivityState.READY);

        assertThat(f.kind()).isEqualTo(Kind.INTERNAL);
        assertThat(f.retryable()).isFalse();
    }

    @Test
    void failure_tlsHandshake_isANotRetriedMisconfiguration() {
        Status status = Status.UNAVAILABLE.withDescription("ssl exception")
                .withCause(new RuntimeException(new SSLHandshakeException("PKIX path building failed")));

        RemoteFailure f = classify(status, 20, ConnectivityState.TRANSIENT_FAILURE);

        assertThat(f.kind()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(f.retryable()).isFalse();
        assertThat(f.serverDown()).isFalse();
        assertThat(f.getMessage()).contains("TLS handshake with h:8001 failed (PKIX path building failed)");
    }

    @Test
    void failure_http2HandshakeRefused_saysNotAGrpcServer() {
        Status status = Status.UNAVAILABLE.withDescription("Network closed")
                .withCause(Http2Exception.connectionError(Http2Error.PROTOCOL_ERROR, "First received frame was not SETTINGS"));

        RemoteFailure f = classify(status, 20, ConnectivityState.TRANSIENT_FAILURE);

        assertThat(f.retryable()).isFalse();
        assertThat(f.getMessage()).contains("not a gRPC server");
    }

    @Test
    void failure_deadlineExceededBeforeOurDeadline_isTheServersOwn() {
        RemoteFailure f = classify(Status.DEADLINE_EXCEEDED.withDescription("queue timeout"), 2, ConnectivityState.READY);

        assertThat(f.kind()).isEqualTo(Kind.DEADLINE_EXCEEDED);
        assertThat(f.getMessage()).isEqualTo("the server answered gRPC DEADLINE_EXCEEDED: queue timeout after 2ms, before"
                + " our 300ms deadline");
    }

    @Test
    void failure_deadlineExceededAtOurDeadline_saysWhetherThereWasAConnection() {
        RemoteFailure connected = classify(Status.DEADLINE_EXCEEDED, 301, ConnectivityState.READY);
        RemoteFailure waiting = classify(Status.DEADLINE_EXCEEDED, 301, ConnectivityState.TRANSIENT_FAILURE);

        assertThat(connected.getMessage()).startsWith("no answer within 300ms");
        assertThat(connected.connected()).isTrue();
        assertThat(waiting.getMessage()).startsWith("no connection within 300ms");
        assertThat(waiting.connected()).isFalse();
    }
}
