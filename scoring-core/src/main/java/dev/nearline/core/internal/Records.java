package dev.nearline.core.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nearline.api.ScoringException;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Reads fields of the record shapes the built-in processors accept: a JSON object, a map, or JSON text. */
final class Records {

    private Records() {
    }

    /**
     * The record as something fields can be read from: an {@link ObjectNode} or a {@link Map}; JSON text
     * is parsed under {@code limits}.
     *
     * @throws ScoringException INVALID_INPUT naming what the record is instead
     */
    static Object normalize(Object record, RecordLimits limits, RecordLimits.Budget budget, boolean quoteValues) {
        if (record instanceof ObjectNode || record instanceof Map) {
            return record;
        }
        if (record instanceof CharSequence) {
            return limits.parseObject((CharSequence) record, budget, quoteValues);
        }
        if (record instanceof JsonNode) {
            throw ScoringException.invalidInput("record must be a JSON object, got " + kind((JsonNode) record, quoteValues));
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
     * @param quoteValues whether the message may quote the value (else it names its JSON type only)
     * @throws ScoringException INVALID_INPUT naming the field and what it got
     */
    static double number(String field, Object value, boolean quoteValues) {
        if (value instanceof JsonNode) {
            JsonNode n = (JsonNode) value;
            if (n.isNumber()) {
                return n.doubleValue();
            }
            if (n.isBoolean()) {
                return n.booleanValue() ? 1 : 0;
            }
            if (n.isTextual()) {
                return parse(field, n.textValue(), quoteValues);
            }
            throw notNumber(field, kind(n, quoteValues));
        }
        if (value instanceof Number) {
            return ((Number) value).doubleValue();
        }
        if (value instanceof Boolean) {
            return (Boolean) value ? 1 : 0;
        }
        if (value instanceof CharSequence) {
            return parse(field, (CharSequence) value, quoteValues);
        }
        throw notNumber(field, describe(value));
    }

    /** The value as text (numbers in their JSON form), for categorical lookups; not for containers. */
    static String text(Object value) {
        if (value instanceof JsonNode) {
            JsonNode n = (JsonNode) value;
            return n.isTextual() ? n.textValue() : n.toString();
        }
        return String.valueOf(value);
    }

    /** What a Java value is, for messages: its kind, never its content. */
    static String describe(Object value) {
        if (value instanceof Map) {
            return "an object";
        }
        if (value instanceof Iterable || value.getClass().isArray()) {
            return "an array";
        }
        if (value instanceof JsonNode) {
            return JsonSettings.typeOf((JsonNode) value);
        }
        return "a value of type " + value.getClass().getName();
    }

    /**
     * What a record's JSON value is, for messages: with {@code quoteValues}, its type and (clipped) value, such as
     * {@code string "twelve"}; otherwise its type only, such as {@code a string of 6 characters}.
     */
    static String kind(JsonNode value, boolean quoteValues) {
        return quoteValues ? JsonSettings.describe(value) : JsonSettings.typeOf(value);
    }

    /** A string record value for messages: quoted and clipped, or its length only. */
    static String kind(CharSequence text, boolean quoteValues) {
        int n = text.length();
        return quoteValues ? "string \"" + clip(text.toString()) + "\""
                : "a string of " + n + (n == 1 ? " character" : " characters");
    }

    /**
     * Parses decimal numbers as JSON writes them, with optional surrounding white space (as {@link String#trim}) and a leading
     * {@code +}, plus {@code NaN} and {@code [+-]Infinity}; no hex, no Java suffixes. One pass over the
     * text, and texts longer than {@link RecordLimits#MAX_NUMBER_CHARS} are refused before it.
     */
    private static double parse(String field, CharSequence text, boolean quoteValues) {
        int n = text.length();
        if (n > RecordLimits.MAX_NUMBER_CHARS) {
            throw notNumber(field, "a string of " + n + " characters (numbers have at most "
                    + RecordLimits.MAX_NUMBER_CHARS + ")");
        }
        int start = 0;
        int end = n;
        while (start < end && text.charAt(start) <= ' ') {
            start++;
        }
        while (end > start && text.charAt(end - 1) <= ' ') {
            end--;
        }
        if (!isNumber(text, start, end)) {
            throw notNumber(field, kind(text, quoteValues));
        }
        try {
            return Double.parseDouble(text.subSequence(start, end).toString());
        } catch (NumberFormatException e) {
            throw notNumber(field, kind(text, quoteValues));
        }
    }

    /** {@code [+-]?(digits[.digits?]|.digits)([eE][+-]?digits)?} or {@code [+-]?(NaN|Infinity)}, in one pass. */
    static boolean isNumber(CharSequence s, int start, int end) {
        int i = start;
        if (i < end && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
            i++;
        }
        if (regionIs(s, i, end, "NaN") || regionIs(s, i, end, "Infinity")) {
            return true;
        }
        int intDigits = 0;
        while (i < end && isDigit(s.charAt(i))) {
            i++;
            intDigits++;
        }
        int fracDigits = 0;
        if (i < end && s.charAt(i) == '.') {
            i++;
            while (i < end && isDigit(s.charAt(i))) {
                i++;
                fracDigits++;
            }
        }
        if (intDigits == 0 && fracDigits == 0) {
            return false;
        }
        if (i < end && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            i++;
            if (i < end && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
                i++;
            }
            int expDigits = 0;
            while (i < end && isDigit(s.charAt(i))) {
                i++;
                expDigits++;
            }
            if (expDigits == 0) {
                return false;
            }
        }
        return i == end;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean regionIs(CharSequence s, int from, int end, String word) {
        if (end - from != word.length()) {
            return false;
        }
        for (int k = 0; k < word.length(); k++) {
            if (s.charAt(from + k) != word.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    private static ScoringException notNumber(String field, String got) {
        return ScoringException.invalidInput("field '" + field + "' expects a number, got " + got);
    }

    /** {@code s}, cut to 40 characters. */
    static String clip(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
