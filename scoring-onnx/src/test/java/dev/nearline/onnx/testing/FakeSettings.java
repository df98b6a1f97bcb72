package dev.nearline.onnx.testing;

import dev.nearline.api.spi.Settings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@link Settings} over a map (nested maps for objects), as scoring-core would present a JSON object to a
 * provider: errors start with the JSON path, and {@link #unread()} lists keys nobody read. Shared by the
 * provider tests of the backend modules (scoring-core is not on their test class path).
 */
public final class FakeSettings implements Settings {
    private final String path;
    private final Map<String, Object> values;
    private final Path base;
    private final Set<String> read = new LinkedHashSet<>();
    private final Map<String, FakeSettings> children = new LinkedHashMap<>();

    /** Settings at JSON path {@code path} holding {@code values}; relative files resolve against {@code base}. */
    public FakeSettings(String path, Map<String, ?> values, Path base) {
        this.path = path;
        this.values = new LinkedHashMap<>(values);
        this.base = base;
    }

    /** Settings at JSON path {@code path} holding {@code values}; files resolve against the working folder. */
    public FakeSettings(String path, Map<String, ?> values) {
        this(path, values, Path.of(""));
    }

    /** Settings of a first pipeline step, {@code $.steps[0]}. */
    public static FakeSettings of(Map<String, Object> values) {
        return new FakeSettings("$.steps[0]", values, Path.of("."));
    }

    /** Keys (with nested paths) never read. */
    public List<String> unread() {
        List<String> out = new ArrayList<>();
        for (String k : values.keySet()) {
            if (!read.contains(k)) {
                out.add(path + "." + k);
            } else if (children.containsKey(k)) {
                out.addAll(children.get(k).unread());
            }
        }
        return out;
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public boolean has(String key) {
        return values.get(key) != null;
    }

    private Object get(String key) {
        read.add(key);
        Object v = values.get(key);
        if (v == null) {
            throw error(key, "required");
        }
        return v;
    }

    @Override
    public String string(String key) {
        Object v = get(key);
        if (!(v instanceof String)) {
            throw error(key, "expected a string");
        }
        return (String) v;
    }

    @Override
    public String string(String key, String defaultValue) {
        return has(key) ? string(key) : mark(key, defaultValue);
    }

    private <T> T mark(String key, T value) {
        read.add(key);
        return value;
    }

    @Override
    public int integer(String key) {
        Object v = get(key);
        if (!(v instanceof Integer)) {
            throw error(key, "expected an integer");
        }
        return (Integer) v;
    }

    @Override
    public int integer(String key, int defaultValue) {
        return has(key) ? integer(key) : mark(key, defaultValue);
    }

    @Override
    public double number(String key) {
        Object v = get(key);
        if (!(v instanceof Number)) {
            throw error(key, "expected a number");
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
        Object v = get(key);
        if (!(v instanceof Boolean)) {
            throw error(key, "expected true or false");
        }
        return (Boolean) v;
    }

    @Override
    public Duration duration(String key, Duration defaultValue) {
        if (!has(key)) {
            return mark(key, defaultValue);
        }
        String s = string(key).trim();
        try {
            if (s.startsWith("P") || s.startsWith("p")) {
                return Duration.parse(s);
            }
            String[][] units = {{"us", "1000"}, {"ms", "1000000"}, {"s", "1000000000"}, {"m", "60000000000"}};
            for (String[] u : units) {
                if (s.endsWith(u[0]) && !(u[0].equals("s") && (s.endsWith("ms") || s.endsWith("us")))) {
                    double n = Double.parseDouble(s.substring(0, s.length() - u[0].length()));
                    return Duration.ofNanos((long) (n * Long.parseLong(u[1])));
                }
            }
        } catch (RuntimeException e) {
            // fall through
        }
        throw error(key, "expected a duration such as \"250ms\", got \"" + s + "\"");
    }

    @Override
    public String choice(String key, String defaultValue, String... allowed) {
        String v = has(key) ? string(key) : mark(key, defaultValue);
        for (String a : allowed) {
            if (a.equalsIgnoreCase(v)) {
                return a.toLowerCase(Locale.ROOT);
            }
        }
        throw error(key, "expected one of " + List.of(allowed) + ", got '" + v + "'");
    }

    @Override
    public Path file(String key) {
        return base.resolve(string(key));
    }

    @Override
    public List<String> strings(String key) {
        Object v = get(key);
        List<String> out = new ArrayList<>();
        for (Object o : (List<?>) v) {
            out.add((String) o);
        }
        return out;
    }

    @Override
    public List<String> strings(String key, List<String> defaultValue) {
        return has(key) ? strings(key) : mark(key, defaultValue);
    }

    @Override
    public List<Double> numbers(String key) {
        Object v = get(key);
        List<Double> out = new ArrayList<>();
        for (Object o : (List<?>) v) {
            out.add(((Number) o).doubleValue());
        }
        return out;
    }

    @Override
    @SuppressWarnings("unchecked")
    public Settings object(String key) {
        Object v = get(key);
        if (!(v instanceof Map)) {
            throw error(key, "expected an object");
        }
        return children.computeIfAbsent(key, k -> new FakeSettings(path + "." + k, (Map<String, Object>) v, base));
    }

    @Override
    public Settings optionalObject(String key) {
        return has(key) ? object(key) : mark(key, null);
    }

    @Override
    public List<Settings> objects(String key) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Map<String, String> stringMap(String key) {
        if (!has(key)) {
            return mark(key, Map.of());
        }
        Object v = get(key);
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
            if (!(e.getValue() instanceof String)) {
                throw error(key, "expected an object of strings");
            }
            out.put((String) e.getKey(), (String) e.getValue());
        }
        return out;
    }

    @Override
    public List<String> keys() {
        return new ArrayList<>(values.keySet());
    }

    @Override
    public IllegalArgumentException error(String key, String message) {
        return new IllegalArgumentException(path + "." + key + ": " + message);
    }
}
