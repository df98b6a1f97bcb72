package dev.nearline.examples.functions;

import com.microsoft.azure.functions.ExecutionContext;
import com.microsoft.azure.functions.HttpMethod;
import com.microsoft.azure.functions.HttpRequestMessage;
import com.microsoft.azure.functions.HttpResponseMessage;
import com.microsoft.azure.functions.annotation.AuthorizationLevel;
import com.microsoft.azure.functions.annotation.BindingName;
import com.microsoft.azure.functions.annotation.Cardinality;
import com.microsoft.azure.functions.annotation.FunctionName;
import com.microsoft.azure.functions.annotation.HttpTrigger;
import com.microsoft.azure.functions.annotation.ServiceBusQueueTrigger;
import com.microsoft.azure.functions.annotation.WarmupTrigger;
import com.microsoft.durabletask.TaskOrchestrationContext;
import com.microsoft.durabletask.azurefunctions.DurableActivityTrigger;
import com.microsoft.durabletask.azurefunctions.DurableClientContext;
import com.microsoft.durabletask.azurefunctions.DurableClientInput;
import com.microsoft.durabletask.azurefunctions.DurableOrchestrationTrigger;
import dev.nearline.durable.BatchReport;
import dev.nearline.durable.DurableBatchScoring;
import dev.nearline.durable.NearlineFunctions;
import java.util.Map;
import java.util.Optional;

/**
 * The app's functions. Each is one line that hands the host's objects to Nearline; the scorer, built
 * once per worker process from the app setting {@code NEARLINE_PIPELINE}, lives in
 * {@link NearlineFunctions#shared()}, not here (the worker creates an instance of this class per
 * invocation).
 */
public class ScoringFunctions {

    /** {@code POST /api/score}: one JSON record in, its score out. */
    @FunctionName("Score")
    public HttpResponseMessage score(
            @HttpTrigger(name = "req", methods = {HttpMethod.POST}, route = "score", authLevel = AuthorizationLevel.FUNCTION)
            HttpRequestMessage<Optional<String>> request,
            ExecutionContext context) {
        return NearlineFunctions.shared().http().score(request, context);
    }

    /** {@code POST /api/batches}: starts a durable batch job; 202 with the status URLs. */
    @FunctionName("StartBatch")
    public HttpResponseMessage startBatch(
            @HttpTrigger(name = "req", methods = {HttpMethod.POST}, route = "batches", authLevel = AuthorizationLevel.FUNCTION)
            HttpRequestMessage<Optional<String>> request,
            @DurableClientInput(name = "durableContext") DurableClientContext durableContext,
            ExecutionContext context) {
        return NearlineFunctions.shared().batch().start(request, durableContext, context);
    }

    /** {@code GET /api/batches/{id}/results}: a finished job's per-record results as JSON lines. */
    @FunctionName("BatchResults")
    public HttpResponseMessage batchResults(
            @HttpTrigger(name = "req", methods = {HttpMethod.GET}, route = "batches/{id}/results",
                    authLevel = AuthorizationLevel.FUNCTION)
            HttpRequestMessage<Optional<String>> request,
            @BindingName("id") String id,
            ExecutionContext context) {
        return NearlineFunctions.shared().batch().results(request, id, context);
    }

    /** The batch orchestrator: fans chunks out to {@link #scoreChunk} and adds up the results. */
    @FunctionName(DurableBatchScoring.ORCHESTRATOR)
    public BatchReport scoreBatch(@DurableOrchestrationTrigger(name = "ctx") TaskOrchestrationContext ctx) {
        return NearlineFunctions.shared().batch().orchestrate(ctx);
    }

    /** The batch activity: scores one chunk of records. */
    @FunctionName(DurableBatchScoring.ACTIVITY)
    public String scoreChunk(@DurableActivityTrigger(name = "chunk") String chunk, ExecutionContext context) {
        return NearlineFunctions.shared().batch().scoreChunk(chunk, context);
    }

    /**
     * Scores request messages from the queue named by app setting {@code NEARLINE_REQUEST_QUEUE} and
     * replies to each message's {@code ReplyTo}, continuing the W3C trace its application properties carry;
     * for Functions on AKS scaled by KEDA.
     */
    @FunctionName("ScoreQueue")
    public void scoreQueue(
            @ServiceBusQueueTrigger(name = "messages", queueName = "%NEARLINE_REQUEST_QUEUE%", connection = "ServiceBusConnection",
                    cardinality = Cardinality.MANY)
            String[] messages,
            @BindingName("MessageIdArray") String[] messageIds,
            @BindingName("ReplyToArray") String[] replyTos,
            @BindingName("ApplicationPropertiesArray") Map<String, Object>[] properties,
            ExecutionContext context) {
        NearlineFunctions.shared().serviceBus().score(messages, messageIds, replyTos, properties, context);
    }

    /**
     * {@code POST /api/feedback}: labels of scored records, {@code {"id": "tx-1", "label": 1}} or an array of them,
     * for the pipeline's quality monitor; answers how many were joined, unknown, expired, duplicate or invalid.
     */
    @FunctionName("Feedback")
    public HttpResponseMessage feedback(
            @HttpTrigger(name = "req", methods = {HttpMethod.POST}, route = "feedback", authLevel = AuthorizationLevel.FUNCTION)
            HttpRequestMessage<Optional<String>> request,
            ExecutionContext context) {
        return NearlineFunctions.shared().quality().feedback(request, context);
    }

    /** Labels from the queue named by app setting {@code NEARLINE_FEEDBACK_QUEUE}, in the same format. */
    @FunctionName("FeedbackQueue")
    public void feedbackQueue(
            @ServiceBusQueueTrigger(name = "messages", queueName = "%NEARLINE_FEEDBACK_QUEUE%", connection = "ServiceBusConnection",
                    cardinality = Cardinality.MANY)
            String[] messages,
            @BindingName("MessageIdArray") String[] messageIds,
            ExecutionContext context) {
        NearlineFunctions.shared().quality().feedback(messages, messageIds, context);
    }

    /** {@code GET /api/quality}: the live quality metrics per model version, with the challenger's, as JSON. */
    @FunctionName("Quality")
    public HttpResponseMessage quality(
            @HttpTrigger(name = "req", methods = {HttpMethod.GET}, route = "quality", authLevel = AuthorizationLevel.FUNCTION)
            HttpRequestMessage<Optional<String>> request,
            ExecutionContext context) {
        return NearlineFunctions.shared().quality().snapshot(request, context);
    }

    /** Loads the pipeline when an instance is added (Premium and Flex Consumption plans). */
    @FunctionName("Warmup")
    public void warmup(@WarmupTrigger(name = "warmupContext") Object warmupContext, ExecutionContext context) {
        NearlineFunctions.shared().warmUp();
    }
}
