package dev.nearline.durable.internal;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/** HTTP header look-ups; the Functions worker does not promise the case of header names. */
public final class Headers {
    private Headers() {
    }

    /** The value of {@code name} compared ignoring case, or null. */
    public static @Nullable String get(@Nullable Map<String, String> headers, String name) {
        if (headers == null) {
            return null;
        }
        String v = headers.get(name);
        if (v != null) {
            return v;
        }
        for (Map.Entry<String, String> e : headers.entrySet()) {
            if (e.getKey() != null && e.getKey().equalsIgnoreCase(name)) {
                return e.getValue();
            }
        }
        return null;
    }
}
