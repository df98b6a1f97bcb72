package dev.nearline.durable;

import com.fasterxml.jackson.databind.JsonNode;
import com.microsoft.azure.functions.ExecutionContext;
import dev.nearline.api.Outcome;
import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException;
import dev.nearline.core.internal.wire.PayloadRef;
import dev.nearline.core.internal.wire.QueueReply;
import dev.nearline.core.internal.wire.TraceContext;
import dev.nearline.core.internal.wire.QueueRequest;
import dev.nearline.durable.internal.Correlation;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.logging.Level;
import org.jspecify.annotations.Nullable;

/**
 * The Service Bus trigger function with batch cardinality, for Functions on AKS scaled by KEDA. It
 * speaks the queue worker's wire format ({@link QueueRequest} in, {@link QueueReply} out, documented in
 * {@code scoring-keda-adapter/README.md}), so either host can serve the same queue: a request body is
 * {@code {"record": {...}, "deadlineMs": <optional epoch ms>}}, and the reply follows {@link Reply}.
 * Records without a deadline are scored together in one {@code scoreAll} call.
 *
 * <p>The Functions host settles the messages, not this code: when the function returns, it completes
 * the whole batch; when it throws, it abandons the whole batch, and Service Bus delivers the messages
 * again until their {@code MaxDeliveryCount}, then dead-letters them. Hence:
 *
 * <ul>
 *   <li>a scored message gets an OK reply;
 *   <li>an {@code INVALID_INPUT} message (malformed body, a record the pipeline rejects, no message id)
 *       gets an ERROR reply with the kind and reason and is completed: retrying would not help;
 *   <li>a message whose deadline had passed when it arrived gets a {@code DEADLINE_EXCEEDED} ERROR reply
 *       and is completed: a stale answer has no value;
 *   <li>if any message failed with a retryable kind, it gets no reply, and after the other replies are
 *       sent this method throws that {@link ScoringException}, so the batch is redelivered. Its other
 *       messages are then scored and answered again; their replies keep the same message id
 *       ({@code "r:" + MessageId}), which duplicate detection on the reply queue drops.
 * </ul>
 *
 * A message without a {@code ReplyTo} is scored and not answered.
 *
 * <p>With a {@link BlobPayloadStore} (app setting {@value FunctionsSettings#PAYLOAD_CONTAINER}) large payloads
 * go by claim check: a request may carry {@code "recordRef": "blob://<container>/<name>"} instead of its
 * record (read within {@value FunctionsSettings#PAYLOAD_TIMEOUT_MS}; a missing blob is {@code INVALID_INPUT},
 * a store that does not answer {@code UNAVAILABLE}, so the batch is redelivered), and a result whose reply
 * body would exceed {@value FunctionsSettings#PAYLOAD_THRESHOLD_BYTES} is stored under {@code replies/} and
 * answered with {@code "outputRef"}. When the invocation succeeds, the request blobs of its messages are
 * deleted (the host completes the messages right after); reply blobs are the client's to delete.
 * Thread-safe; obtained from {@link NearlineFunctions#serviceBus()}.
 */
public final class ServiceBusScoring {
    private final NearlineFunctions runtime;

    ServiceBusScoring(NearlineFunctions runtime) {
        this.runtime = runtime;
    }

    /** One message on its way through the batch. */
    private static final class Message {
        final @Nullable String id;
        final @Nullable String replyTo;
        /** The request's W3C trace, continued by this invocation; the reply carries it. */
        final TraceContext trace;
        @Nullable QueueRequest request;
        @Nullable Outcome<Object> outcome;
        boolean expiredOnArrival;
        long scoreNanos;

        Message(@Nullable String id, @Nullable String replyTo, TraceContext trace) {
            this.id = id;
            this.replyTo = replyTo;
            this.trace = trace;
        }
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
        score(bodies, messageIds, replyTos, null, context);
    }

    /**
     * Scores a batch of messages as {@link #score(String[], String[], String[], ExecutionContext)} does, and
     * continues each request's W3C trace on its reply: the reply's application properties carry a
     * {@code traceparent} with the request's trace id and flags and a new span id (and the request's
     * {@code tracestate}), read from the request's {@code traceparent} application property, else its
     * {@code Diagnostic-Id}; a request without a valid one gets a new trace. Bind the properties with
     * {@code @BindingName("ApplicationPropertiesArray") Map<String, Object>[] properties}.
     *
     * @param applicationProperties each message's application properties, aligned with {@code bodies}; null,
     *     or null elements, for messages without any
     * @throws ScoringException of a retryable kind when at least one message should be delivered again
     * @throws RuntimeException when a reply cannot be sent (the batch is then redelivered too)
     */
    public void score(String[] bodies, String[] messageIds, String @Nullable [] replyTos,
                      @Nullable Map<String, ?> @Nullable [] applicationProperties, ExecutionContext context) {
        if (messageIds.length != bodies.length || (replyTos != null && replyTos.length != bodies.length)
                || (applicationProperties != null && applicationProperties.length != bodies.length)) {
            throw new IllegalArgumentException("binding arrays differ in length: " + bodies.length + " bodies, "
                    + messageIds.length + " message ids, " + (replyTos == null ? 0 : replyTos.length) + " reply-tos, "
                    + (applicationProperties == null ? 0 : applicationProperties.length) + " application properties");
        }
        long received = runtime.ticker().read();
        Instant now = runtime.clock().instant();
        List<Message> messages = new ArrayList<>(bodies.length);
        for (int i = 0; i < bodies.length; i++) {
            Map<String, ?> properties = applicationProperties == null || applicationProperties[i] == null
                    ? Map.of() : applicationProperties[i];
            Message m = new Message(blankToNull(messageIds[i]), replyTos == null ? null : blankToNull(replyTos[i]),
                    TraceContext.continueFrom(properties));
            messages.add(m);
            if (m.id == null) {
                m.outcome = Outcome.failure(QueueRequest.missingMessageId());
                continue;
            }
            try {
                QueueRequest request = QueueRequest.parse(bodies[i]);
                m.request = request;
                if (request.deadlinePassed(now)) {
                    m.expiredOnArrival = true;
                    m.outcome = Outcome.failure(request.deadlineExceeded(now));
                } else if (request.record() == null) {
                    m.request = request.withRecord(readRecord(Objects.requireNonNull(request.recordRef())));
                }
            } catch (ScoringException e) {
                m.outcome = Outcome.failure(e);
            }
        }
        scoreAll(messages, now);

        ScoringException retry = null;
        int retryable = 0;
        for (Message m : messages) {
            Outcome<Object> o = m.outcome;
            if (o == null) {
                throw new IllegalStateException("message " + m.id + " was not scored");
            }
            ScoringException error = o.error();
            try (Correlation c = Correlation.of(m.id == null ? "" : m.id, context.getInvocationId())) {
                if (error != null && error.isRetryable() && !m.expiredOnArrival) {
                    retryable++;
                    if (retry == null) {
                        retry = error;
                    }
                    continue;
                }
                if (error != null) {
                    context.getLogger().info("[messageId=" + c.id() + "] not scored, completed without retry: " + error);
                }
                if (m.replyTo == null || m.id == null) {
                    continue;
                }
                QueueReply.Timing timing = new QueueReply.Timing(QueueReply.Timing.UNKNOWN, m.scoreNanos / 1_000,
                        (runtime.ticker().read() - received) / 1_000);
                String body = QueueReply.text(QueueReply.body(o.value(), error, timing));
                if (error == null && runtime.payloadStore() instanceof BlobPayloadStore store
                        && body.getBytes(StandardCharsets.UTF_8).length > runtime.settings().payloadThresholdBytes()) {
                    body = QueueReply.text(QueueReply.okByReference(writeOutput(store, m.id, o.value()), timing));
                }
                runtime.replySender().send(new Reply(m.replyTo, QueueReply.messageIdFor(m.id), m.id, body,
                        error == null ? null : error.kind(), m.trace.replyProperties()));
            }
        }
        if (retry == null) {
            deleteRequestBlobs(messages, context);
        }
        if (retry != null) {
            context.getLogger().log(Level.WARNING, retryable + " of " + messages.size() + " messages failed with a retryable "
                    + "kind; failing the invocation so the host abandons the batch: " + retry);
            throw new ScoringException(retry.kind(), retryable + " of " + messages.size() + " messages failed with a "
                    + "retryable kind, first: " + retry.getMessage(), retry);
        }
    }

    /**
     * Scores every parsed message: those without a deadline together in one {@code scoreAll} call, those
     * with one each within its remaining time.
     */
    private void scoreAll(List<Message> messages, Instant now) {
        List<Message> batch = new ArrayList<>();
        List<JsonNode> records = new ArrayList<>();
        List<Message> timed = new ArrayList<>();
        for (Message m : messages) {
            QueueRequest request = m.request;
            if (m.outcome == null && request != null) {
                if (request.deadline() == null) {
                    batch.add(m);
                    records.add(Objects.requireNonNull(request.record()));
                } else {
                    timed.add(m);
                }
            }
        }
        if (batch.isEmpty() && timed.isEmpty()) {
            return;
        }
        Scorer<Object, Object> scorer;
        try {
            scorer = runtime.scorer();
        } catch (ScoringException e) {
            batch.forEach(m -> m.outcome = Outcome.failure(e));
            timed.forEach(m -> m.outcome = Outcome.failure(e));
            return;
        }
        if (!batch.isEmpty()) {
            long start = runtime.ticker().read();
            List<Outcome<Object>> outcomes = scorer.scoreAll(records);
            long perRecord = (runtime.ticker().read() - start) / batch.size();
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).outcome = outcomes.get(i);
                batch.get(i).scoreNanos = perRecord;
            }
        }
        for (Message m : timed) {
            QueueRequest request = Objects.requireNonNull(m.request);
            long start = runtime.ticker().read();
            try {
                m.outcome = Outcome.success(scorer.score(Objects.requireNonNull(request.record()),
                        Duration.between(now, Objects.requireNonNull(request.deadline()))));
            } catch (ScoringException e) {
                m.outcome = Outcome.failure(e);
            }
            m.scoreNanos = runtime.ticker().read() - start;
        }
    }

    /**
     * The record a request by reference points to.
     *
     * @throws ScoringException {@code INVALID_INPUT} naming the reference when it is not in this app's
     *     container, missing or not JSON; {@code UNAVAILABLE} when the store cannot be read
     */
    private JsonNode readRecord(PayloadRef ref) {
        PayloadStore store = runtime.payloadStore();
        if (!(store instanceof BlobPayloadStore blob)) {
            throw ScoringException.invalidInput("request is by reference (" + PayloadRef.RECORD_REF + " '" + ref + "') but "
                    + "this app has no blob payload store; set " + FunctionsSettings.PAYLOAD_CONTAINER);
        }
        if (!ref.container().equals(blob.container())) {
            throw ScoringException.invalidInput("'" + ref + "' names container '" + ref.container() + "'; this app's payload "
                    + "store is container '" + blob.container() + "'");
        }
        byte[] content;
        try {
            content = blob.read(ref.name()).orElseThrow(() -> QueueRequest.recordMissing(ref));
        } catch (UncheckedIOException e) {
            throw new ScoringException(ScoringException.Kind.UNAVAILABLE, "cannot read " + PayloadRef.RECORD_REF + " '" + ref
                    + "': " + e.getMessage(), e);
        }
        return QueueRequest.readRecord(ref, content);
    }

    /**
     * Stores a result as the request's reply blob and returns its reference.
     *
     * @throws ScoringException {@code UNAVAILABLE} if it cannot be stored: the invocation then fails and the
     *     batch is delivered again
     */
    private static PayloadRef writeOutput(BlobPayloadStore store, String messageId, @Nullable Object output) {
        PayloadRef ref = new PayloadRef(store.container(), PayloadRef.replyName(messageId));
        try {
            store.write(ref.name(), QueueReply.bytes(dev.nearline.durable.internal.Json.MAPPER.valueToTree(output)));
        } catch (UncheckedIOException e) {
            throw new ScoringException(ScoringException.Kind.UNAVAILABLE, "cannot store the result of message " + messageId
                    + " for a reply by reference: " + e.getMessage(), e);
        }
        return ref;
    }

    /** Best effort: a blob that cannot be deleted is left to the container's lifecycle rule. */
    private void deleteRequestBlobs(List<Message> messages, ExecutionContext context) {
        for (Message m : messages) {
            QueueRequest r = m.request;
            PayloadRef ref = r == null ? null : r.recordRef();
            if (ref != null && runtime.payloadStore() instanceof BlobPayloadStore store && ref.container().equals(store.container())) {
                try {
                    store.delete(ref.name());
                } catch (UncheckedIOException e) {
                    context.getLogger().warning("[messageId=" + m.id + "] answered, but cannot delete its request blob '" + ref
                            + "'; the container's lifecycle rule removes it: " + e.getMessage());
                }
            }
        }
    }

    private static @Nullable String blankToNull(@Nullable String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
