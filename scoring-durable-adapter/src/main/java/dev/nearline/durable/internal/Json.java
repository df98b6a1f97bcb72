package dev.nearline.durable.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nearline.api.ScoringException;
import org.jspecify.annotations.Nullable;

/**
 * The adapter's JSON: one shared mapper and the body shapes every host answers with, the same as
 * Nearline's queue worker: a success is
 * {@code {"status":"OK","output":...,"timing":{"queuedMs":q,"scoreMicros":s,"totalMicros":t}}}, a failure
 * {@code {"status":"ERROR","error":{"kind":"INVALID_INPUT","message":"..."},"timing":{...}}}
 * ({@code queuedMs} is -1 where the time spent in a queue is unknown). HTTP responses, Service Bus
 * replies and, without timing, batch result lines use these.
 */
public final class Json {
    /** Thread-safe once configured; never reconfigured after class initialisation. */
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** Longest error message written to a body or a batch report. */
    public static final int MAX_MESSAGE_CHARS = 300;

    private Json() {
    }

    /** Parses untrusted JSON text. */
    public static JsonNode parse(String text) throws JsonProcessingException {
        return MAPPER.readTree(text);
    }

    /**
     * Where a record's time went.
     *
     * @param queuedMs    time in a queue before it was received, or -1 when unknown
     * @param scoreMicros time in the scorer
     * @param totalMicros time from receiving the request to answering it
     */
    public record Timing(long queuedMs, long scoreMicros, long totalMicros) {
    }

    /** A success body. */
    public static ObjectNode ok(@Nullable Object output, Timing timing) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("status", "OK");
        n.set("output", MAPPER.valueToTree(output));
        n.set("timing", timing(timing));
        return n;
    }

    /** A failure body without timing; the message is clipped to {@link #MAX_MESSAGE_CHARS}. */
    public static ObjectNode error(ScoringException.Kind kind, @Nullable String message) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("status", "ERROR");
        ObjectNode e = n.putObject("error");
        e.put("kind", kind.name());
        e.put("message", clip(String.valueOf(message)));
        return n;
    }

    /** A failure body with timing. */
    public static ObjectNode error(ScoringException.Kind kind, @Nullable String message, Timing timing) {
        ObjectNode n = error(kind, message);
        n.set("timing", timing(timing));
        return n;
    }

    private static ObjectNode timing(Timing t) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("queuedMs", t.queuedMs());
        n.put("scoreMicros", t.scoreMicros());
        n.put("totalMicros", t.totalMicros());
        return n;
    }

    /** Serialises a tree or value. */
    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + value.getClass().getName() + " as JSON: "
                    + e.getOriginalMessage(), e);
        }
    }

    /** Reads an internal payload that this adapter wrote, accepting it double-encoded as a JSON string. */
    public static <T> T readPayload(String text, Class<T> type) {
        try {
            JsonNode n = MAPPER.readTree(text);
            if (n.isTextual()) {
                n = MAPPER.readTree(n.textValue());
            }
            return MAPPER.treeToValue(n, type);
        } catch (JsonProcessingException e) {
            throw new ScoringException(ScoringException.Kind.INTERNAL, "malformed " + type.getSimpleName()
                    + " payload: " + e.getOriginalMessage(), e);
        }
    }

    /** {@code message} cut to {@link #MAX_MESSAGE_CHARS}, with an ellipsis when cut. */
    public static String clip(String message) {
        return message.length() <= MAX_MESSAGE_CHARS ? message : message.substring(0, MAX_MESSAGE_CHARS - 3) + "...";
    }

    /** A one-line reason for a JSON parse failure, without Jackson's source excerpt. */
    public static String reason(JsonProcessingException e) {
        String m = e.getOriginalMessage();
        int nl = m.indexOf('\n');
        return clip(nl < 0 ? m : m.substring(0, nl));
    }
}
