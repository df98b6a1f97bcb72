package dev.nearline.durable;

import dev.nearline.api.ScoringException;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A reply to a scoring request that came through a queue, with the conventions Nearline's queue hosts
 * share: it goes to the request's {@code ReplyTo}; its {@code CorrelationId} is the request's
 * {@code MessageId}; its own {@code MessageId} is {@code "r:" + request MessageId}, so that a request
 * scored twice after a redelivery yields a reply the broker's duplicate detection drops; its subject is
 * {@value #SUBJECT}; its body is JSON ({@value #CONTENT_TYPE}),
 * {@code {"status":"OK","output":...,"timing":{...}}} or
 * {@code {"status":"ERROR","error":{"kind":...,"message":...},"timing":{...}}}; the application property
 * {@value #STATUS_PROPERTY} is {@code OK} or {@code ERROR}, and a failed one carries the kind in
 * {@value #ERROR_KIND_PROPERTY}. These are the conventions of the queue worker in
 * {@code scoring-keda-adapter}, restated here so that this module does not depend on it.
 *
 * @param to            the queue or topic to send to (the request's {@code ReplyTo})
 * @param messageId     the reply's message id
 * @param correlationId the request's message id
 * @param body          the JSON body
 * @param errorKind     the failure kind of an error reply, or null for a result
 */
public record Reply(String to, String messageId, String correlationId, String body,
                    ScoringException.@Nullable Kind errorKind) {
    /** Subject of every reply. */
    public static final String SUBJECT = "nearline.reply";
    /** Application property holding {@code OK} or {@code ERROR}. */
    public static final String STATUS_PROPERTY = "nearline-status";
    /** Application property holding the kind of an error reply. */
    public static final String ERROR_KIND_PROPERTY = "nearline-error-kind";
    /** Content type of every reply body. */
    public static final String CONTENT_TYPE = "application/json";

    /** Requires every part but the kind. */
    public Reply {
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(messageId, "messageId");
        Objects.requireNonNull(correlationId, "correlationId");
        Objects.requireNonNull(body, "body");
    }

    /** The message id of the reply to request {@code requestMessageId}. */
    public static String messageIdFor(String requestMessageId) {
        return "r:" + requestMessageId;
    }
}
