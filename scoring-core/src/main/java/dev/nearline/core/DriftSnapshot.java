package dev.nearline.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link DriftMonitor} sees at one moment: per feature and for the score, the window's count, mean
 * and quantiles, and the population stability index against the reference. Immutable.
 *
 * <p>Every record a monitor is offered is either skipped by sampling, or ends up in exactly one of
 * {@code observed}, {@code dropped} and {@code errors}.
 *
 * @param sampleEvery one record in this many is sampled (see {@link DriftMonitor.Builder#sampleEvery})
 * @param observed records whose values entered the window
 * @param dropped  sampled records skipped because another thread was updating the monitor at that moment
 * @param errors   sampled records whose features or score could not be read (a wrong tensor name, shape or
 *                 type; the first is logged at WARN)
 * @param features one entry per feature, in row order; empty before the first record when the feature
 *                 count is not configured
 * @param score    the score
 */
public record DriftSnapshot(int sampleEvery, long observed, long dropped, long errors, List<Stats> features, Stats score) {

    /** Copies the list. */
    public DriftSnapshot {
        features = List.copyOf(features);
        Objects.requireNonNull(score, "score");
    }

    /** Whether every feature and the score have a reference, so that every {@code psi} is a number. */
    public boolean referenceReady() {
        return score.referenceReady() && features.stream().allMatch(Stats::referenceReady);
    }

    /**
     * The statistics of the feature {@code name}, or of the score for {@code "score"}.
     *
     * @throws IllegalArgumentException naming the features there are when there is no such feature
     */
    public Stats get(String name) {
        if (score.name().equals(name)) {
            return score;
        }
        for (Stats s : features) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        List<String> names = new ArrayList<>();
        features.forEach(s -> names.add(s.name()));
        throw new IllegalArgumentException("no feature named '" + name + "' (have " + names + " and 'score')");
    }

    /**
     * The window statistics of one feature or of the score. Quantiles are the nearest-rank values of the
     * window; mean and quantiles leave out NaN values and are NaN when the window holds no other value.
     *
     * @param name      the feature's name, or {@code score}
     * @param count     records in the window
     * @param missing   of which NaN
     * @param mean      mean value
     * @param p50       median
     * @param p90       90th percentile
     * @param p99       99th percentile
     * @param psi       population stability index against the reference; NaN while the reference is being
     *                  captured or the window holds no number
     * @param reference the reference the index is computed against, or {@code null} while it is being
     *                  captured; a captured one can be saved and passed to
     *                  {@link DriftMonitor.Builder#reference} next time
     */
    public record Stats(String name, long count, long missing, double mean, double p50, double p90, double p99,
                        double psi, DriftMonitor.@Nullable Reference reference) {

        /** Checks the name. */
        public Stats {
            Objects.requireNonNull(name, "name");
        }

        /** Whether the reference is known, so that {@link #psi()} is a number once the window holds one. */
        public boolean referenceReady() {
            return reference != null;
        }
    }
}
