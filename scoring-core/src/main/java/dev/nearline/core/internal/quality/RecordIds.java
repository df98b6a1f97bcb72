package dev.nearline.core.internal.quality;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Reads a record's id from a top-level field of the record shapes the built-in preprocessors accept: a Jackson
 * {@link JsonNode}, a {@code Map}, or JSON text (scanned with a streaming parser up to the field, nested values
 * skipped). A string is the id as it is; a number or boolean is its JSON text ({@code 42}, {@code true}); a
 * missing, null or structured value gives no id. Thread-safe.
 */
public final class RecordIds {
    private static final JsonFactory JSON = new JsonFactory();

    private RecordIds() {
    }

    /** Reads the id from the field {@code name}. */
    public static Function<Object, @Nullable String> field(String name) {
        Objects.requireNonNull(name, "name");
        return record -> read(record, name);
    }

    static @Nullable String read(Object record, String name) {
        if (record instanceof JsonNode) {
            return text(((JsonNode) record).get(name));
        }
        if (record instanceof Map) {
            Object v = ((Map<?, ?>) record).get(name);
            if (v instanceof CharSequence || v instanceof Number || v instanceof Boolean) {
                return v.toString();
            }
            return v instanceof JsonNode ? text((JsonNode) v) : null;
        }
        if (record instanceof CharSequence) {
            return scan(record.toString(), name);
        }
        return null;
    }

    private static @Nullable String text(@Nullable JsonNode v) {
        return v == null || !v.isValueNode() || v.isNull() ? null : v.asText();
    }

    private static @Nullable String scan(String json, String name) {
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                boolean match = name.equals(p.currentName());
                JsonToken value = p.nextToken();
                if (match) {
                    return value != null && value.isScalarValue() && value != JsonToken.VALUE_NULL ? p.getText() : null;
                }
                p.skipChildren();
            }
            return null;
        } catch (IOException e) {
            return null; // the preprocessor accepted the record, so this is not expected; no id then
        }
    }
}
