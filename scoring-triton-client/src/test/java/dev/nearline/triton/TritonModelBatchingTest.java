package dev.nearline.triton;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nearline.api.Batching;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensors;
import dev.nearline.triton.TritonModelIntegrationTest.Mode;
import dev.nearline.triton.server.KServeTestServer;
import dev.nearline.triton.server.OrtBackend;
import dev.nearline.triton.server.SharedModels;
import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link TritonModel#batching()} from Triton's model configuration (REST {@code .../config}, gRPC
 * {@code ModelConfig}) or the user's declaration, and {@code predictBatch} combining records only when it
 * allows, counted as requests reaching the server.
 */
class TritonModelBatchingTest {
    private static final String IRIS = "tribuo_iris_lr"; // [-1, 4] -> [-1, 3]
    private static final String NO_AXIS = "ort_types_int32"; // no dynamic first dimension

    static KServeTestServer server;
    static Map<String, OrtBackend> backends;

    @BeforeAll
    static void startServer() throws Exception {
        backends = SharedModels.backends(List.of(IRIS, NO_AXIS));
        server = KServeTestServer.start(backends);
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void reset() {
        server.faults().reset();
        server.clearMaxBatchSize(IRIS);
        server.clearMaxBatchSize(NO_AXIS);
    }

    private static List<Tensors> twoRecords(TritonModel model) {
        return List.of(Records.of(model.signature(), 1, 1), Records.of(model.signature(), 2, 2));
    }

    /** Requests that reach the server for one predictBatch of two records, whose answers must match ORT's. */
    private static int requestsFor(TritonModel model, String name) throws Exception {
        List<Tensors> batch = twoRecords(model);
        int before = server.inferCount();
        List<Tensors> out = model.predictBatch(batch);
        for (int i = 0; i < batch.size(); i++) {
            assertThat(out.get(i)).isEqualTo(backends.get(name).runDirect(batch.get(i)));
        }
        return server.inferCount() - before;
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void batching_configWithMaxBatchSize_isAlongAxisZeroAndBatchesInOneRequest(Mode mode) throws Exception {
        server.setMaxBatchSize(IRIS, 8);
        try (TritonModel model = TritonModelIntegrationTest.builder(server, mode, IRIS).build()) {
            assertThat(model.batching()).isEqualTo(Batching.alongAxis(0));
            assertThat(requestsFor(model, IRIS)).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void batching_configWithMaxBatchSizeZero_isNoneAndPredictBatchLoops(Mode mode) throws Exception {
        server.setMaxBatchSize(IRIS, 0);
        try (TritonModel model = TritonModelIntegrationTest.builder(server, mode, IRIS).build()) {
            assertThat(model.batching()).isEqualTo(Batching.none());
            assertThat(requestsFor(model, IRIS)).as("one request per record").isEqualTo(2);
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void batching_plainKServeServer_isUndeclaredAndBatchesAlongTheDynamicFirstAxis(Mode mode) throws Exception {
        server.faults().plainKServe = true;
        try (TritonModel model = TritonModelIntegrationTest.builder(server, mode, IRIS).build()) {
            assertThat(model.batching()).isEqualTo(Batching.undeclared());
            assertThat(requestsFor(model, IRIS)).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void batching_plainKServeServerDeclaredNone_isNoneAndPredictBatchLoops(Mode mode) throws Exception {
        server.faults().plainKServe = true;
        try (TritonModel model = TritonModelIntegrationTest.builder(server, mode, IRIS).batching(Batching.none())
                .build()) {
            assertThat(model.batching()).isEqualTo(Batching.none());
            assertThat(requestsFor(model, IRIS)).isEqualTo(2);
        }
    }

    @Test
    void batching_configPresentAndUserDeclaredNone_keepsNone() throws Exception {
        server.setMaxBatchSize(IRIS, 8);
        try (TritonModel model = TritonModelIntegrationTest.builder(server, Mode.REST_BINARY, IRIS)
                .batching(Batching.none()).build()) {
            assertThat(model.batching()).isEqualTo(Batching.none());
            assertThat(requestsFor(model, IRIS)).isEqualTo(2);
        }
    }

    @Test
    void batching_modelWithoutABatchAxisAndNoConfig_isUndeclaredAndLoops() throws Exception {
        server.faults().plainKServe = true;
        try (TritonModel model = TritonModelIntegrationTest.builder(server, Mode.GRPC, NO_AXIS).build()) {
            assertThat(model.batching()).isEqualTo(Batching.undeclared());
            List<Tensors> batch = List.of(Records.of(model.signature(), 1, 1), Records.of(model.signature(), 1, 2));
            int before = server.inferCount();
            model.predictBatch(batch);
            assertThat(server.inferCount() - before).isEqualTo(2);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"REST_BINARY", "GRPC"})
    void build_configBatchesButMetadataHasNoBatchAxis_failsInternalNamingTheTensor(Mode mode) {
        server.setMaxBatchSize(NO_AXIS, 4);
        assertThatThrownBy(() -> TritonModelIntegrationTest.builder(server, mode, NO_AXIS).build())
                .isInstanceOf(ScoringException.class)
                .satisfies(e -> assertThat(((ScoringException) e).kind()).isEqualTo(ScoringException.Kind.INTERNAL))
                .hasMessageContaining("max_batch_size 4").hasMessageContaining("input 'input' has shape");
    }

    @Test
    void build_declaredAxisZeroButMetadataHasNoBatchAxis_failsNamingTheTensor() {
        server.faults().plainKServe = true;
        assertThatThrownBy(() -> TritonModelIntegrationTest.builder(server, Mode.REST_BINARY, NO_AXIS)
                .batching(Batching.alongAxis(0)).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("batching along axis 0 was declared but input 'input' has shape");
    }

    @Test
    void builder_batchingUndeclaredOrAnotherAxis_isRejected() {
        TritonModel.Builder b = TritonModel.builder(URI.create(server.restUrl()), IRIS);
        assertThatThrownBy(() -> b.batching(Batching.undeclared())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TritonModel.builder(URI.create(server.restUrl()), IRIS).batching(Batching.alongAxis(2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batch axis 2 is not supported");
    }
}
