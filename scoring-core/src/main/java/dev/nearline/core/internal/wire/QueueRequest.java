package dev.nearline.core.internal.wire;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import java.io.IOException;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A scoring request as it travels through a queue. Its body is UTF-8 JSON,
 * {@code {"record": {...}, "deadlineMs": 1767225600000}}: {@code record} (required, not null) goes to the
 * pipeline as a Jackson {@link JsonNode}; {@code deadlineMs} (optional) is the epoch millisecond after
 * which an answer has no value. Other members are ignored. The broker message must carry a
 * {@code MessageId}, which correlates the reply. Immutable once parsed; {@code record} is the parser's own
 * tree, not to be changed.
 *
 * <p>A record too large for the broker travels by claim check: the body carries
 * {@code "recordRef": "blob://<container>/<name>"} ({@link PayloadRef}) instead of {@code record}, and the
 * blob holds the record's JSON. Such a request parses with {@code record == null}; the host reads the blob
 * (bounded by the request's deadline), checks it with {@link #readRecord} and scores
 * {@link #withRecord the resolved request}, which keeps {@code recordRef} so that the host can delete the
 * blob once the request is settled.
 *
 * @param record    the record to score; {@code null} only while a request by reference is unresolved
 * @param deadline  when the requester stops waiting, or {@code null} for no deadline
 * @param recordRef where the record was stored, for a request by reference; else {@code null}
 */
public record QueueRequest(@Nullable JsonNode record, @Nullable Instant deadline, @Nullable PayloadRef recordRef) {

    /** Requires the record or its reference. */
    public QueueRequest {
        if (record == null && recordRef == null) {
            throw new NullPointerException("record");
        }
    }

    /** A request with its record inline. */
    public QueueRequest(JsonNode record, @Nullable Instant deadline) {
        this(Objects.requireNonNull(record, "record"), deadline, null);
    }

    /** This request by reference with its record read from the payload store. */
    public QueueRequest withRecord(JsonNode loaded) {
        return new QueueRequest(Objects.requireNonNull(loaded, "loaded"), deadline, recordRef);
    }

    /**
     * The record a request by reference points to, from the bytes the payload store returned for
     * {@code ref}.
     *
     * @throws ScoringException {@code INVALID_INPUT} naming the reference (never the content) when the
     *     bytes are empty, not JSON, or JSON {@code null}
     */
    public static JsonNode readRecord(PayloadRef ref, byte[] content) {
        JsonNode record;
        try {
            record = content.length == 0 ? null : Wire.JSON.readTree(content);
        } catch (IOException e) {
            // The parser's own reason quotes the offending token: content that must not reach a reply or a log.
            String at = e instanceof JsonProcessingException j && j.getLocation() != null && j.getLocation().getLineNr() > 0
                    ? " (at line " + j.getLocation().getLineNr() + ", column " + j.getLocation().getColumnNr() + ")" : "";
            throw new ScoringException(Kind.INVALID_INPUT, "the record at " + PayloadRef.RECORD_REF + " '" + ref
                    + "' is not valid JSON" + at); // no cause either: its message quotes the token
        }
        if (record == null || record.isMissingNode() || record.isNull()) {
            throw ScoringException.invalidInput("the record at " + PayloadRef.RECORD_REF + " '" + ref + "' is empty or "
                    + "null; the blob must hold the record's JSON");
        }
        return record;
    }

    /**
     * The failure of a request by reference whose blob does not exist.
     */
    public static ScoringException recordMissing(PayloadRef ref) {
        return ScoringException.invalidInput(PayloadRef.RECORD_REF + " '" + ref + "' does not exist in the payload store "
                + "(already deleted, removed by a lifecycle rule, or never uploaded)");
    }

    /**
     * The failure of a request by reference whose blob is larger than the host accepts.
     */
    public static ScoringException recordTooLarge(PayloadRef ref, long maxBytes) {
        return ScoringException.invalidInput(PayloadRef.RECORD_REF + " '" + ref + "' is larger than the " + maxBytes
                + " bytes this host reads from the payload store");
    }

    /**
     * Parses a request body.
     *
     * @throws ScoringException {@code INVALID_INPUT}, one line naming what is wrong with the body
     */
    public static QueueRequest parse(byte[] body) {
        Objects.requireNonNull(body, "body");
        return read(() -> Wire.JSON.readTree(body));
    }

    /**
     * Parses a request body handed over as text (as the Functions host binds it); {@code null} is an
     * empty body.
     *
     * @throws ScoringException {@code INVALID_INPUT}, one line naming what is wrong with the body
     */
    public static QueueRequest parse(@Nullable String body) {
        if (body == null) {
            throw empty();
        }
        return read(() -> Wire.JSON.readTree(body));
    }

    /** The failure of a request whose broker message has no {@code MessageId}: it could not be answered. */
    public static ScoringException missingMessageId() {
        return ScoringException.invalidInput("request has no MessageId, so no reply could be matched to it; "
                + "set MessageId on every request");
    }

    /** Whether the request's deadline has passed at {@code now}; never for a request without one. */
    public boolean deadlinePassed(Instant now) {
        return deadline != null && !now.isBefore(deadline);
    }

    /**
     * The {@code DEADLINE_EXCEEDED} failure of a request whose deadline passed before it was scored.
     *
     * @throws IllegalStateException if the request has no deadline
     */
    public ScoringException deadlineExceeded(Instant now) {
        if (deadline == null) {
            throw new IllegalStateException("request has no deadline");
        }
        return new ScoringException(Kind.DEADLINE_EXCEEDED, "request deadline " + deadline
                + " passed before scoring (received at " + now + ")");
    }

    /** Reads a body's JSON tree: from bytes or from text. */
    @FunctionalInterface
    private interface Body {
        @Nullable JsonNode read() throws IOException;
    }

    private static QueueRequest read(Body body) {
        JsonNode root;
        try {
            root = body.read();
        } catch (IOException e) {
            // No cause: the parser's own message quotes the body, which may be personal data.
            throw new ScoringException(Kind.INVALID_INPUT, "request body is not valid JSON: " + Wire.jsonError(e));
        }
        if (root == null || root.isMissingNode()) {
            throw empty();
        }
        if (!root.isObject()) {
            throw ScoringException.invalidInput("request body must be a JSON object {\"record\": {...}}, got "
                    + (root.isArray() ? "an array" : root.isTextual() ? "a string" : root.isNumber() ? "a number"
                    : root.isBoolean() ? "a boolean" : root.isNull() ? "null" : "a " + root.getNodeType()));
        }
        JsonNode record = root.get("record");
        JsonNode ref = root.get(PayloadRef.RECORD_REF);
        PayloadRef recordRef = null;
        if (ref != null && !ref.isNull()) {
            if (record != null && !record.isNull()) {
                throw ScoringException.invalidInput("request body has both 'record' and '" + PayloadRef.RECORD_REF
                        + "'; send the record inline or by reference, not both");
            }
            if (!ref.isTextual()) {
                throw ScoringException.invalidInput("'" + PayloadRef.RECORD_REF + "' must be a string "
                        + PayloadRef.SCHEME + "<container>/<name>, got a JSON " + ref.getNodeType().name().toLowerCase(Locale.ROOT));
            }
            recordRef = PayloadRef.parse(PayloadRef.RECORD_REF, ref.textValue());
            record = null;
        } else if (record == null || record.isNull()) {
            throw ScoringException.invalidInput("request body has no 'record'; expected {\"record\": {...}}");
        }
        Instant deadline = null;
        JsonNode d = root.get("deadlineMs");
        if (d != null && !d.isNull()) {
            if (!d.isIntegralNumber() || !d.canConvertToLong()) {
                throw ScoringException.invalidInput("'deadlineMs' must be epoch milliseconds (an integer), got "
                        + Wire.clip(d.toString(), Wire.MAX_ECHO_CHARS));
            }
            deadline = Instant.ofEpochMilli(d.longValue());
        }
        return new QueueRequest(record, deadline, recordRef);
    }

    private static ScoringException empty() {
        return ScoringException.invalidInput("request body is empty; expected {\"record\": {...}}");
    }

}
