package dev.nearline.triton;

import static dev.nearline.core.testing.Causes.messages;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.nearline.api.ScoringListener;
import dev.nearline.core.ManagedScorer;
import dev.nearline.core.PluginRegistry;
import dev.nearline.core.internal.PipelineLoader;
import dev.nearline.triton.internal.TransportConfig;
import dev.nearline.triton.server.KServeTestServer;
import dev.nearline.triton.server.OrtBackend;
import dev.nearline.triton.server.SharedModels;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Triton bearer token and API key given by {@code ${env:...}} and {@code ${file:...}} references reach the server,
 * and never appear in the log output (slf4j-simple writes to System.err, captured here at the module's configured
 * level), in exception messages and causes of bad configurations, or in {@code toString}.
 */
class SecretScanningTest {
    private static final String TOKEN = "tkn-9c1f0e77a3b24d5f";
    private static final String API_KEY = "key-51e2d8aa06c9";
    private static final String PASSWORD = "pw-7f3e11c0";
    private static final long NUMERIC_SECRET = 8_675_309_123_457L;
    private static final List<String> SECRETS = List.of(TOKEN, API_KEY, PASSWORD, Long.toString(NUMERIC_SECRET),
            "hunter2", "s3cr3t");
    private static final PluginRegistry PLUGINS = PluginRegistry.discover();

    static KServeTestServer server;

    @TempDir
    Path dir;
    private PrintStream originalErr;
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();

    @BeforeAll
    static void startServer() throws Exception {
        Map<String, OrtBackend> backends = SharedModels.backends(List.of("tribuo_iris_lr"));
        server = KServeTestServer.start(backends);
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void captureLog() throws Exception {
        originalErr = System.err;
        // slf4j-simple looks System.err up on every line, so lines logged from now on land in both streams.
        PrintStream tee = new PrintStream(new java.io.OutputStream() {
            @Override
            public void write(int b) {
                log.write(b);
                originalErr.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                log.write(b, off, len);
                originalErr.write(b, off, len);
            }
        }, true, StandardCharsets.UTF_8);
        System.setErr(tee);
        Files.writeString(dir.resolve("api-key"), API_KEY + "\n");
    }

    @AfterEach
    void restoreErr() {
        System.setErr(originalErr);
    }

    private ManagedScorer<Object, Object> load(String url, String stepExtra) {
        String json = """
                {
                  "preprocessor": {"type": "tensors"},
                  "steps": [{"type": "triton", "url": "%s", "model": "tribuo_iris_lr", "timeout": "5s"%s}],
                  "postprocessor": {"type": "tensors"}
                }
                """.formatted(url, stepExtra);
        Map<String, String> env = Map.of("TRITON_TOKEN", TOKEN, "TRUST_PASSWORD", PASSWORD);
        return PipelineLoader.fromJson(json, "<test>", dir, PLUGINS, ScoringListener.NONE, env::get);
    }

    private static void assertNoSecret(String where, String text) {
        for (String secret : SECRETS) {
            assertThat(text).as("%s must not contain a secret", where).doesNotContain(secret);
        }
    }

    @Test
    void pipeline_tokenAndKeyByReference_reachServerButNoStringOrLog() {
        String record = "{\"inputs\": [{\"name\": \"input\", \"datatype\": \"FP32\", \"shape\": [1, 4],"
                + " \"data\": [5.1, 3.5, 1.4, 0.2]}]}";
        try (ManagedScorer<Object, Object> scorer = load(server.restUrl(),
                ", \"bearerToken\": \"${env:TRITON_TOKEN}\", \"headers\": {\"X-Api-Key\": \"${file:api-key}\"}")) {
            assertThat(scorer.score(record)).isNotNull();

            assertThat(server.requestHeaders().get(server.requestHeaders().size() - 1))
                    .containsEntry("authorization", "Bearer " + TOKEN).containsEntry("x-api-key", API_KEY);
            assertNoSecret("scorer.toString()", scorer.toString());
        }
        assertNoSecret("log", log.toString(StandardCharsets.UTF_8));
    }

    @Test
    void pipeline_badConfigsHoldingSecrets_errorsNeverEchoThem() {
        String rest = server.restUrl();
        String hostPort = URI.create(rest).getAuthority();
        List<String[]> cases = List.of(
                new String[] {rest, ", \"headers\": \"${env:TRITON_TOKEN}\""},
                new String[] {rest, ", \"headers\": \"X-Api-Key: s3cr3t\""},
                new String[] {rest, ", \"headers\": {\"X-Api-Key\": " + NUMERIC_SECRET + "}"},
                new String[] {rest, ", \"bearerToken\": " + NUMERIC_SECRET},
                new String[] {rest, ", \"bearerToken\": \"${env:TRITON_TOKEN}\\nX-Injected: s3cr3t\""},
                new String[] {rest, ", \"headers\": {\"X-Api-Key\": \"s3cr3t\\u0001\"}"},
                new String[] {rest, ", \"headers\": {\"Authorization\": \"Bearer s3cr3t\"},"
                        + " \"bearerToken\": \"${env:TRITON_TOKEN}\""},
                new String[] {rest, ", \"tls\": {\"trustStore\": \"missing.p12\", \"trustStorePassword\": "
                        + NUMERIC_SECRET + "}"},
                new String[] {rest, ", \"tls\": {\"trustStore\": \"missing.p12\","
                        + " \"trustStorePassword\": \"${env:TRUST_PASSWORD}\"}"},
                new String[] {"http://admin:hunter2 x@" + hostPort, ""},
                new String[] {"http://admin:hunter2@" + hostPort, ""},
                new String[] {"http://" + hostPort + "/?sig=s3cr3t", ""},
                new String[] {"ftp://admin:hunter2@" + hostPort + "/", ""},
                new String[] {"${env:TRITON_TOKEN}", ""},
                new String[] {rest, ", \"bearerToken\": \"${env:TRITON_TOKEN}\", \"protocol\": \"${env:TRUST_PASSWORD}\""});
        for (String[] c : cases) {
            Throwable t = catchThrowable(() -> load(c[0], c[1]).close());

            assertThat(t).as("%s %s", c[0], c[1]).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("<test>: $.steps[0].");
            for (String m : messages(t)) {
                assertNoSecret("message of " + c[0] + " " + c[1], m);
            }
        }
        assertNoSecret("log", log.toString(StandardCharsets.UTF_8));
    }

    @Test
    void transportConfig_toString_showsHeaderNamesOnly() {
        TransportConfig config = new TransportConfig(URI.create("http://triton:8000"), "m", "",
                Map.of("Authorization", "Bearer " + TOKEN, "X-Api-Key", API_KEY), Duration.ofSeconds(1),
                HttpClient.Version.HTTP_1_1, null, 1 << 20, 4);

        assertThat(config.toString()).contains("Authorization", "X-Api-Key", "triton:8000");
        assertNoSecret("TransportConfig.toString()", config.toString());
    }
}
