package dev.nearline.triton;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

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
import java.util.concurrent.TimeUnit;
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

    /** build() waits up to 5 s for metadata; failing fast means well before that, even on a busy machine. */
    private static final long FAST_MS = 2500;

    private static ScoringException buildFails(TritonModel.Builder builder) {
        long t0 = System.nanoTime();
        Throwable thrown = catchThrowable(builder::build);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(thrown).isInstanceOf(ScoringException.class);
        ScoringException e = (ScoringException) thrown;
        assertThat(e.kind()).as(e.getMessage()).isEqualTo(ScoringException.Kind.UNAVAILABLE);
        assertThat(ms).as("ms to fail: %s", e.getMessage()).isLessThan(FAST_MS);
        return e;
    }

    @Test
    void build_restUntrustedCertificate_failsFastNamingTheTlsHandshake() {
        ScoringException e = buildFails(TritonModel.builder(URI.create(server.restUrl()), "tribuo_iris_lr"));
        assertThat(e.getMessage()).contains("TLS handshake with 127.0.0.1:").contains("trust store");
    }

    @Test
    void build_grpcUntrustedCertificate_failsFastNamingTheTlsHandshake() {
        ScoringException e = buildFails(TritonModel.builder(URI.create(server.grpcUrl()), "tribuo_iris_lr")
                .protocol(TritonModel.Protocol.GRPC));
        assertThat(e.getMessage()).contains("TLS handshake with 127.0.0.1:").contains("trust store");
    }

    @Test
    void build_grpcTlsAgainstPlaintextServer_failsFastNamingTheTlsHandshake() throws Exception {
        try (KServeTestServer plain = KServeTestServer.start(backends)) {
            URI url = URI.create(plain.grpcUrl().replace("http://", "https://"));
            ScoringException e = buildFails(TritonModel.builder(url, "tribuo_iris_lr")
                    .protocol(TritonModel.Protocol.GRPC).trustStore(load("/tls/trust.p12")));
            assertThat(e.getMessage()).contains("TLS handshake").contains("does not speak TLS");
        }
    }

    @Test
    void build_grpcAgainstTheRestPort_failsFastNamingNotAGrpcServer() throws Exception {
        try (KServeTestServer plain = KServeTestServer.start(backends)) {
            ScoringException e = buildFails(TritonModel.builder(URI.create(plain.restUrl()), "tribuo_iris_lr")
                    .protocol(TritonModel.Protocol.GRPC));
            assertThat(e.getMessage()).contains("not a gRPC server");
        }
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
