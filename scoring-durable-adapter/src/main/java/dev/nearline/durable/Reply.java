package dev.nearline.durable;

import dev.nearline.api.ScoringException;
import dev.nearline.core.internal.wire.QueueReply;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A reply to a scoring request that came through a queue, as {@link ServiceBusScoring} hands it to its
 * {@link ReplySender}. It follows the queue wire format that this host shares with Nearline's queue
 * worker (documented in {@code scoring-keda-adapter/README.md}, "Messages"): every value in it is filled
 * from the one definition of that format, and a sender copies it into its broker's message as it is,
 * with the application properties {@link #properties()}, content type {@code application/json} and
 * subject {@code nearline.reply}. Immutable.
 *
 * @param to            the queue or topic to send to (the request's {@code ReplyTo})
 * @param messageId     the reply's message id, {@code "r:" + request MessageId}
 * @param correlationId the request's message id
 * @param body          the JSON body
 * @param errorKind     the failure kind of an error reply, or null for a result
 * @param trace         the W3C trace properties: {@code traceparent} continuing the request's trace (a new one
 *                      when the request had none or a malformed one) and the request's {@code tracestate}, if
 *                      any; empty when the reply carries no trace
 */
public record Reply(String to, String messageId, String correlationId, String body,
                    ScoringException.@Nullable Kind errorKind, Map<String, String> trace) {

    /** Requires every part but the kind; copies {@code trace}. */
    public Reply {
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(messageId, "messageId");
        Objects.requireNonNull(correlationId, "correlationId");
        Objects.requireNonNull(body, "body");
        trace = Map.copyOf(Objects.requireNonNull(trace, "trace"));
    }

    /** A reply without trace properties. */
    public Reply(String to, String messageId, String correlationId, String body, ScoringException.@Nullable Kind errorKind) {
        this(to, messageId, correlationId, body, errorKind, Map.of());
    }

    /**
     * The reply's application properties: {@code nearline-status} ({@code OK} or {@code ERROR}), on an
     * error reply {@code nearline-error-kind}, and the {@link #trace()} properties. Immutable.
     */
    public Map<String, String> properties() {
        Map<String, String> out = new LinkedHashMap<>(QueueReply.properties(errorKind));
        out.putAll(trace);
        return Collections.unmodifiableMap(out);
    }
}
