package dev.nearline.core.internal.wire;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The reply to a queued request. It goes to the request's {@code ReplyTo} (in the session named by its
 * {@code ReplyToSessionId}, if any) with {@code CorrelationId} = the request's {@code MessageId}, its own
 * {@code MessageId} = {@link #messageIdFor(String) "r:" + request MessageId} (so that duplicate detection
 * drops the second reply to a redelivered request), subject {@value #SUBJECT}, content type
 * {@value #CONTENT_TYPE}, the {@link #properties(Kind) application properties}
 * {@value #STATUS_PROPERTY} and {@value #ERROR_KIND_PROPERTY}, and a JSON body:
 *
 * <pre>
 * {"status":"OK","output":{...},"timing":{"queuedMs":3,"scoreMicros":40,"totalMicros":500}}
 * {"status":"ERROR","error":{"kind":"INVALID_INPUT","message":"..."},"timing":{...}}
 * </pre>
 *
 * The same body shapes, without timing where there is none, answer HTTP requests and fill batch result
 * lines. A result too large for the broker goes by claim check ({@link #okByReference}): the output's JSON
 * is stored as a blob and the body carries {@code "outputRef": "blob://<container>/<name>"} in place of
 * {@code output}. Stateless and thread-safe.
 */
public final class QueueReply {
    /** Content type of every reply. */
    public static final String CONTENT_TYPE = "application/json";
    /** Subject (label) of every reply. */
    public static final String SUBJECT = "nearline.reply";
    /** Application property holding {@value #STATUS_OK} or {@value #STATUS_ERROR}. */
    public static final String STATUS_PROPERTY = "nearline-status";
    /** Application property of an error reply holding the failure's kind, e.g. {@code INVALID_INPUT}. */
    public static final String ERROR_KIND_PROPERTY = "nearline-error-kind";
    /** Status of a scored request. */
    public static final String STATUS_OK = "OK";
    /** Status of a failed request. */
    public static final String STATUS_ERROR = "ERROR";

    private static final String REPLY_ID_PREFIX = "r:";
    private static final Map<String, String> OK_PROPERTIES = Map.of(STATUS_PROPERTY, STATUS_OK);

    private QueueReply() {
    }

    /**
     * Where a request's time went, in the reply's {@code timing} member.
     *
     * @param queuedMillis time between the broker accepting the request and the host receiving it, or
     *                     {@link #UNKNOWN} where the host does not know it
     * @param scoreMicros  time in the scorer
     * @param totalMicros  time from receiving the request to answering it
     */
    public record Timing(long queuedMillis, long scoreMicros, long totalMicros) {
        /** {@code queuedMillis} of a host that does not know when the request was enqueued. */
        public static final long UNKNOWN = -1;
    }

    /** The {@code MessageId} of the reply to the request with {@code requestMessageId}. */
    public static String messageIdFor(String requestMessageId) {
        return REPLY_ID_PREFIX + requestMessageId;
    }

    /**
     * The application properties of a reply: {@value #STATUS_PROPERTY} = {@value #STATUS_OK} for a result;
     * {@value #STATUS_PROPERTY} = {@value #STATUS_ERROR} and {@value #ERROR_KIND_PROPERTY} = the kind for
     * a failure. Immutable.
     *
     * @param errorKind the failure's kind, or {@code null} for a result
     */
    public static Map<String, String> properties(@Nullable Kind errorKind) {
        return errorKind == null ? OK_PROPERTIES
                : Map.of(STATUS_PROPERTY, STATUS_ERROR, ERROR_KIND_PROPERTY, errorKind.name());
    }

    /**
     * The body answering a scored record ({@code error == null}) or a failed one: {@link #ok} or
     * {@link #error(Kind, String, Timing)}.
     *
     * @throws ScoringException {@code INTERNAL} if the output cannot be written as JSON
     */
    public static ObjectNode body(@Nullable Object output, @Nullable ScoringException error, Timing timing) {
        return error == null ? ok(output, timing) : error(error.kind(), error.getMessage(), timing);
    }

    /**
     * A result body: {@code {"status":"OK","output":...,"timing":{...}}}.
     *
     * @throws ScoringException {@code INTERNAL} if the output cannot be written as JSON
     */
    public static ObjectNode ok(@Nullable Object output, Timing timing) {
        ObjectNode n = Wire.JSON.createObjectNode();
        n.put("status", STATUS_OK);
        JsonNode tree;
        try {
            tree = Wire.JSON.valueToTree(output);
        } catch (IllegalArgumentException e) {
            String type = output == null ? "null" : output.getClass().getName();
            throw new ScoringException(Kind.INTERNAL, "cannot write the output (" + type + ") as JSON: "
                    + e.getMessage(), e);
        }
        n.set("output", tree);
        n.set("timing", timing(timing));
        return n;
    }

    /**
     * A result body whose output is in the payload store:
     * {@code {"status":"OK","outputRef":"blob://<container>/<name>","timing":{...}}}.
     */
    public static ObjectNode okByReference(PayloadRef outputRef, Timing timing) {
        ObjectNode n = Wire.JSON.createObjectNode();
        n.put("status", STATUS_OK);
        n.put(PayloadRef.OUTPUT_REF, outputRef.toString());
        n.set("timing", timing(timing));
        return n;
    }

    /**
     * The {@code output} of a result body as UTF-8 JSON bytes, what a reply by reference stores.
     *
     * @throws IllegalArgumentException if {@code body} has no {@code output}
     */
    public static byte[] outputBytes(JsonNode body) {
        JsonNode output = body.get("output");
        if (output == null) {
            throw new IllegalArgumentException("not a result body: no 'output'");
        }
        return bytes(output);
    }

    /**
     * A failure body without timing, {@code {"status":"ERROR","error":{"kind":...,"message":...}}}; the
     * message is clipped by {@link Wire#errorDescription}.
     */
    public static ObjectNode error(Kind kind, @Nullable String message) {
        ObjectNode n = Wire.JSON.createObjectNode();
        n.put("status", STATUS_ERROR);
        ObjectNode e = n.putObject("error");
        e.put("kind", kind.name());
        e.put("message", Wire.errorDescription(message));
        return n;
    }

    /** A failure body with timing. */
    public static ObjectNode error(Kind kind, @Nullable String message, Timing timing) {
        ObjectNode n = error(kind, message);
        n.set("timing", timing(timing));
        return n;
    }

    /** A body as UTF-8 JSON bytes. */
    public static byte[] bytes(JsonNode body) {
        try {
            return Wire.JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw cannotWrite(e);
        }
    }

    /** A body as JSON text. */
    public static String text(JsonNode body) {
        try {
            return Wire.JSON.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw cannotWrite(e);
        }
    }

    private static ScoringException cannotWrite(JsonProcessingException e) {
        return new ScoringException(Kind.INTERNAL, "cannot write the reply as JSON: " + e.getOriginalMessage(), e);
    }

    private static ObjectNode timing(Timing t) {
        ObjectNode n = Wire.JSON.createObjectNode();
        n.put("queuedMs", t.queuedMillis());
        n.put("scoreMicros", t.scoreMicros());
        n.put("totalMicros", t.totalMicros());
        return n;
    }
}
