package dev.nearline.core.internal.wire;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import java.io.IOException;
import java.time.Instant;
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
 * @param record   the record to score
 * @param deadline when the requester stops waiting, or {@code null} for no deadline
 */
public record QueueRequest(JsonNode record, @Nullable Instant deadline) {

    /** Requires the record. */
    public QueueRequest {
        Objects.requireNonNull(record, "record");
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
            throw new ScoringException(Kind.INVALID_INPUT, "request body is not valid JSON: " + Wire.jsonError(e), e);
        }
        if (root == null || root.isMissingNode()) {
            throw empty();
        }
        if (!root.isObject()) {
            throw ScoringException.invalidInput("request body must be a JSON object {\"record\": {...}}, got "
                    + Wire.clip(root.toString(), Wire.MAX_ECHO_CHARS));
        }
        JsonNode record = root.get("record");
        if (record == null || record.isNull()) {
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
        return new QueueRequest(record, deadline);
    }

    private static ScoringException empty() {
        return ScoringException.invalidInput("request body is empty; expected {\"record\": {...}}");
    }

}
