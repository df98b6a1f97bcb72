package dev.nearline.durable;

import com.microsoft.azure.functions.ExecutionContext;
import com.microsoft.azure.functions.HttpRequestMessage;
import com.microsoft.azure.functions.HttpResponseMessage;
import com.microsoft.azure.functions.HttpStatus;
import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException;
import dev.nearline.core.FeedbackOutcome;
import dev.nearline.core.ManagedScorer;
import dev.nearline.core.QualityMonitor;
import dev.nearline.core.internal.wire.FeedbackMessage;
import dev.nearline.core.internal.wire.QueueReply;
import dev.nearline.durable.internal.Correlation;
import dev.nearline.durable.internal.Json;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import org.jspecify.annotations.Nullable;

/**
 * The model-quality functions of a Functions app: labels in (an HTTP function and a Service Bus trigger,
 * both reading the feedback format that the queue worker reads too, {@link FeedbackMessage}), and the quality
 * metrics out (an HTTP function answering the monitor's snapshot as JSON). They need a pipeline with a
 * {@code "quality"} object; the labels join the predictions this worker process made (each Functions instance
 * keeps its own, so route a record's label to the instance that scored it, or run one instance).
 *
 * <table>
 *   <caption>{@link #feedback(HttpRequestMessage, ExecutionContext)} answers</caption>
 *   <tr><th>status</th><th>when</th><th>body</th></tr>
 *   <tr><td>200</td><td>every label given to the monitor, whatever its outcome</td>
 *       <td>{@code {"joined":1,"unknown":0,"expired":0,"duplicate":0,"invalid":0}}</td></tr>
 *   <tr><td>400</td><td>not feedback: empty, not JSON, no {@code id} or {@code label}</td>
 *       <td>{@code {"status":"ERROR","error":{"kind":"INVALID_INPUT","message":...}}}</td></tr>
 *   <tr><td>413</td><td>larger than {@value FunctionsSettings#MAX_REQUEST_BYTES}</td><td>error</td></tr>
 *   <tr><td>404</td><td>the pipeline has no {@code "quality"} object</td><td>error, kind INVALID_INPUT</td></tr>
 *   <tr><td>500, 503</td><td>the pipeline cannot be loaded, or the host is shutting down</td><td>error</td></tr>
 * </table>
 *
 * Thread-safe; obtained from {@link NearlineFunctions#quality()}.
 */
public final class QualityFunctions {
    private final NearlineFunctions runtime;

    QualityFunctions(NearlineFunctions runtime) {
        this.runtime = runtime;
    }

    /** Takes the labels in the request body ({@code POST}); never throws for a bad body. */
    public HttpResponseMessage feedback(HttpRequestMessage<Optional<String>> request, ExecutionContext context) {
        FunctionsSettings settings = runtime.settings();
        try (Correlation correlation = Correlation.open(request.getHeaders(), settings.correlationHeader(),
                context.getInvocationId())) {
            String id = correlation.id();
            String tooLarge = HttpScoring.checkSize(request, settings.maxRequestBytes(), FunctionsSettings.MAX_REQUEST_BYTES);
            if (tooLarge != null) {
                return answer(request, HttpStatus.PAYLOAD_TOO_LARGE, error(tooLarge), id);
            }
            QualityMonitor monitor;
            try {
                monitor = monitor();
            } catch (ScoringException e) {
                return failure(request, context, e, id);
            }
            if (monitor == null) {
                return answer(request, HttpStatus.NOT_FOUND, error(NO_QUALITY), id);
            }
            FeedbackMessage message;
            try {
                message = FeedbackMessage.parse(HttpScoring.body(request));
            } catch (ScoringException e) {
                return answer(request, HttpStatus.BAD_REQUEST, error(e.getMessage()), id);
            }
            Map<FeedbackOutcome, Integer> outcomes = message.applyTo(monitor);
            return request.createResponseBuilder(HttpStatus.OK).header("Content-Type", "application/json")
                    .header(settings.correlationHeader(), id).body(FeedbackMessage.summaryText(outcomes)).build();
        }
    }

    /**
     * Takes the labels of a batch of Service Bus messages. Bind with
     * {@code @ServiceBusQueueTrigger(..., cardinality = Cardinality.MANY) String[] bodies} and
     * {@code @BindingName("MessageIdArray") String[] messageIds}. The host completes the batch when this returns:
     * a message that is not feedback is logged (with its message id and the reason, never its body) and
     * completed, since redelivering it cannot help; every label gets its outcome, counted by the monitor.
     *
     * @return how many labels got each outcome
     * @throws ScoringException when the pipeline cannot be loaded or has no {@code "quality"} object, so the host
     *     abandons the batch and Service Bus redelivers it, then dead-letters it after its MaxDeliveryCount
     */
    public Map<FeedbackOutcome, Integer> feedback(String[] bodies, String[] messageIds, ExecutionContext context) {
        if (messageIds.length != bodies.length) {
            throw new IllegalArgumentException("binding arrays differ in length: " + bodies.length + " bodies, "
                    + messageIds.length + " message ids");
        }
        QualityMonitor monitor = monitor();
        if (monitor == null) {
            throw new ScoringException(ScoringException.Kind.INTERNAL, NO_QUALITY);
        }
        Map<FeedbackOutcome, Integer> total = new EnumMap<>(FeedbackOutcome.class);
        int rejected = 0;
        for (int i = 0; i < bodies.length; i++) {
            try {
                FeedbackMessage.parse(bodies[i]).applyTo(monitor).forEach((o, n) -> total.merge(o, n, Integer::sum));
            } catch (ScoringException e) {
                rejected++;
                context.getLogger().warning("[messageId=" + messageIds[i] + "] not feedback, completed without labels: "
                        + e.getMessage());
            }
        }
        context.getLogger().info("feedback: " + bodies.length + " messages, " + rejected + " not feedback; labels " + total);
        return total;
    }

    /**
     * Answers the quality monitor's snapshot as JSON ({@code GET}): the predictions held, the labels by outcome,
     * the challenger's counts, and per model version the metrics over the last labelled records and the last
     * period, with the challenger's beside them (as {@code dev.nearline.core.QualitySnapshot}; undefined metrics
     * are the string {@code "NaN"}). 404 when the pipeline has no {@code "quality"} object.
     */
    public HttpResponseMessage snapshot(HttpRequestMessage<Optional<String>> request, ExecutionContext context) {
        try (Correlation correlation = Correlation.open(request.getHeaders(), runtime.settings().correlationHeader(),
                context.getInvocationId())) {
            String id = correlation.id();
            QualityMonitor monitor;
            try {
                monitor = monitor();
            } catch (ScoringException e) {
                return failure(request, context, e, id);
            }
            if (monitor == null) {
                return answer(request, HttpStatus.NOT_FOUND, error(NO_QUALITY), id);
            }
            return request.createResponseBuilder(HttpStatus.OK).header("Content-Type", "application/json")
                    .header(runtime.settings().correlationHeader(), id).body(Json.write(monitor.snapshot())).build();
        }
    }

    private static final String NO_QUALITY = "this pipeline takes no labels: add a \"quality\" object to the pipeline "
            + "file (see the Nearline README, 'Model quality')";

    /** The pipeline's monitor, or null when it has none. */
    private @Nullable QualityMonitor monitor() {
        Scorer<Object, Object> scorer = runtime.scorer();
        return scorer instanceof ManagedScorer<?, ?> m ? m.quality().orElse(null) : null;
    }

    private static String error(@Nullable String message) {
        return Json.write(QueueReply.error(ScoringException.Kind.INVALID_INPUT, message));
    }

    private HttpResponseMessage answer(HttpRequestMessage<?> request, HttpStatus status, String body, String id) {
        return request.createResponseBuilder(status).header("Content-Type", "application/json")
                .header(runtime.settings().correlationHeader(), id).body(body).build();
    }

    private HttpResponseMessage failure(HttpRequestMessage<?> request, ExecutionContext context, ScoringException e,
                                        String id) {
        HttpStatus status = HttpScoring.statusOf(e.kind());
        context.getLogger().log(Level.SEVERE, "[correlationId=" + id + "] quality function failed: " + e, e);
        String message = e.kind() == ScoringException.Kind.INTERNAL
                ? "internal error; the function log has the details under correlation id " + id : e.getMessage();
        HttpResponseMessage.Builder b = request.createResponseBuilder(status).header("Content-Type", "application/json")
                .header(runtime.settings().correlationHeader(), id).body(Json.write(QueueReply.error(e.kind(), message)));
        if (status == HttpStatus.SERVICE_UNAVAILABLE) {
            b.header("Retry-After", Long.toString(Math.max(1, runtime.settings().retryAfter().toSeconds())));
        }
        return b.build();
    }
}
