package dev.nearline.core.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nearline.api.ScoringException;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Reads fields of the record shapes the built-in processors accept: a JSON object, a map, or JSON text. */
final class Records {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Records() {
    }

    /** The record as something fields can be read from: an {@link ObjectNode} or a {@link Map}. */
    static Object normalize(Object record) {
        if (record instanceof ObjectNode || record instanceof Map) {
            return record;
        }
        if (record instanceof CharSequence) {
            try {
                JsonNode n = JSON.readTree(record.toString());
                if (n instanceof ObjectNode) {
                    return n;
                }
                throw ScoringException.invalidInput("record must be a JSON object, got " + JsonSettings.describe(n));
            } catch (JsonProcessingException e) {
                throw ScoringException.invalidInput("record is not valid JSON: " + e.getOriginalMessage());
            }
        }
        if (record instanceof JsonNode) {
            throw ScoringException.invalidInput("record must be a JSON object, got " + JsonSettings.describe((JsonNode) record));
        }
        throw ScoringException.invalidInput("record must be a JSON object, a Map or JSON text, got "
                + record.getClass().getName());
    }

    /** The field's value ({@code JsonNode} or plain Java object), or null when absent or JSON null. */
    static @Nullable Object field(Object record, String name) {
        if (record instanceof ObjectNode) {
            JsonNode v = ((ObjectNode) record).get(name);
            return v == null || v.isNull() ? null : v;
        }
        return ((Map<?, ?>) record).get(name);
    }

    /**
     * The value as a double: JSON numbers, numeric strings, booleans (1/0).
     *
     * @throws ScoringException INVALID_INPUT naming the field and what it got
     */
    static double number(String field, Object value) {
        if (value instanceof JsonNode) {
            JsonNode n = (JsonNode) value;
            if (n.isNumber()) {
                return n.doubleValue();
            }
            if (n.isBoolean()) {
                return n.booleanValue() ? 1 : 0;
            }
            if (n.isTextual()) {
                return parse(field, n.textValue());
            }
            throw notNumber(field, JsonSettings.describe(n));
        }
        if (value instanceof Number) {
            return ((Number) value).doubleValue();
        }
        if (value instanceof Boolean) {
            return (Boolean) value ? 1 : 0;
        }
        if (value instanceof CharSequence) {
            return parse(field, value.toString());
        }
        throw notNumber(field, value.getClass().getSimpleName());
    }

    /** The value as text (numbers in their JSON form), for categorical lookups. */
    static String text(Object value) {
        if (value instanceof JsonNode) {
            JsonNode n = (JsonNode) value;
            return n.isTextual() ? n.textValue() : n.toString();
        }
        return String.valueOf(value);
    }

    /** Decimal numbers as JSON writes them, plus NaN and Infinity; no hex, no Java suffixes. */
    private static final java.util.regex.Pattern NUMBER =
            java.util.regex.Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?|[+-]?(NaN|Infinity)");

    private static double parse(String field, String text) {
        String t = text.trim();
        if (!NUMBER.matcher(t).matches()) {
            throw notNumber(field, "string \"" + clip(text) + "\"");
        }
        try {
            return Double.parseDouble(t);
        } catch (NumberFormatException e) {
            throw notNumber(field, "string \"" + clip(text) + "\"");
        }
    }

    private static ScoringException notNumber(String field, String got) {
        return ScoringException.invalidInput("field '" + field + "' expects a number, got " + got);
    }

    static String clip(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
