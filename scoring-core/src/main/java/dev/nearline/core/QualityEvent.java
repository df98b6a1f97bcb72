package dev.nearline.core;

import java.util.Objects;

/**
 * A quality metric of one model version crossed its alert threshold over the last labelled records, for
 * example "AUC 0.74 below 0.80 over the last 10,000 labelled records". Carries no record values, so it is
 * safe to log.
 *
 * @param version     the model version whose predictions were labelled (see {@link QualityMonitor#version()})
 * @param metric      the metric
 * @param value       its value over the window
 * @param threshold   the threshold it crossed: from above for a metric where higher is better, from below
 *                    otherwise
 * @param windowCount labelled records in the window
 * @param errorBound  how far {@code value} may be from the exact value ({@link QualitySnapshot.Window#aucErrorBound()}
 *                    for AUC; 0 for the metrics computed exactly)
 */
public record QualityEvent(int version, QualityMonitor.Metric metric, double value, double threshold,
                           long windowCount, double errorBound) {

    /** Checks the metric. */
    public QualityEvent {
        Objects.requireNonNull(metric, "metric");
    }
}
