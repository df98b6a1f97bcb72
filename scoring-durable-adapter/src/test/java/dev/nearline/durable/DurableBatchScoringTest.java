package dev.nearline.durable;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.microsoft.azure.functions.HttpResponseMessage;
import com.microsoft.durabletask.azurefunctions.DurableClientContext;
import com.microsoft.durabletask.azurefunctions.HttpManagementPayload;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.durable.internal.BatchJob;
import dev.nearline.durable.internal.Json;
import dev.nearline.durable.internal.Progress;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The durable batch job end to end: the HTTP starter stores the records and schedules the
 * orchestration; the orchestrator runs in the durable task library's own replay engine
 * ({@link DurableReplayDriver}) with its activities calling {@link DurableBatchScoring#scoreChunk} on a
 * real scorer; the results function reads what the activities wrote.
 */
class DurableBatchScoringTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final OpenedFunctions opened = new OpenedFunctions();

    private NearlineFunctions onnx(Map<String, String> extra) {
        return opened.onTinyPipeline(dir, extra);
    }

    private NearlineFunctions fake(Map<String, String> extra, AtomicInteger transientFailures, IntPredicate failing) {
        Map<String, String> env = TestPipelines.env(dir.resolve("unused.json"), dir.resolve("payloads"));
        env.putAll(extra);
        NearlineFunctions f = NearlineFunctions.builder(FunctionsSettings.fromEnvironment(env))
                .scorer(() -> TestPipelines.fake(transientFailures, failing)).build();
        opened.add(f);
        return f;
    }

    /** Runs the starter with a fake scheduler, returning the job it scheduled. */
    private static BatchJob start(NearlineFunctions f, String body) {
        List<BatchJob> scheduled = new ArrayList<>();
        HttpResponseMessage response = f.batch().start(FakeHttpRequest.post("/api/batches", body), new RecordingContext("inv-1"),
                (name, job, id) -> {
                    assertThat(name).isEqualTo(DurableBatchScoring.ORCHESTRATOR);
                    assertThat(id).isEqualTo(job.jobId());
                    scheduled.add(job);
                }, id -> links(FakeHttpRequest.post("/api/batches", body), id));
        assertThat(response.getStatusCode()).as("starter status, body %s", response.getBody()).isEqualTo(202);
        assertThat(scheduled).hasSize(1);
        return scheduled.get(0);
    }

    private static DurableReplayDriver.Run orchestrate(NearlineFunctions f, BatchJob job) {
        return driver(f, input -> f.batch().scoreChunk(input, new RecordingContext("inv-activity")))
                .run(DurableBatchScoring.ORCHESTRATOR, job);
    }

    private static DurableReplayDriver driver(NearlineFunctions f, Function<String, String> activity) {
        return new DurableReplayDriver(ctx -> f.batch().orchestrate(ctx)).activity(DurableBatchScoring.ACTIVITY, activity);
    }

    /**
     * The status links exactly as the Durable Functions binding computes them: a real
     * {@link DurableClientContext}, whose fields the host normally fills from the binding data.
     */
    private static HttpManagementPayload links(FakeHttpRequest request, String instanceId) {
        try {
            DurableClientContext context = new DurableClientContext();
            for (String[] field : new String[][] {{"taskHubName", "NearlineHub"}, {"requiredQueryStringParameters", "code=secret"},
                    {"rpcBaseUrl", "http://127.0.0.1:17071/durabletask/"}}) {
                Field f = DurableClientContext.class.getDeclaredField(field[0]);
                f.setAccessible(true);
                f.set(context, field[1]);
            }
            return context.createHttpManagementPayload(request, instanceId);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private static String array(int n, IntPredicate bad) {
        ArrayNode a = Json.MAPPER.createArrayNode();
        for (int i = 0; i < n; i++) {
            a.add(bad.test(i) ? TestPipelines.badRecord(i) : TestPipelines.record(i));
        }
        return Json.write(a);
    }

    private static String fakeRecords(int n) {
        ArrayNode a = Json.MAPPER.createArrayNode();
        for (int i = 0; i < n; i++) {
            a.addObject().put("x", i);
        }
        return Json.write(a);
    }

    @Test
    void start_arrayOfRecords_answers202WithStatusUrlsAndStoresChunks() throws IOException {
        NearlineFunctions f = onnx(Map.of(FunctionsSettings.CHUNK_SIZE, "4"));
        FakeHttpRequest request = FakeHttpRequest.post("/api/batches", array(10, i -> false)).header("X-Correlation-ID", "job-42");
        List<BatchJob> scheduled = new ArrayList<>();
        HttpResponseMessage response = f.batch().start(request, new RecordingContext("inv-1"),
                (name, job, id) -> scheduled.add(job), id -> links(request, id));

        assertThat(response.getStatusCode()).isEqualTo(202);
        BatchJob job = scheduled.get(0);
        assertThat(job.records()).isEqualTo(10);
        assertThat(job.chunks()).isEqualTo(3);
        assertThat(response.getHeader("Location"))
                .isEqualTo("https://nearline-app.azurewebsites.net/runtime/webhooks/durabletask/instances/" + job.jobId()
                        + "?code=secret");
        assertThat(response.getHeader("x-correlation-id")).isEqualTo("job-42");
        JsonNode body = Json.MAPPER.readTree((String) response.getBody());
        assertThat(body.get("id").asText()).isEqualTo(job.jobId());
        assertThat(body.get("statusQueryGetUri").asText()).isEqualTo(response.getHeader("Location"));
        assertThat(body.get("terminatePostUri").asText()).contains(job.jobId() + "/terminate");
        Path payloads = dir.resolve("payloads").resolve(job.jobId());
        assertThat(Json.MAPPER.readTree(Files.readString(payloads.resolve("records-000002.json"))).size()).isEqualTo(2);
    }

    @Test
    void start_malformedJson_returns400() {
        NearlineFunctions f = onnx(Map.of());
        HttpResponseMessage response = f.batch().start(FakeHttpRequest.post("/api/batches", "[{\"f0\": 1"),
                new RecordingContext("inv"), (n, j, i) -> { throw new AssertionError("scheduled"); }, id -> null);
        assertThat(response.getStatusCode()).isEqualTo(400);
        assertThat((String) response.getBody()).contains("not valid JSON");
    }

    @Test
    void start_bodyWithoutRecordsOrSource_returns400NamingBoth() {
        NearlineFunctions f = onnx(Map.of());
        HttpResponseMessage response = f.batch().start(FakeHttpRequest.post("/api/batches", "{\"rows\": []}"),
                new RecordingContext("inv"), (n, j, i) -> { throw new AssertionError("scheduled"); }, id -> null);
        assertThat(response.getStatusCode()).isEqualTo(400);
        assertThat((String) response.getBody()).contains("\\\"records\\\"").contains("\\\"source\\\"");
    }

    @Test
    void start_bodyOverLimit_returns413() {
        NearlineFunctions f = onnx(Map.of(FunctionsSettings.MAX_BATCH_BYTES, "100"));
        HttpResponseMessage response = f.batch().start(FakeHttpRequest.post("/api/batches", array(3, i -> false)),
                new RecordingContext("inv"), (n, j, i) -> { throw new AssertionError("scheduled"); }, id -> null);
        assertThat(response.getStatusCode()).isEqualTo(413);
        assertThat((String) response.getBody()).contains(FunctionsSettings.MAX_BATCH_BYTES);
    }

    @Test
    void start_durableBackendDown_returns503WithRetryAfter() {
        NearlineFunctions f = onnx(Map.of(FunctionsSettings.RETRY_AFTER_SECONDS, "5"));
        HttpResponseMessage response = f.batch().start(FakeHttpRequest.post("/api/batches", array(3, i -> false)),
                new RecordingContext("inv"), (n, j, i) -> {
                    throw new IllegalStateException("UNAVAILABLE: io exception talking to 127.0.0.1:17071");
                }, id -> null);
        assertThat(response.getStatusCode()).isEqualTo(503);
        assertThat(response.getHeader("Retry-After")).isEqualTo("5");
        assertThat((String) response.getBody()).contains("\"kind\":\"UNAVAILABLE\"").contains("cannot start batch");
    }

    @Test
    void start_sourceKeyWithJsonLines_scoresEveryLine() throws IOException {
        NearlineFunctions f = onnx(Map.of(FunctionsSettings.CHUNK_SIZE, "2"));
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 5; i++) {
            lines.append(Json.write(TestPipelines.record(i))).append('\n');
        }
        Files.createDirectories(dir.resolve("payloads/uploads"));
        Files.writeString(dir.resolve("payloads/uploads/day-1.jsonl"), lines);

        BatchJob job = start(f, "{\"source\": \"uploads/day-1.jsonl\"}");
        DurableReplayDriver.Run run = orchestrate(f, job);

        BatchReport report = run.output(BatchReport.class);
        assertThat(report.records()).isEqualTo(5);
        assertThat(report.succeeded()).isEqualTo(5);
        assertThat(report.chunks()).isEqualTo(3);
    }

    @Test
    void orchestrate_10000RecordsWithBadOnes_reportsEachErrorAndLosesNone() throws IOException {
        NearlineFunctions f = onnx(Map.of(FunctionsSettings.CHUNK_SIZE, "500", FunctionsSettings.MAX_PARALLEL_CHUNKS, "4"));
        IntPredicate bad = i -> i % 397 == 13;
        Set<Integer> badIndexes = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            if (bad.test(i)) {
                badIndexes.add(i);
            }
        }
        BatchJob job = start(f, "{\"records\": " + array(10_000, bad) + "}");

        DurableReplayDriver.Run run = orchestrate(f, job);

        assertThat(run.status().name()).isEqualTo("ORCHESTRATION_STATUS_COMPLETED");
        BatchReport report = run.output(BatchReport.class);
        assertThat(report.records()).isEqualTo(10_000);
        assertThat(report.chunks()).isEqualTo(20);
        assertThat(report.failed()).isEqualTo(badIndexes.size());
        assertThat(report.succeeded()).isEqualTo(10_000 - badIndexes.size());
        assertThat(report.errorsOmitted()).isZero();
        assertThat(report.errors()).extracting(RecordError::index).containsExactlyElementsOf(badIndexes.stream().sorted().toList());
        assertThat(report.errors()).allSatisfy(e -> {
            assertThat(e.kind()).isEqualTo(Kind.INVALID_INPUT);
            assertThat(e.message()).contains("f7");
        });
        // fan-out bounded by the wave size, one call per chunk (INVALID_INPUT records are not retried)
        assertThat(run.activityCalls()).isEqualTo(20);
        assertThat(run.maxScheduledPerEpisode()).isEqualTo(4);
        // progress in the custom status after each wave, ending at the totals
        List<Progress> progress = new ArrayList<>();
        for (String s : run.customStatuses()) {
            progress.add(Json.readPayload(s, Progress.class));
        }
        assertThat(progress).extracting(Progress::chunksDone).containsExactly(0, 4, 8, 12, 16, 20);
        assertThat(progress.get(progress.size() - 1)).isEqualTo(new Progress(20, 20, 10_000, 10_000,
                report.succeeded(), report.failed()));

        // every record has exactly one result line, in order, through the results function
        HttpResponseMessage results = f.batch().results(FakeHttpRequest.get("/api/batches/" + job.jobId() + "/results"),
                job.jobId(), new RecordingContext("inv-r"));
        assertThat(results.getStatusCode()).isEqualTo(200);
        String[] lines = ((String) results.getBody()).split("\n");
        assertThat(lines).hasSize(10_000);
        for (int i = 0; i < lines.length; i++) {
            JsonNode line = Json.MAPPER.readTree(lines[i]);
            assertThat(line.get("index").asInt()).isEqualTo(i);
            assertThat(line.get("status").asText()).isEqualTo(badIndexes.contains(i) ? "ERROR" : "OK");
            if (!badIndexes.contains(i)) {
                double score = line.get("output").get("score").asDouble();
                assertThat(score).isBetween(0.0, 1.0);
            }
        }
    }

    @Test
    void orchestrate_transientUnavailable_retriesChunkOnBackoffTimers() {
        AtomicInteger failures = new AtomicInteger(2);
        NearlineFunctions f = fake(Map.of(FunctionsSettings.CHUNK_SIZE, "10", FunctionsSettings.CHUNK_FIRST_RETRY_MS, "1000"),
                failures, x -> x == 15);
        BatchJob job = start(f, fakeRecords(30));

        DurableReplayDriver.Run run = orchestrate(f, job);

        BatchReport report = run.output(BatchReport.class);
        assertThat(report.succeeded()).isEqualTo(30);
        assertThat(report.failed()).isZero();
        assertThat(run.timers()).containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2));
        assertThat(run.activityCalls()).isEqualTo(3 + 2);
    }

    @Test
    void orchestrate_persistentUnavailable_salvagesGoodRecordsAndReportsTheRest() {
        NearlineFunctions f = fake(Map.of(FunctionsSettings.CHUNK_SIZE, "10", FunctionsSettings.CHUNK_MAX_ATTEMPTS, "3",
                FunctionsSettings.CHUNK_FIRST_RETRY_MS, "500"), new AtomicInteger(Integer.MAX_VALUE), x -> x == 15);
        BatchJob job = start(f, fakeRecords(30));

        DurableReplayDriver.Run run = orchestrate(f, job);

        BatchReport report = run.output(BatchReport.class);
        assertThat(report.succeeded()).isEqualTo(29);
        assertThat(report.errors()).singleElement().satisfies(e -> {
            assertThat(e.index()).isEqualTo(15);
            assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE);
        });
        assertThat(run.timers()).containsExactly(Duration.ofMillis(500), Duration.ofSeconds(1));
        // 3 chunks once, chunk 1 twice more (3 attempts in all), then once in salvage mode
        assertThat(run.activityCalls()).isEqualTo(3 + 2 + 1);
    }

    @Test
    void orchestrate_chunkWithInvalidInput_isNotRetriedAndEveryRecordIsReported() throws IOException {
        NearlineFunctions f = fake(Map.of(FunctionsSettings.CHUNK_SIZE, "10"), new AtomicInteger(), x -> false);
        BatchJob job = start(f, fakeRecords(30));
        // chunk 2's records are corrupted in the store: the whole chunk is INVALID_INPUT
        Files.writeString(dir.resolve("payloads").resolve(BatchJob.recordsKey(job.jobId(), 2)), "{not json");

        DurableReplayDriver.Run run = orchestrate(f, job);

        BatchReport report = run.output(BatchReport.class);
        assertThat(report.succeeded()).isEqualTo(20);
        assertThat(report.failed()).isEqualTo(10);
        assertThat(report.errors()).extracting(RecordError::index).containsExactly(20, 21, 22, 23, 24, 25, 26, 27, 28, 29);
        assertThat(report.errors()).allSatisfy(e -> assertThat(e.kind()).isEqualTo(Kind.INVALID_INPUT));
        assertThat(run.timers()).isEmpty();
        assertThat(run.activityCalls()).isEqualTo(3);
    }

    @Test
    void orchestrate_hostReportsFailuresInItsOwnWords_invalidChunkIsStillNotRetried() throws IOException {
        // Regression: the kind used to travel in the activity's exception message ("[nearline:KIND] ..."), so
        // a host that words failures its own way turned INVALID_INPUT into a retried INTERNAL.
        NearlineFunctions f = fake(Map.of(FunctionsSettings.CHUNK_SIZE, "10"), new AtomicInteger(), x -> false);
        BatchJob job = start(f, fakeRecords(30));
        Files.writeString(dir.resolve("payloads").resolve(BatchJob.recordsKey(job.jobId(), 1)), "{not json");

        DurableReplayDriver.Run run = driver(f, input -> f.batch().scoreChunk(input, new RecordingContext("a")))
                .hostFailureText("Exception while executing function: Functions.NearlineScoreChunk")
                .run(DurableBatchScoring.ORCHESTRATOR, job);

        BatchReport report = run.output(BatchReport.class);
        assertThat(report.errors()).extracting(RecordError::index).containsExactly(10, 11, 12, 13, 14, 15, 16, 17, 18, 19);
        assertThat(report.errors()).allSatisfy(e -> {
            assertThat(e.kind()).isEqualTo(Kind.INVALID_INPUT);
            assertThat(e.message()).startsWith("chunk 1 failed: chunk 1 of batch " + job.jobId()
                    + ": records are not a JSON array: ");
        });
        assertThat(run.timers()).isEmpty();
        assertThat(run.activityCalls()).isEqualTo(3);
    }

    @Test
    void orchestrate_activityCrashesWithKindLikeText_isRetriedAsInternal() {
        // Regression: a crash whose message happened to contain "[nearline:INVALID_INPUT]" was taken for
        // that kind and its chunk was never retried. A thrown activity is INTERNAL whatever it says.
        NearlineFunctions f = fake(Map.of(FunctionsSettings.CHUNK_SIZE, "10", FunctionsSettings.CHUNK_FIRST_RETRY_MS, "1000"),
                new AtomicInteger(), x -> false);
        BatchJob job = start(f, fakeRecords(20));
        AtomicInteger calls = new AtomicInteger();

        DurableReplayDriver.Run run = driver(f, input -> {
            if (calls.getAndIncrement() == 0) {
                throw new IllegalStateException("[nearline:INVALID_INPUT] worker lost its connection");
            }
            return f.batch().scoreChunk(input, new RecordingContext("a"));
        }).run(DurableBatchScoring.ORCHESTRATOR, job);

        BatchReport report = run.output(BatchReport.class);
        assertThat(report.succeeded()).isEqualTo(20);
        assertThat(report.failed()).isZero();
        assertThat(run.timers()).containsExactly(Duration.ofSeconds(1));
        assertThat(run.activityCalls()).isEqualTo(2 + 1);
    }

    @Test
    void orchestrate_twoChunksFailTheSameAttempt_retryTogetherOnOneTimer() {
        AtomicInteger failures = new AtomicInteger(2);
        NearlineFunctions f = fake(Map.of(FunctionsSettings.CHUNK_SIZE, "10", FunctionsSettings.CHUNK_FIRST_RETRY_MS, "1000"),
                failures, x -> x == 5 || x == 25);
        BatchJob job = start(f, fakeRecords(30));

        DurableReplayDriver.Run run = orchestrate(f, job);

        assertThat(run.output(BatchReport.class).succeeded()).isEqualTo(30);
        assertThat(run.timers()).containsExactly(Duration.ofSeconds(1));
        assertThat(run.activityCalls()).isEqualTo(3 + 2);
    }

    @Test
    void scoreChunk_recordFailsRetryably_returnsTheKindAsDataInsteadOfThrowing() throws IOException {
        NearlineFunctions f = fake(Map.of(FunctionsSettings.CHUNK_SIZE, "10"), new AtomicInteger(1), x -> x == 2);
        BatchJob job = start(f, fakeRecords(3));

        JsonNode outcome = Json.MAPPER.readTree(f.batch().scoreChunk(Json.write(job.task(0, false)), new RecordingContext("a")));

        assertThat(outcome.get("failure").asText()).isEqualTo("UNAVAILABLE");
        assertThat(outcome.get("summary").isNull()).isTrue();
        assertThat(outcome.get("message").asText()).contains("1 of 3 records failed with a retryable kind")
                .doesNotContain("[nearline:");
    }

    @Test
    void orchestrate_sameJobTwice_makesTheSameDecisions() {
        NearlineFunctions f = fake(Map.of(FunctionsSettings.CHUNK_SIZE, "7", FunctionsSettings.MAX_PARALLEL_CHUNKS, "2"),
                new AtomicInteger(), x -> false);
        String body = "[{\"x\":1},{\"fail\":\"INVALID_INPUT\"},{\"x\":3},{\"x\":4},{\"x\":5},{\"x\":6},{\"x\":7},{\"x\":8},"
                + "{\"fail\":\"INVALID_INPUT\"},{\"x\":10},{\"x\":11},{\"x\":12},{\"x\":13},{\"x\":14},{\"x\":15},{\"x\":16}]";
        BatchJob job = start(f, body);

        // each episode already runs twice inside the driver; the whole job also runs twice here
        DurableReplayDriver.Run first = orchestrate(f, job);
        DurableReplayDriver.Run second = orchestrate(f, job);

        assertThat(second.output()).isEqualTo(first.output());
        assertThat(second.customStatuses()).isEqualTo(first.customStatuses());
        assertThat(second.callsPerInput()).isEqualTo(first.callsPerInput());
        assertThat(second.episodes()).isEqualTo(first.episodes());
        assertThat(first.output(BatchReport.class).errors()).extracting(RecordError::index).containsExactly(1, 8);
    }

    @Test
    void results_unknownJob_returns404() {
        NearlineFunctions f = onnx(Map.of());
        HttpResponseMessage response = f.batch().results(FakeHttpRequest.get("/api/batches/nl-nope/results"), "nl-nope",
                new RecordingContext("inv"));
        assertThat(response.getStatusCode()).isEqualTo(404);
    }

    @Test
    void results_jobStillRunning_returns409() {
        NearlineFunctions f = fake(Map.of(FunctionsSettings.CHUNK_SIZE, "10"), new AtomicInteger(), x -> false);
        BatchJob job = start(f, fakeRecords(15));
        HttpResponseMessage response = f.batch().results(FakeHttpRequest.get("/api/batches/x/results"), job.jobId(),
                new RecordingContext("inv"));
        assertThat(response.getStatusCode()).isEqualTo(409);
        assertThat(new String(((String) response.getBody()).getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8))
                .contains("no results yet");
    }

    @Test
    void scoreChunk_inputDoubleEncoded_isAccepted() throws IOException {
        NearlineFunctions f = fake(Map.of(FunctionsSettings.CHUNK_SIZE, "10"), new AtomicInteger(), x -> false);
        BatchJob job = start(f, fakeRecords(3));
        String task = Json.write(job.task(0, false));

        JsonNode plain = Json.MAPPER.readTree(f.batch().scoreChunk(task, new RecordingContext("a")));
        JsonNode quoted = Json.MAPPER.readTree(f.batch().scoreChunk(Json.write(Json.MAPPER.getNodeFactory().textNode(task)),
                new RecordingContext("b")));

        assertThat(quoted).isEqualTo(plain);
        assertThat(((ObjectNode) plain).at("/summary/succeeded").asInt()).isEqualTo(3);
    }
}
