package dev.nearline.core.internal;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A problem in a pipeline file (or in settings built in code) at a JSON path, such as
 * {@code $.batching.maxBatchSize: must be between 1 and 4096, got 2147483647}. It is an
 * {@link IllegalArgumentException}, which is what callers of {@code Pipeline.load} catch; the loader
 * branches on this type, never on message text, to know that a message already names its path.
 */
public final class ConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String path;

    /** {@code <path>: <problem>}. */
    public ConfigException(String path, String problem) {
        super(path + ": " + problem);
        this.path = Objects.requireNonNull(path, "path");
    }

    /** {@code <path>: <problem>}, caused by {@code cause}. */
    public ConfigException(String path, String problem, @Nullable Throwable cause) {
        super(path + ": " + problem, cause);
        this.path = Objects.requireNonNull(path, "path");
    }

    /** The whole message given, not built from the path. */
    private ConfigException(@Nullable Throwable cause, String path, String message) {
        super(message, cause);
        this.path = path;
    }

    /** A problem found while parsing, whose message (naming {@code path} in its own words) is given whole. */
    public static ConfigException malformed(String path, String message, @Nullable Throwable cause) {
        return new ConfigException(cause, Objects.requireNonNull(path, "path"), message);
    }

    /** The same problem, its message prefixed with {@code source} (the file it was found in). */
    public ConfigException in(String source) {
        ConfigException e = new ConfigException(this, path, source + ": " + getMessage());
        for (Throwable s : getSuppressed()) {
            e.addSuppressed(s);
        }
        return e;
    }

    /** The JSON path of the offending value, such as {@code $.steps[0].device}; {@code $} for the whole file. */
    public String path() {
        return path;
    }
}
