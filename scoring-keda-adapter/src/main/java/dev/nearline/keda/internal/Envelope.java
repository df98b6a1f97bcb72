package dev.nearline.keda.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import java.io.IOException;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * The JSON envelopes of the worker. A request body is
 * {@code {"record": {...}, "deadlineMs": 1767225600000}} ({@code deadlineMs}, epoch milliseconds, is
 * optional); a reply body is {@code {"status": "OK", "output": {...}, "timing": {...}}} or
 * {@code {"status": "ERROR", "error": {"kind": "INVALID_INPUT", "message": "..."}, "timing": {...}}}.
 * Thread-safe.
 */
public final class Envelope {
    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final int MAX_ECHO = 120;

    private Envelope() {
    }

    /** A parsed request: the record to score and its optional deadline. */
    public record Request(JsonNode record, @Nullable Instant deadline) {
    }

    /** Where a request's time went: queued in the broker, scoring, and from receive to reply. */
    public record Timing(long queuedMillis, long scoreMicros, long totalMicros) {
    }

    /**
     * Parses a request body.
     *
     * @throws ScoringException {@code INVALID_INPUT} naming what is wrong with the body
     */
    public static Request parseRequest(byte[] body) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            String detail = String.valueOf(e.getMessage());
            if (e instanceof JsonProcessingException) {
                JsonProcessingException j = (JsonProcessingException) e;
                detail = String.valueOf(j.getOriginalMessage());
                int cut = detail.indexOf(" (start marker at");
                detail = cut < 0 ? detail : detail.substring(0, cut); // its source location says nothing useful
                if (j.getLocation() != null) {
                    detail += " at line " + j.getLocation().getLineNr() + ", column " + j.getLocation().getColumnNr();
                }
            }
            throw ScoringException.invalidInput("request body is not valid JSON: " + detail);
        }
        if (root == null || root.isMissingNode()) {
            throw ScoringException.invalidInput("request body is empty; expected {\"record\": {...}}");
        }
        if (!(root instanceof ObjectNode)) {
            throw ScoringException.invalidInput("request body must be a JSON object {\"record\": {...}}, got "
                    + clip(root.toString()));
        }
        JsonNode record = root.get("record");
        if (record == null || record.isNull()) {
            throw ScoringException.invalidInput("request body has no 'record'; expected {\"record\": {...}}");
        }
        Instant deadline = null;
        JsonNode d = root.get("deadlineMs");
        if (d != null && !d.isNull()) {
            if (!d.canConvertToLong() || !d.isIntegralNumber()) {
                throw ScoringException.invalidInput("'deadlineMs' must be epoch milliseconds (an integer), got "
                        + clip(d.toString()));
            }
            deadline = Instant.ofEpochMilli(d.longValue());
        }
        return new Request(record, deadline);
    }

    /** The body of a successful reply. */
    public static byte[] okReply(Object output, Timing timing) {
        ObjectNode root = JSON.createObjectNode();
        root.put("status", "OK");
        root.set("output", JSON.valueToTree(output));
        root.set("timing", timing(timing));
        return bytes(root);
    }

    /** The body of an error reply. */
    public static byte[] errorReply(Kind kind, String message, Timing timing) {
        ObjectNode root = JSON.createObjectNode();
        root.put("status", "ERROR");
        ObjectNode error = root.putObject("error");
        error.put("kind", kind.name());
        error.put("message", message);
        root.set("timing", timing(timing));
        return bytes(root);
    }

    /** The start of {@code text}, for messages that echo untrusted input. */
    static String clip(String text) {
        return text.length() > MAX_ECHO ? text.substring(0, MAX_ECHO) + "..." : text;
    }

    private static ObjectNode timing(Timing t) {
        ObjectNode n = JSON.createObjectNode();
        n.put("queuedMs", t.queuedMillis());
        n.put("scoreMicros", t.scoreMicros());
        n.put("totalMicros", t.totalMicros());
        return n;
    }

    private static byte[] bytes(JsonNode node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new ScoringException(Kind.INTERNAL, "cannot write the reply as JSON: " + e.getOriginalMessage(), e);
        }
    }
}
