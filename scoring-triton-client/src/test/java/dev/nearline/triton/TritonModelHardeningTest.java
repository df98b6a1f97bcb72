package dev.nearline.triton;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.triton.TritonModelIntegrationTest.Mode;
import dev.nearline.triton.internal.RestTransport;
import dev.nearline.triton.server.KServeTestServer;
import dev.nearline.triton.server.OrtBackend;
import dev.nearline.triton.server.SharedModels;
import io.grpc.Status;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Regression tests for defects an adversarial run found: answers with extra rows, deadlines that left
 * exchanges and sockets behind, limits only checked against Content-Length, models whose close() left
 * threads and sockets, gRPC connection loss reported as INTERNAL, and messages that said the wrong
 * thing. Real servers only: the ONNX Runtime test server, a raw socket server, a TCP proxy.
 */
class TritonModelHardeningTest {
    private static final String IRIS = "tribuo_iris_lr";
    /** Scheduling slack on a shared 2-core machine: generous, since only "in time, not at a multiple" matters. */
    private static final long MARGIN_MS = 1500;

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
        return TritonModelIntegrationTest.builder(server, mode, IRIS);
    }

    private static Tensors record(TritonModel model, int rows, int seed) {
        return Records.of(model.signature(), rows, seed);
    }

    private static ScoringException fails(Kind kind, ThrowingCallable call) {
        Throwable thrown = catchThrowable(call);
        if ((thrown instanceof CompletionException || thrown instanceof ExecutionException) && thrown.getCause() != null) {
            thrown = thrown.getCause();
        }
        assertThat(thrown).isInstanceOf(ScoringException.class);
        ScoringException e = (ScoringException) thrown;
        assertThat(e.kind()).as("kind of: %s", e.getMessage()).isEqualTo(kind);
        return e;
    }

    // ------------------------------------------------------------------ 1. extra rows

    @ParameterizedTest
    @EnumSource(Mode.class)
    void predict_answerWithAnExtraRow_failsInternalSyncAndAsync(Mode mode) {
        try (TritonModel model = builder(mode).build()) {
            server.faults().extraRows = true;
            Tensors record = record(model, 1, 0);

            ScoringException sync = fails(Kind.INTERNAL, () -> model.predict(record));
            ScoringException async = fails(Kind.INTERNAL, () -> model.predictAsync(record).join());

            for (ScoringException e : List.of(sync, async)) {
                assertThat(e.getMessage()).contains("output 'output' expects 1 row (the request's) on its first axis, "
                        + "got FP32 [2, 3]");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void predictBatch_answersWithExtraRows_batchAndEveryOneByOneRetryFail(Mode mode) {
        try (TritonModel model = builder(mode).build()) {
            server.faults().extraRows = true;
            List<Tensors> batch = List.of(record(model, 1, 1), record(model, 2, 2), record(model, 1, 3));

            assertThat(fails(Kind.INTERNAL, () -> model.predictBatch(batch)).getMessage())
                    .contains("expects 4 rows (the batch of 3 records)");
            // What the engine does next: each record alone. None may come back as a score.
            for (Tensors r : batch) {
                fails(Kind.INTERNAL, () -> model.predict(r));
            }
        }
    }

    @Test
    void predict_rawServerJsonAnswerWithAnExtraRow_failsInternal() throws Exception {
        try (RawHttpServer raw = new RawHttpServer();
                TritonModel model = TritonModel.builder(URI.create(raw.url()), RawHttpServer.MODEL).binaryData(false)
                        .build()) {
            raw.answer(RawHttpServer.Answer.EXTRA_ROW);
            Tensors record = Tensors.of("x", Tensor.ofFloats(new float[] {1, 2}, 1, 2));

            assertThat(fails(Kind.INTERNAL, () -> model.predict(record)).getMessage())
                    .contains("output 'score' expects 1 row (the request's) on its first axis, got FP32 [2, 1]");
        }
    }

    // ------------------------------------------------------------------ 2. deadlines and limits over REST

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"REST_BINARY", "REST_JSON"})
    void predictAsync_manyAnswersStalledMidBody_failInTimeAndFreeTheirSockets(Mode mode) {
        assumeTrue(Leaks.canCountSockets(), "needs /proc/net/tcp");
        int n = 200;
        int port = URI.create(server.restUrl()).getPort();
        try (TritonModel model = builder(mode).retry(RetryPolicy.none()).circuitBreaker(CircuitBreakerPolicy.disabled())
                .requestTimeout(Duration.ofMillis(400)).build()) {
            Tensors record = record(model, 1, 0);
            server.faults().stallBodyAfterBytes = 10;
            long t0 = System.nanoTime();
            List<CompletableFuture<Tensors>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                futures.add(model.predictAsync(record));
            }
            for (CompletableFuture<Tensors> f : futures) {
                fails(Kind.DEADLINE_EXCEEDED, () -> f.get(10, TimeUnit.SECONDS));
            }
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(400 + MARGIN_MS);

            // Each stalled exchange was cancelled at its deadline and its connection closed, while the server
            // still holds its end. What stays open are idle pooled connections (a connect that completed after
            // its deadline goes to the pool), never one an exchange holds.
            RestTransport rest = (RestTransport) model.transport();
            assertThat(Leaks.await(rest::leasedConnections, c -> c == 0, Duration.ofSeconds(5)))
                    .as("connections held by exchanges: %s", rest.poolStats()).isZero();
            int open = Leaks.await(() -> Leaks.clientConnections(port), c -> c <= rest.idleConnections(),
                    Duration.ofSeconds(5));
            assertThat(open).as("client connections to the server after %d stalled answers (pool %s)", n,
                    rest.poolStats()).isLessThanOrEqualTo(rest.idleConnections());
        }
        assertThat(Leaks.await(() -> Leaks.clientConnections(port), c -> c == 0, Duration.ofSeconds(5))).isZero();
    }

    @ParameterizedTest
    @EnumSource(value = RawHttpServer.Answer.class, names = {"CHUNKED_FLOOD", "UNFRAMED_FLOOD", "LYING_LENGTH"})
    void predict_floodBeyondMaxMessageSize_stopsReadingAtTheLimit(RawHttpServer.Answer answer) throws Exception {
        try (RawHttpServer raw = new RawHttpServer()) {
            try (TritonModel model = TritonModel.builder(URI.create(raw.url()), RawHttpServer.MODEL).binaryData(false)
                    .maxMessageSize(1 << 20).retry(RetryPolicy.none()).requestTimeout(Duration.ofSeconds(10)).build()) {
                raw.answer(answer);
                Tensors record = Tensors.of("x", Tensor.ofFloats(new float[] {1, 2}, 1, 2));

                ScoringException e = fails(Kind.INTERNAL, () -> model.predict(record));

                assertThat(e.getMessage()).contains(answer == RawHttpServer.Answer.LYING_LENGTH ? "malformed response"
                        : "exceeds maxMessageSize");
            }
            // The server's writes end when the client hangs up; what it wrote by then is what the client
            // read plus the kernel's socket buffers, far below the 96 MiB it had to send.
            Leaks.await(() -> raw.openConnections(), c -> c == 0, Duration.ofSeconds(10));
            assertThat(raw.openConnections()).isZero();
            assertThat(raw.floodBytes()).as("bytes the server managed to write").isLessThan(32L << 20);
        }
    }

    // ------------------------------------------------------------------ 3. close releases everything

    @Test
    void close_thirtyRestModelsBuiltUsedAndClosed_leaveNoThreadOrSocket() throws Exception {
        assumeTrue(Leaks.canCountSockets(), "needs /proc/net/tcp");
        int port = URI.create(server.restUrl()).getPort();
        int clientThreads = Leaks.threads(Leaks.CLIENT_THREADS);
        int jdkClientThreads = Leaks.threads("HttpClient-");
        Tensors expected = null;
        for (int i = 0; i < 30; i++) {
            try (TritonModel model = builder(Mode.REST_BINARY).build()) {
                Tensors record = record(model, 1, 7);
                Tensors result = model.predict(record);
                expected = expected == null ? backends.get(IRIS).runDirect(record) : expected;
                assertThat(result).isEqualTo(expected);
            }
        }
        assertThat(Leaks.await(() -> Leaks.threads(Leaks.CLIENT_THREADS), t -> t <= clientThreads, Duration.ofSeconds(5)))
                .as("client threads after closing 30 models").isLessThanOrEqualTo(clientThreads);
        assertThat(Leaks.threads("HttpClient-")).as("JDK HttpClient threads").isLessThanOrEqualTo(jdkClientThreads);
        assertThat(Leaks.await(() -> Leaks.clientConnections(port), c -> c == 0, Duration.ofSeconds(5)))
                .as("client connections after closing 30 models").isZero();
    }

    // ------------------------------------------------------------------ 4. gRPC connection loss

    @Test
    void predict_grpcConnectionsDroppedBetweenCalls_everyCallRetriesAndSucceeds() throws Exception {
        try (DroppingProxy proxy = new DroppingProxy(URI.create(server.grpcUrl()).getPort());
                TritonModel model = TritonModel.builder(URI.create("http://127.0.0.1:" + proxy.port()), IRIS)
                        .protocol(TritonModel.Protocol.GRPC).requestTimeout(Duration.ofSeconds(5))
                        .circuitBreaker(CircuitBreakerPolicy.disabled()).build()) {
            Tensors record = record(model, 1, 3);
            Tensors expected = backends.get(IRIS).runDirect(record);
            for (int i = 0; i < 30; i++) {
                if (i % 2 == 0) {
                    proxy.closeAll();
                } else {
                    proxy.dropAll();
                }
                assertThat(model.predict(record)).as("sync call %d", i).isEqualTo(expected);
            }
            for (int i = 0; i < 30; i++) {
                if (i % 2 == 0) {
                    proxy.closeAll();
                } else {
                    proxy.dropAll();
                }
                assertThat(model.predictAsync(record).get(10, TimeUnit.SECONDS)).as("async call %d", i)
                        .isEqualTo(expected);
            }
            assertThat(proxy.accepted()).as("connections the client opened").isGreaterThan(1);
        }
    }

    // ------------------------------------------------------------------ 6. messages say what happened

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"REST_BINARY", "REST_JSON"})
    void predict_503ThenAnAnswerThatStalls_saysItStalledAndWhatCameBefore(Mode mode) {
        try (TritonModel model = builder(mode).retry(new RetryPolicy(2, Duration.ofMillis(5), Duration.ofMillis(10)))
                .requestTimeout(Duration.ofMillis(500)).build()) {
            server.faults().failNext(1, 503, "model is loading");
            server.faults().stallBodyAfterBytes = 10;

            ScoringException e = fails(Kind.DEADLINE_EXCEEDED, () -> model.predict(record(model, 1, 0)));

            assertThat(e.getMessage()).contains("the answer stalled: HTTP 200 and ").contains("after 2 attempts")
                    .contains("the one before: HTTP 503: model is loading").doesNotContain("no connection");
        }
    }

    @Test
    void predict_grpcServerAnswersDeadlineExceededAtOnce_saysTheServerSaidSo() {
        try (TritonModel model = builder(Mode.GRPC).requestTimeout(Duration.ofSeconds(3)).build()) {
            server.faults().grpcStatus = Status.Code.DEADLINE_EXCEEDED;
            server.faults().failNext(1, 504, "request timed out in the queue");
            long t0 = System.nanoTime();

            ScoringException e = fails(Kind.DEADLINE_EXCEEDED, () -> model.predict(record(model, 1, 0)));

            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(3000);
            assertThat(e.getMessage()).contains("the server answered gRPC DEADLINE_EXCEEDED: request timed out in the "
                    + "queue after").contains("ms, before our ").doesNotContain("no answer within");
        }
    }
}
