package dev.nearline.durable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.azure.core.util.BinaryData;
import com.azure.storage.blob.BlobContainerClient;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.microsoft.azure.functions.HttpResponseMessage;
import dev.nearline.api.Outcome;
import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.core.Pipeline;
import dev.nearline.durable.internal.BatchJob;
import dev.nearline.durable.internal.Json;
import dev.nearline.durable.testing.Azurite;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link BlobPayloadStore} against Azurite (the real Azure Storage emulator) with the real
 * {@code azure-storage-blob} SDK: the durable batch job as it runs on Flex Consumption (no shared folder,
 * every payload in a container) and the Service Bus trigger's claim check, each with a record of about
 * 5 MB, and a store that does not answer.
 */
class BlobPayloadStoreTest {
    private static final String CONTAINER = "nearline-batches";
    private static final int FIVE_MB = 5 << 20;

    @RegisterExtension
    static final Azurite azurite = new Azurite();
    @RegisterExtension
    final OpenedFunctions opened = new OpenedFunctions();

    @TempDir
    Path dir;
    private static BlobContainerClient container;
    private final List<Socket> held = new CopyOnWriteArrayList<>();
    private ServerSocket blackHole;

    @BeforeAll
    static void createContainer() {
        container = azurite.container(CONTAINER);
    }

    @AfterEach
    void emptyContainerAndCloseBlackHole() throws IOException {
        Azurite.names(container).forEach(n -> container.getBlobClient(n).delete());
        for (Socket s : held) {
            s.close();
        }
        if (blackHole != null) {
            blackHole.close();
        }
    }

    /** The settings of an app whose payloads go to the container, connected as on Azure via AzureWebJobsStorage. */
    private Map<String, String> blobEnv(String connectionString, Map<String, String> extra) {
        Map<String, String> env = TestPipelines.env(TestPipelines.tinyPipeline(dir), dir.resolve("no-share"));
        env.put(FunctionsSettings.PAYLOAD_CONTAINER, CONTAINER);
        env.put("AzureWebJobsStorage", connectionString);
        env.putAll(extra);
        return env;
    }

    private NearlineFunctions app(Map<String, String> env, ReplySender replies, boolean echo) {
        NearlineFunctions.Builder b = NearlineFunctions.builder(FunctionsSettings.fromEnvironment(env)).replySender(replies);
        if (echo) {
            Path pipeline = Path.of(env.get(FunctionsSettings.PIPELINE));
            b.scorer(() -> new EchoingScorer(Pipeline.load(pipeline)));
        }
        NearlineFunctions f = b.build();
        opened.add(f);
        return f;
    }

    /** A connection string whose blob endpoint accepts connections and never answers. */
    private String blackHoleConnectionString() throws IOException {
        blackHole = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            try {
                while (!blackHole.isClosed()) {
                    held.add(blackHole.accept());
                }
            } catch (IOException e) {
                // closed
            }
        }, "black-hole");
        acceptor.setDaemon(true);
        acceptor.start();
        return azurite.connectionString().replace(":" + azurite.port() + "/", ":" + blackHole.getLocalPort() + "/");
    }

    /** The tiny pipeline's record {@code i} with an ignored text field that makes it at least {@code bytes} long. */
    private static ObjectNode padded(int i, int bytes) {
        ObjectNode r = TestPipelines.record(i);
        r.put("notes", "n".repeat(bytes));
        return r;
    }

    private static double score(Scorer<Object, Object> scorer, JsonNode record) {
        @SuppressWarnings("unchecked")
        Map<String, Object> out = (Map<String, Object>) scorer.score(record);
        return ((Number) out.get("score")).doubleValue();
    }

    @Test
    void batch_fiveMegabyteRecordOnFlexConsumption_isScoredAndOnlyTheResultsRemain() throws IOException {
        NearlineFunctions f = app(blobEnv(azurite.connectionString(), Map.of(FunctionsSettings.CHUNK_SIZE, "2")),
                new RecordingReplySender(), false);
        assertThat(f.payloadStore()).isInstanceOf(BlobPayloadStore.class);
        ArrayNode records = Json.MAPPER.createArrayNode();
        for (int i = 0; i < 5; i++) {
            records.add(i == 2 ? padded(i, FIVE_MB) : TestPipelines.record(i));
        }
        String body = "{\"records\": " + Json.write(records) + "}";
        List<BatchJob> scheduled = new ArrayList<>();

        HttpResponseMessage started = f.batch().start(FakeHttpRequest.post("/api/batches", body), new RecordingContext("inv-1"),
                (name, job, id) -> scheduled.add(job), this::links);
        BatchJob job = scheduled.get(0);
        List<String> afterStart = Azurite.names(container);
        DurableReplayDriver.Run run = new DurableReplayDriver(ctx -> f.batch().orchestrate(ctx))
                .activity(DurableBatchScoring.ACTIVITY, input -> f.batch().scoreChunk(input, new RecordingContext("act")))
                .run(DurableBatchScoring.ORCHESTRATOR, job);
        HttpResponseMessage results = f.batch().results(FakeHttpRequest.get("/api/batches/" + job.jobId() + "/results"),
                job.jobId(), new RecordingContext("inv-r"));

        assertThat(body.length()).isGreaterThan(FIVE_MB);
        assertThat(started.getStatusCode()).isEqualTo(202);
        assertThat(afterStart).containsExactly(job.jobId() + "/job.json", BatchJob.recordsKey(job.jobId(), 0),
                BatchJob.recordsKey(job.jobId(), 1), BatchJob.recordsKey(job.jobId(), 2));
        BatchReport report = run.output(BatchReport.class);
        assertThat(report.records()).isEqualTo(5);
        assertThat(report.succeeded()).isEqualTo(5);
        assertThat(results.getStatusCode()).isEqualTo(200);
        String[] lines = ((String) results.getBody()).split("\n");
        assertThat(lines).hasSize(5);
        try (Scorer<Object, Object> reference = Pipeline.load(Path.of(f.settings().pipeline().orElseThrow().toString()))) {
            JsonNode line = Json.MAPPER.readTree(lines[2]);
            assertThat(line.get("index").asInt()).isEqualTo(2);
            assertThat(line.at("/output/score").doubleValue()).isEqualTo(score(reference, TestPipelines.record(2)));
        }
        // nothing orphaned: the records went once their chunks were scored; the job and its results stay for the
        // results function (retention: the container's lifecycle rule)
        assertThat(Azurite.names(container)).containsExactly(job.jobId() + "/job.json", BatchJob.resultsKey(job.jobId(), 0),
                BatchJob.resultsKey(job.jobId(), 1), BatchJob.resultsKey(job.jobId(), 2));
        assertThat(dir.resolve("no-share")).as("no shared folder used").doesNotExist();
    }

    @Test
    void batch_activityRunAgainAfterItsRecordsWereDeleted_answersFromItsResults() {
        NearlineFunctions f = app(blobEnv(azurite.connectionString(), Map.of(FunctionsSettings.CHUNK_SIZE, "3")),
                new RecordingReplySender(), false);
        ArrayNode records = Json.MAPPER.createArrayNode();
        for (int i = 0; i < 3; i++) {
            records.add(i == 1 ? TestPipelines.badRecord(i) : TestPipelines.record(i));
        }
        List<BatchJob> scheduled = new ArrayList<>();
        f.batch().start(FakeHttpRequest.post("/api/batches", Json.write(records)), new RecordingContext("inv"),
                (name, job, id) -> scheduled.add(job), this::links);
        String task = Json.write(scheduled.get(0).task(0, false));

        String first = f.batch().scoreChunk(task, new RecordingContext("a1"));
        String again = f.batch().scoreChunk(task, new RecordingContext("a2")); // the host ran it twice

        assertThat(Azurite.names(container)).doesNotContain(BatchJob.recordsKey(scheduled.get(0).jobId(), 0));
        assertThat(again).isEqualTo(first);
        assertThat(Json.readPayload(first, JsonNode.class).at("/summary/failed").asInt()).isEqualTo(1);
    }

    @Test
    void batch_storeDoesNotAnswer_starterAnswers503AndActivityReportsUnavailableWithinTheBound() throws IOException {
        NearlineFunctions f = app(blobEnv(blackHoleConnectionString(), Map.of(FunctionsSettings.PAYLOAD_TIMEOUT_MS, "1000")),
                new RecordingReplySender(), false);
        String body = Json.write(Json.MAPPER.createArrayNode().add(TestPipelines.record(0)));
        long t0 = System.nanoTime();

        HttpResponseMessage response = f.batch().start(FakeHttpRequest.post("/api/batches", body), new RecordingContext("inv"),
                (name, job, id) -> { throw new AssertionError("scheduled without its records"); }, id -> null);
        Duration starterTook = Duration.ofNanos(System.nanoTime() - t0);
        JsonNode outcome = Json.readPayload(f.batch().scoreChunk(Json.write(new BatchJob("nl-x", 1, 1, 1, 1, 1, 1, 1, 0)
                .task(0, false)), new RecordingContext("a")), JsonNode.class);

        assertThat(response.getStatusCode()).isEqualTo(503);
        assertThat((String) response.getBody()).contains("\"kind\":\"UNAVAILABLE\"")
                .contains("http://127.0.0.1:" + blackHole.getLocalPort() + "/" + Azurite.ACCOUNT + "/" + CONTAINER)
                .contains("no answer within 1000 ms").doesNotContain("AccountKey");
        // one write, then a best-effort delete of it, each cut off at the timeout
        assertThat(starterTook).isLessThan(Duration.ofSeconds(10));
        assertThat(outcome.get("failure").asText()).as("retryable: the orchestrator retries the chunk").isEqualTo("UNAVAILABLE");
        assertThat(outcome.get("message").asText()).contains("cannot read records").contains("no answer within 1000 ms");
    }

    @Test
    void serviceBus_fiveMegabyteRecordByReference_repliesByReferenceAndDeletesTheRequestBlob() throws IOException {
        RecordingReplySender replies = new RecordingReplySender();
        NearlineFunctions f = app(blobEnv(azurite.connectionString(), Map.of()), replies, true);
        ObjectNode big = padded(4, FIVE_MB);
        container.getBlobClient("requests/m-big.json").upload(BinaryData.fromString(Json.write(big)), true);
        String ref = "blob://" + CONTAINER + "/requests/m-big.json";
        String[] bodies = {"{\"recordRef\": \"" + ref + "\"}", "{\"record\": " + Json.write(TestPipelines.record(5)) + "}",
                "{\"recordRef\": \"blob://" + CONTAINER + "/requests/never-uploaded.json\"}"};

        f.serviceBus().score(bodies, new String[] {"m-big", "m-small", "m-missing"}, new String[] {"rq", "rq", "rq"},
                new RecordingContext("inv"));

        Map<String, Reply> byId = new LinkedHashMap<>();
        replies.sent.forEach(r -> byId.put(r.correlationId(), r));
        assertThat(byId).containsOnlyKeys("m-big", "m-small", "m-missing");
        JsonNode bigReply = Json.MAPPER.readTree(byId.get("m-big").body());
        assertThat(bigReply.get("status").asText()).isEqualTo("OK");
        assertThat(byId.get("m-big").body().length()).as("the reply message itself is small").isLessThan(1024);
        String outputRef = bigReply.get("outputRef").asText();
        assertThat(outputRef).startsWith("blob://" + CONTAINER + "/replies/r-");
        String replyBlob = outputRef.substring(("blob://" + CONTAINER + "/").length());
        JsonNode output = Json.MAPPER.readTree(container.getBlobClient(replyBlob).downloadContent().toBytes());
        try (Scorer<Object, Object> reference = Pipeline.load(Path.of(f.settings().pipeline().orElseThrow().toString()))) {
            assertThat(output.get("score").doubleValue()).isEqualTo(score(reference, TestPipelines.record(4)));
        }
        assertThat(output.get("notes").asText()).hasSize(FIVE_MB);
        assertThat(Json.MAPPER.readTree(byId.get("m-small").body()).has("output")).as("small replies stay inline").isTrue();
        assertThat(byId.get("m-missing").errorKind()).isEqualTo(Kind.INVALID_INPUT);
        assertThat(Json.MAPPER.readTree(byId.get("m-missing").body()).at("/error/message").asText())
                .isEqualTo("recordRef 'blob://" + CONTAINER + "/requests/never-uploaded.json' does not exist in the payload "
                        + "store (already deleted, removed by a lifecycle rule, or never uploaded)");
        // the request blob is gone; the reply blob is the client's to read and delete
        assertThat(Azurite.names(container)).containsExactly(replyBlob);
        container.getBlobClient(replyBlob).delete();
        assertThat(Azurite.names(container)).isEmpty();
    }

    @Test
    void serviceBus_storeDoesNotAnswer_failsTheInvocationRetryably() throws IOException {
        RecordingReplySender replies = new RecordingReplySender();
        NearlineFunctions f = app(blobEnv(blackHoleConnectionString(), Map.of(FunctionsSettings.PAYLOAD_TIMEOUT_MS, "1000")),
                replies, false);
        String[] bodies = {"{\"recordRef\": \"blob://" + CONTAINER + "/requests/a.json\"}"};

        assertThatThrownBy(() -> f.serviceBus().score(bodies, new String[] {"m-1"}, new String[] {"rq"},
                new RecordingContext("inv")))
                .isInstanceOfSatisfying(ScoringException.class, e -> {
                    assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE);
                    assertThat(e.isRetryable()).isTrue();
                })
                .hasMessageContaining("cannot read recordRef 'blob://" + CONTAINER + "/requests/a.json'")
                .hasMessageContaining("no answer within 1000 ms");
        assertThat(replies.sent).as("no reply: the host abandons and redelivers").isEmpty();
    }

    @Test
    void store_writeReadDelete_roundTripsAndMissingKeysAreEmpty() {
        BlobPayloadStore store = (BlobPayloadStore) FunctionsSettings.fromEnvironment(blobEnv(azurite.connectionString(),
                Map.of())).payloadStore();
        byte[] content = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);

        store.write("jobs/x/one.json", content);
        assertThat(store.read("jobs/x/one.json")).hasValueSatisfying(v -> assertThat(v).isEqualTo(content));
        store.delete("jobs/x/one.json");
        store.delete("jobs/x/one.json"); // deleting what is gone is fine

        assertThat(store.read("jobs/x/one.json")).isEmpty();
        assertThat(store.toString()).contains(CONTAINER).doesNotContain("AccountKey");
        assertThatThrownBy(() -> store.read("../escape")).isInstanceOf(IllegalArgumentException.class);
        BlobPayloadStore missing = BlobPayloadStore.of(new com.azure.storage.blob.BlobServiceClientBuilder()
                .connectionString(azurite.connectionString()).buildClient().getBlobContainerClient("no-such-container"),
                Duration.ofSeconds(5));
        assertThatThrownBy(() -> missing.write("a.json", content)).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("the container does not exist; create it");
    }

    @Test
    void settings_containerWithoutConnection_failsNamingTheSettings() {
        Map<String, String> env = TestPipelines.env(dir.resolve("p.json"), dir.resolve("share"));
        env.put(FunctionsSettings.PAYLOAD_CONTAINER, CONTAINER);
        env.put(FunctionsSettings.PAYLOAD_CONNECTION, "PayloadStorage");

        assertThatThrownBy(() -> FunctionsSettings.fromEnvironment(env)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("NEARLINE_PAYLOAD_CONTAINER is set but its connection is not")
                .hasMessageContaining("PayloadStorage__blobServiceUri");
        env.put("PayloadStorage__blobServiceUri", "https://acct.blob.core.windows.net");
        assertThat(FunctionsSettings.fromEnvironment(env).payloadStore()).isInstanceOf(BlobPayloadStore.class)
                .hasToString("PayloadStore.blob(https://acct.blob.core.windows.net/" + CONTAINER + ")");
    }

    private com.microsoft.durabletask.azurefunctions.HttpManagementPayload links(String id) {
        return new com.microsoft.durabletask.azurefunctions.HttpManagementPayload(id, "https://app/runtime/webhooks/durabletask",
                "code=x");
    }

    /** The tiny pipeline's scorer, whose outputs also carry the record's {@code notes}: an output as large as its record. */
    private static final class EchoingScorer implements Scorer<Object, Object> {
        private final Scorer<Object, Object> delegate;

        EchoingScorer(Scorer<Object, Object> delegate) {
            this.delegate = delegate;
        }

        private static Object echo(Object record, Object output) {
            @SuppressWarnings("unchecked")
            Map<String, Object> out = new HashMap<>((Map<String, Object>) output);
            JsonNode notes = ((JsonNode) record).get("notes");
            if (notes != null) {
                out.put("notes", notes.asText());
            }
            return out;
        }

        @Override
        public Object score(Object record) {
            return echo(record, delegate.score(record));
        }

        @Override
        public Object score(Object record, Duration timeout) {
            return echo(record, delegate.score(record, timeout));
        }

        @Override
        public CompletableFuture<Object> scoreAsync(Object record) {
            return delegate.scoreAsync(record).thenApply(o -> echo(record, o));
        }

        @Override
        public CompletableFuture<Object> scoreAsync(Object record, Duration timeout) {
            return delegate.scoreAsync(record, timeout).thenApply(o -> echo(record, o));
        }

        @Override
        public List<Outcome<Object>> scoreAll(List<? extends Object> records) {
            List<Outcome<Object>> outcomes = delegate.scoreAll(records);
            List<Outcome<Object>> out = new ArrayList<>(outcomes.size());
            for (int i = 0; i < outcomes.size(); i++) {
                Outcome<Object> o = outcomes.get(i);
                out.add(o.error() == null ? Outcome.success(echo(records.get(i), o.value())) : o);
            }
            return out;
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
