package dev.nearline.keda;

import static dev.nearline.core.testing.Causes.messages;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.azure.messaging.servicebus.ServiceBusReceivedMessage;
import dev.nearline.core.Pipeline;
import dev.nearline.keda.standin.ServiceBusStandIn;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Service Bus connection string with a {@code SharedAccessKey}, a storage account key and a SAS signature set in
 * the worker's configuration never appear in its log output (slf4j-simple's System.err, captured), in exception
 * messages and causes of bad configurations, in {@code toString}, in the Prometheus scrape or in replies; and a bad
 * record's value appears in replies, logs and dead-letter descriptions only when the pipeline opts in.
 */
class SecretScanningTest {
    private static final String SB_KEY = "SbKey0a9f3c" + "ZZq7";
    private static final String ACCOUNT_KEY = Base64.getEncoder().encodeToString(
            "account-key-4c1d9e77-secret".getBytes(StandardCharsets.UTF_8));
    private static final String SIG = "SiGn4tur3Xq9";
    private static final String PERSONAL = "Jane Doe";
    private static final List<String> SECRETS = List.of(SB_KEY, ACCOUNT_KEY, SIG);
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path dir;
    private static ServiceBusStandIn standIn;
    private static Path pipeline;
    private static Path verbosePipeline;

    private PrintStream originalErr;
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();

    @BeforeAll
    static void start() throws Exception {
        standIn = ServiceBusStandIn.builder().queue("scan", 4).queue("scan-replies", 4).queue("quiet", 4)
                .queue("quiet-replies", 4).queue("verbose", 4).queue("verbose-replies", 4).start();
        pipeline = TinyPipeline.write(dir);
        verbosePipeline = dir.resolve("verbose.json");
        String json = Files.readString(pipeline);
        assertThat(json).startsWith("{\"name\":\"tiny\",");
        Files.writeString(verbosePipeline, "{\"errors\":{\"includeValues\":true}," + json.substring(1));
    }

    @AfterAll
    static void stop() {
        standIn.close();
    }

    @BeforeEach
    void captureLog() {
        originalErr = System.err;
        // slf4j-simple looks System.err up for every line, so lines logged from now on land in both streams.
        System.setErr(new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                synchronized (log) {
                    log.write(b);
                }
                originalErr.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                synchronized (log) {
                    log.write(b, off, len);
                }
                originalErr.write(b, off, len);
            }
        }, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restoreErr() {
        System.setErr(originalErr);
    }

    private String logText() {
        synchronized (log) {
            return log.toString(StandardCharsets.UTF_8);
        }
    }

    /** The stand-in's connection string with a key of ours (its claims responder accepts any). */
    private static String secretConnectionString() {
        return standIn.connectionString().replace("SharedAccessKey=unused", "SharedAccessKey=" + SB_KEY);
    }

    private static void assertNoSecret(String where, String text) {
        for (String secret : SECRETS) {
            assertThat(text).as("%s must not contain a secret", where).doesNotContain(secret);
        }
    }

    private static Map<String, String> env(String queue) {
        Map<String, String> env = new HashMap<>();
        env.put("NEARLINE_PIPELINE", pipeline.toString());
        env.put("SERVICEBUS_CONNECTION_STRING", secretConnectionString());
        env.put("NEARLINE_REQUEST_QUEUE", queue);
        env.put("NEARLINE_HTTP_PORT", "0");
        env.put("NEARLINE_REPLY_TTL_MS", "600000");
        env.put("NEARLINE_LOCK_RENEWAL_MARGIN_MS", "0");
        env.put("NEARLINE_BATCH_WAIT_MS", "100");
        env.put("NEARLINE_MAX_DELIVERY_COUNT", "3");
        return env;
    }

    @Test
    void config_secretsInConnectionStrings_neverInToStringOrErrors() {
        WorkerConfig config = WorkerConfig.fromEnvironment(env("scan"));
        assertThat(config.toString()).contains("Endpoint=sb://").doesNotContain("SharedAccessKey");
        assertNoSecret("WorkerConfig.toString()", config.toString());

        String blobEndpoint = "https://acct.blob.core.windows.net";
        BlobPayloadStore keyStore = BlobPayloadStore.fromEnvironment(Map.of(BlobPayloadStore.CONTAINER, "payloads",
                BlobPayloadStore.CONNECTION_STRING, "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey="
                        + ACCOUNT_KEY + ";EndpointSuffix=core.windows.net")).orElseThrow();
        BlobPayloadStore sasStore = BlobPayloadStore.fromEnvironment(Map.of(BlobPayloadStore.CONTAINER, "payloads",
                BlobPayloadStore.CONNECTION_STRING, "BlobEndpoint=" + blobEndpoint
                        + ";SharedAccessSignature=sv=2022-11-02&ss=b&sig=" + SIG)).orElseThrow();
        assertThat(keyStore.toString()).contains("acct");
        assertNoSecret("BlobPayloadStore.toString()", keyStore.toString());
        assertThat(sasStore.toString()).contains(blobEndpoint);
        assertNoSecret("BlobPayloadStore.toString()", sasStore.toString());
        BlobPayloadStore urlStore = BlobPayloadStore.fromEnvironment(Map.of(BlobPayloadStore.CONTAINER, "payloads",
                BlobPayloadStore.ACCOUNT_URL, blobEndpoint + "?sv=2022-11-02&sig=" + SIG)).orElseThrow();
        assertThat(urlStore.toString()).contains(blobEndpoint);
        assertNoSecret("BlobPayloadStore.toString()", urlStore.toString());

        List<Map<String, String>> bad = new ArrayList<>();
        Map<String, String> malformed = env("scan");
        malformed.put("SERVICEBUS_CONNECTION_STRING", "Endpoint=sb://ns.servicebus.windows.net/;"
                + "SharedAccessKeyName=root;" + SB_KEY);
        malformed.put("NEARLINE_CONCURRENCY", "many");
        bad.add(malformed);
        Map<String, String> credentialsInNamespace = env("scan");
        credentialsInNamespace.remove("SERVICEBUS_CONNECTION_STRING");
        credentialsInNamespace.put("SERVICEBUS_NAMESPACE", "sb://root:" + SB_KEY + "@ns.servicebus.windows.net");
        bad.add(credentialsInNamespace);
        Map<String, String> both = env("scan");
        both.put("SERVICEBUS_NAMESPACE", "ns.servicebus.windows.net");
        bad.add(both);
        for (Map<String, String> e : bad) {
            Throwable t = catchThrowable(() -> WorkerConfig.fromEnvironment(e));
            assertThat(t).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("SERVICEBUS_");
            messages(t).forEach(m -> assertNoSecret("WorkerConfig error", m));
        }
        List<Map<String, String>> badStores = List.of(
                Map.of(BlobPayloadStore.CONTAINER, "payloads", BlobPayloadStore.CONNECTION_STRING,
                        "AccountName=acct;" + ACCOUNT_KEY),
                Map.of(BlobPayloadStore.CONTAINER, "Bad_Container", BlobPayloadStore.CONNECTION_STRING,
                        "AccountName=acct;AccountKey=" + ACCOUNT_KEY));
        for (Map<String, String> e : badStores) {
            Throwable t = catchThrowable(() -> BlobPayloadStore.fromEnvironment(e));
            assertThat(t).as("%s", e.keySet()).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("payload store configuration is invalid");
            messages(t).forEach(m -> assertNoSecret("BlobPayloadStore error", m));
        }
        assertNoSecret("log", logText());
    }

    @Test
    void worker_secretKeyAndBadRecords_noSecretOrRecordValueInLogsMetricsOrReplies() throws Exception {
        Optional<BlobPayloadStore> none = Optional.empty();
        try (Requester requester = new Requester(standIn.connectionString(), "scan", "scan-replies")) {
            WorkerMain.Running running = WorkerMain.start(WorkerConfig.fromEnvironment(env("scan")), none.orElse(null),
                    null);
            List<ServiceBusReceivedMessage> replies;
            String metrics;
            try {
                requester.send(List.of(requester.request("good", TinyPipeline.record(0)),
                        requester.request("bad-field", "{\"f0\": \"" + PERSONAL + "\"}"),
                        requester.request("bad-category", TinyPipeline.record(1).replace("\"f1\":", "\"f1\":\""
                                + PERSONAL + "\",\"x\":")),
                        requester.raw("bad-json", "{\"record\": {\"f0\": JaneDoe}}")));
                replies = requester.replies(4, Duration.ofSeconds(60));
                metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + running.httpPort()
                        + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            } finally {
                running.shutdown();
            }

            assertThat(replies).hasSize(4);
            assertThat(metrics).contains("nearline_worker_messages_settled_total");
            List<String> texts = new ArrayList<>();
            for (ServiceBusReceivedMessage r : replies) {
                texts.add(r.getBody().toString());
                texts.add(String.valueOf(r.getApplicationProperties()));
            }
            assertThat(String.join("\n", texts)).contains("INVALID_INPUT", "field 'f0' expects a number, got a string of 8");
            for (String text : List.of(String.join("\n", texts), metrics, logText())) {
                assertNoSecret("worker output", text);
                assertThat(text).doesNotContain(PERSONAL).doesNotContain("JaneDoe");
            }
        }
    }

    @Test
    void worker_deadLetterDescriptions_quoteRecordValuesOnlyWhenPipelineOptsIn() throws Exception {
        assertThat(deadLetterDescription("quiet", pipeline)).isEqualTo("field 'f0' expects a number, got a string of 8 characters");
        assertThat(deadLetterDescription("verbose", verbosePipeline))
                .isEqualTo("field 'f0' expects a number, got string \"" + PERSONAL + "\"");
    }

    private static String deadLetterDescription(String queue, Path pipelineFile) throws Exception {
        try (Requester requester = new Requester(standIn.connectionString(), queue, queue + "-replies")) {
            RecordingTransport transport = new RecordingTransport(ServiceBusTransport.builder()
                    .connectionString(secretConnectionString()).queue(queue).replyTimeToLive(Duration.ofMinutes(10))
                    .build());
            requester.send(List.of(requester.request("bad-field", "{\"f0\": \"" + PERSONAL + "\"}")));
            QueueWorker worker = QueueWorker.builder(Pipeline.load(pipelineFile), transport).concurrency(2)
                    .maxBatchSize(32).batchWait(Duration.ofMillis(200)).maxDeliveryCount(3)
                    .lockRenewalMargin(Duration.ZERO).backoff(Duration.ofMillis(100)).build();
            worker.start();
            try {
                assertThat(requester.deadLetters(1, Duration.ofSeconds(30))).hasSize(1);
                List<ServiceBusReceivedMessage> replies = requester.replies(1, Duration.ofSeconds(30));
                assertThat(replies).hasSize(1);
            } finally {
                worker.shutdown();
            }
            return transport.deadLetterDescriptions.get("bad-field");
        }
    }
}
