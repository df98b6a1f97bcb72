package dev.nearline.triton;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensors;
import dev.nearline.core.testing.FakeTicker;
import dev.nearline.triton.TritonModelIntegrationTest.Mode;
import dev.nearline.triton.server.KServeTestServer;
import dev.nearline.triton.server.OrtBackend;
import dev.nearline.triton.server.SharedModels;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Each fault switch of the test server, over REST (binary) and gRPC: the ScoringException kind the
 * client reports, its message, how many requests reached the server, and that the failure comes
 * within the deadline (measured with System.nanoTime; nothing sleeps).
 */
class TritonModelFaultTest {
    private static final String IRIS = "tribuo_iris_lr";
    /** Scheduling slack on a shared 2-core machine. */
    private static final long MARGIN_MS = 700;

    static KServeTestServer server;
    static Map<String, OrtBackend> backends;

    @BeforeAll
    static void startServer() throws Exception {
        backends = SharedModels.backends(List.of(IRIS));
        server = KServeTestServer.start(backends);
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void resetFaults() {
        server.faults().reset();
    }

    private static TritonModel.Builder builder(Mode mode) {
        return TritonModelIntegrationTest.builder(server, mode, IRIS)
                .retry(new RetryPolicy(2, Duration.ofMillis(5), Duration.ofMillis(20)));
    }

    private static Tensors record(TritonModel model) {
        return Records.of(model.signature(), 1, 0);
    }

    /** Runs {@code call}, expecting a retryable ScoringException within {@code deadlineMs} (+ margin). */
    private static ScoringException failsWithin(long deadlineMs, ThrowingCallable call) {
        long t0 = System.nanoTime();
        Throwable thrown = catchThrowable(call);
        if (thrown instanceof CompletionException && thrown.getCause() != null) {
            thrown = thrown.getCause();
        }
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(thrown).isInstanceOf(ScoringException.class);
        assertThat(((ScoringException) thrown).isRetryable()).isTrue();
        assertThat(elapsedMs).as("elapsed ms").isLessThan(deadlineMs + MARGIN_MS);
        return (ScoringException) thrown;
    }

    /** Runs {@code call}, expecting a ScoringException of {@code kind} within {@code deadlineMs} (+ margin). */
    private static ScoringException fails(Kind kind, long deadlineMs, ThrowingCallable call) {
        long t0 = System.nanoTime();
        Throwable thrown = catchThrowable(call);
        if (thrown instanceof CompletionException && thrown.getCause() != null) {
            thrown = thrown.getCause();
        }
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(thrown).isInstanceOf(ScoringException.class);
        ScoringException e = (ScoringException) thrown;
        assertThat(e.kind()).as("kind of: %s", e.getMessage()).isEqualTo(kind);
        assertThat(e.getMessage()).startsWith("triton model '" + IRIS + "'");
        assertThat(elapsedMs).as("elapsed ms").isLessThan(deadlineMs + MARGIN_MS);
        return e;
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"REST_BINARY", "GRPC"})
    void predict_serverSlowerThanTimeout_failsDeadlineExceededInTime(Mode mode) {
        try (TritonModel model = builder(mode).requestTimeout(Duration.ofMillis(300)).build()) {
            server.faults().holdRequests(1);
            int before = server.inferCount();

            fails(Kind.DEADLINE_EXCEEDED, 300, () -> model.predict(record(model)));

            assertThat(server.inferCount() - before).as("a spent deadline is not retried").isEqualTo(1);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"REST_BINARY", "GRPC"})
    void predictAsync_callerTimeout_overridesTheDefault(Mode mode) {
        try (TritonModel model = builder(mode).requestTimeout(Duration.ofSeconds(10)).build()) {
            server.faults().holdRequests(1);

            fails(Kind.DEADLINE_EXCEEDED, 200,
                    () -> model.predictAsync(record(model), Duration.ofMillis(200)).join());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"REST_BINARY", "GRPC"})
    void predict_unavailableTwiceThenOk_retriesAndSucceeds(Mode mode) throws Exception {
        try (TritonModel model = builder(mode).build()) {
            server.faults().failNext(2, 503, "model is loading");
            int before = server.inferCount();
            Tensors record = record(model);

            Tensors result = model.predict(record);

            assertThat(result).isEqualTo(backends.get(IRIS).runDirect(record));
            assertThat(server.inferCount() - before).isEqualTo(3);
            TritonModel.Stats stats = model.stats();
            assertThat(stats.retries()).isEqualTo(2);
            assertThat(stats.failures()).containsExactly(Map.entry(Kind.UNAVAILABLE, 2L));
            assertThat(stats.breaker()).isEqualTo(TritonModel.BreakerState.CLOSED);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"REST_BINARY", "GRPC"})
    void predict_alwaysUnavailable_failsUnavailableAfterRetries(Mode mode) {
        try (TritonModel model = builder(mode).build()) {
            server.faults().failNext(Integer.MAX_VALUE, 503, "server shutting down");
            int before = server.inferCount();

            ScoringException e = fails(Kind.UNAVAILABLE, 1000, () -> model.predict(record(model)));

            assertThat(e.getMessage()).contains(mode == Mode.GRPC ? "UNAVAILABLE" : "HTTP 503")
                    .contains("server shutting down").contains("after 3 attempts");
            assertThat(server.inferCount() - before).isEqualTo(3);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"REST_BINARY", "GRPC"})
    void predict_alwaysOverloaded_retriesThenFailsOverloaded(Mode mode) {
        try (TritonModel model = builder(mode).build()) {
            server.faults().failNext(Integer.MAX_VALUE, 429, "queue full");
            int before = server.inferCount();

            ScoringException e = fails(Kind.OVERLOADED, 1000, () -> model.predict(record(model)));

            assertThat(e.getMessage()).contains("queue full");
            assertThat(server.inferCount() - before).isEqualTo(3);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"REST_BINARY", "GRPC"})
    void predict_serverError500_failsInternalWithoutRetry(Mode mode) {
        try (TritonModel model = builder(mode).build()) {
            server.faults().failNext(1, 500, "CUDA error: out of memory");
            int before = server.inferCount();

            ScoringException e = fails(Kind.INTERNAL, 1000, () -> model.predict(record(model)));

            assertThat(e.getMessage()).contains("CUDA error: out of memory");
            assertThat(server.inferCount() - before).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"REST_BINARY", "GRPC"})
    void predict_badRequest400_failsInvalidInputWithServerMessage(Mode mode) {
        try (TritonModel model = builder(mode).build()) {
            server.faults().failNext(1, 400, "unexpected shape for input 'input' for model 'tribuo_iris_lr'");
            int before = server.inferCount();

            ScoringException e = fails(Kind.INVALID_INPUT, 1000, () -> model.predict(record(model)));

            assertThat(e.getMessage()).contains("unexpected shape for input 'input'");
            assertThat(server.inferCount() - before).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"REST_BINARY"})
    void predict_connectionDropped_retriesThenFailsUnavailable(Mode mode) {
        try (TritonModel model = builder(mode).build()) {
            server.faults().dropConnection = true;
            int before = server.inferCount();

            ScoringException e = fails(Kind.UNAVAILABLE, 1000, () -> model.predict(record(model)));

            assertThat(e.getMessage()).contains("the connection closed before the answer was complete");
            assertThat(server.inferCount() - before).isEqualTo(3);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"REST_BINARY", "REST_JSON"})
    void predict_malformedBody_failsInternal(Mode mode) {
        try (TritonModel model = TritonModelIntegrationTest.builder(server, mode, IRIS).build()) {
            server.faults().malformedBody = true;

            ScoringException e = fails(Kind.INTERNAL, 1000, () -> model.predict(record(model)));

            assertThat(e.getMessage()).contains("malformed response").contains("invalid JSON");
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void predict_wrongOutputShape_failsInternalNamingExpectedAndActual(Mode mode) {
        try (TritonModel model = TritonModelIntegrationTest.builder(server, mode, IRIS).build()) {
            server.faults().wrongShape = true;

            ScoringException e = fails(Kind.INTERNAL, 1000, () -> model.predict(record(model)));

            assertThat(e.getMessage()).contains("output 'output' expects FP32 [-1, 3], got FP32 [1, 4]");
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void predict_wrongOutputDatatype_failsInternalNamingExpectedAndActual(Mode mode) {
        try (TritonModel model = TritonModelIntegrationTest.builder(server, mode, IRIS).build()) {
            server.faults().wrongDatatype = true;

            ScoringException e = fails(Kind.INTERNAL, 1000, () -> model.predict(record(model)));

            assertThat(e.getMessage()).contains("output 'output' expects FP32 [-1, 3], got INT32 [1, 3]");
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void predict_wrongOutputName_failsInternal(Mode mode) {
        try (TritonModel model = TritonModelIntegrationTest.builder(server, mode, IRIS).build()) {
            server.faults().wrongOutputName = true;

            ScoringException e = fails(Kind.INTERNAL, 1000, () -> model.predict(record(model)));

            assertThat(e.getMessage()).contains("unexpected output 'output_renamed' (asked for [output])");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"REST_BINARY", "GRPC"})
    void predict_truncatedBinaryData_failsInternalWithByteCounts(Mode mode) {
        try (TritonModel model = builder(mode).build()) {
            server.faults().truncateBinary = true;

            ScoringException e = fails(Kind.INTERNAL, 1000, () -> model.predict(record(model)));

            assertThat(e.getMessage()).contains("output 'output'").contains(mode == Mode.GRPC
                    ? "has 9 bytes of data, expected 12" : "declares 12 bytes of binary data but only 9 remain");
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void predict_responseForAnotherRequestId_failsInternal(Mode mode) {
        try (TritonModel model = TritonModelIntegrationTest.builder(server, mode, IRIS).build()) {
            server.faults().wrongId = true;

            ScoringException e = fails(Kind.INTERNAL, 1000, () -> model.predict(record(model)));

            assertThat(e.getMessage()).contains("does not match request id");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"REST_BINARY", "GRPC"})
    void predict_persistentFailures_retriesStopAtTheDeadline(Mode mode) {
        try (TritonModel model = TritonModelIntegrationTest.builder(server, mode, IRIS)
                .retry(new RetryPolicy(1000, Duration.ofMillis(10), Duration.ofMillis(40)))
                .circuitBreaker(CircuitBreakerPolicy.disabled())
                .requestTimeout(Duration.ofMillis(400)).build()) {
            server.faults().failNext(Integer.MAX_VALUE, 503, "warming up");
            int before = server.inferCount();

            // The server kept saying 503. Retries stop when no attempt fits before the deadline; should the last
            // one still run out of time (a busy machine), the kind is the deadline's, and the message still says
            // what the server answered before.
            ScoringException e = failsWithin(400, () -> model.predict(record(model)));

            assertThat(e.kind()).isIn(Kind.UNAVAILABLE, Kind.DEADLINE_EXCEEDED);
            assertThat(e.getMessage()).contains("warming up");
            assertThat(server.inferCount() - before).isBetween(2, 100);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"REST_BINARY", "GRPC"})
    void predict_serverDown_failsUnavailableInTime(Mode mode) throws Exception {
        try (TritonModel model = builder(mode).requestTimeout(Duration.ofMillis(500)).build()) {
            Tensors record = record(model);
            server.stopServing();
            try {
                ScoringException e = fails(Kind.UNAVAILABLE, 500, () -> model.predict(record));
                assertThat(e.getMessage()).containsAnyOf("cannot connect", "connection failed", "UNAVAILABLE");
                assertThat(model.isLive()).isFalse();
            } finally {
                server.resumeServing();
            }
            assertThat(model.predict(record)).isEqualTo(backends.get(IRIS).runDirect(record));
        }
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"REST_BINARY", "GRPC"})
    void circuitBreaker_serverDown_opensFailsFastThenProbesAndCloses(Mode mode) throws Exception {
        FakeTicker ticker = new FakeTicker();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        Metrics.addRegistry(meters); // what a host does to export the client's meters
        try (TritonModel model = TritonModelIntegrationTest.builder(server, mode, IRIS).ticker(ticker)
                .retry(RetryPolicy.none())
                .circuitBreaker(new CircuitBreakerPolicy(3, Duration.ofSeconds(30)))
                .requestTimeout(Duration.ofSeconds(2)).build()) {
            Tensors record = record(model);
            server.stopServing();
            try {
                for (int i = 0; i < 3; i++) {
                    ScoringException e = fails(Kind.UNAVAILABLE, 2000, () -> model.predict(record));
                    assertThat(e.getMessage()).doesNotContain("circuit breaker");
                }
                // Open: fails at once, without a connection attempt.
                ScoringException open = fails(Kind.UNAVAILABLE, 0, () -> model.predict(record));
                assertThat(open.getMessage()).contains("circuit breaker open").contains("next probe in 30000ms");
                ticker.advance(Duration.ofSeconds(29));
                fails(Kind.UNAVAILABLE, 0, () -> model.predict(record));
                TritonModel.Stats stats = model.stats();
                assertThat(stats.breaker()).isEqualTo(TritonModel.BreakerState.OPEN);
                assertThat(stats.rejectedByBreaker()).isEqualTo(2);
                assertThat(stats.failures()).containsExactly(Map.entry(Kind.UNAVAILABLE, 3L));
                assertThat(meters.get("nearline.remote.breaker.state").tag("model", IRIS).gauge().value())
                        .as("1 = open").isEqualTo(1.0);
                assertThat(meters.get("nearline.remote.rejected").tag("model", IRIS).functionCounter().count())
                        .isEqualTo(2.0);
                assertThat(meters.get("nearline.remote.failures").tags("model", IRIS, "kind", "UNAVAILABLE")
                        .functionCounter().count()).isEqualTo(3.0);
            } finally {
                server.resumeServing();
            }
            int before = server.inferCount();
            ticker.advance(Duration.ofSeconds(1));

            // Half-open: this call is the probe; it succeeds and closes the breaker.
            assertThat(model.predict(record)).isEqualTo(backends.get(IRIS).runDirect(record));
            assertThat(model.predict(record)).isEqualTo(backends.get(IRIS).runDirect(record));
            assertThat(server.inferCount() - before).isEqualTo(2);
            assertThat(model.stats().breaker()).isEqualTo(TritonModel.BreakerState.CLOSED);
            assertThat(meters.get("nearline.remote.breaker.state").tag("model", IRIS).gauge().value()).isZero();
        } finally {
            Metrics.removeRegistry(meters);
        }
        assertThat(meters.find("nearline.remote.breaker.state").tag("model", IRIS).gauge())
                .as("removed on close").isNull();
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"REST_BINARY", "GRPC"})
    void circuitBreaker_failedProbe_opensAgain(Mode mode) throws Exception {
        FakeTicker ticker = new FakeTicker();
        try (TritonModel model = TritonModelIntegrationTest.builder(server, mode, IRIS).ticker(ticker)
                .retry(RetryPolicy.none())
                .circuitBreaker(new CircuitBreakerPolicy(2, Duration.ofSeconds(10))).build()) {
            Tensors record = record(model);
            server.faults().failNext(Integer.MAX_VALUE, 503, "down for maintenance");
            fails(Kind.UNAVAILABLE, 1000, () -> model.predict(record));
            fails(Kind.UNAVAILABLE, 1000, () -> model.predict(record));
            int before = server.inferCount();
            assertThat(fails(Kind.UNAVAILABLE, 0, () -> model.predict(record)).getMessage())
                    .contains("circuit breaker open").contains("down for maintenance");
            assertThat(server.inferCount()).isEqualTo(before);

            ticker.advance(Duration.ofSeconds(10));
            fails(Kind.UNAVAILABLE, 1000, () -> model.predict(record)); // the probe, still 503
            assertThat(server.inferCount() - before).isEqualTo(1);
            assertThat(fails(Kind.UNAVAILABLE, 0, () -> model.predict(record)).getMessage())
                    .contains("circuit breaker open");
            assertThat(server.inferCount() - before).isEqualTo(1);

            server.faults().reset();
            ticker.advance(Duration.ofSeconds(10));
            assertThat(model.predict(record)).isEqualTo(backends.get(IRIS).runDirect(record));
        }
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"REST_BINARY", "GRPC"})
    void maxInFlight_exceeded_failsOverloadedAtOnceAndOthersComplete(Mode mode) throws Exception {
        try (TritonModel model = builder(mode).maxInFlight(4).requestTimeout(Duration.ofSeconds(10)).build()) {
            Tensors record = record(model);
            server.faults().holdRequests(4);
            List<CompletableFuture<Tensors>> held = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                held.add(model.predictAsync(record));
            }
            assertThat(server.faults().awaitArrivals(10, TimeUnit.SECONDS)).isTrue();

            CompletableFuture<Tensors> fifth = model.predictAsync(record);

            assertThat(fifth).isCompletedExceptionally();
            fails(Kind.OVERLOADED, 0, fifth::join);
            assertThat(fails(Kind.OVERLOADED, 0, () -> model.predict(record)).getMessage())
                    .contains("4 requests already in flight");
            server.faults().release();
            Tensors expected = backends.get(IRIS).runDirect(record);
            for (CompletableFuture<Tensors> f : held) {
                assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo(expected);
            }
            assertThat(model.predict(record)).isEqualTo(expected);
        }
    }
}
