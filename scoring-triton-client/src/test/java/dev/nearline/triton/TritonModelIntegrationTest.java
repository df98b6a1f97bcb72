package dev.nearline.triton;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nearline.api.DataType;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.triton.server.KServeTestServer;
import dev.nearline.triton.server.OrtBackend;
import dev.nearline.triton.server.SharedModels;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The client against a real KServe v2 server (REST on the JDK's HttpServer, gRPC on Netty, both on
 * 127.0.0.1) that serves the shared ONNX models through ONNX Runtime. Every result is compared with
 * the same inputs run through ONNX Runtime in-process: the values must be identical.
 */
class TritonModelIntegrationTest {
    /** Models covering every datatype Nearline has. */
    static final List<String> MODELS = List.of("tribuo_iris_lr", "ort_types_bool", "ort_types_double",
            "ort_types_int8", "ort_types_int16", "ort_types_int32", "ort_types_int64", "ort_types_uint8",
            "ort_types_string", "ort_types_float16", "onnx_node_cast_FLOAT_to_FLOAT16", "onnx_node_cast_FLOAT16_to_FLOAT",
            "onnx_node_cast_FLOAT_to_BFLOAT16", "onnx_node_cast_BFLOAT16_to_FLOAT", "onnx_node_string_concat_utf8",
            "ort_types_uint16");

    /** Models with FP16 or BF16 tensors, which have no JSON form. */
    static final Set<String> HALF_PRECISION = Set.of("ort_types_float16", "onnx_node_cast_FLOAT_to_FLOAT16",
            "onnx_node_cast_FLOAT16_to_FLOAT", "onnx_node_cast_FLOAT_to_BFLOAT16", "onnx_node_cast_BFLOAT16_to_FLOAT");

    static KServeTestServer server;
    static Map<String, OrtBackend> backends;

    /** How the client talks to the server. */
    enum Mode {
        REST_BINARY, REST_JSON, GRPC
    }

    @BeforeAll
    static void startServer() throws Exception {
        backends = SharedModels.backends(MODELS);
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

    static TritonModel.Builder builder(KServeTestServer server, Mode mode, String model) {
        switch (mode) {
            case REST_BINARY:
                return TritonModel.builder(URI.create(server.restUrl()), model);
            case REST_JSON:
                return TritonModel.builder(URI.create(server.restUrl()), model).binaryData(false);
            case GRPC:
                return TritonModel.builder(URI.create(server.grpcUrl()), model).protocol(TritonModel.Protocol.GRPC);
            default:
                throw new AssertionError(mode);
        }
    }

    static Stream<Arguments> modesAndModels() {
        List<Arguments> cases = new ArrayList<>();
        for (Mode mode : Mode.values()) {
            for (String model : MODELS) {
                if (model.equals("ort_types_uint16")) {
                    continue; // not a Nearline datatype: see build_uint16Model_failsNamingTheDatatype
                }
                if (mode == Mode.REST_JSON && HALF_PRECISION.contains(model)) {
                    continue; // FP16/BF16 have no JSON form: see build_halfPrecisionOverJson_failsClearly
                }
                cases.add(Arguments.of(mode, model));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("modesAndModels")
    void predict_everyDatatypeAndProtocol_matchesOnnxRuntimeInProcess(Mode mode, String name) throws Exception {
        try (TritonModel model = builder(server, mode, name).build()) {
            assertThat(model.binaryData()).isEqualTo(mode != Mode.REST_JSON);
            Tensors record = Records.of(model.signature(), 2, 3);

            Tensors remote = model.predict(record);

            Tensors local = backends.get(name).runDirect(record);
            assertThat(remote.names()).isEqualTo(local.names());
            for (int i = 0; i < local.size(); i++) {
                assertThat(remote.get(i)).as("output %s", local.name(i)).isEqualTo(local.get(i));
                assertThat(bytes(remote.get(i))).as("output %s bytes", local.name(i)).isEqualTo(bytes(local.get(i)));
            }
        }
    }

    private static byte[] bytes(Tensor t) {
        ByteBuffer b = ByteBuffer.allocate((int) t.byteSize());
        t.writeLittleEndian(b);
        return b.array();
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void signature_fromMetadata_hasDynamicBatchAxis(Mode mode) {
        try (TritonModel model = builder(server, mode, "tribuo_iris_lr").build()) {
            assertThat(model.signature().inputs()).containsExactly(TensorSpec.of("input", DataType.FP32, -1, 4));
            assertThat(model.signature().outputs()).containsExactly(TensorSpec.of("output", DataType.FP32, -1, 3));
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void predictBatch_batchAxisModel_sendsOneRequestAndSplitsPerRecord(Mode mode) throws Exception {
        try (TritonModel model = builder(server, mode, "tribuo_iris_lr").build()) {
            List<Tensors> batch = List.of(Records.of(model.signature(), 1, 1), Records.of(model.signature(), 3, 2),
                    Records.of(model.signature(), 1, 3));
            int before = server.inferCount();

            List<Tensors> results = model.predictBatch(batch);

            assertThat(server.inferCount() - before).isEqualTo(1);
            // Reference: the same concatenated batch through ORT, split by rows.
            float[] merged = new float[5 * 4];
            int pos = 0;
            for (Tensors r : batch) {
                float[] v = r.require("input").toFloatArray();
                System.arraycopy(v, 0, merged, pos, v.length);
                pos += v.length;
            }
            float[] expected = backends.get("tribuo_iris_lr")
                    .runDirect(Tensors.of("input", Tensor.ofFloats(merged, 5, 4))).require("output").toFloatArray();
            assertThat(results).hasSize(3);
            assertThat(results.get(0).require("output").shape()).containsExactly(1, 3);
            assertThat(results.get(1).require("output").shape()).containsExactly(3, 3);
            assertThat(results.get(2).require("output").shape()).containsExactly(1, 3);
            float[] actual = new float[15];
            pos = 0;
            for (Tensors r : results) {
                float[] v = r.require("output").toFloatArray();
                System.arraycopy(v, 0, actual, pos, v.length);
                pos += v.length;
            }
            assertThat(actual).containsExactly(expected);
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void predictBatch_modelWithoutBatchAxis_sendsOneRequestPerRecord(Mode mode) throws Exception {
        try (TritonModel model = builder(server, mode, "ort_types_int32").build()) {
            List<Tensors> batch = List.of(Records.of(model.signature(), 1, 1), Records.of(model.signature(), 1, 2));
            int before = server.inferCount();

            List<Tensors> results = model.predictBatch(batch);

            assertThat(server.inferCount() - before).isEqualTo(2);
            for (int i = 0; i < batch.size(); i++) {
                assertThat(results.get(i)).isEqualTo(backends.get("ort_types_int32").runDirect(batch.get(i)));
            }
        }
    }

    @Test
    void predictBatch_recordsWithDifferentFeatureCounts_failsWithInvalidInput() {
        try (TritonModel model = builder(server, Mode.REST_BINARY, "tribuo_iris_lr").build()) {
            List<Tensors> batch = List.of(Records.of(model.signature(), 1, 1),
                    Tensors.of("input", Tensor.ofFloats(new float[5], 1, 5)));

            assertThatThrownBy(() -> model.predictBatch(batch)).isInstanceOf(ScoringException.class)
                    .satisfies(e -> assertThat(((ScoringException) e).kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT))
                    .hasMessageContaining("record 1").hasMessageContaining("'input'");
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void predictAsync_manyRequestsHeldByServer_noClientThreadWaitsForOne(Mode mode) throws Exception {
        try (TritonModel model = builder(server, mode, "tribuo_iris_lr").requestTimeout(Duration.ofSeconds(10)).build()) {
            int n = 48;
            server.faults().holdRequests(n);
            List<CompletableFuture<Tensors>> futures = new ArrayList<>();
            List<Tensors> records = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Tensors r = Records.of(model.signature(), 1, i);
                records.add(r);
                futures.add(model.predictAsync(r));
            }

            assertThat(server.faults().awaitArrivals(10, TimeUnit.SECONDS)).as("all requests reached the server").isTrue();
            // With every request held by the server, no client thread may be tied to one: all the
            // transport's threads must go back to idling in their pool.
            assertThat(busyClientThreads(Duration.ofSeconds(5))).as("client threads busy while %d requests are in flight", n)
                    .isEmpty();
            server.faults().release();

            for (int i = 0; i < n; i++) {
                assertThat(futures.get(i).get(10, TimeUnit.SECONDS))
                        .isEqualTo(backends.get("tribuo_iris_lr").runDirect(records.get(i)));
            }
        }
    }

    /** Client transport threads not idle in their pool, after waiting up to {@code patience} for them to settle. */
    private static List<String> busyClientThreads(Duration patience) {
        long end = System.nanoTime() + patience.toNanos();
        List<String> busy;
        do {
            busy = new ArrayList<>();
            for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
                if (!e.getKey().getName().startsWith("nearline-triton-")) {
                    continue;
                }
                boolean idle = false;
                for (StackTraceElement frame : e.getValue()) {
                    // A pool thread waiting for a task, or the REST client's I/O thread waiting in its selector.
                    idle |= frame.getClassName().equals("java.util.concurrent.ThreadPoolExecutor")
                            && frame.getMethodName().equals("getTask");
                    idle |= frame.getClassName().equals("sun.nio.ch.SelectorImpl")
                            && frame.getMethodName().equals("lockAndDoSelect");
                }
                if (!idle) {
                    busy.add(e.getKey().getName() + " " + e.getKey().getState());
                }
            }
            if (!busy.isEmpty()) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // poll, as Awaitility would
            }
        } while (!busy.isEmpty() && System.nanoTime() < end);
        return busy;
    }

    @Test
    void build_halfPrecisionOverJson_failsClearly() {
        assertThatThrownBy(() -> builder(server, Mode.REST_JSON, "onnx_node_cast_FLOAT_to_FLOAT16").build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("FP16").hasMessageContaining("JSON").hasMessageContaining("binaryData(false)");
    }

    @Test
    void build_serverWithoutBinaryExtension_fallsBackToJson() throws Exception {
        server.faults().noBinaryExtension = true;
        try (TritonModel model = builder(server, Mode.REST_BINARY, "ort_types_string").build()) {
            assertThat(model.binaryData()).isFalse();
            Tensors record = Records.of(model.signature(), 1, 4);
            int before = server.contentTypes().size();

            Tensors result = model.predict(record);

            assertThat(result).isEqualTo(backends.get("ort_types_string").runDirect(record));
            assertThat(server.contentTypes().subList(before, server.contentTypes().size()))
                    .containsExactly("application/json");
        }
    }

    @Test
    void build_serverWithoutBinaryExtensionAndFp16Model_failsClearly() {
        server.faults().noBinaryExtension = true;
        assertThatThrownBy(() -> builder(server, Mode.REST_BINARY, "onnx_node_cast_FLOAT16_to_FLOAT").build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("FP16").hasMessageContaining("binary_tensor_data");
    }

    @Test
    void predict_restBinary_sendsOctetStreamWithHeaderLength() {
        try (TritonModel model = builder(server, Mode.REST_BINARY, "tribuo_iris_lr").build()) {
            int before = server.contentTypes().size();
            model.predict(Records.of(model.signature(), 1, 0));
            assertThat(server.contentTypes().subList(before, server.contentTypes().size()))
                    .containsExactly("application/octet-stream");
        }
    }

    @Test
    void predict_sequentialRestRequests_reuseConnections() throws Exception {
        // A server of its own: on the shared one, a late call of an earlier test's model could add a connection.
        try (KServeTestServer own = KServeTestServer.start(backends);
             TritonModel model = builder(own, Mode.REST_BINARY, "tribuo_iris_lr").build()) {
            int before = own.clientPorts().size();
            for (int i = 0; i < 10; i++) {
                model.predict(Records.of(model.signature(), 1, i));
            }
            List<Integer> ports = own.clientPorts().subList(before, own.clientPorts().size());
            // The client returns a connection to its pool just after the answer completes the call, so a request
            // sent at once may find none idle and open another; how often depends on scheduling. Without keep-alive
            // every request would have its own connection.
            assertThat(ports).hasSize(10);
            assertThat(new java.util.HashSet<>(ports)).as("connections for 10 sequential requests").hasSizeLessThan(10);
        }
    }

    @Test
    void predict_http2AgainstHttp11Server_fallsBackAndWorks() throws Exception {
        try (TritonModel model = builder(server, Mode.REST_BINARY, "tribuo_iris_lr")
                .httpVersion(java.net.http.HttpClient.Version.HTTP_2).build()) {
            Tensors record = Records.of(model.signature(), 2, 0);
            assertThat(model.predict(record)).isEqualTo(backends.get("tribuo_iris_lr").runDirect(record));
            assertThat(model.predict(record)).isEqualTo(backends.get("tribuo_iris_lr").runDirect(record));
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void build_uint16Model_failsNamingTheDatatype(Mode mode) {
        assertThatThrownBy(() -> builder(server, mode, "ort_types_uint16").build())
                .isInstanceOf(ScoringException.class)
                .satisfies(e -> assertThat(((ScoringException) e).kind()).isEqualTo(ScoringException.Kind.INTERNAL))
                .hasMessageContaining("input 'input'").hasMessageContaining("UINT16");
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void build_unknownModel_failsUnavailable(Mode mode) {
        assertThatThrownBy(() -> builder(server, mode, "no_such_model").build())
                .isInstanceOf(ScoringException.class)
                .satisfies(e -> assertThat(((ScoringException) e).kind()).isEqualTo(ScoringException.Kind.UNAVAILABLE))
                .hasMessageContaining("no_such_model");
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void build_explicitVersion_isUsedAndUnknownVersionFails(Mode mode) {
        try (TritonModel model = builder(server, mode, "tribuo_iris_lr").modelVersion("1").build()) {
            assertThat(model.predict(Records.of(model.signature(), 1, 0)).names()).containsExactly("output");
            assertThat(model.isModelReady()).isTrue();
        }
        if (mode != Mode.GRPC) {
            assertThatThrownBy(() -> builder(server, mode, "tribuo_iris_lr").modelVersion("7").build())
                    .isInstanceOf(ScoringException.class).hasMessageContaining("404");
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void health_runningServer_isLiveAndReady(Mode mode) {
        try (TritonModel model = builder(server, mode, "tribuo_iris_lr").build()) {
            assertThat(model.isLive()).isTrue();
            assertThat(model.isReady()).isTrue();
            assertThat(model.isModelReady()).isTrue();
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void predict_headersAndBearerToken_reachTheServer(Mode mode) {
        try (TritonModel model = builder(server, mode, "tribuo_iris_lr").bearerToken("s3cret")
                .headers(Map.of("X-Api-Key", "k-123")).build()) {
            int before = server.requestHeaders().size();
            model.predict(Records.of(model.signature(), 1, 0));
            List<Map<String, String>> seen = server.requestHeaders();
            assertThat(seen.subList(before, seen.size()))
                    .containsExactly(Map.of("authorization", "Bearer s3cret", "x-api-key", "k-123"));
            assertThat(model.toString()).doesNotContain("s3cret").doesNotContain("k-123");
        }
    }

    @Test
    void predict_grpcTypedContents_decodesEveryType() throws Exception {
        server.faults().typedGrpcOutputs = true;
        for (String name : List.of("ort_types_bool", "ort_types_int8", "ort_types_int16", "ort_types_uint8",
                "ort_types_int64", "ort_types_double", "ort_types_string", "tribuo_iris_lr")) {
            try (TritonModel model = builder(server, Mode.GRPC, name).build()) {
                Tensors record = Records.of(model.signature(), 2, 5);
                assertThat(model.predict(record)).as(name).isEqualTo(backends.get(name).runDirect(record));
            }
        }
    }

    @Test
    void predict_grpcResponseOver4MiB_succeedsWithRaisedLimit() throws Exception {
        try (TritonModel model = builder(server, Mode.GRPC, "tribuo_iris_lr").requestTimeout(Duration.ofSeconds(20))
                .build()) {
            int rows = 400_000; // output: 400k x 3 FP32 = 4.8 MB
            Tensors record = Records.of(model.signature(), rows, 1);

            Tensors result = model.predict(record);

            assertThat(result.require("output").shape()).containsExactly(rows, 3);
            assertThat(result).isEqualTo(backends.get("tribuo_iris_lr").runDirect(record));
        }
    }

    @Test
    void predict_grpcResponseOverConfiguredLimit_failsInternalNamingTheLimit() {
        try (TritonModel model = builder(server, Mode.GRPC, "tribuo_iris_lr").maxMessageSize(4096).build()) {
            Tensors record = Records.of(model.signature(), 1000, 1); // 12 kB of output
            int before = server.inferCount();

            assertThatThrownBy(() -> model.predict(record)).isInstanceOf(ScoringException.class)
                    .satisfies(e -> assertThat(((ScoringException) e).kind()).isEqualTo(ScoringException.Kind.INTERNAL))
                    .hasMessageContaining("maxMessageSize");
            assertThat(server.inferCount() - before).as("not retried").isEqualTo(1);
        }
    }

    @Test
    void predict_restResponseOverConfiguredLimit_failsInternalNamingTheLimit() {
        try (TritonModel model = builder(server, Mode.REST_BINARY, "tribuo_iris_lr").maxMessageSize(4096).build()) {
            Tensors record = Records.of(model.signature(), 1000, 1);

            assertThatThrownBy(() -> model.predict(record)).isInstanceOf(ScoringException.class)
                    .satisfies(e -> assertThat(((ScoringException) e).kind()).isEqualTo(ScoringException.Kind.INTERNAL))
                    .hasMessageContaining("maxMessageSize");
        }
    }

    @Test
    void close_calledTwiceThenPredict_failsUnavailable() {
        TritonModel model = builder(server, Mode.REST_BINARY, "tribuo_iris_lr").build();
        Tensors record = Records.of(model.signature(), 1, 0);
        model.close();
        model.close();

        assertThatThrownBy(() -> model.predict(record)).isInstanceOf(ScoringException.class)
                .satisfies(e -> assertThat(((ScoringException) e).kind()).isEqualTo(ScoringException.Kind.UNAVAILABLE))
                .hasMessageContaining("closed");
        assertThat(model.isLive()).isFalse();
    }

    @Test
    void predict_missingInput_failsInvalidInputWithoutCallingTheServer() {
        try (TritonModel model = builder(server, Mode.REST_BINARY, "tribuo_iris_lr").build()) {
            int before = server.inferCount();
            assertThatThrownBy(() -> model.predict(Tensors.of("other", Tensor.ofFloats(new float[4], 1, 4))))
                    .isInstanceOf(ScoringException.class)
                    .satisfies(e -> assertThat(((ScoringException) e).kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT))
                    .hasMessageContaining("missing input 'input'");
            assertThat(server.inferCount()).isEqualTo(before);
        }
    }
}
