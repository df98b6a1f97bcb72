package dev.nearline.durable;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.microsoft.azure.functions.ExecutionContext;
import com.microsoft.azure.functions.HttpRequestMessage;
import com.microsoft.azure.functions.HttpResponseMessage;
import com.microsoft.azure.functions.HttpStatus;
import com.microsoft.durabletask.CompositeTaskFailedException;
import com.microsoft.durabletask.FailureDetails;
import com.microsoft.durabletask.NewOrchestrationInstanceOptions;
import com.microsoft.durabletask.Task;
import com.microsoft.durabletask.TaskFailedException;
import com.microsoft.durabletask.TaskOrchestrationContext;
import com.microsoft.durabletask.azurefunctions.DurableClientContext;
import com.microsoft.durabletask.azurefunctions.HttpManagementPayload;
import dev.nearline.api.Outcome;
import dev.nearline.api.ScoringException;
import dev.nearline.core.internal.wire.QueueReply;
import dev.nearline.core.internal.wire.Wire;
import dev.nearline.durable.internal.BatchJob;
import dev.nearline.durable.internal.ChunkOutcome;
import dev.nearline.durable.internal.ChunkRetries;
import dev.nearline.durable.internal.ChunkSummary;
import dev.nearline.durable.internal.ChunkTask;
import dev.nearline.durable.internal.Correlation;
import dev.nearline.durable.internal.Json;
import dev.nearline.durable.internal.Progress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Durable batch scoring: an HTTP starter stores the records and starts an orchestration, the
 * orchestrator fans chunks of records out to a scoring activity and aggregates what they return, and an
 * HTTP function serves the per-record results. An app declares four functions that delegate here:
 *
 * <table>
 *   <caption>Functions</caption>
 *   <tr><th>method</th><th>trigger</th><th>function name</th></tr>
 *   <tr><td>{@link #start}</td><td>HTTP POST + durable client</td><td>any</td></tr>
 *   <tr><td>{@link #orchestrate}</td><td>orchestration trigger</td><td>{@value #ORCHESTRATOR}</td></tr>
 *   <tr><td>{@link #scoreChunk}</td><td>activity trigger</td><td>{@value #ACTIVITY}</td></tr>
 *   <tr><td>{@link #results}</td><td>HTTP GET with the job id in the route</td><td>any</td></tr>
 * </table>
 *
 * <p>Only references cross the durable boundary: the records and results live in the
 * {@link PayloadStore}, and the orchestration input, the activity inputs and outputs hold ids, counts
 * and at most {@value ChunkSummary#MAX_ERRORS} record errors per chunk. That keeps every history event
 * small whatever the batch size; {@value FunctionsSettings#CHUNK_SIZE} trades parallelism for the number
 * of activity calls. Thread-safe; obtained from {@link NearlineFunctions#batch()}.
 */
public final class DurableBatchScoring {
    /** Function name the app must give the orchestrator. */
    public static final String ORCHESTRATOR = "NearlineScoreBatch";
    /** Function name the app must give the activity. */
    public static final String ACTIVITY = "NearlineScoreChunk";

    private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9-]{1,64}");
    private static final Pattern SOURCE_KEY = Pattern.compile("[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*");

    private final NearlineFunctions runtime;

    DurableBatchScoring(NearlineFunctions runtime) {
        this.runtime = runtime;
    }

    /** Starts an orchestration; {@code DurableTaskClient} does this in an app, tests pass a fake. */
    @FunctionalInterface
    interface Scheduler {
        void schedule(String orchestrator, BatchJob job, String instanceId);
    }

    /**
     * The HTTP starter. The body is a JSON array of records, {@code {"records": [...]}}, or
     * {@code {"source": "<key>"}} naming a JSON array or JSON-lines file already in the payload store;
     * an optional {@code "chunkSize"} overrides {@value FunctionsSettings#CHUNK_SIZE} for this job.
     * Answers 202 with {@code Location} and the status URLs of the orchestration (the same body as the
     * Durable Functions check-status response), 400 for a malformed request, 413 above
     * {@value FunctionsSettings#MAX_BATCH_BYTES}, 503 if the store or the durable backend fails.
     */
    public HttpResponseMessage start(HttpRequestMessage<Optional<String>> request, DurableClientContext durable,
                                     ExecutionContext context) {
        return start(request, context,
                (name, job, id) -> durable.getClient().scheduleNewOrchestrationInstance(name,
                        new NewOrchestrationInstanceOptions().setInput(job).setInstanceId(id)),
                id -> durable.createHttpManagementPayload(request, id));
    }

    HttpResponseMessage start(HttpRequestMessage<Optional<String>> request, ExecutionContext context, Scheduler scheduler,
                              Function<String, HttpManagementPayload> links) {
        FunctionsSettings settings = runtime.settings();
        try (Correlation correlation = Correlation.open(request.getHeaders(), settings.correlationHeader(),
                context.getInvocationId())) {
            String cid = correlation.id();
            String tooLarge = HttpScoring.checkSize(request, settings.maxBatchBytes(), FunctionsSettings.MAX_BATCH_BYTES);
            if (tooLarge != null) {
                return error(request, HttpStatus.PAYLOAD_TOO_LARGE, tooLarge, cid);
            }
            String body = HttpScoring.body(request);
            if (body == null) {
                return error(request, HttpStatus.BAD_REQUEST, "request body is empty; send a JSON array of records, "
                        + "{\"records\": [...]} or {\"source\": \"<payload key>\"}", cid);
            }
            ArrayNode records;
            int chunkSize;
            try {
                JsonNode json = Json.parse(body);
                chunkSize = chunkSize(json, settings.chunkSize());
                records = records(json);
            } catch (JsonProcessingException e) {
                return error(request, HttpStatus.BAD_REQUEST, "request body is not valid JSON: " + Wire.jsonError(e), cid);
            } catch (ScoringException e) {
                return error(request, HttpStatus.BAD_REQUEST, e.getMessage(), cid);
            } catch (UncheckedIOException e) {
                return unavailable(request, context, "cannot read the source records: " + e.getMessage(), e, cid);
            }
            String jobId = "nl-" + UUID.randomUUID();
            int chunks = (records.size() + chunkSize - 1) / chunkSize;
            BatchJob job = new BatchJob(jobId, records.size(), chunkSize, chunks, settings.maxParallelChunks(),
                    settings.chunkMaxAttempts(), settings.chunkFirstRetry().toMillis(), settings.chunkMaxRetry().toMillis(),
                    settings.maxReportedErrors());
            PayloadStore store = runtime.payloadStore();
            List<String> written = new ArrayList<>(chunks + 1);
            try {
                for (int c = 0; c < chunks; c++) {
                    ArrayNode slice = Json.MAPPER.createArrayNode();
                    for (int i = c * chunkSize, end = Math.min(records.size(), (c + 1) * chunkSize); i < end; i++) {
                        slice.add(records.get(i));
                    }
                    written.add(BatchJob.recordsKey(jobId, c));
                    store.write(BatchJob.recordsKey(jobId, c), Json.write(slice).getBytes(StandardCharsets.UTF_8));
                }
                written.add(jobId + "/job.json");
                store.write(jobId + "/job.json", Json.write(job).getBytes(StandardCharsets.UTF_8));
            } catch (UncheckedIOException e) {
                deleteAll(store, written, context, cid);
                return unavailable(request, context, "cannot store the records of batch " + jobId + " in " + store + ": "
                        + e.getMessage(), e, cid);
            }
            try {
                scheduler.schedule(ORCHESTRATOR, job, jobId);
            } catch (RuntimeException e) {
                // The durable client talks gRPC to the host's Durable extension; any failure there is transient
                // from the caller's point of view. The job never ran: nothing should stay behind.
                deleteAll(store, written, context, cid);
                return unavailable(request, context, "cannot start batch " + jobId + ": " + e.getMessage(), e, cid);
            }
            context.getLogger().info("[correlationId=" + cid + "] started batch " + jobId + ": " + records.size()
                    + " records in " + chunks + " chunks");
            HttpManagementPayload payload = links.apply(jobId);
            return request.createResponseBuilder(HttpStatus.ACCEPTED)
                    .header("Content-Type", "application/json")
                    .header("Location", payload.getStatusQueryGetUri())
                    .header(settings.correlationHeader(), cid)
                    .body(Json.write(payload))
                    .build();
        }
    }

    /**
     * The orchestrator. Splits the job into chunks and calls {@value #ACTIVITY} for up to
     * {@value FunctionsSettings#MAX_PARALLEL_CHUNKS} chunks at a time (fan-out), waits for them
     * (fan-in), and adds up their summaries; after each wave it sets its custom status to the progress
     * so far. A chunk failing with a retryable kind is retried on a durable timer with exponential
     * back-off, up to {@value FunctionsSettings#CHUNK_MAX_ATTEMPTS} attempts (the chunks of a wave that
     * failed the same attempt wait on one timer and are called again together); an {@code INVALID_INPUT}
     * failure is not retried. When retries run out, the chunk is called once more in salvage mode,
     * which keeps its good results and reports the rest per record. Every record ends up counted once.
     * The failure kind comes from the activity's output ({@link #scoreChunk}), never from failure text;
     * an activity that fails instead of answering counts as {@code INTERNAL}.
     *
     * <p>Deterministic: it reads nothing but its input and its activities' outputs, so every replay
     * makes the same decisions. Do not wrap a call of it in a catch of {@code Exception}: the durable
     * engine suspends it by throwing.
     */
    public BatchReport orchestrate(TaskOrchestrationContext ctx) {
        BatchJob job = ctx.getInput(BatchJob.class);
        ChunkRetries retries = new ChunkRetries(job.maxAttempts(), Duration.ofMillis(job.firstRetryMillis()),
                Duration.ofMillis(job.maxRetryMillis()));
        Tally tally = new Tally(job);
        ctx.setCustomStatus(tally.progress());
        for (int first = 0; first < job.chunks(); first += job.maxParallelChunks()) {
            int end = Math.min(job.chunks(), first + job.maxParallelChunks());
            ChunkSummary[] done = new ChunkSummary[end - first];
            List<Integer> pending = new ArrayList<>(end - first);
            for (int c = first; c < end; c++) {
                pending.add(c);
            }
            List<Integer> salvage = new ArrayList<>();
            for (int attempt = 1; !pending.isEmpty(); attempt++) {
                List<ChunkOutcome> outcomes = callAll(ctx, job, pending, false);
                List<Integer> again = new ArrayList<>();
                for (int i = 0; i < pending.size(); i++) {
                    int c = pending.get(i);
                    ChunkOutcome o = outcomes.get(i);
                    ScoringException.Kind kind = o.failure();
                    if (kind == null) {
                        done[c - first] = Objects.requireNonNull(o.summary());
                    } else if (retries.retry(kind, attempt)) {
                        again.add(c);
                    } else if (kind.isRetryable()) {
                        salvage.add(c);
                    } else {
                        done[c - first] = allFailed(job, c, kind, o.message());
                    }
                }
                if (!again.isEmpty()) {
                    ctx.createTimer(retries.delay(attempt)).await();
                }
                pending = again;
            }
            for (ChunkSummary summary : done) {
                if (summary != null) {
                    tally.add(summary);
                }
            }
            if (!salvage.isEmpty()) {
                List<ChunkOutcome> last = callAll(ctx, job, salvage, true);
                for (int i = 0; i < salvage.size(); i++) {
                    ChunkOutcome o = last.get(i);
                    ScoringException.Kind kind = o.failure();
                    tally.add(kind == null ? Objects.requireNonNull(o.summary()) : allFailed(job, salvage.get(i), kind, o.message()));
                }
            }
            ctx.setCustomStatus(tally.progress());
        }
        return tally.report();
    }

    /**
     * The scoring activity: reads one chunk's records from the payload store, scores them with
     * {@code scoreAll}, writes one result line per record ({@code {"index":n,"status":"OK","output":...}}
     * or {@code {"index":n,"status":"ERROR","error":{...}}}) and returns the chunk's outcome as JSON:
     * its summary, or the kind and reason of the failure that kept it from being scored (the records
     * cannot be read, the scorer is unavailable, or a record failed with a retryable kind, except in
     * salvage mode, where such records are reported too). Records failing with {@code INVALID_INPUT}
     * are reported in the summary. The orchestrator decides from the returned kind whether to retry;
     * re-running a chunk rewrites its results, so retries are safe.
     *
     * @param input the activity input as the host passes it: the JSON of the chunk reference
     * @throws ScoringException {@code INTERNAL} only if {@code input} is not a chunk reference
     */
    public String scoreChunk(String input, ExecutionContext context) {
        ChunkTask task = Json.readPayload(input, ChunkTask.class);
        try (Correlation correlation = Correlation.of(task.jobId(), context.getInvocationId())) {
            String where = "chunk " + task.chunk() + " of batch " + correlation.id();
            ChunkOutcome outcome;
            try {
                outcome = ChunkOutcome.scored(score(task, where, context));
            } catch (ScoringException e) {
                context.getLogger().warning("[correlationId=" + correlation.id() + "] " + e);
                outcome = ChunkOutcome.failed(e.kind(), e.getMessage());
            }
            return Json.write(outcome);
        }
    }

    /**
     * Scores one chunk and writes its result lines.
     *
     * @throws ScoringException with the kind that decides whether the orchestrator retries the chunk
     */
    private ChunkSummary score(ChunkTask task, String where, ExecutionContext context) {
        Optional<byte[]> stored = readRecords(task, where);
        if (stored.isEmpty()) {
            return fromResults(task, where);
        }
        List<JsonNode> records = parseChunk(stored.get(), task, where);
        List<Outcome<Object>> outcomes;
        try {
            outcomes = runtime.scorer().scoreAll(records);
        } catch (ScoringException e) {
            throw new ScoringException(e.kind(), where + ": " + e.getMessage(), e);
        }
        int retryable = 0;
        ScoringException firstRetryable = null;
        int firstRetryableIndex = -1;
        for (int i = 0; i < outcomes.size(); i++) {
            ScoringException e = outcomes.get(i).error();
            if (e != null && e.isRetryable()) {
                if (retryable++ == 0) {
                    firstRetryable = e;
                    firstRetryableIndex = task.firstIndex() + i;
                }
            }
        }
        if (firstRetryable != null && !task.salvage()) {
            throw new ScoringException(firstRetryable.kind(), where + ": " + retryable + " of " + outcomes.size()
                    + " records failed with a retryable kind; first, record " + firstRetryableIndex + ": "
                    + firstRetryable.getMessage(), firstRetryable);
        }
        StringBuilder lines = new StringBuilder(outcomes.size() * 64);
        List<RecordError> errors = new ArrayList<>();
        int failed = 0;
        for (int i = 0; i < outcomes.size(); i++) {
            Outcome<Object> o = outcomes.get(i);
            int index = task.firstIndex() + i;
            ObjectNode line = Json.MAPPER.createObjectNode().put("index", index);
            ScoringException e = o.error();
            if (e == null) {
                line.put("status", QueueReply.STATUS_OK);
                line.set("output", Json.MAPPER.valueToTree(o.value()));
            } else {
                failed++;
                line.setAll(QueueReply.error(e.kind(), e.getMessage()));
                if (errors.size() < ChunkSummary.MAX_ERRORS) {
                    errors.add(new RecordError(index, e.kind(), Wire.errorDescription(e.getMessage())));
                }
            }
            lines.append(Json.write(line)).append('\n');
        }
        try {
            runtime.payloadStore().write(BatchJob.resultsKey(task.jobId(), task.chunk()),
                    lines.toString().getBytes(StandardCharsets.UTF_8));
        } catch (UncheckedIOException e) {
            throw new ScoringException(ScoringException.Kind.UNAVAILABLE, where + ": cannot write results: " + e.getMessage(), e);
        }
        // The results now stand for the records: nothing reads the records again (a re-run of this activity
        // answers from the results, see fromResults), so they go now rather than with a lifecycle rule.
        try {
            runtime.payloadStore().delete(BatchJob.recordsKey(task.jobId(), task.chunk()));
        } catch (UncheckedIOException e) {
            context.getLogger().warning("[correlationId=" + task.jobId() + "] " + where + ": scored, but cannot delete its "
                    + "records; the container's lifecycle rule removes them: " + e.getMessage());
        }
        return new ChunkSummary(task.chunk(), task.count(), task.count() - failed, failed, errors);
    }

    /**
     * The summary of a chunk whose records are gone because it was scored before: the host runs an activity
     * at least once, and may run it again after it finished (a worker lost before the host recorded the
     * completion). Its result lines say everything the summary holds.
     *
     * @throws ScoringException {@code INVALID_INPUT} if there are neither records nor results
     */
    private ChunkSummary fromResults(ChunkTask task, String where) {
        Optional<byte[]> results;
        try {
            results = runtime.payloadStore().read(BatchJob.resultsKey(task.jobId(), task.chunk()));
        } catch (UncheckedIOException e) {
            throw new ScoringException(ScoringException.Kind.UNAVAILABLE, where + ": cannot read results: " + e.getMessage(), e);
        }
        if (results.isEmpty()) {
            throw ScoringException.invalidInput(where + ": its records are not in the payload store (was "
                    + FunctionsSettings.PAYLOAD_DIR + " or " + FunctionsSettings.PAYLOAD_CONTAINER
                    + " changed, or not shared by all instances?)");
        }
        List<RecordError> errors = new ArrayList<>();
        int lines = 0;
        int failed = 0;
        try {
            for (String line : new String(results.get(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                lines++;
                JsonNode n = Json.parse(line);
                if (QueueReply.STATUS_ERROR.equals(n.path("status").asText())) {
                    failed++;
                    if (errors.size() < ChunkSummary.MAX_ERRORS) {
                        errors.add(new RecordError(n.path("index").asInt(),
                                ScoringException.Kind.valueOf(n.at("/error/kind").asText()), n.at("/error/message").asText()));
                    }
                }
            }
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new ScoringException(ScoringException.Kind.INVALID_INPUT, where + ": its results in the payload store are "
                    + "malformed", e);
        }
        if (lines != task.count()) {
            throw ScoringException.invalidInput(where + ": expected " + task.count() + " result lines in the payload store, "
                    + "found " + lines);
        }
        return new ChunkSummary(task.chunk(), task.count(), task.count() - failed, failed, errors);
    }

    /**
     * Serves a job's per-record results as JSON lines ({@code application/x-ndjson}) in record order:
     * 200 when every chunk has written its results, 404 for an unknown job, 409 while chunks are still
     * missing (the job is running, or a chunk failed before writing; the orchestration output then
     * lists its records as errors).
     */
    public HttpResponseMessage results(HttpRequestMessage<Optional<String>> request, String jobId, ExecutionContext context) {
        FunctionsSettings settings = runtime.settings();
        try (Correlation correlation = Correlation.open(request.getHeaders(), settings.correlationHeader(),
                context.getInvocationId())) {
            String cid = correlation.id();
            if (jobId == null || !JOB_ID.matcher(jobId).matches()) {
                return error(request, HttpStatus.BAD_REQUEST, "job id must be 1 to 64 letters, digits or '-', got '" + jobId + "'", cid);
            }
            PayloadStore store = runtime.payloadStore();
            Optional<byte[]> manifest = store.read(jobId + "/job.json");
            if (manifest.isEmpty()) {
                return error(request, HttpStatus.NOT_FOUND, "no batch job '" + jobId + "'", cid);
            }
            BatchJob job = Json.readPayload(new String(manifest.get(), StandardCharsets.UTF_8), BatchJob.class);
            StringBuilder out = new StringBuilder();
            for (int c = 0; c < job.chunks(); c++) {
                Optional<byte[]> chunk = store.read(BatchJob.resultsKey(jobId, c));
                if (chunk.isEmpty()) {
                    return error(request, HttpStatus.CONFLICT, "chunk " + c + " of " + job.chunks() + " of job '" + jobId
                            + "' has no results yet; poll the status URL until the job completes", cid);
                }
                out.append(new String(chunk.get(), StandardCharsets.UTF_8));
            }
            return request.createResponseBuilder(HttpStatus.OK)
                    .header("Content-Type", "application/x-ndjson")
                    .header(settings.correlationHeader(), cid)
                    .body(out.toString())
                    .build();
        } catch (UncheckedIOException e) {
            return unavailable(request, context, "cannot read results of job '" + jobId + "': " + e.getMessage(), e,
                    context.getInvocationId());
        }
    }

    /**
     * Calls the activity for every chunk at once (fan-out) and waits for all of them (fan-in). An activity
     * that failed instead of returning its outcome counts as {@code INTERNAL}; its failure text is kept
     * for the report only.
     */
    private static List<ChunkOutcome> callAll(TaskOrchestrationContext ctx, BatchJob job, List<Integer> chunks,
                                              boolean salvage) {
        List<Task<JsonNode>> tasks = new ArrayList<>(chunks.size());
        for (int c : chunks) {
            tasks.add(ctx.callActivity(ACTIVITY, job.task(c, salvage), JsonNode.class));
        }
        try {
            ctx.allOf(tasks).await();
        } catch (CompositeTaskFailedException e) {
            // Each failed task throws its own TaskFailedException when awaited, below.
        }
        List<ChunkOutcome> outcomes = new ArrayList<>(tasks.size());
        for (int i = 0; i < tasks.size(); i++) {
            try {
                outcomes.add(outcome(tasks.get(i).await(), chunks.get(i)));
            } catch (TaskFailedException e) {
                FailureDetails details = e.getErrorDetails();
                outcomes.add(ChunkOutcome.failed(ScoringException.Kind.INTERNAL, details == null || details.getErrorMessage() == null
                        ? "the activity failed without details" : "the activity failed: " + details.getErrorMessage()));
            }
        }
        return outcomes;
    }

    private static ChunkOutcome outcome(@Nullable JsonNode output, int chunk) {
        if (output == null || output.isNull()) {
            throw new IllegalStateException("activity returned no outcome for chunk " + chunk);
        }
        return Json.readPayload(output.isTextual() ? output.textValue() : output.toString(), ChunkOutcome.class);
    }

    private static ChunkSummary allFailed(BatchJob job, int chunk, ScoringException.Kind kind, @Nullable String message) {
        ChunkTask task = job.task(chunk, true);
        List<RecordError> errors = new ArrayList<>();
        for (int i = 0; i < task.count() && i < ChunkSummary.MAX_ERRORS; i++) {
            errors.add(new RecordError(task.firstIndex() + i, kind, Wire.errorDescription("chunk " + chunk + " failed: " + message)));
        }
        return new ChunkSummary(chunk, task.count(), 0, task.count(), errors);
    }

    private Optional<byte[]> readRecords(ChunkTask task, String where) {
        try {
            return runtime.payloadStore().read(BatchJob.recordsKey(task.jobId(), task.chunk()));
        } catch (UncheckedIOException e) {
            throw new ScoringException(ScoringException.Kind.UNAVAILABLE, where + ": cannot read records: " + e.getMessage(), e);
        }
    }

    private static List<JsonNode> parseChunk(byte[] bytes, ChunkTask task, String where) {
        JsonNode array;
        try {
            array = Json.MAPPER.readTree(bytes);
        } catch (IOException e) {
            throw new ScoringException(ScoringException.Kind.INVALID_INPUT, where + ": records are not a JSON array: "
                    + Wire.jsonError(e), e);
        }
        if (array == null || !array.isArray() || array.size() != task.count()) {
            throw ScoringException.invalidInput(where + ": expected a JSON array of "
                    + task.count() + " records in the payload store");
        }
        List<JsonNode> records = new ArrayList<>(array.size());
        array.forEach(records::add);
        return records;
    }

    private ArrayNode records(JsonNode json) throws JsonProcessingException {
        if (json.isArray()) {
            return (ArrayNode) json;
        }
        if (!json.isObject()) {
            throw ScoringException.invalidInput("request body must be a JSON array of records or an object, got "
                    + json.getNodeType().name().toLowerCase(Locale.ROOT));
        }
        JsonNode records = json.get("records");
        JsonNode source = json.get("source");
        if ((records == null) == (source == null)) {
            throw ScoringException.invalidInput("request body must have exactly one of \"records\" (an array) and "
                    + "\"source\" (a payload key)");
        }
        if (records != null) {
            if (!records.isArray()) {
                throw ScoringException.invalidInput("\"records\" must be an array, got " + records.getNodeType().name()
                        .toLowerCase(Locale.ROOT));
            }
            return (ArrayNode) records;
        }
        if (!source.isTextual() || !SOURCE_KEY.matcher(source.textValue()).matches() || source.textValue().contains("..")) {
            throw ScoringException.invalidInput("\"source\" must be a payload key (a relative path of letters, digits "
                    + "and ._-), got " + source);
        }
        byte[] bytes = runtime.payloadStore().read(source.textValue()).orElseThrow(() -> ScoringException.invalidInput(
                "\"source\" '" + source.textValue() + "' is not in the payload store " + runtime.payloadStore()));
        return parseSource(new String(bytes, StandardCharsets.UTF_8), source.textValue());
    }

    /** Best effort: what a job that did not start wrote is removed; what cannot be is left to the lifecycle rule. */
    private static void deleteAll(PayloadStore store, List<String> keys, ExecutionContext context, String cid) {
        for (String key : keys) {
            try {
                store.delete(key);
            } catch (UncheckedIOException e) {
                context.getLogger().warning("[correlationId=" + cid + "] cannot delete '" + key + "' of a batch that did not "
                        + "start: " + e.getMessage());
                return; // the store is failing: the rest would fail the same way
            }
        }
    }

    private static ArrayNode parseSource(String text, String key) throws JsonProcessingException {
        String trimmed = text.strip();
        if (trimmed.startsWith("[")) {
            JsonNode n = Json.parse(trimmed);
            return (ArrayNode) n;
        }
        ArrayNode out = Json.MAPPER.createArrayNode();
        int lineNo = 0;
        for (String line : trimmed.split("\n")) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            try {
                out.add(Json.parse(line));
            } catch (JsonProcessingException e) {
                throw ScoringException.invalidInput("source '" + key + "' line " + lineNo + " is not valid JSON: " + Wire.jsonError(e));
            }
        }
        return out;
    }

    private static int chunkSize(JsonNode json, int defaultSize) {
        JsonNode n = json.isObject() ? json.get("chunkSize") : null;
        if (n == null) {
            return defaultSize;
        }
        if (!n.canConvertToInt() || !n.isIntegralNumber() || n.intValue() < 1 || n.intValue() > 100_000) {
            throw ScoringException.invalidInput("\"chunkSize\" must be a whole number from 1 to 100000, got " + n);
        }
        return n.intValue();
    }

    private HttpResponseMessage unavailable(HttpRequestMessage<?> request, ExecutionContext context, String message,
                                            RuntimeException cause, String cid) {
        context.getLogger().log(Level.WARNING, "[correlationId=" + cid + "] " + message, cause);
        return request.createResponseBuilder(HttpStatus.SERVICE_UNAVAILABLE)
                .header("Content-Type", "application/json")
                .header(runtime.settings().correlationHeader(), cid)
                .header("Retry-After", Long.toString(Math.max(1, runtime.settings().retryAfter().toSeconds())))
                .body(Json.write(QueueReply.error(ScoringException.Kind.UNAVAILABLE, message)))
                .build();
    }

    private HttpResponseMessage error(HttpRequestMessage<?> request, HttpStatus status, String message, String cid) {
        return request.createResponseBuilder(status)
                .header("Content-Type", "application/json")
                .header(runtime.settings().correlationHeader(), cid)
                .body(Json.write(QueueReply.error(ScoringException.Kind.INVALID_INPUT, message)))
                .build();
    }

    /** Running totals of a batch, in chunk order. */
    private static final class Tally {
        private final BatchJob job;
        private final List<RecordError> errors = new ArrayList<>();
        private int chunksDone;
        private int recordsDone;
        private int succeeded;
        private int failed;

        Tally(BatchJob job) {
            this.job = job;
        }

        void add(ChunkSummary s) {
            chunksDone++;
            recordsDone += s.count();
            succeeded += s.succeeded();
            failed += s.failed();
            for (RecordError e : s.errors()) {
                if (errors.size() < job.maxReportedErrors()) {
                    errors.add(e);
                }
            }
        }

        Progress progress() {
            return new Progress(chunksDone, job.chunks(), recordsDone, job.records(), succeeded, failed);
        }

        BatchReport report() {
            return new BatchReport(job.jobId(), job.records(), succeeded, failed, job.chunks(), errors, failed - errors.size());
        }
    }
}
