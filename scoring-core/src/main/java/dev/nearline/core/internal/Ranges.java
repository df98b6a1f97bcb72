package dev.nearline.core.internal;

import dev.nearline.api.spi.Settings;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * The allowed ranges of the numeric settings of a pipeline (file and builder alike), in one place so that
 * the loader, the builders and the README agree. The bounds are far beyond what a real pipeline needs and
 * keep the memory and threads a setting can ask for bounded.
 */
public final class Ranges {
    /** {@code batching.maxBatchSize}: records per batched model call. */
    public static final int MAX_BATCH_SIZE = 4096;
    /** {@code batching.threads}: dispatcher threads. */
    public static final int MAX_BATCHING_THREADS = 256;
    /** {@code batching.maxQueueDelay}. */
    public static final Duration MAX_QUEUE_DELAY = Duration.ofSeconds(1);
    /** {@code async.threads}. */
    public static final int MAX_ASYNC_THREADS = 256;
    /** {@code async.queueCapacity}. */
    public static final int MAX_ASYNC_QUEUE_CAPACITY = 1_000_000;
    /** {@code maxInFlight}. */
    public static final int MAX_IN_FLIGHT = 1_000_000;
    /** {@code warmup}: synthetic records per model at build time. */
    public static final int MAX_WARMUP = 10_000;
    /** {@code timeout}: the default deadline of a record. */
    public static final Duration MAX_TIMEOUT = Duration.ofHours(1);
    /** {@code closeGracePeriod}. */
    public static final Duration MAX_CLOSE_GRACE_PERIOD = Duration.ofHours(1);

    /** {@code monitoring.window}, {@code captureReference}, {@code sampleEvery}, {@code checkEvery}: records. */
    public static final int MAX_MONITORING_RECORDS = 1_000_000;

    /** {@code maxRecordBytes} of the built-in preprocessors: 1 KiB to 64 MiB. */
    public static final int MIN_RECORD_BYTES = 1024;
    /** Upper bound of {@code maxRecordBytes}. */
    public static final int MAX_RECORD_BYTES = 64 << 20;
    /** {@code maxDepth} of the built-in preprocessors: 1 to 1000 (Jackson's own default limit). */
    public static final int MAX_DEPTH = 1000;

    private Ranges() {
    }

    /**
     * {@code value} when {@code min <= value <= max}.
     *
     * @throws IllegalArgumentException {@code <property> must be between <min> and <max>, got <value>} (or
     *     {@code must be at least <min>} when it is below)
     */
    public static int check(String property, int value, int min, int max) {
        String problem = problem(value, min, max);
        if (problem != null) {
            throw new IllegalArgumentException(property + " " + problem);
        }
        return value;
    }

    /** As {@link #check(String, int, int, int)} for a duration; {@code minExclusive} rejects {@code min} itself. */
    public static Duration check(String property, Duration value, Duration min, boolean minExclusive, Duration max) {
        String problem = problem(value, min, minExclusive, max);
        if (problem != null) {
            throw new IllegalArgumentException(property + " " + problem);
        }
        return value;
    }

    /**
     * The optional integer {@code key} of {@code s}, or {@code defaultValue}, within {@code [min, max]}.
     *
     * @throws IllegalArgumentException {@code $.path.key: must be between <min> and <max>, got <value>}
     */
    public static int integer(Settings s, String key, int defaultValue, int min, int max) {
        int v = s.integer(key, defaultValue);
        String problem = problem(v, min, max);
        if (problem != null) {
            throw s.error(key, problem);
        }
        return v;
    }

    /** As {@link #integer}, for an optional duration; null when absent and {@code defaultValue} is null. */
    public static @Nullable Duration duration(Settings s, String key, @Nullable Duration defaultValue, Duration min,
                                              boolean minExclusive, Duration max) {
        Duration v = s.duration(key, defaultValue);
        if (v == null) {
            return defaultValue;
        }
        String problem = problem(v, min, minExclusive, max);
        if (problem != null) {
            throw s.error(key, problem);
        }
        return v;
    }

    static String range(int min, int max) {
        return "between " + min + " and " + max;
    }

    private static @Nullable String problem(int value, int min, int max) {
        if (value < min) {
            return "must be at least " + min + " (and at most " + max + "), got " + value;
        }
        if (value > max) {
            return "must be " + range(min, max) + ", got " + value;
        }
        return null;
    }

    private static @Nullable String problem(Duration value, Duration min, boolean minExclusive, Duration max) {
        int c = value.compareTo(min);
        if (c < 0 || (c == 0 && minExclusive)) {
            return minExclusive && min.isZero() ? "must be positive (and at most " + max + "), got " + value
                    : "must be at least " + min + " (and at most " + max + "), got " + value;
        }
        if (value.compareTo(max) > 0) {
            return "must be " + (minExclusive ? "more than " + min + " and at most " + max : "between " + min + " and "
                    + max) + ", got " + value;
        }
        return null;
    }
}
