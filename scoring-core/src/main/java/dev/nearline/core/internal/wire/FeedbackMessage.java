package dev.nearline.core.internal.wire;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nearline.api.ScoringException;
import dev.nearline.core.FeedbackOutcome;
import dev.nearline.core.QualityMonitor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Labels as they travel to a host (a feedback queue, an HTTP function), the one format both Azure hosts read.
 * The body is UTF-8 JSON: one label, {@code {"id": "tx-42", "label": 1}}, or an array of at most
 * {@value #MAX_LABELS} of them. {@code id} is a string, or an integer number that counts by its JSON text
 * ({@code 42} is the id {@code "42"}), as the pipeline's {@code quality.id} field reads it from records;
 * {@code label} is a number (0 or 1 for a binary classifier, a class index, a regression target), a boolean
 * (1 or 0), or a string (a class name). Other members are ignored. Immutable.
 *
 * @param labels the labels, in body order
 */
public record FeedbackMessage(List<Label> labels) {
    /** Labels in one body at most. */
    public static final int MAX_LABELS = 1_000;

    /** Copies the list. */
    public FeedbackMessage {
        labels = List.copyOf(labels);
    }

    /**
     * One label.
     *
     * @param id     the id of the scored record
     * @param number the label as a number, or null when it is text
     * @param text   the label as text (a class name), or null when it is a number
     */
    public record Label(String id, @Nullable Double number, @Nullable String text) {

        /** Requires the id and exactly one of the two forms. */
        public Label {
            Objects.requireNonNull(id, "id");
            if ((number == null) == (text == null)) {
                throw new IllegalArgumentException("a label is either a number or a text");
            }
        }

        /** Gives this label to {@code monitor}. */
        public FeedbackOutcome applyTo(QualityMonitor monitor) {
            return number != null ? monitor.feedback(id, number) : monitor.feedback(id, Objects.requireNonNull(text));
        }
    }

    /**
     * Parses a body.
     *
     * @throws ScoringException {@code INVALID_INPUT}, one line naming what is wrong (never quoting more than
     *     {@link Wire#MAX_ECHO_CHARS} of the body)
     */
    public static FeedbackMessage parse(byte[] body) {
        Objects.requireNonNull(body, "body");
        try {
            return of(Wire.JSON.readTree(body));
        } catch (IOException e) {
            throw ScoringException.invalidInput("feedback body is not valid JSON: " + Wire.jsonError(e));
        }
    }

    /** As {@link #parse(byte[])} for a body handed over as text; {@code null} is an empty body. */
    public static FeedbackMessage parse(@Nullable String body) {
        if (body == null || body.isBlank()) {
            throw ScoringException.invalidInput("feedback body is empty; send {\"id\": ..., \"label\": ...}");
        }
        try {
            return of(Wire.JSON.readTree(body));
        } catch (JsonProcessingException e) {
            throw ScoringException.invalidInput("feedback body is not valid JSON: " + Wire.jsonError(e));
        }
    }

    private static FeedbackMessage of(@Nullable JsonNode root) {
        if (root == null || root.isMissingNode()) {
            throw ScoringException.invalidInput("feedback body is empty; send {\"id\": ..., \"label\": ...}");
        }
        List<Label> labels = new ArrayList<>();
        if (root.isArray()) {
            if (root.size() > MAX_LABELS) {
                throw ScoringException.invalidInput("feedback body has " + root.size() + " labels, more than "
                        + MAX_LABELS + "; split it");
            }
            for (int i = 0; i < root.size(); i++) {
                labels.add(label(root.get(i), "[" + i + "]"));
            }
        } else {
            labels.add(label(root, ""));
        }
        return new FeedbackMessage(labels);
    }

    private static Label label(JsonNode node, String where) {
        if (!node.isObject()) {
            throw ScoringException.invalidInput("feedback" + where + " must be a JSON object {\"id\": ..., \"label\": ...}"
                    + ", got " + kind(node));
        }
        JsonNode id = node.get("id");
        String idText;
        if (id != null && id.isTextual()) {
            idText = id.textValue();
        } else if (id != null && id.isIntegralNumber()) {
            idText = id.asText();
        } else {
            throw ScoringException.invalidInput("feedback" + where + ".id must be a string or an integer, got "
                    + kind(id));
        }
        if (idText.isEmpty()) {
            throw ScoringException.invalidInput("feedback" + where + ".id must not be empty");
        }
        JsonNode label = node.get("label");
        if (label != null && label.isNumber()) {
            return new Label(idText, label.doubleValue(), null);
        }
        if (label != null && label.isBoolean()) {
            return new Label(idText, label.booleanValue() ? 1.0 : 0.0, null);
        }
        if (label != null && label.isTextual()) {
            return new Label(idText, null, label.textValue());
        }
        throw ScoringException.invalidInput("feedback" + where + ".label must be a number, a boolean or a class name, got "
                + kind(label));
    }

    private static String kind(@Nullable JsonNode node) {
        return node == null || node.isMissingNode() ? "nothing" : node.getNodeType().name().toLowerCase(Locale.ROOT);
    }

    /** Gives every label to {@code monitor}; returns how many got each outcome. */
    public Map<FeedbackOutcome, Integer> applyTo(QualityMonitor monitor) {
        Map<FeedbackOutcome, Integer> counts = new EnumMap<>(FeedbackOutcome.class);
        for (Label l : labels) {
            counts.merge(l.applyTo(monitor), 1, Integer::sum);
        }
        return counts;
    }

    /**
     * The answer to a feedback body, as the HTTP function sends it: {@code {"joined": 1, "unknown": 0,
     * "expired": 0, "duplicate": 0, "invalid": 0}}, every outcome present.
     */
    public static ObjectNode summary(Map<FeedbackOutcome, Integer> counts) {
        ObjectNode out = Wire.JSON.createObjectNode();
        for (FeedbackOutcome o : FeedbackOutcome.values()) {
            out.put(o.name().toLowerCase(Locale.ROOT), counts.getOrDefault(o, 0));
        }
        return out;
    }

    /** The JSON text of {@link #summary}. */
    public static String summaryText(Map<FeedbackOutcome, Integer> counts) {
        try {
            return Wire.JSON.writeValueAsString(summary(counts));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a feedback summary", e);
        }
    }
}
