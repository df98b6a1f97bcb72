package dev.nearline.core.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nearline.api.spi.Settings;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * {@link Settings} over one JSON object of a pipeline file. Remembers which keys were read so that
 * {@link #checkAllRead()} can report unknown (for example misspelt) keys with their JSON path.
 */
public final class JsonSettings implements Settings {
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ns|us|µs|ms|s|m|h)");

    private final ObjectNode node;
    private final String path;
    private final Path baseDirectory;
    private final Substitutions.Resolved substituted;
    private final Set<String> read = new LinkedHashSet<>();
    private final List<JsonSettings> children = new ArrayList<>();

    /** Settings over {@code node}, found at JSON path {@code path}. */
    public JsonSettings(ObjectNode node, String path, Path baseDirectory) {
        this(node, path, baseDirectory, Substitutions.Resolved.NONE);
    }

    private JsonSettings(ObjectNode node, String path, Path baseDirectory, Substitutions.Resolved substituted) {
        this.node = node;
        this.path = path;
        this.baseDirectory = baseDirectory;
        this.substituted = substituted;
    }

    /** Settings at {@code path}, which must be a JSON object. */
    public static JsonSettings of(JsonNode node, String path, Path baseDirectory) {
        return of(node, path, baseDirectory, Substitutions.Resolved.NONE);
    }

    /**
     * Settings at {@code path}, which must be a JSON object, whose values {@code substituted} came from secret
     * references: messages never show those (nor values under secret keys such as {@code bearerToken}).
     */
    public static JsonSettings of(JsonNode node, String path, Path baseDirectory, Substitutions.Resolved substituted) {
        if (!(node instanceof ObjectNode)) {
            throw new ConfigException(path, "expected an object, got " + describe(node, path, substituted));
        }
        return new JsonSettings((ObjectNode) node, path, baseDirectory, substituted);
    }

    /** Marks {@code keys} as read without reading them (keys the engine handles). */
    public void markRead(String... keys) {
        read.addAll(List.of(keys));
    }

    /**
     * Fails on the first key that no one read, here or in nested settings handed out.
     *
     * @throws IllegalArgumentException {@code $.path.key: unknown key; known keys here: [...]}
     */
    public void checkAllRead() {
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String key = names.next();
            if (!read.contains(key)) {
                throw new ConfigException(path + "." + key, "unknown key"
                        + (read.isEmpty() ? "" : "; known keys here: " + read));
            }
        }
        for (JsonSettings child : children) {
            child.checkAllRead();
        }
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public boolean has(String key) {
        JsonNode v = node.get(key);
        return v != null && !v.isNull();
    }

    @Override
    public List<String> keys() {
        List<String> keys = new ArrayList<>();
        node.fieldNames().forEachRemaining(keys::add);
        return keys;
    }

    @Override
    public String string(String key) {
        JsonNode v = require(key);
        if (!v.isTextual()) {
            throw error(key, "expected a string, got " + shown(key, v));
        }
        return v.textValue();
    }

    @Override
    public @Nullable String string(String key, @Nullable String defaultValue) {
        return has(key) ? string(key) : markAndDefault(key, defaultValue);
    }

    @Override
    public int integer(String key) {
        JsonNode v = require(key);
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw error(key, "expected an integer, got " + shown(key, v));
        }
        return v.intValue();
    }

    @Override
    public int integer(String key, int defaultValue) {
        return has(key) ? integer(key) : markAndDefault(key, defaultValue);
    }

    @Override
    public double number(String key) {
        JsonNode v = require(key);
        if (!v.isNumber()) {
            throw error(key, "expected a number, got " + shown(key, v));
        }
        return v.doubleValue();
    }

    @Override
    public double number(String key, double defaultValue) {
        return has(key) ? number(key) : markAndDefault(key, defaultValue);
    }

    @Override
    public boolean bool(String key, boolean defaultValue) {
        if (!has(key)) {
            return markAndDefault(key, defaultValue);
        }
        JsonNode v = require(key);
        if (!v.isBoolean()) {
            throw error(key, "expected true or false, got " + shown(key, v));
        }
        return v.booleanValue();
    }

    @Override
    public @Nullable Duration duration(String key, @Nullable Duration defaultValue) {
        if (!has(key)) {
            return markAndDefault(key, defaultValue);
        }
        String text = string(key).trim();
        Matcher m = DURATION.matcher(text);
        if (m.matches()) {
            double amount = Double.parseDouble(m.group(1));
            double nanosPerUnit;
            switch (m.group(2)) {
                case "ns":
                    nanosPerUnit = 1;
                    break;
                case "us":
                case "µs":
                    nanosPerUnit = 1e3;
                    break;
                case "ms":
                    nanosPerUnit = 1e6;
                    break;
                case "s":
                    nanosPerUnit = 1e9;
                    break;
                case "m":
                    nanosPerUnit = 60e9;
                    break;
                default:
                    nanosPerUnit = 3600e9;
            }
            return Duration.ofNanos(Math.round(amount * nanosPerUnit));
        }
        try {
            return Duration.parse(text);
        } catch (DateTimeParseException e) {
            throw error(key, "expected a duration such as \"250us\", \"5ms\", \"2s\" or \"PT0.5S\", got "
                    + shown(key, node.get(key)));
        }
    }

    @Override
    public String choice(String key, String defaultValue, String... allowed) {
        String v = string(key, defaultValue);
        for (String a : allowed) {
            if (a.equalsIgnoreCase(v)) {
                return a;
            }
        }
        JsonNode given = node.get(key);
        boolean plain = given != null && given.isTextual() && shown(key, given).equals(describe(given));
        throw error(key, "expected one of " + List.of(allowed) + ", got "
                + (plain ? "\"" + Records.clip(given.textValue()) + "\"" : shown(key, given)));
    }

    @Override
    public Path file(String key) {
        String p = string(key);
        if (p.isBlank()) {
            throw error(key, "expected a file path, got an empty string");
        }
        return baseDirectory.resolve(p).normalize();
    }

    @Override
    public List<String> strings(String key) {
        JsonNode v = require(key);
        if (!v.isArray()) {
            throw error(key, "expected an array of strings, got " + shown(key, v));
        }
        List<String> out = new ArrayList<>(v.size());
        for (int i = 0; i < v.size(); i++) {
            JsonNode e = v.get(i);
            if (!e.isTextual()) {
                String at = path + "." + key + "[" + i + "]";
                throw new ConfigException(at, "expected a string, got " + describe(e, at, substituted));
            }
            out.add(e.textValue());
        }
        return List.copyOf(out);
    }

    @Override
    public List<String> strings(String key, List<String> defaultValue) {
        return has(key) ? strings(key) : markAndDefault(key, defaultValue);
    }

    @Override
    public List<Double> numbers(String key) {
        JsonNode v = require(key);
        if (!v.isArray()) {
            throw error(key, "expected an array of numbers, got " + shown(key, v));
        }
        List<Double> out = new ArrayList<>(v.size());
        for (int i = 0; i < v.size(); i++) {
            JsonNode e = v.get(i);
            if (!e.isNumber()) {
                String at = path + "." + key + "[" + i + "]";
                throw new ConfigException(at, "expected a number, got " + describe(e, at, substituted));
            }
            out.add(e.doubleValue());
        }
        return List.copyOf(out);
    }

    @Override
    public Settings object(String key) {
        JsonNode v = require(key);
        return child(v, path + "." + key);
    }

    @Override
    public @Nullable Settings optionalObject(String key) {
        return has(key) ? object(key) : markAndDefault(key, null);
    }

    @Override
    public List<Settings> objects(String key) {
        JsonNode v = require(key);
        if (!v.isArray()) {
            throw error(key, "expected an array of objects, got " + shown(key, v));
        }
        List<Settings> out = new ArrayList<>(v.size());
        for (int i = 0; i < v.size(); i++) {
            out.add(child(v.get(i), path + "." + key + "[" + i + "]"));
        }
        return List.copyOf(out);
    }

    @Override
    public Map<String, String> stringMap(String key) {
        if (!has(key)) {
            return markAndDefault(key, Map.of());
        }
        JsonNode v = require(key);
        if (!v.isObject()) {
            throw error(key, "expected an object of strings, got " + shown(key, v));
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : v.properties()) {
            if (!e.getValue().isTextual()) {
                String at = path + "." + key + "." + e.getKey();
                throw new ConfigException(at, "expected a string, got " + describe(e.getValue(), at, substituted));
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return java.util.Collections.unmodifiableMap(out);
    }

    @Override
    public ConfigException error(String key, String message) {
        return new ConfigException(path + "." + key, message);
    }

    /** The raw JSON value of {@code key}, marking it read; for the engine's own keys. */
    public @Nullable JsonNode raw(String key) {
        read.add(key);
        return node.get(key);
    }

    private JsonSettings child(JsonNode v, String childPath) {
        JsonSettings c = of(v, childPath, baseDirectory, substituted);
        children.add(c);
        return c;
    }

    private JsonNode require(String key) {
        read.add(key);
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            List<String> unread = new ArrayList<>();
            node.fieldNames().forEachRemaining(k -> {
                if (!read.contains(k)) {
                    unread.add(k);
                }
            });
            throw new ConfigException(path + "." + key, "required key is missing"
                    + (unread.isEmpty() ? "" : " (keys not understood here: " + unread + ")"));
        }
        return v;
    }

    private <T> T markAndDefault(String key, T defaultValue) {
        read.add(key);
        return defaultValue;
    }

    /** A short description of a JSON value for messages: its type and, for scalars, a clipped value. */
    static String describe(@Nullable JsonNode v) {
        if (v == null || v.isNull()) {
            return "null";
        }
        if (v.isMissingNode()) {
            return "nothing";
        }
        if (v.isTextual()) {
            return "string \"" + Records.clip(v.textValue()) + "\"";
        }
        if (v.isNumber() || v.isBoolean()) {
            return v.getNodeType().toString().toLowerCase(Locale.ROOT) + " " + Records.clip(v.asText());
        }
        if (v.isArray()) {
            return "an array";
        }
        return v.isObject() ? "an object" : v.getNodeType().toString().toLowerCase(Locale.ROOT);
    }

    /**
     * What a message may show of the value at {@code path}: {@link #describe(JsonNode)}, or only its JSON type
     * when it came from a secret reference, sits under a key that names a secret ({@code bearerToken},
     * {@code headers}, {@code trustStorePassword}, ...) or looks like one (a SAS signature, a URL with user info).
     */
    static String describe(@Nullable JsonNode v, String path, Substitutions.Resolved substituted) {
        if (v == null || v.isNull() || v.isMissingNode() || v.isContainerNode()) {
            return describe(v);
        }
        boolean hide = substituted.isSensitive(v) || Redaction.isSecretPath(path)
                || (v.isTextual() && Redaction.looksSecret(v.textValue()));
        return hide ? typeOf(v) + " " + Redaction.HIDDEN : describe(v);
    }

    /** The JSON type of a value with, for a string, its length; never its content. */
    static String typeOf(@Nullable JsonNode v) {
        if (v == null || v.isNull()) {
            return "null";
        }
        if (v.isTextual()) {
            int n = v.textValue().length();
            return "a string of " + n + (n == 1 ? " character" : " characters");
        }
        if (v.isNumber()) {
            return "a number";
        }
        if (v.isBoolean()) {
            return "a boolean";
        }
        if (v.isArray()) {
            return "an array";
        }
        return v.isObject() ? "an object" : describe(v);
    }

    /** What a message may show of the value of {@code key} here; see {@link #describe(JsonNode, String, Substitutions.Resolved)}. */
    String shown(String key, @Nullable JsonNode v) {
        return describe(v, path + "." + key, substituted);
    }

    /** {@link #shown} of the value of {@code key} when {@code s} is a JSON object; for messages. */
    static String describe(Settings s, String key) {
        return s instanceof JsonSettings ? ((JsonSettings) s).shown(key, ((JsonSettings) s).node.get(key))
                : "a value of another type";
    }

    /**
     * Whether the value of {@code key} must not be shown in messages or logs (see
     * {@link #describe(JsonNode, String, Substitutions.Resolved)}); for plugins that build their own messages.
     */
    public boolean isSensitive(String key) {
        JsonNode v = node.get(key);
        return substituted.isSensitive(v) || Redaction.isSecretPath(path + "." + key)
                || (v != null && v.isTextual() && Redaction.looksSecret(v.textValue()));
    }
}
