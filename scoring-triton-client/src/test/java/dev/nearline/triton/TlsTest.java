package dev.nearline.triton;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nearline.onnx.testing.FakeSettings;
import dev.nearline.api.Model;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensors;
import dev.nearline.triton.server.KServeTestServer;
import dev.nearline.triton.server.OrtBackend;
import dev.nearline.triton.server.SharedModels;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** https and gRPC over TLS against a server whose self-signed certificate is in a test trust store. */
class TlsTest {
    private static final char[] PASSWORD = "changeit".toCharArray();
    static KServeTestServer server;
    static Map<String, OrtBackend> backends;

    @BeforeAll
    static void startServer() throws Exception {
        backends = SharedModels.backends(List.of("tribuo_iris_lr"));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(load("/tls/server.p12"), PASSWORD);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        server = KServeTestServer.startTls(backends, ctx, kmf.getKeyManagers());
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    private static KeyStore load(String resource) throws Exception {
        try (InputStream in = TlsTest.class.getResourceAsStream(resource)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, PASSWORD);
            return ks;
        }
    }

    @Test
    void predict_restOverHttpsWithTrustStore_matchesOnnxRuntime() throws Exception {
        try (TritonModel model = TritonModel.builder(URI.create(server.restUrl()), "tribuo_iris_lr")
                .trustStore(load("/tls/trust.p12")).build()) {
            Tensors record = Records.of(model.signature(), 2, 0);
            assertThat(model.predict(record)).isEqualTo(backends.get("tribuo_iris_lr").runDirect(record));
        }
    }

    @Test
    void predict_grpcOverTlsWithTrustStore_matchesOnnxRuntime() throws Exception {
        try (TritonModel model = TritonModel.builder(URI.create(server.grpcUrl()), "tribuo_iris_lr")
                .protocol(TritonModel.Protocol.GRPC).trustStore(load("/tls/trust.p12")).build()) {
            Tensors record = Records.of(model.signature(), 2, 0);
            assertThat(model.predict(record)).isEqualTo(backends.get("tribuo_iris_lr").runDirect(record));
        }
    }

    @Test
    void build_untrustedCertificate_failsUnavailable() {
        assertThatThrownBy(() -> TritonModel.builder(URI.create(server.restUrl()), "tribuo_iris_lr")
                .retry(RetryPolicy.none()).build())
                .isInstanceOf(ScoringException.class)
                .satisfies(e -> assertThat(((ScoringException) e).kind()).isEqualTo(ScoringException.Kind.UNAVAILABLE));
    }

    @Test
    void provider_tlsSettings_loadTheTrustStore() throws Exception {
        Path trust = Path.of(resourceUri("/tls/trust.p12"));
        FakeSettings s = new FakeSettings("$.steps[1]", new java.util.LinkedHashMap<>(Map.of(
                "url", server.grpcUrl(), "model", "tribuo_iris_lr", "protocol", "grpc", "timeout", "3s",
                "tls", Map.of("trustStore", "trust.p12", "trustStorePassword", "changeit",
                        "trustStoreType", "PKCS12"))), trust.getParent());

        try (Model model = new TritonModelProvider().create(s)) {
            Tensors record = Records.of(model.signature(), 1, 0);
            assertThat(model.predict(record)).isEqualTo(backends.get("tribuo_iris_lr").runDirect(record));
            assertThat(s.unread()).isEmpty();
        }
    }

    private static URI resourceUri(String name) throws URISyntaxException {
        return TlsTest.class.getResource(name).toURI();
    }
}
