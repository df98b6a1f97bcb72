package dev.nearline.keda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.azure.core.util.BinaryData;
import com.azure.messaging.servicebus.ServiceBusReceivedMessage;
import com.azure.storage.blob.BlobContainerClient;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nearline.api.DataType;
import dev.nearline.api.Model;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.Scorer;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.core.Pipeline;
import dev.nearline.durable.testing.Azurite;
import dev.nearline.keda.standin.ServiceBusStandIn;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The claim check end to end: the real Service Bus SDK against the embedded-Artemis stand-in for the
 * messages, and the real Blob Storage SDK against Azurite for the payloads. A requester uploads a record of
 * about 5 MB, sends a request that carries only its reference, and reads the reply (by reference too when
 * the output is large); afterwards the container holds nothing the worker should have deleted.
 */
class BlobPayloadStoreTest {
    private static final String REPLIES = "-replies";
    private static final String CONTAINER = "nearline-payloads";
    private static final int FIVE_MB = 5 << 20;

    @RegisterExtension
    static final Azurite azurite = new Azurite();

    @TempDir
    static Path dir;
    private static ServiceBusStandIn standIn;
    private static Path pipeline;
    private static BlobContainerClient container;

    @BeforeAll
    static void start() throws Exception {
        standIn = ServiceBusStandIn.builder()
                .queue("big", 4).queue("big" + REPLIES, 4)
                .queue("echo", 4).queue("echo" + REPLIES, 4)
                .queue("refs", 4).queue("refs" + REPLIES, 4)
                // delivery counts start at 0 on the stand-in: 3 attempts for a worker whose maxDeliveryCount is 2
                .queue("down", 3).queue("down" + REPLIES, 3)
                .queue("late", 4).queue("late" + REPLIES, 4)
                .start();
        pipeline = TinyPipeline.write(dir);
        container = azurite.container(CONTAINER);
    }

    @AfterAll
    static void stop() {
        if (standIn != null) {
            standIn.close();
        }
    }

    private static BlobPayloadStore store() {
        return BlobPayloadStore.builder().connectionString(azurite.connectionString()).container(CONTAINER)
                .timeout(Duration.ofSeconds(20)).build();
    }

    private static QueueWorker.Builder worker(Scorer<? super JsonNode, ?> scorer, String queue, BlobPayloadStore store) {
        return QueueWorker.builder(scorer, ServiceBusTransport.builder().connectionString(standIn.connectionString())
                        .queue(queue).replyTimeToLive(Duration.ofMinutes(10)).build())
                .concurrency(1).maxBatchSize(8).batchWait(Duration.ofMillis(200)).maxDeliveryCount(3)
                .lockRenewalMargin(Duration.ZERO).backoff(Duration.ofMillis(100)).payloadStore(store);
    }

    /** Uploads {@code content} as blob {@code name} and returns its reference. */
    private static String upload(String name, String content) {
        container.getBlobClient(name).upload(BinaryData.fromString(content), true);
        return "blob://" + CONTAINER + "/" + name;
    }

    private static JsonNode body(ServiceBusReceivedMessage m) {
        return TinyPipeline.tree(m.getBody().toString());
    }

    private static Map<String, ServiceBusReceivedMessage> byCorrelationId(List<ServiceBusReceivedMessage> replies) {
        Map<String, ServiceBusReceivedMessage> out = new HashMap<>();
        replies.forEach(r -> out.put(r.getCorrelationId(), r));
        return out;
    }

    /** The tiny pipeline's record {@code i} padded with an ignored text field to at least {@code bytes}. */
    private static String paddedRecord(int i, int bytes) {
        String record = TinyPipeline.record(i);
        return record.substring(0, record.length() - 1) + ",\"notes\":\"" + "x".repeat(bytes) + "\"}";
    }

    @Test
    void worker_fiveMegabyteRecordByReference_scoresItAndDeletesTheRequestBlob() throws Exception {
        String big = paddedRecord(3, FIVE_MB);
        String ref = upload("requests/big-1.json", big);
        try (Requester requester = new Requester(standIn.connectionString(), "big", "big" + REPLIES);
             Scorer<Object, Object> reference = Pipeline.load(pipeline)) {
            requester.send(requester.raw("big-1", "{\"recordRef\":\"" + ref + "\"}"));
            QueueWorker worker = worker(Pipeline.load(pipeline), "big", store()).build();
            worker.start();

            List<ServiceBusReceivedMessage> replies = requester.replies(1, Duration.ofSeconds(60));
            // the blob is deleted after the request is completed, which follows the reply
            await().atMost(Duration.ofSeconds(30)).until(() -> Azurite.names(container).isEmpty());
            worker.shutdown();

            assertThat(big.length()).isGreaterThan(FIVE_MB);
            assertThat(replies).singleElement().satisfies(r -> {
                assertThat(r.getCorrelationId()).isEqualTo("big-1");
                assertThat(r.getApplicationProperties()).containsEntry("nearline-status", "OK");
            });
            JsonNode reply = body(replies.get(0));
            assertThat(reply.has("outputRef")).as("a small output stays inline").isFalse();
            @SuppressWarnings("unchecked")
            Map<String, Object> expected = (Map<String, Object>) reference.score(TinyPipeline.tree(TinyPipeline.record(3)));
            assertThat(reply.at("/output/score").doubleValue()).isEqualTo(((Number) expected.get("score")).doubleValue());
            assertThat(standIn.messageCount("big")).as("request completed").isZero();
            assertThat(Azurite.names(container)).as("nothing orphaned").isEmpty();
        }
    }

    @Test
    void worker_largeOutput_repliesByReferenceAndTheClientDeletesTheReplyBlob() throws Exception {
        float[] values = new float[500_000];
        SplittableRandom random = new SplittableRandom(7);
        ObjectNode record = TinyPipeline.JSON.createObjectNode();
        ArrayNode array = record.putArray("values");
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextDouble();
            array.add(values[i]);
        }
        String recordJson = TinyPipeline.JSON.writeValueAsString(record);
        String ref = upload("requests/echo-1.json", recordJson);
        try (Requester requester = new Requester(standIn.connectionString(), "echo", "echo" + REPLIES)) {
            requester.send(requester.raw("echo-1", "{\"recordRef\":\"" + ref + "\"}"));
            QueueWorker worker = worker(echoPipeline(), "echo", store()).build();
            worker.start();

            List<ServiceBusReceivedMessage> replies = requester.replies(1, Duration.ofSeconds(60));
            await().atMost(Duration.ofSeconds(30)).until(() -> !Azurite.names(container).contains("requests/echo-1.json"));
            worker.shutdown();

            assertThat(recordJson.length()).isGreaterThan(FIVE_MB);
            assertThat(replies).singleElement().satisfies(r -> {
                assertThat(r.getCorrelationId()).isEqualTo("echo-1");
                assertThat(r.getMessageId()).isEqualTo("r:echo-1");
                assertThat(r.getApplicationProperties()).containsEntry("nearline-status", "OK");
                assertThat(r.getBody().toBytes().length).as("the reply message itself is small").isLessThan(1024);
            });
            JsonNode reply = body(replies.get(0));
            assertThat(reply.get("status").asText()).isEqualTo("OK");
            assertThat(reply.has("output")).isFalse();
            String outputRef = reply.get("outputRef").asText();
            assertThat(outputRef).startsWith("blob://" + CONTAINER + "/replies/r-").endsWith(".json");
            String replyBlob = outputRef.substring(("blob://" + CONTAINER + "/").length());
            assertThat(Azurite.names(container)).as("only the reply blob, for the client").containsExactly(replyBlob);

            // the client reads its output, then deletes the blob
            JsonNode output = TinyPipeline.tree(container.getBlobClient(replyBlob).downloadContent().toString());
            assertThat(output.get("values").size()).isEqualTo(values.length);
            for (int i = 0; i < values.length; i += 997) {
                assertThat(output.get("values").get(i).floatValue()).as("value %d", i).isEqualTo(values[i]);
            }
            container.getBlobClient(replyBlob).delete();
            assertThat(Azurite.names(container)).as("nothing orphaned").isEmpty();
        }
    }

    @Test
    void worker_missingGarbledOrUnreadableReferences_failInvalidInputNamingTheReferenceNotTheContent() throws Exception {
        String unreadable = upload("requests/not-json.json", "{\"f0\": secret-token-123");
        try (Requester requester = new Requester(standIn.connectionString(), "refs", "refs" + REPLIES)) {
            RecordingTransport transport = new RecordingTransport(ServiceBusTransport.builder()
                    .connectionString(standIn.connectionString()).queue("refs").replyTimeToLive(Duration.ofMinutes(10)).build());
            requester.send(List.of(
                    requester.raw("missing", "{\"recordRef\":\"blob://" + CONTAINER + "/requests/never-uploaded.json\"}"),
                    requester.raw("garbled", "{\"recordRef\":\"https://acct.blob.core.windows.net/c/x?sv=2024&sig=SECRETSIG\"}"),
                    requester.raw("other-container", "{\"recordRef\":\"blob://someone-elses/requests/a.json\"}"),
                    requester.raw("unreadable", "{\"recordRef\":\"" + unreadable + "\"}"),
                    requester.raw("both", "{\"record\":{},\"recordRef\":\"" + unreadable + "\"}")));
            QueueWorker worker = QueueWorker.builder(Pipeline.load(pipeline), transport).concurrency(1).maxBatchSize(8)
                    .batchWait(Duration.ofMillis(200)).maxDeliveryCount(3).lockRenewalMargin(Duration.ZERO)
                    .backoff(Duration.ofMillis(100)).payloadStore(store()).build();
            worker.start();

            Map<String, ServiceBusReceivedMessage> replies = byCorrelationId(requester.replies(5, Duration.ofSeconds(60)));
            List<ServiceBusReceivedMessage> dead = requester.deadLetters(5, Duration.ofSeconds(30));
            worker.shutdown();

            assertThat(replies).containsOnlyKeys("missing", "garbled", "other-container", "unreadable", "both");
            assertThat(dead).hasSize(5);
            assertThat(transport.deadLetterReasons).hasSize(5).allSatisfy((id, reason) -> assertThat(reason).isEqualTo("INVALID_INPUT"));
            Map<String, String> messages = new HashMap<>();
            replies.forEach((id, r) -> {
                assertThat(r.getApplicationProperties()).as(id).containsEntry("nearline-error-kind", "INVALID_INPUT");
                messages.put(id, body(r).at("/error/message").asText());
                assertThat(transport.deadLetterDescriptions.get(id)).as("dead-letter description of %s", id)
                        .isEqualTo(messages.get(id));
            });
            assertThat(messages.get("missing")).isEqualTo("recordRef 'blob://" + CONTAINER + "/requests/never-uploaded.json' does "
                    + "not exist in the payload store (already deleted, removed by a lifecycle rule, or never uploaded)");
            assertThat(messages.get("garbled")).startsWith("'recordRef' must be a reference blob://<container>/<name>")
                    .contains("https://acct.blob.core.windows.net/c/x?<cut>").doesNotContain("SECRETSIG").doesNotContain("sig=");
            assertThat(messages.get("other-container")).contains("'blob://someone-elses/requests/a.json'")
                    .contains("this worker's payload store is container '" + CONTAINER + "'");
            assertThat(messages.get("unreadable")).startsWith("the record at recordRef '" + unreadable
                    + "' is not valid JSON (at line 1, column ");
            assertThat(messages.get("both")).contains("both 'record' and 'recordRef'");
            assertThat(messages.values()).noneMatch(m -> m.contains("secret-token"));
            // a dead-lettered request keeps its blob, for whoever inspects the dead-letter queue (retention: the
            // container's lifecycle rule)
            assertThat(Azurite.names(container)).containsExactly("requests/not-json.json");
            container.getBlobClient("requests/not-json.json").delete();
        }
    }

    @Test
    void worker_storeDoesNotAnswer_abandonsForRedeliveryThenAnswersUnavailableWithinTheBound() throws Exception {
        try (BlackHole blackHole = new BlackHole();
             Requester requester = new Requester(standIn.connectionString(), "down", "down" + REPLIES)) {
            String unreachable = blackHole.connectionString();
            BlobPayloadStore store = BlobPayloadStore.builder().connectionString(unreachable).container(CONTAINER)
                    .timeout(Duration.ofSeconds(1)).build();
            String ref = "blob://" + CONTAINER + "/requests/down-1.json";
            requester.send(requester.raw("down-1", "{\"recordRef\":\"" + ref + "\"}"));
            QueueWorker worker = QueueWorker.builder(Pipeline.load(pipeline), ServiceBusTransport.builder()
                            .connectionString(standIn.connectionString()).queue("down").replyTimeToLive(Duration.ofMinutes(10)).build())
                    .concurrency(1).maxBatchSize(8).batchWait(Duration.ofMillis(200)).maxDeliveryCount(2)
                    .lockRenewalMargin(Duration.ZERO).backoff(Duration.ofMillis(100)).payloadStore(store).build();
            long t0 = System.nanoTime();
            worker.start();

            List<ServiceBusReceivedMessage> replies = requester.replies(1, Duration.ofSeconds(60));
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            List<ServiceBusReceivedMessage> dead = requester.deadLetters(1, Duration.ofSeconds(20));
            double abandoned = worker.meterRegistry().counter("nearline.worker.messages.settled", "outcome", "abandon",
                    "kind", "UNAVAILABLE").count();
            worker.shutdown();

            assertThat(abandoned).as("left for redelivery before the last delivery").isEqualTo(2);
            assertThat(replies).singleElement().satisfies(r -> {
                assertThat(r.getApplicationProperties()).containsEntry("nearline-error-kind", "UNAVAILABLE");
                assertThat(body(r).at("/error/message").asText())
                        .isEqualTo("the payload store at http://127.0.0.1:" + blackHole.port() + "/" + Azurite.ACCOUNT
                                + "/" + CONTAINER + " did not answer the read of '" + ref + "' within 1000 ms")
                        .doesNotContain("AccountKey");
            });
            assertThat(dead).extracting(ServiceBusReceivedMessage::getMessageId).containsExactly("down-1");
            // three deliveries, each cut off at the 1 s store timeout, plus broker round trips: far below the
            // SDK's own defaults (a 4-try retry policy with a 60 s try timeout per call)
            assertThat(took).isLessThan(Duration.ofSeconds(30));
        }
    }

    @Test
    void worker_requestDeadlineBeforeStoreTimeout_readEndsAtTheDeadlineAndTheStaleRequestIsCompleted() throws Exception {
        try (BlackHole blackHole = new BlackHole();
             Requester requester = new Requester(standIn.connectionString(), "late", "late" + REPLIES)) {
            String unreachable = blackHole.connectionString();
            BlobPayloadStore store = BlobPayloadStore.builder().connectionString(unreachable).container(CONTAINER)
                    .timeout(Duration.ofSeconds(60)).build();
            // the delete of the completed request's blob hangs on the black hole too: a short drain cuts it off
            QueueWorker worker = worker(Pipeline.load(pipeline), "late", store).drainTimeout(Duration.ofSeconds(2))
                    .gracePeriod(Duration.ofSeconds(4)).build();
            worker.start();
            long deadline = System.currentTimeMillis() + 3_000;
            long t0 = System.nanoTime();
            requester.send(requester.raw("late-1", "{\"recordRef\":\"blob://" + CONTAINER + "/requests/late.json\","
                    + "\"deadlineMs\":" + deadline + "}"));

            List<ServiceBusReceivedMessage> replies = requester.replies(1, Duration.ofSeconds(40));
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            double abandoned = worker.meterRegistry().counter("nearline.worker.messages.settled", "outcome", "abandon",
                    "kind", "UNAVAILABLE").count();
            await().atMost(Duration.ofSeconds(10)).until(() -> standIn.messageCount("late") == 0);
            worker.shutdown();

            assertThat(replies).singleElement().satisfies(r ->
                    assertThat(r.getApplicationProperties()).containsEntry("nearline-error-kind", "DEADLINE_EXCEEDED"));
            assertThat(took).as("the read ended at the request's deadline, not the store's 60 s timeout")
                    .isLessThan(Duration.ofSeconds(20));
            assertThat(abandoned).as("a stale request is completed, not redelivered").isZero();
        }
    }

    @Test
    void worker_withoutPayloadStore_deadLettersRequestsByReferenceNamingTheSetting() {
        FakeTransport t = new FakeTransport();
        t.offerBody("r1", "{\"recordRef\":\"blob://nearline-payloads/requests/r1.json\"}".getBytes(
                java.nio.charset.StandardCharsets.UTF_8));
        QueueWorker w = QueueWorker.builder(echoPipeline(), t).concurrency(1).batchWait(Duration.ofMillis(50))
                .drainTimeout(Duration.ofSeconds(5)).build();
        w.start();

        await().atMost(Duration.ofSeconds(10)).until(() -> t.deadLettered.containsKey("r1"));
        w.shutdown();

        assertThat(t.deadLettered).containsEntry("r1", "INVALID_INPUT");
        assertThat(t.deadLetterDescriptions.get("r1")).isEqualTo("request is by reference (recordRef "
                + "'blob://nearline-payloads/requests/r1.json') but this worker has no payload store; set NEARLINE_PAYLOAD_CONTAINER");
    }

    @Test
    void worker_storeFailsToTakeALargeOutput_abandonsTheRequestWithoutAReply() throws Exception {
        FakeTransport t = new FakeTransport();
        StringBuilder values = new StringBuilder("{\"values\":[");
        for (int i = 0; i < 40_000; i++) {
            values.append(i == 0 ? "" : ",").append(i);
        }
        t.offer("big-out", values.append("]}").toString(), null, null); // its output is over the 192 KiB threshold
        try (BlackHole blackHole = new BlackHole()) {
            BlobPayloadStore store = BlobPayloadStore.builder().connectionString(blackHole.connectionString())
                    .container(CONTAINER).timeout(Duration.ofMillis(500)).build();
            QueueWorker w = QueueWorker.builder(echoPipeline(), t).concurrency(1).batchWait(Duration.ofMillis(50))
                    .backoff(Duration.ofMillis(50)).drainTimeout(Duration.ofSeconds(5)).payloadStore(store).build();
            w.start();

            await().atMost(Duration.ofSeconds(20)).until(() -> t.abandoned.getOrDefault("big-out", 0) >= 1);
            double timeouts = w.meterRegistry().counter("nearline.worker.transport.timeouts", "call", "payload_write").count();
            w.shutdown();

            assertThat(t.replies).as("no reply without its output").isEmpty();
            assertThat(t.completed).isEmpty();
            assertThat(timeouts).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void fromEnvironment_containerWithoutConnection_namesEveryProblem() {
        assertThat(BlobPayloadStore.fromEnvironment(Map.of())).isEmpty();
        assertThatThrownBy(() -> BlobPayloadStore.fromEnvironment(Map.of(BlobPayloadStore.CONTAINER, "Bad_Name",
                BlobPayloadStore.THRESHOLD_BYTES, "lots")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("NEARLINE_PAYLOAD_CONTAINER must be a container name")
                .hasMessageContaining("NEARLINE_PAYLOAD_CONNECTION_STRING or NEARLINE_PAYLOAD_ACCOUNT_URL is required")
                .hasMessageContaining("NEARLINE_PAYLOAD_THRESHOLD_BYTES must be an integer, got 'lots'");
        BlobPayloadStore store = BlobPayloadStore.fromEnvironment(Map.of(BlobPayloadStore.CONTAINER, CONTAINER,
                BlobPayloadStore.CONNECTION_STRING, azurite.connectionString(), BlobPayloadStore.THRESHOLD_BYTES, "65536"))
                .orElseThrow();
        assertThat(store.thresholdBytes()).isEqualTo(65536);
        assertThat(store.toString()).contains(CONTAINER).doesNotContain("AccountKey").doesNotContain(Azurite.ACCOUNT + ";");
    }

    /** A blob endpoint that accepts connections and never answers; its connection string names Azurite's account. */
    private static final class BlackHole implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final List<Socket> held = new CopyOnWriteArrayList<>();

        BlackHole() throws IOException {
            Thread acceptor = new Thread(() -> {
                try {
                    while (!server.isClosed()) {
                        held.add(server.accept()); // accepts, never answers
                    }
                } catch (IOException e) {
                    // closed
                }
            }, "black-hole");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return server.getLocalPort();
        }

        String connectionString() {
            return azurite.connectionString().replace(":" + azurite.port() + "/", ":" + port() + "/");
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : held) {
                s.close();
            }
        }
    }

    /**
     * A pipeline that returns its record's {@code values} (an array of numbers) as its output: a model whose
     * output is as large as its input.
     */
    private static Scorer<Object, Object> echoPipeline() {
        return Pipeline.builder((Object r) -> {
            JsonNode values = ((JsonNode) r).get("values");
            float[] f = new float[values.size()];
            for (int i = 0; i < f.length; i++) {
                f[i] = values.get(i).floatValue();
            }
            return Tensors.of("input", Tensor.ofFloats(f, 1, f.length));
        }).name("echo").model(new EchoModel()).build(out -> Map.of("values", out.get(0).toFloatArray()));
    }

    /** Returns its input. */
    private static final class EchoModel implements Model {
        private static final ModelSignature SIGNATURE = new ModelSignature(
                List.of(TensorSpec.of("input", DataType.FP32, -1, -1)), List.of(TensorSpec.of("output", DataType.FP32, -1, -1)));

        @Override
        public ModelSignature signature() {
            return SIGNATURE;
        }

        @Override
        public Tensors predict(Tensors inputs) {
            return Tensors.of("output", inputs.require("input"));
        }

        @Override
        public void close() {
        }
    }
}
