package dev.nearline.core;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link QualityMonitor} knows at one moment: how many predictions it holds and what became of the
 * labels it was given, and per model version the quality metrics over the last labelled records and over the
 * last period of time, with the challenger's beside them. Immutable.
 *
 * <p>Metrics that a task does not define, or that a window cannot define yet (no labels, a single class), are
 * {@code NaN}.
 *
 * @param task        what the model predicts
 * @param predictions the predictions kept for joining
 * @param labels      the labels given, by outcome
 * @param challenger  the challenger's hand-off counts, or {@code null} without a challenger
 * @param versions    one entry per model version that still has metrics, newest (the current one) first
 */
public record QualitySnapshot(QualityMonitor.Task task, Predictions predictions, Labels labels,
                              @Nullable ChallengerCounts challenger, List<Version> versions) {

    /** Copies the list. */
    public QualitySnapshot {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(predictions, "predictions");
        Objects.requireNonNull(labels, "labels");
        versions = List.copyOf(versions);
    }

    /** The metrics of the model version that scores new records now. */
    public Version current() {
        for (Version v : versions) {
            if (v.current()) {
                return v;
            }
        }
        // The monitor always reports its current version; this only guards a hand-made snapshot.
        throw new IllegalStateException("the snapshot has no current version");
    }

    /** The metrics of model version {@code version}, if the monitor still keeps them. */
    public Optional<Version> version(int version) {
        return versions.stream().filter(v -> v.version() == version).findFirst();
    }

    /**
     * The predictions kept for joining with labels. Every prediction read ends up counted in {@code tracked}
     * or {@code untracked}; a tracked one is then joined with its label ({@link Labels#joined()}), replaced,
     * evicted, expired, or still {@code pending}.
     *
     * @param tracked   predictions kept under their id
     * @param untracked scored records not kept: no id, or no readable prediction (the first is logged at WARN)
     * @param pending   kept predictions still waiting for their label (those past their time-to-live included,
     *                  until a label or a newer prediction finds them)
     * @param replaced  kept predictions replaced by a newer prediction for the same id before their label came
     *                  (noticed when ids are indexed, that is when the next label is given)
     * @param evicted   predictions dropped unlabelled to keep the store within its capacity
     * @param expired   predictions dropped unlabelled after their time-to-live
     */
    public record Predictions(long tracked, long untracked, long pending, long replaced, long evicted, long expired) {
    }

    /**
     * The labels given to {@link QualityMonitor#feedback}, one count per {@link FeedbackOutcome}.
     *
     * @param joined     joined with their prediction
     * @param unknown    no prediction held for the id
     * @param expired    the prediction had outlived its time-to-live
     * @param duplicate  the prediction already had a label
     * @param invalid    not a label of the task
     * @param outOfOrder of the joined, those whose prediction was made before that of a label joined earlier:
     *                   normal when labels take different times to arrive; they count like any other, and the
     *                   windows hold labels in the order they arrived
     */
    public record Labels(long joined, long unknown, long expired, long duplicate, long invalid, long outOfOrder) {
    }

    /**
     * What happened to the records sampled for the challenger.
     *
     * @param sampled records handed to the challenger
     * @param scored  of which the challenger scored and compared
     * @param dropped records selected by the sample but not handed over because the challenger's queue was full
     *                (or the scorer was closing)
     * @param failed  of the sampled, those the challenger failed to score or whose prediction was unreadable
     */
    public record ChallengerCounts(long sampled, long scored, long dropped, long failed) {
    }

    /**
     * The quality of one model version. A version starts when the scorer is built (version 1) and with every
     * hot swap that replaces a model ({@link ManagedScorer#swapModel}); its metrics stay in snapshots while
     * labels for its predictions can still arrive, that is until the time-to-live has passed since a newer
     * version took over.
     *
     * @param version     the version number
     * @param current     whether new records are scored by this version
     * @param lastRecords the metrics over the last labelled records (the monitor's {@code window})
     * @param lastPeriod  the metrics over the labels that arrived in the last period (the monitor's
     *                    {@code timeWindow})
     * @param challenger  the champion-challenger comparison on the records sampled while this version was the
     *                    champion, or {@code null} without a challenger
     */
    public record Version(int version, boolean current, Window lastRecords, Window lastPeriod,
                          @Nullable Comparison challenger) {

        /** Checks the windows. */
        public Version {
            Objects.requireNonNull(lastRecords, "lastRecords");
            Objects.requireNonNull(lastPeriod, "lastPeriod");
        }
    }

    /**
     * Quality metrics over one window of joined (prediction, label) pairs. All are computed exactly from the
     * window's pairs except {@code auc}, which is computed from the scores binned into 1,024 bins evenly spaced
     * in log-odds (logit) and may differ from the exact AUC by at most {@code aucErrorBound}.
     *
     * @param count         joined pairs in the window
     * @param positives     of which labelled 1 (binary classifiers)
     * @param auc           area under the ROC curve, ties counted one half (binary)
     * @param aucErrorBound the largest possible difference between {@code auc} and the exact AUC of the same
     *                      pairs: half the share of (positive, negative) pairs whose scores share a bin
     * @param logLoss       mean negative log-likelihood of the label, probabilities clipped to [1e-15, 1 - 1e-15]
     *                      (binary and multi-class)
     * @param brier         mean squared difference between the probability and the label (binary)
     * @param precision     of the records at or above the threshold, the share labelled 1 (binary)
     * @param recall        of the records labelled 1, the share at or above the threshold (binary)
     * @param calibration   ten bins of predicted probability, [0, 0.1) to [0.9, 1] (binary; empty otherwise)
     * @param accuracy      share of records whose most probable class is the label (multi-class), or whose
     *                      decision at the threshold is the label (binary)
     * @param mae           mean absolute error (regression)
     * @param rmse          root mean squared error (regression)
     */
    public record Window(long count, long positives, double auc, double aucErrorBound, double logLoss, double brier,
                         double precision, double recall, List<CalibrationBin> calibration, double accuracy,
                         double mae, double rmse) {

        /** Copies the list. */
        public Window {
            calibration = List.copyOf(calibration);
        }

        /** The value of {@code metric} in this window. */
        public double get(QualityMonitor.Metric metric) {
            switch (metric) {
                case AUC:
                    return auc;
                case LOG_LOSS:
                    return logLoss;
                case BRIER:
                    return brier;
                case PRECISION:
                    return precision;
                case RECALL:
                    return recall;
                case ACCURACY:
                    return accuracy;
                case MAE:
                    return mae;
                case RMSE:
                    return rmse;
                default:
                    throw new IllegalArgumentException("unknown metric " + metric);
            }
        }
    }

    /**
     * One bin of a calibration table: records whose predicted probability lies in [{@code from}, {@code to}),
     * the last bin including 1.
     *
     * @param from          lower bound of the predicted probability
     * @param to            upper bound
     * @param count         records in the bin
     * @param meanPredicted their mean predicted probability ({@code NaN} when empty)
     * @param observedRate  the share of them labelled 1 ({@code NaN} when empty)
     */
    public record CalibrationBin(double from, double to, long count, double meanPredicted, double observedRate) {
    }

    /**
     * The champion (one version) against the challenger, on the same sampled records.
     *
     * @param compared         sampled records both scored, in the last {@code window} of them
     * @param agreement        the share of them on which both agree: the same decision at the threshold (binary),
     *                         the same most probable class (multi-class), predictions within 1% of each other
     *                         (regression)
     * @param difference       the distribution of challenger score minus champion score over the same records
     *                         (binary: probability of class 1; multi-class: probability of the champion's class;
     *                         regression: the prediction)
     * @param champion         the champion's metrics on the labelled sampled records, last {@code window}
     * @param challenger       the challenger's metrics on the same records
     * @param championPeriod   the champion's metrics on the sampled records labelled in the last period
     * @param challengerPeriod the challenger's metrics on the same records
     */
    public record Comparison(long compared, double agreement, Difference difference, Window champion,
                             Window challenger, Window championPeriod, Window challengerPeriod) {
    }

    /**
     * The distribution of score differences (challenger minus champion).
     *
     * @param count        differences in it
     * @param mean         mean difference
     * @param meanAbsolute mean absolute difference
     * @param p05          5th percentile (nearest rank)
     * @param p50          median
     * @param p95          95th percentile
     * @param maxAbsolute  largest absolute difference
     */
    public record Difference(long count, double mean, double meanAbsolute, double p05, double p50, double p95,
                             double maxAbsolute) {
    }
}
