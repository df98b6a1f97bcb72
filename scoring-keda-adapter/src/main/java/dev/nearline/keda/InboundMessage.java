package dev.nearline.keda;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A request message received with a lock: the broker properties the worker needs plus the transport's
 * own handle, which the worker passes back untouched when it replies, settles or renews the lock.
 * Immutable; the body array is not copied, so neither side may change it.
 *
 * @param messageId        the request's MessageId; the reply's CorrelationId. Empty when the sender set
 *                         none (the worker dead-letters such a request, since no reply could be matched)
 * @param replyTo          where the reply goes (a queue or topic name), or {@code null} for no reply
 * @param replyToSessionId the session of the reply, or {@code null}
 * @param body             the raw body, UTF-8 JSON by contract
 * @param deliveryCount    how often the broker has delivered this message, 1 on the first delivery on
 *                         Azure Service Bus
 * @param enqueuedTime     when the broker accepted the message, or {@code null} if unknown
 * @param lockedUntil      when the lock expires, or {@code null} if the transport does not say
 * @param properties       application properties, as strings
 * @param handle           the transport's object for this delivery; opaque to the worker
 */
public record InboundMessage(String messageId, @Nullable String replyTo, @Nullable String replyToSessionId,
                             byte[] body, long deliveryCount, @Nullable Instant enqueuedTime,
                             @Nullable Instant lockedUntil, Map<String, String> properties, Object handle) {

    /** Checks the required parts and copies the properties. */
    public InboundMessage {
        Objects.requireNonNull(messageId, "messageId");
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(handle, "handle");
        properties = Map.copyOf(properties);
        if (deliveryCount < 0) {
            throw new IllegalArgumentException("deliveryCount must not be negative, got " + deliveryCount);
        }
    }

    /** {@code InboundMessage[id, deliveryCount=n, replyTo=q]}, without the body. */
    @Override
    public String toString() {
        return "InboundMessage[" + messageId + ", deliveryCount=" + deliveryCount + ", replyTo=" + replyTo + "]";
    }
}
