package dev.nearline.triton;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nearline.onnx.testing.FakeSettings;
import dev.nearline.api.Batching;
import dev.nearline.api.Model;
import dev.nearline.api.Tensors;
import dev.nearline.api.spi.ModelProvider;
import dev.nearline.triton.server.KServeTestServer;
import dev.nearline.triton.server.OrtBackend;
import dev.nearline.triton.server.SharedModels;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The {@code triton} provider: discovery, every settings key, and errors that name the JSON path. */
class TritonModelProviderTest {
    static KServeTestServer server;
    static Map<String, OrtBackend> backends;

    @BeforeAll
    static void startServer() throws Exception {
        backends = SharedModels.backends(List.of("tribuo_iris_lr"));
        server = KServeTestServer.start(backends);
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    private static Map<String, Object> settings(Object... pairs) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put((String) pairs[i], pairs[i + 1]);
        }
        return m;
    }

    @Test
    void serviceLoader_classPath_findsTheTritonType() {
        List<String> types = ServiceLoader.load(ModelProvider.class).stream()
                .map(p -> p.get().type()).toList();

        assertThat(types).contains("triton");
        assertThat(new TritonModelProvider().isAvailable()).isTrue();
    }

    @Test
    void create_everyKeyOverRest_readsAllKeysAndPredicts() throws Exception {
        FakeSettings s = FakeSettings.of(settings("type", "triton", "url", server.restUrl(), "model", "tribuo_iris_lr",
                "version", "1", "protocol", "rest", "binary", true, "httpVersion", "1.1", "timeout", "2s",
                "connectTimeout", "500ms", "headers", Map.of("X-Api-Key", "k-1"), "bearerToken", "t-1",
                "maxInFlight", 16, "maxMessageSize", 1 << 20, "retries", 1, "retryBackoff", "10ms",
                "retryMaxBackoff", "100ms", "circuitBreaker", settings("failureThreshold", 3, "openDuration", "2s")));
        s.string("type"); // the engine reads the type

        try (Model model = new TritonModelProvider().create(s)) {
            Tensors record = Records.of(model.signature(), 1, 0);
            assertThat(model.predict(record)).isEqualTo(backends.get("tribuo_iris_lr").runDirect(record));
            assertThat(s.unread()).isEmpty();
            assertThat(server.requestHeaders().get(server.requestHeaders().size() - 1))
                    .containsEntry("x-api-key", "k-1").containsEntry("authorization", "Bearer t-1");
        }
    }

    @Test
    void create_grpcProtocol_predicts() throws Exception {
        FakeSettings s = FakeSettings.of(settings("url", server.grpcUrl(), "model", "tribuo_iris_lr",
                "protocol", "grpc", "timeout", "PT2S"));

        try (Model model = new TritonModelProvider().create(s)) {
            assertThat(model).isInstanceOf(TritonModel.class);
            assertThat(model.toString()).contains("GRPC");
            Tensors record = Records.of(model.signature(), 2, 1);
            assertThat(model.predict(record)).isEqualTo(backends.get("tribuo_iris_lr").runDirect(record));
        }
    }

    @Test
    void create_missingModel_failsNamingThePath() {
        FakeSettings s = FakeSettings.of(settings("url", server.restUrl()));

        assertThatThrownBy(() -> new TritonModelProvider().create(s)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("$.steps[0].model: required");
    }

    @Test
    void create_unknownProtocol_failsNamingThePath() {
        FakeSettings s = FakeSettings.of(settings("url", server.restUrl(), "model", "m", "protocol", "websocket"));

        assertThatThrownBy(() -> new TritonModelProvider().create(s)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("$.steps[0].protocol:");
    }

    @Test
    void create_urlNotHttp_failsNamingThePath() {
        FakeSettings s = FakeSettings.of(settings("url", "triton:8000", "model", "m"));

        assertThatThrownBy(() -> new TritonModelProvider().create(s)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("$.steps[0].url: Triton URL must be absolute http or https");
    }

    @Test
    void create_grpcUrlWithoutPort_failsNamingThePath() {
        FakeSettings s = FakeSettings.of(settings("url", "http://triton", "model", "m", "protocol", "grpc"));

        assertThatThrownBy(() -> new TritonModelProvider().create(s)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("$.steps[0].url: gRPC URL needs a port, such as http://triton:8001, got http://triton");
    }

    @Test
    void create_batchAxisNone_declaresNoBatchingOnAPlainServer() {
        server.faults().plainKServe = true;
        try {
            FakeSettings s = FakeSettings.of(settings("url", server.restUrl(), "model", "tribuo_iris_lr",
                    "batchAxis", "none"));
            try (Model model = new TritonModelProvider().create(s)) {
                assertThat(model.batching()).isEqualTo(Batching.none());
                assertThat(s.unread()).isEmpty();
            }
            FakeSettings zero = FakeSettings.of(settings("url", server.restUrl(), "model", "tribuo_iris_lr",
                    "batchAxis", 0));
            try (Model model = new TritonModelProvider().create(zero)) {
                assertThat(model.batching()).isEqualTo(Batching.alongAxis(0));
            }
        } finally {
            server.faults().reset();
        }
    }

    @Test
    void create_batchAxisOtherThanZeroOrNone_failsNamingThePath() {
        FakeSettings one = FakeSettings.of(settings("url", server.restUrl(), "model", "m", "batchAxis", 1));
        FakeSettings word = FakeSettings.of(settings("url", server.restUrl(), "model", "m", "batchAxis", "rows"));

        assertThatThrownBy(() -> new TritonModelProvider().create(one)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("$.steps[0].batchAxis: batch axis 1 is not supported");
        assertThatThrownBy(() -> new TritonModelProvider().create(word)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("$.steps[0].batchAxis");
    }

    @Test
    void create_zeroMaxInFlight_failsNamingThePath() {
        FakeSettings s = FakeSettings.of(settings("url", server.restUrl(), "model", "m", "maxInFlight", 0));

        assertThatThrownBy(() -> new TritonModelProvider().create(s)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("$.steps[0].maxInFlight: maxInFlight must be >= 1, got 0");
    }

    @Test
    void create_reservedHeader_failsNamingThePathWithoutTheValue() {
        FakeSettings s = FakeSettings.of(settings("url", server.restUrl(), "model", "m",
                "headers", Map.of("Content-Length", "secret-value")));

        assertThatThrownBy(() -> new TritonModelProvider().create(s)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("$.steps[0].headers: header 'Content-Length'")
                .hasMessageNotContaining("secret-value");
    }

    @Test
    void create_missingTrustStoreFile_failsNamingThePath() {
        FakeSettings s = FakeSettings.of(settings("url", "https://127.0.0.1:1", "model", "m",
                "tls", settings("trustStore", "no-such-file.p12", "trustStorePassword", "pw")));

        assertThatThrownBy(() -> new TritonModelProvider().create(s)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("$.steps[0].tls.trustStore: cannot read PKCS12 trust store")
                .hasMessageNotContaining("pw");
    }
}
