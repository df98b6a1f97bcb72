package dev.nearline.triton;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.triton.TritonModelIntegrationTest.Mode;
import dev.nearline.triton.server.Faults;
import dev.nearline.triton.server.KServeTestServer;
import dev.nearline.triton.server.OrtBackend;
import dev.nearline.triton.server.SharedModels;
import io.grpc.Status;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A misbehaving KServe v2 server for the Triton client: slow, stalled mid-body, 4xx/5xx and gRPC statuses,
 * dropped connections, malformed or truncated bodies (JSON and binary), floods past the size limit, lying
 * framing, wrong output name, datatype, shape, row count or request id. Over REST JSON, REST binary and
 * gRPC, sync and async. Every case must end in the expected {@link ScoringException} kind, within the
 * deadline plus a margin measured from healthy calls, with no value returned, and once the model is closed
 * with no client thread and no client connection left (bounded polls for both).
 *
 * <p>Servers: the ONNX Runtime test server with its fault switches (real inference, wrong answers made from
 * real ones), a raw socket server for HTTP wire misbehaviour, and a TCP proxy that resets connections. Each
 * case runs {@code -Dnearline.adversarial.repeat=N} times (default 1); the outcome counts per kind are
 * printed at the end.
 */
class MisbehavingServerTest {
    private static final int REPEAT = Math.max(1, Integer.getInteger("nearline.adversarial.repeat", 1));
    private static final String IRIS = "tribuo_iris_lr";
    private static final Duration DEADLINE = Duration.ofMillis(300);
    private static final int RAW_LIMIT = 1 << 20;

    static KServeTestServer server;
    static RawHttpServer raw;
    static Map<String, OrtBackend> backends;
    /** Allowed time past the deadline: 1 s plus 20 times the slowest healthy call, measured at start. */
    static long marginMs;
    static int baselineThreads;
    private static final Map<Kind, Integer> OUTCOMES = new EnumMap<>(Kind.class);
    private static final Map<String, Integer> CASES_BY_SERVER = new TreeMap<>();
    private static int calls;

    /** How the call is made. */
    enum Call {
        SYNC, ASYNC
    }

    /**
     * One misbehaviour: the fault set on the ONNX Runtime server (or the raw server's answer, or the proxy
     * refusing connections), the transport, the call style and the kind it must end in.
     */
    record Case(String name, @Nullable Mode mode, Call call, Kind expected, @Nullable Consumer<Faults> fault,
            RawHttpServer.@Nullable Answer rawAnswer, boolean refuseConnections, @Nullable String messagePart) {

        @Override
        public String toString() {
            return name + " " + (rawAnswer != null ? "RAW_REST_JSON" : mode) + " " + call + " -> " + expected;
        }
    }

    @BeforeAll
    static void start() throws Exception {
        backends = SharedModels.backends(List.of(IRIS));
        server = KServeTestServer.start(backends);
        raw = new RawHttpServer();
        long slowest = 0;
        for (Mode mode : Mode.values()) {
            try (TritonModel model = TritonModelIntegrationTest.builder(server, mode, IRIS).build()) {
                Tensors record = Records.of(model.signature(), 1, 0);
                for (int i = 0; i < 5; i++) {
                    long t0 = System.nanoTime();
                    model.predict(record);
                    slowest = Math.max(slowest, System.nanoTime() - t0);
                }
            }
        }
        marginMs = 1000 + 20 * TimeUnit.NANOSECONDS.toMillis(slowest);
        baselineThreads = Leaks.await(() -> Leaks.threads(Leaks.CLIENT_THREADS), t -> t == 0, Duration.ofSeconds(5));
    }

    @AfterAll
    static void stop() {
        System.out.println("MisbehavingServerTest: " + CASES_BY_SERVER.values().stream().mapToInt(Integer::intValue).sum()
                + " cases (" + CASES_BY_SERVER + "), " + calls + " calls (repeat " + REPEAT + "), outcomes by kind "
                + OUTCOMES + ", margin " + marginMs + "ms past a " + DEADLINE.toMillis() + "ms deadline");
        if (raw != null) {
            raw.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void release() {
        server.faults().reset();
        raw.releaseStalled();
        raw.answer(RawHttpServer.Answer.OK);
    }

    // ------------------------------------------------------------------ the cases

    static List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        Mode[] rest = {Mode.REST_BINARY, Mode.REST_JSON};
        for (Call call : Call.values()) {
            for (Mode mode : Mode.values()) {
                add(cases, "slow", mode, call, Kind.DEADLINE_EXCEEDED, f -> f.holdRequests(1), "within");
                for (int status : new int[] {400, 500}) {
                    Kind kind = status == 400 ? Kind.INVALID_INPUT : Kind.INTERNAL;
                    add(cases, "status " + status, mode, call, kind,
                            f -> f.failNext(Integer.MAX_VALUE, status, "misbehaving"), "misbehaving");
                }
                add(cases, "status 429", mode, call, Kind.OVERLOADED,
                        f -> f.failNext(Integer.MAX_VALUE, 429, "queue full"), "queue full");
                add(cases, "status 503", mode, call, Kind.UNAVAILABLE,
                        f -> f.failNext(Integer.MAX_VALUE, 503, "draining"), "draining");
                add(cases, "wrong output name", mode, call, Kind.INTERNAL, f -> f.wrongOutputName = true,
                        "unexpected output 'output_renamed'");
                add(cases, "wrong datatype", mode, call, Kind.INTERNAL, f -> f.wrongDatatype = true,
                        "expects FP32 [-1, 3], got INT32");
                add(cases, "wrong shape", mode, call, Kind.INTERNAL, f -> f.wrongShape = true,
                        "expects FP32 [-1, 3], got FP32 [1, 4]");
                add(cases, "extra row", mode, call, Kind.INTERNAL, f -> f.extraRows = true, "expects 1 row");
                add(cases, "wrong request id", mode, call, Kind.INTERNAL, f -> f.wrongId = true,
                        "does not match request id");
            }
            for (Mode mode : rest) {
                add(cases, "stalled mid-body", mode, call, Kind.DEADLINE_EXCEEDED, f -> f.stallBodyAfterBytes = 10,
                        "the answer stalled");
                for (int status : new int[] {401, 403, 404, 502, 504}) {
                    add(cases, "status " + status, mode, call, Kind.UNAVAILABLE,
                            f -> f.failNext(Integer.MAX_VALUE, status, "misbehaving"), "HTTP " + status);
                }
                add(cases, "status 408", mode, call, Kind.DEADLINE_EXCEEDED,
                        f -> f.failNext(Integer.MAX_VALUE, 408, "slow"), "HTTP 408");
                add(cases, "status 413", mode, call, Kind.INVALID_INPUT,
                        f -> f.failNext(Integer.MAX_VALUE, 413, "too big"), "HTTP 413");
                add(cases, "status 501", mode, call, Kind.INTERNAL,
                        f -> f.failNext(Integer.MAX_VALUE, 501, "nope"), "HTTP 501");
                add(cases, "connection dropped", mode, call, Kind.UNAVAILABLE, f -> f.dropConnection = true,
                        "connection closed");
                add(cases, "malformed JSON body", mode, call, Kind.INTERNAL, f -> f.malformedBody = true,
                        "malformed response");
                add(cases, "chunked flood", mode, call, Kind.INTERNAL, f -> f.floodChunkedBytes = 96L << 20,
                        "exceeds maxMessageSize");
            }
            add(cases, "truncated binary data", Mode.REST_BINARY, call, Kind.INTERNAL, f -> f.truncateBinary = true,
                    "remain in the body");
            add(cases, "truncated raw output", Mode.GRPC, call, Kind.INTERNAL, f -> f.truncateBinary = true,
                    "bytes of data, expected");
            Map<Status.Code, Kind> grpc = new EnumMap<>(Status.Code.class);
            grpc.put(Status.Code.DEADLINE_EXCEEDED, Kind.DEADLINE_EXCEEDED);
            grpc.put(Status.Code.UNKNOWN, Kind.INTERNAL);
            grpc.put(Status.Code.UNIMPLEMENTED, Kind.INTERNAL);
            grpc.put(Status.Code.DATA_LOSS, Kind.INTERNAL);
            grpc.put(Status.Code.ABORTED, Kind.INTERNAL);
            grpc.put(Status.Code.NOT_FOUND, Kind.UNAVAILABLE);
            grpc.put(Status.Code.UNAUTHENTICATED, Kind.UNAVAILABLE);
            grpc.put(Status.Code.PERMISSION_DENIED, Kind.UNAVAILABLE);
            grpc.put(Status.Code.CANCELLED, Kind.UNAVAILABLE);
            grpc.put(Status.Code.FAILED_PRECONDITION, Kind.INVALID_INPUT);
            grpc.put(Status.Code.OUT_OF_RANGE, Kind.INVALID_INPUT);
            for (Map.Entry<Status.Code, Kind> e : grpc.entrySet()) {
                add(cases, "gRPC " + e.getKey(), Mode.GRPC, call, e.getValue(), f -> {
                    f.grpcStatus = e.getKey();
                    f.failNext(Integer.MAX_VALUE, 500, "misbehaving");
                }, "gRPC " + e.getKey());
            }
            cases.add(new Case("connections reset", Mode.GRPC, call, Kind.UNAVAILABLE, null, null, true, "UNAVAILABLE"));
            Map<RawHttpServer.Answer, Kind> rawAnswers = new EnumMap<>(RawHttpServer.Answer.class);
            rawAnswers.put(RawHttpServer.Answer.CHUNKED_FLOOD, Kind.INTERNAL);
            rawAnswers.put(RawHttpServer.Answer.UNFRAMED_FLOOD, Kind.INTERNAL);
            rawAnswers.put(RawHttpServer.Answer.LYING_LENGTH, Kind.INTERNAL);
            rawAnswers.put(RawHttpServer.Answer.HUGE_LENGTH, Kind.INTERNAL);
            rawAnswers.put(RawHttpServer.Answer.STALL_MID_BODY, Kind.DEADLINE_EXCEEDED);
            rawAnswers.put(RawHttpServer.Answer.TRUNCATED_THEN_CLOSE, Kind.UNAVAILABLE);
            rawAnswers.put(RawHttpServer.Answer.BAD_STATUS_LINE, Kind.INTERNAL);
            rawAnswers.put(RawHttpServer.Answer.CLOSE_WITHOUT_ANSWER, Kind.UNAVAILABLE);
            rawAnswers.put(RawHttpServer.Answer.EXTRA_ROW, Kind.INTERNAL);
            rawAnswers.put(RawHttpServer.Answer.MALFORMED_JSON, Kind.INTERNAL);
            for (Map.Entry<RawHttpServer.Answer, Kind> e : rawAnswers.entrySet()) {
                cases.add(new Case(e.getKey().name().toLowerCase().replace('_', ' '), null, call, e.getValue(), null,
                        e.getKey(), false, null));
            }
        }
        return cases;
    }

    private static void add(List<Case> cases, String name, Mode mode, Call call, Kind kind, Consumer<Faults> fault,
            String messagePart) {
        cases.add(new Case(name, mode, call, kind, fault, null, false, messagePart));
    }

    // ------------------------------------------------------------------ the check

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void misbehavingServer_failsWithTheRightKindInTimeLeavingNothingBehind(Case c) throws Exception {
        DroppingProxy proxy = c.refuseConnections() ? new DroppingProxy(URI.create(server.grpcUrl()).getPort()) : null;
        int port;
        TritonModel.Builder builder;
        if (c.rawAnswer() != null) {
            port = raw.port();
            builder = TritonModel.builder(URI.create(raw.url()), RawHttpServer.MODEL).binaryData(false);
        } else if (proxy != null) {
            port = proxy.port();
            builder = TritonModel.builder(URI.create("http://127.0.0.1:" + proxy.port()), IRIS)
                    .protocol(TritonModel.Protocol.GRPC);
        } else {
            port = URI.create(c.mode() == Mode.GRPC ? server.grpcUrl() : server.restUrl()).getPort();
            builder = TritonModelIntegrationTest.builder(server, c.mode(), IRIS);
        }
        long floodBefore = raw.floodBytes();
        try {
            try (TritonModel model = builder.requestTimeout(DEADLINE).maxMessageSize(RAW_LIMIT)
                    .retry(new RetryPolicy(2, Duration.ofMillis(5), Duration.ofMillis(20)))
                    .circuitBreaker(CircuitBreakerPolicy.disabled()).build()) {
                Tensors record = c.rawAnswer() != null ? Tensors.of("x", Tensor.ofFloats(new float[] {1, 2}, 1, 2))
                        : Records.of(model.signature(), 1, 0);
                if (c.fault() != null) {
                    c.fault().accept(server.faults());
                }
                if (c.rawAnswer() != null) {
                    raw.answer(c.rawAnswer());
                }
                if (proxy != null) {
                    proxy.refuse(true);
                    proxy.dropAll();
                }
                for (int i = 0; i < REPEAT; i++) {
                    check(c, model, record);
                }
            } finally {
                server.faults().reset();
                raw.releaseStalled();
            }
            int threads = Leaks.await(() -> Leaks.threads(Leaks.CLIENT_THREADS), t -> t <= baselineThreads,
                    Duration.ofSeconds(5));
            assertThat(threads).as("client threads after close").isLessThanOrEqualTo(baselineThreads);
            if (Leaks.canCountSockets()) {
                assertThat(Leaks.await(() -> Leaks.clientConnections(port), n -> n == 0, Duration.ofSeconds(5)))
                        .as("client connections to port %d after close", port).isZero();
            }
            RawHttpServer.Answer answer = c.rawAnswer();
            if (answer == RawHttpServer.Answer.CHUNKED_FLOOD || answer == RawHttpServer.Answer.UNFRAMED_FLOOD
                    || answer == RawHttpServer.Answer.LYING_LENGTH) {
                // The flood ends when the client hangs up; by then it got out what the client read (at most the
                // limit) plus the kernel's socket buffers: far below the 96 MiB each answer had to send.
                assertThat(Leaks.await(raw::openConnections, n -> n == 0, Duration.ofSeconds(5)))
                        .as("raw server connections still served").isZero();
                assertThat(raw.floodBytes() - floodBefore).as("bytes the flood got out before the client hung up")
                        .isLessThan(REPEAT * (32L << 20));
            }
        } finally {
            if (proxy != null) {
                proxy.close();
            }
        }
        synchronized (CASES_BY_SERVER) {
            CASES_BY_SERVER.merge(c.rawAnswer() != null ? "raw socket" : proxy != null ? "proxy" : "onnx runtime", 1,
                    Integer::sum);
        }
    }

    private static void check(Case c, TritonModel model, Tensors record) {
        long t0 = System.nanoTime();
        Throwable thrown = catchThrowable(() -> {
            Tensors wrong = c.call() == Call.SYNC ? model.predict(record)
                    : model.predictAsync(record).get(DEADLINE.toMillis() + marginMs + 5000, TimeUnit.MILLISECONDS);
            throw new AssertionError("a misbehaving server's answer became a score: " + wrong);
        });
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        if ((thrown instanceof ExecutionException || thrown instanceof CompletionException) && thrown.getCause() != null) {
            thrown = thrown.getCause();
        }
        assertThat(thrown).isInstanceOf(ScoringException.class);
        ScoringException e = (ScoringException) thrown;
        assertThat(e.kind()).as("kind of: %s", e.getMessage()).isEqualTo(c.expected());
        if (c.messagePart() != null) {
            assertThat(e.getMessage()).contains(c.messagePart());
        }
        assertThat(ms).as("ms to fail (%s)", e.getMessage()).isLessThan(DEADLINE.toMillis() + marginMs);
        synchronized (OUTCOMES) {
            OUTCOMES.merge(e.kind(), 1, Integer::sum);
            calls++;
        }
    }
}
