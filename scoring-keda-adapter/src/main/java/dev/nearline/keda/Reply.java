package dev.nearline.keda;

import dev.nearline.core.internal.wire.QueueReply;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A reply to one request, addressed by the request's broker properties, as the worker hands it to its
 * {@link Transport}. Every value in it follows the queue wire format (see this module's README,
 * "Messages"): the worker fills it from the one definition of that format, and a transport copies it into
 * its broker's message as it is, with content type {@link #CONTENT_TYPE} and subject {@link #SUBJECT}.
 * Immutable; the body array is not copied.
 *
 * @param to            the destination, the request's ReplyTo
 * @param sessionId     the reply's SessionId, the request's ReplyToSessionId, or {@code null}
 * @param correlationId the request's MessageId, so that the requester can match the reply
 * @param messageId     the reply's own MessageId; deterministic ({@code "r:" + correlationId}) so that
 *                      duplicate detection on the reply entity drops a second reply to a redelivered request
 * @param body          UTF-8 JSON
 * @param properties    application properties ({@code nearline-status}, {@code nearline-error-kind}, {@code traceparent})
 */
public record Reply(String to, @Nullable String sessionId, String correlationId, String messageId, byte[] body,
                    Map<String, String> properties) {

    /** Content type of every reply body. */
    public static final String CONTENT_TYPE = QueueReply.CONTENT_TYPE;

    /** Subject (label) of every reply. */
    public static final String SUBJECT = QueueReply.SUBJECT;

    /** Checks the required parts and copies the properties. */
    public Reply {
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(correlationId, "correlationId");
        Objects.requireNonNull(messageId, "messageId");
        Objects.requireNonNull(body, "body");
        properties = Map.copyOf(properties);
    }

    /** {@code Reply[to=q, correlationId=id]}, without the body. */
    @Override
    public String toString() {
        return "Reply[to=" + to + ", correlationId=" + correlationId + ", properties=" + properties + "]";
    }
}
