package dev.nearline.durable;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.microsoft.azure.functions.ExecutionContext;
import dev.nearline.api.Outcome;
import dev.nearline.api.ScoringException;
import dev.nearline.durable.internal.Correlation;
import dev.nearline.durable.internal.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.logging.Level;
import org.jspecify.annotations.Nullable;

/**
 * The Service Bus trigger function with batch cardinality, for Functions on AKS scaled by KEDA: scores
 * every message body (one JSON record each) in one {@code scoreAll} call and replies as Nearline's queue
 * worker does (see {@link Reply}).
 *
 * <p>The Functions host settles the messages, not this code: when the function returns, it completes
 * the whole batch; when it throws, it abandons the whole batch, and Service Bus delivers the messages
 * again until their {@code MaxDeliveryCount}, then dead-letters them. Hence:
 *
 * <ul>
 *   <li>a scored message gets an OK reply;
 *   <li>an {@code INVALID_INPUT} message (malformed JSON, a record the pipeline rejects, no message id)
 *       gets an ERROR reply with the kind and reason, and is completed: retrying would not help;
 *   <li>if any message failed with a retryable kind, it gets no reply, and after the other replies are
 *       sent this method throws that {@link ScoringException}, so the batch is redelivered. Its other
 *       messages are then scored and answered again; their replies keep the same message id
 *       ({@code "r:" + MessageId}), which duplicate detection on the reply queue drops.
 * </ul>
 *
 * A message without a {@code ReplyTo} is scored and not answered. Thread-safe; obtained from
 * {@link NearlineFunctions#serviceBus()}.
 */
public final class ServiceBusScoring {
    private final NearlineFunctions runtime;

    ServiceBusScoring(NearlineFunctions runtime) {
        this.runtime = runtime;
    }

    /**
     * Scores a batch of messages. The arrays are aligned: element {@code i} of each describes message
     * {@code i}. Bind them with {@code @ServiceBusQueueTrigger(..., cardinality = Cardinality.MANY)
     * String[] bodies}, {@code @BindingName("MessageIdArray") String[] messageIds} and
     * {@code @BindingName("ReplyToArray") String[] replyTos}.
     *
     * @param replyTos the reply queues; null, or null elements, for messages that want no reply
     * @throws ScoringException of a retryable kind when at least one message should be delivered again
     * @throws RuntimeException when a reply cannot be sent (the batch is then redelivered too)
     */
    public void score(String[] bodies, String[] messageIds, String @Nullable [] replyTos, ExecutionContext context) {
        if (messageIds.length != bodies.length || (replyTos != null && replyTos.length != bodies.length)) {
            throw new IllegalArgumentException("binding arrays differ in length: " + bodies.length + " bodies, "
                    + messageIds.length + " message ids, " + (replyTos == null ? 0 : replyTos.length) + " reply-tos");
        }
        int n = bodies.length;
        // Filled in two passes: parse failures now, scored records after scoreAll.
        List<@Nullable Outcome<Object>> outcomes = new ArrayList<>(n);
        List<JsonNode> records = new ArrayList<>(n);
        List<Integer> recordPositions = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String problem = null;
            if (isBlank(messageIds[i])) {
                problem = "message has no MessageId, so its reply could not be correlated";
            } else if (isBlank(bodies[i])) {
                problem = "message body is empty; send one JSON record";
            } else {
                try {
                    records.add(Json.parse(bodies[i]));
                    recordPositions.add(i);
                } catch (JsonProcessingException e) {
                    problem = "message body is not valid JSON: " + Json.reason(e);
                }
            }
            outcomes.add(problem == null ? null : Outcome.failure(ScoringException.invalidInput(problem)));
        }
        long start = runtime.ticker().read();
        List<Outcome<Object>> scored = scoreAll(records);
        long micros = (runtime.ticker().read() - start) / 1_000 / Math.max(1, records.size());
        for (int j = 0; j < scored.size(); j++) {
            outcomes.set(recordPositions.get(j), scored.get(j));
        }

        ScoringException retry = null;
        int retryable = 0;
        for (int i = 0; i < n; i++) {
            Outcome<Object> o = Objects.requireNonNull(outcomes.get(i), "outcome");
            String messageId = isBlank(messageIds[i]) ? null : messageIds[i];
            String replyTo = replyTos == null || isBlank(replyTos[i]) ? null : replyTos[i];
            try (Correlation c = Correlation.of(messageId == null ? "" : messageId, context.getInvocationId())) {
                ScoringException error = o.error();
                if (error != null && error.isRetryable()) {
                    retryable++;
                    if (retry == null) {
                        retry = error;
                    }
                    continue;
                }
                if (error != null) {
                    context.getLogger().info("[messageId=" + c.id() + "] not scored, completed without retry: " + error);
                }
                if (replyTo == null || messageId == null) {
                    continue;
                }
                ObjectNode body = error == null ? Json.ok(o.value(), micros) : Json.error(error.kind(), error.getMessage());
                runtime.replySender().send(new Reply(replyTo, Reply.messageIdFor(messageId), messageId, Json.write(body),
                        error == null ? null : error.kind()));
            }
        }
        if (retry != null) {
            context.getLogger().log(Level.WARNING, retryable + " of " + n + " messages failed with a retryable kind; "
                    + "failing the invocation so the host abandons the batch: " + retry);
            throw new ScoringException(retry.kind(), retryable + " of " + n + " messages failed with a retryable kind, "
                    + "first: " + retry.getMessage(), retry);
        }
    }

    private List<Outcome<Object>> scoreAll(List<JsonNode> records) {
        if (records.isEmpty()) {
            return List.of();
        }
        try {
            return runtime.scorer().scoreAll(records);
        } catch (ScoringException e) {
            List<Outcome<Object>> all = new ArrayList<>(records.size());
            for (int i = 0; i < records.size(); i++) {
                all.add(Outcome.failure(e));
            }
            return all;
        }
    }

    private static boolean isBlank(@Nullable String s) {
        return s == null || s.isBlank();
    }
}
