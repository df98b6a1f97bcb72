package dev.nearline.core.internal.quality;

import dev.nearline.core.QualityListener;
import dev.nearline.core.QualityMonitor.Metric;
import dev.nearline.core.QualityMonitor.Task;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The settings of a quality monitor, checked by its builder.
 *
 * @param task        what the model predicts
 * @param output      the output tensor holding the prediction, or null for the default
 * @param index       the element of a scalar prediction, or -1 for the last
 * @param threshold   the decision threshold of a binary classifier
 * @param classes     class names of a multi-class model, or empty
 * @param capacity    predictions kept at most
 * @param timeToLive  how long a prediction waits for its label
 * @param window      labelled records in the count window
 * @param timeWindow  the period of the time window
 * @param checkEvery  labels between alert checks
 * @param alerts      thresholds by metric
 * @param listener    receives alerts, or null to log them
 */
public record QualityConfig(Task task, @Nullable String output, int index, double threshold, List<String> classes,
                            int capacity, Duration timeToLive, int window, Duration timeWindow, int checkEvery,
                            Map<Metric, Double> alerts, @Nullable QualityListener listener) {
    /** Steps of the time window. */
    public static final int TIME_BUCKETS = 12;

    /** Copies the collections. */
    public QualityConfig {
        Objects.requireNonNull(task, "task");
        classes = List.copyOf(classes);
        alerts = alerts.isEmpty() ? Map.of() : java.util.Collections.unmodifiableMap(new EnumMap<>(alerts));
        Objects.requireNonNull(timeToLive, "timeToLive");
        Objects.requireNonNull(timeWindow, "timeWindow");
    }
}
