package dev.nearline.api.spi;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The settings of one plugin: a JSON object of the pipeline file (or a map built in code), read
 * through typed getters. Every getter that fails throws {@link IllegalArgumentException} whose message
 * starts with the JSON path of the offending key, such as {@code $.steps[0].device}, and says what was
 * expected. Keys a provider never reads are reported as unknown once it has created its stage, so a
 * misspelt key fails at load time instead of being ignored.
 *
 * <p>Not thread-safe; used only while a provider creates its stage.
 */
public interface Settings {

    /** The JSON path of this object, such as {@code $.steps[1]}. */
    String path();

    /** Whether {@code key} is present (and not null). Does not mark the key as read. */
    boolean has(String key);

    /** A required string. */
    String string(String key);

    /** An optional string, or {@code defaultValue}. */
    @Nullable String string(String key, @Nullable String defaultValue);

    /** A required integer. */
    int integer(String key);

    /** An optional integer, or {@code defaultValue}. */
    int integer(String key, int defaultValue);

    /** A required number. */
    double number(String key);

    /** An optional number, or {@code defaultValue}. */
    double number(String key, double defaultValue);

    /** An optional boolean, or {@code defaultValue}. */
    boolean bool(String key, boolean defaultValue);

    /**
     * An optional duration, or {@code defaultValue}: a string with a unit ({@code "250us"},
     * {@code "5ms"}, {@code "2s"}, {@code "1m"}) or an ISO-8601 duration ({@code "PT0.5S"}).
     */
    @Nullable Duration duration(String key, @Nullable Duration defaultValue);

    /** An optional string that must be one of {@code allowed} (compared ignoring case), or {@code defaultValue}. */
    String choice(String key, String defaultValue, String... allowed);

    /** A required file path, resolved against the folder of the pipeline file when relative. */
    Path file(String key);

    /** A required array of strings. */
    List<String> strings(String key);

    /** An optional array of strings, or {@code defaultValue}. */
    List<String> strings(String key, List<String> defaultValue);

    /** A required array of numbers. */
    List<Double> numbers(String key);

    /** A required nested object. */
    Settings object(String key);

    /** An optional nested object, or {@code null}. */
    @Nullable Settings optionalObject(String key);

    /** A required array of objects. */
    List<Settings> objects(String key);

    /** An optional object whose values are all strings (such as headers), or an empty map. */
    Map<String, String> stringMap(String key);

    /** The keys of this object, in file order; reading them does not mark them as read. */
    List<String> keys();

    /**
     * An error about {@code key} for a provider to throw: its message is {@code <path>.<key>: <message>}.
     */
    IllegalArgumentException error(String key, String message);
}
