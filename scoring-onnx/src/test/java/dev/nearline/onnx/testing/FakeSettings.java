package dev.nearline.onnx.testing;

import dev.nearline.api.spi.Settings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A {@link Settings} over a map, for provider tests: typed getters with JSON-path error messages as
 * the engine's implementation gives them, and {@link #unread()} to check that a provider read every
 * key. Only the getters providers of this module use are implemented.
 */
public final class FakeSettings implements Settings {
    private final String path;
    private final Map<String, Object> values;
    private final Set<String> read = new HashSet<>();

    /** Settings at JSON path {@code path} holding {@code values}. */
    public FakeSettings(String path, Map<String, ?> values) {
        this.path = path;
        this.values = new LinkedHashMap<>(values);
    }

    /** Keys no getter has read. */
    public List<String> unread() {
        List<String> u = new ArrayList<>(values.keySet());
        u.removeAll(read);
        return u;
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public boolean has(String key) {
        return values.get(key) != null;
    }

    @Override
    public String string(String key) {
        Object v = require(key);
        if (!(v instanceof String)) {
            throw error(key, "expected a string, got " + v);
        }
        return (String) v;
    }

    @Override
    public @Nullable String string(String key, @Nullable String defaultValue) {
        return has(key) ? string(key) : mark(key, defaultValue);
    }

    @Override
    public int integer(String key) {
        Object v = require(key);
        if (!(v instanceof Integer)) {
            throw error(key, "expected an integer, got " + v);
        }
        return (Integer) v;
    }

    @Override
    public int integer(String key, int defaultValue) {
        return has(key) ? integer(key) : mark(key, defaultValue);
    }

    @Override
    public double number(String key) {
        Object v = require(key);
        if (!(v instanceof Number)) {
            throw error(key, "expected a number, got " + v);
        }
        return ((Number) v).doubleValue();
    }

    @Override
    public double number(String key, double defaultValue) {
        return has(key) ? number(key) : mark(key, defaultValue);
    }

    @Override
    public boolean bool(String key, boolean defaultValue) {
        if (!has(key)) {
            return mark(key, defaultValue);
        }
        Object v = require(key);
        if (!(v instanceof Boolean)) {
            throw error(key, "expected true or false, got " + v);
        }
        return (Boolean) v;
    }

    @Override
    public @Nullable Duration duration(String key, @Nullable Duration defaultValue) {
        throw new UnsupportedOperationException("duration");
    }

    @Override
    public String choice(String key, String defaultValue, String... allowed) {
        String v = string(key, defaultValue);
        for (String a : allowed) {
            if (a.equalsIgnoreCase(v)) {
                return a.toLowerCase(Locale.ROOT);
            }
        }
        throw error(key, "expected one of " + List.of(allowed) + ", got '" + v + "'");
    }

    @Override
    public Path file(String key) {
        return Path.of(string(key));
    }

    @Override
    public List<String> strings(String key) {
        throw new UnsupportedOperationException("strings");
    }

    @Override
    public List<String> strings(String key, List<String> defaultValue) {
        throw new UnsupportedOperationException("strings");
    }

    @Override
    public List<Double> numbers(String key) {
        throw new UnsupportedOperationException("numbers");
    }

    @Override
    public Settings object(String key) {
        throw new UnsupportedOperationException("object");
    }

    @Override
    public @Nullable Settings optionalObject(String key) {
        throw new UnsupportedOperationException("optionalObject");
    }

    @Override
    public List<Settings> objects(String key) {
        throw new UnsupportedOperationException("objects");
    }

    @Override
    public Map<String, String> stringMap(String key) {
        throw new UnsupportedOperationException("stringMap");
    }

    @Override
    public List<String> keys() {
        return List.copyOf(values.keySet());
    }

    @Override
    public IllegalArgumentException error(String key, String message) {
        return new IllegalArgumentException(path + "." + key + ": " + message);
    }

    private Object require(String key) {
        read.add(key);
        Object v = values.get(key);
        if (v == null) {
            throw error(key, "required");
        }
        return v;
    }

    private <T> T mark(String key, T value) {
        read.add(key);
        return value;
    }
}
