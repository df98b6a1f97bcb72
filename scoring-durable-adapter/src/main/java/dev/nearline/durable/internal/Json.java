package dev.nearline.durable.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nearline.api.ScoringException;

/**
 * The adapter's JSON: one shared mapper for request bodies, batch payloads and answers. The body shapes
 * every host answers with (HTTP responses, Service Bus replies, batch result lines) are the queue wire
 * format's, {@link dev.nearline.core.internal.wire.QueueReply}.
 */
public final class Json {
    /** Thread-safe once configured; never reconfigured after class initialisation. */
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Json() {
    }

    /** Parses untrusted JSON text. */
    public static JsonNode parse(String text) throws JsonProcessingException {
        return MAPPER.readTree(text);
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
}
