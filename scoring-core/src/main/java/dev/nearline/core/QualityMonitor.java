package dev.nearline.core;

import dev.nearline.api.spi.Settings;
import dev.nearline.core.internal.quality.QualityConfig;
import dev.nearline.core.internal.quality.Tracker;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Watches how well a pipeline's model predicts, from labels that arrive after the predictions: a record
 * scored under an id is kept until its label is given to {@link #feedback}, from any thread and possibly much
 * later; each joined pair feeds quality metrics (AUC, log loss, Brier score, calibration, precision and recall
 * for a binary classifier; accuracy and log loss for a multi-class one; MAE and RMSE for a regression) per
 * model version, over the last labelled records and over the last period of time. A {@link Challenger} scored
 * on a sample of the same records gets the same metrics beside the champion's.
 *
 * <pre>{@code
 * QualityMonitor quality = QualityMonitor.builder()
 *     .threshold(0.5)
 *     .alert(QualityMonitor.Metric.AUC, 0.80)   // an event when AUC falls below 0.80
 *     .listener(event -> alerts.send(event.metric() + " is " + event.value()))
 *     .build();
 * ManagedScorer<Transaction, Float> scorer = Pipeline.builder(pre).model(model)
 *     .quality(quality, Transaction::id)
 *     .build(post);
 * scorer.score(tx);                         // the prediction is kept under tx.id()
 * quality.feedback(chargeback.txId(), 1);   // later, from any thread
 * QualitySnapshot now = quality.snapshot(); // for dashboards, every few seconds
 * }</pre>
 *
 * <p><b>On the scoring path</b> the monitor does O(1) work per record without locks, allocation or reference
 * stores: it hashes the id (64 bits, seeded) and writes it with the prediction and the time into the next slot of
 * a ring of {@code capacity} slots, so that each new prediction beyond the capacity takes the oldest one's slot
 * (an eviction, counted). The index from id to slot is updated by the threads that give labels, and metrics are
 * computed when labels arrive and when a snapshot is taken, never per scored record. A prediction older than
 * {@code timeToLive} when its label arrives is discarded (counted). Memory is allocated when the scorer is
 * built: about 70 to 100 bytes per slot (a multi-class prediction adds its vector, 4 bytes per class), and per
 * model version 16 bytes per record of the count window plus about 100 KiB for the time window (three times that
 * with a challenger).
 *
 * <p><b>Labels</b> are never an error: each gets a {@link FeedbackOutcome} and is counted under it. A label for
 * an id that was never scored, that is no longer held, or that arrives before its record was scored, is
 * {@code UNKNOWN} (labels do not wait for predictions); a second label for the same prediction is a
 * {@code DUPLICATE}; a label of the wrong kind is {@code INVALID}. Labels may arrive in any order; the windows
 * hold them in the order they arrived.
 *
 * <p><b>A model version</b> is what the champion scored with: version 1 from the build, plus one for every
 * {@link ManagedScorer#swapModel} that replaces a model. A prediction counts for the version current when it was
 * recorded (a record in flight during a swap may count for either), so after a swap the old version's metrics
 * fill with the labels still coming for it while the new version's start, and snapshots show both until the
 * time-to-live has passed.
 *
 * <p>Thread-safe. One monitor serves one scorer; it lives as long as that scorer and may be read after the
 * scorer is closed.
 */
public final class QualityMonitor {
    /** Bounds of the settings. */
    static final int MAX_CAPACITY = 10_000_000;
    static final int MAX_WINDOW = 1_000_000;
    static final Duration MAX_DURATION = Duration.ofDays(30);

    private final QualityConfig config;
    private final Tracker tracker;

    private QualityMonitor(QualityConfig config) {
        this.config = config;
        this.tracker = new Tracker(config);
    }

    /** A builder with every option at its default (a binary classifier). */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A monitor configured by the {@code "quality"} object of a pipeline file. Keys, all optional ({@code id} is
     * the loader's): {@code task} ({@code binary}, {@code multiclass} or {@code regression}), {@code output},
     * {@code index}, {@code threshold}, {@code classes}, {@code capacity}, {@code timeToLive}, {@code window},
     * {@code timeWindow}, {@code checkEvery} and {@code alerts} (metric name to threshold, such as
     * {@code {"auc": 0.8, "logLoss": 0.5}}), with the meanings and ranges of the {@link Builder} setters of the
     * same names. What the object leaves out is taken from the built-in {@code postprocessor}'s settings when it
     * has them: a {@code classes} postprocessor makes the task {@code multiclass} with its {@code output} and
     * {@code labels} as classes; a {@code score} postprocessor gives its {@code output}, {@code index} and
     * {@code threshold}. Alerts are logged at WARN.
     *
     * @param postprocessor the pipeline's postprocessor settings, or null
     * @throws IllegalArgumentException naming the JSON path of a bad value, such as
     *     {@code $.quality.alerts.auc: ...}
     */
    public static QualityMonitor fromSettings(Settings s, @Nullable Settings postprocessor) {
        String postType = postprocessor == null ? "" : postprocessor.string("type", "");
        boolean scorePost = postType.equals("score");
        boolean classesPost = postType.equals("classes");
        Builder b = builder();
        String task = s.choice("task", classesPost ? "multiclass" : "binary", "binary", "multiclass", "regression");
        Task t = Task.valueOf(task.toUpperCase(Locale.ROOT));
        b.task(t);
        String output = s.string("output", null);
        boolean sameReading = (scorePost && t != Task.MULTICLASS) || (classesPost && t == Task.MULTICLASS);
        if (output == null && sameReading) {
            output = Objects.requireNonNull(postprocessor).string("output", null);
        }
        if (output != null) {
            b.output(output);
        }
        if (s.has("index")) {
            int index = s.integer("index");
            if (index < 0) {
                throw s.error("index", "expected an element index of 0 or more, got " + index);
            }
            if (t == Task.MULTICLASS) {
                throw s.error("index", "is for binary and regression models; a multi-class model reads the whole output");
            }
            b.index(index);
        } else if (scorePost && t != Task.MULTICLASS && Objects.requireNonNull(postprocessor).integer("index", -1) >= 0) {
            b.index(postprocessor.integer("index", -1));
        }
        if (s.has("threshold")) {
            double threshold = s.number("threshold");
            if (!Double.isFinite(threshold)) {
                throw s.error("threshold", "expected a finite number, got " + threshold);
            }
            b.threshold(threshold);
        } else if (scorePost && t == Task.BINARY && Objects.requireNonNull(postprocessor).has("threshold")) {
            b.threshold(postprocessor.number("threshold"));
        }
        if (s.has("classes")) {
            List<String> classes = s.strings("classes");
            if (t != Task.MULTICLASS) {
                throw s.error("classes", "are for multi-class models; set \"task\": \"multiclass\"");
            }
            if (classes.size() < 2 || new HashSet<>(classes).size() != classes.size()) {
                throw s.error("classes", "expected two or more distinct class names, got " + classes.size());
            }
            b.classes(classes);
        } else if (classesPost && t == Task.MULTICLASS && Objects.requireNonNull(postprocessor).has("labels")) {
            b.classes(postprocessor.strings("labels"));
        }
        if (s.has("capacity")) {
            b.capacity(range(s, "capacity", 1, MAX_CAPACITY));
        }
        Duration ttl = s.duration("timeToLive", null);
        if (ttl != null) {
            b.timeToLive(duration(s, "timeToLive", ttl, Duration.ofSeconds(1)));
        }
        if (s.has("window")) {
            b.window(range(s, "window", 1, MAX_WINDOW));
        }
        Duration period = s.duration("timeWindow", null);
        if (period != null) {
            b.timeWindow(duration(s, "timeWindow", period, Duration.ofSeconds(1)));
        }
        if (s.has("checkEvery")) {
            b.checkEvery(range(s, "checkEvery", 1, MAX_WINDOW));
        }
        Settings alerts = s.optionalObject("alerts");
        if (alerts != null) {
            for (String key : alerts.keys()) {
                Metric m = Metric.fromName(key);
                if (m == null) {
                    throw alerts.error(key, "unknown metric; expected one of " + Metric.names());
                }
                if (!m.appliesTo(t)) {
                    throw alerts.error(key, "a " + task + " model has no such metric");
                }
                double threshold = alerts.number(key);
                if (!Double.isFinite(threshold)) {
                    throw alerts.error(key, "expected a finite threshold, got " + threshold);
                }
                b.alert(m, threshold);
            }
        }
        return b.build();
    }

    /**
     * Gives the label of the record scored under {@code id}; callable from any thread, at any time, never
     * blocking on scoring. A binary label is 0 or 1, a multi-class label the class index, a regression label the
     * value.
     *
     * @return what became of the label; never an exception for a label that cannot be joined
     */
    public FeedbackOutcome feedback(String id, double label) {
        return tracker.feedback(Objects.requireNonNull(id, "id"), label);
    }

    /**
     * As {@link #feedback(String, double)}, with the label as text: a class name of {@link Builder#classes} (or
     * a class index) for a multi-class model, {@code 0}/{@code 1}/{@code true}/{@code false} for a binary one, a
     * number for a regression.
     */
    public FeedbackOutcome feedback(String id, String label) {
        return tracker.feedback(Objects.requireNonNull(id, "id"), Objects.requireNonNull(label, "label"));
    }

    /**
     * What the monitor knows now. Merges each version's statistics under that version's lock (labels arriving
     * meanwhile wait a few microseconds; scoring never does): call it every few seconds for dashboards, not per
     * record.
     */
    public QualitySnapshot snapshot() {
        return tracker.snapshot();
    }

    /** The model version that scores new records now: 1, plus one per model swap. */
    public int version() {
        return tracker.currentVersion();
    }

    /** The task of the model. */
    public Task task() {
        return config.task();
    }

    /** The internals, for the pipeline builder. */
    Tracker tracker() {
        return tracker;
    }

    QualityConfig config() {
        return config;
    }

    @Override
    public String toString() {
        return "QualityMonitor[" + config.task() + ", capacity=" + config.capacity() + ", timeToLive="
                + config.timeToLive() + ", window=" + config.window() + "]";
    }

    private static int range(Settings s, String key, int min, int max) {
        int v = s.integer(key);
        if (v < min || v > max) {
            throw s.error(key, "must be between " + min + " and " + max + ", got " + v);
        }
        return v;
    }

    private static Duration duration(Settings s, String key, Duration v, Duration min) {
        if (v.compareTo(min) < 0 || v.compareTo(MAX_DURATION) > 0) {
            throw s.error(key, "must be between " + min + " and " + MAX_DURATION + ", got " + v);
        }
        return v;
    }

    /** What the model predicts, which decides the labels it takes and the metrics it gets. */
    public enum Task {
        /**
         * A binary classifier: the prediction is the probability of class 1, in [0, 1]; labels are 0 or 1.
         * Metrics: AUC, log loss, Brier score, calibration, precision, recall and accuracy at the threshold.
         */
        BINARY,
        /**
         * A multi-class classifier: the prediction is the vector of class probabilities; labels are class
         * indices (or names). Metrics: accuracy and log loss.
         */
        MULTICLASS,
        /** A regression: the prediction and the labels are numbers. Metrics: MAE and RMSE. */
        REGRESSION
    }

    /** A quality metric that an alert can watch. */
    public enum Metric {
        /** Area under the ROC curve (binary); alerts when it falls below the threshold. */
        AUC("auc", true, Task.BINARY),
        /** Log loss (binary, multi-class); alerts when it rises above the threshold. */
        LOG_LOSS("logLoss", false, null),
        /** Brier score (binary); alerts when it rises above. */
        BRIER("brier", false, Task.BINARY),
        /** Precision at the threshold (binary); alerts when it falls below. */
        PRECISION("precision", true, Task.BINARY),
        /** Recall at the threshold (binary); alerts when it falls below. */
        RECALL("recall", true, Task.BINARY),
        /** Accuracy (binary at the threshold, multi-class); alerts when it falls below. */
        ACCURACY("accuracy", true, null),
        /** Mean absolute error (regression); alerts when it rises above. */
        MAE("mae", false, Task.REGRESSION),
        /** Root mean squared error (regression); alerts when it rises above. */
        RMSE("rmse", false, Task.REGRESSION);

        private final String jsonName;
        private final boolean higherIsBetter;
        private final @Nullable Task only;

        Metric(String jsonName, boolean higherIsBetter, @Nullable Task only) {
            this.jsonName = jsonName;
            this.higherIsBetter = higherIsBetter;
            this.only = only;
        }

        /** The name in pipeline files and metric names, such as {@code logLoss}. */
        public String jsonName() {
            return jsonName;
        }

        /** Whether a higher value is better, so that an alert fires when the value falls below its threshold. */
        public boolean higherIsBetter() {
            return higherIsBetter;
        }

        /** Whether {@code task} has this metric. */
        public boolean appliesTo(Task task) {
            if (this == LOG_LOSS || this == ACCURACY) {
                return task != Task.REGRESSION;
            }
            return only == task;
        }

        static @Nullable Metric fromName(String name) {
            for (Metric m : values()) {
                if (m.jsonName.equals(name)) {
                    return m;
                }
            }
            return null;
        }

        static List<String> names() {
            return java.util.Arrays.stream(values()).map(Metric::jsonName).toList();
        }
    }

    /**
     * Configures a {@link QualityMonitor}; every option has a default and may be set at most once. Not
     * thread-safe; use once.
     */
    public static final class Builder {
        private @Nullable Task task;
        private @Nullable String output;
        private int index = -1;
        private double threshold = Double.NaN;
        private @Nullable List<String> classes;
        private int capacity = -1;
        private @Nullable Duration timeToLive;
        private int window = -1;
        private @Nullable Duration timeWindow;
        private int checkEvery = -1;
        private final Map<Metric, Double> alerts = new EnumMap<>(Metric.class);
        private @Nullable QualityListener listener;
        private boolean built;

        private Builder() {
        }

        /** What the model predicts. Default {@link Task#BINARY}. */
        public Builder task(Task task) {
            this.task = once(this.task, Objects.requireNonNull(task, "task"), "task");
            return this;
        }

        /**
         * The output tensor (of the last step) that holds the prediction. Default: as the built-in postprocessors
         * read it: the first output ({@code score}) for a binary classifier or a regression, the first
         * floating-point output that is not a {@code .keys} tensor ({@code classes}) for a multi-class one.
         */
        public Builder output(String name) {
            this.output = once(this.output, Objects.requireNonNull(name, "name"), "output");
            return this;
        }

        /**
         * The element of the output that holds the prediction (row-major), for a binary classifier or a
         * regression. Default: the last element, as the {@code score} postprocessor (the probability of class 1 of
         * a {@code [1, 2]} output).
         */
        public Builder index(int index) {
            if (index < 0) {
                throw new IllegalArgumentException("index must not be negative, got " + index);
            }
            if (this.index != -1) {
                throw new IllegalStateException("index was already set to " + this.index);
            }
            this.index = index;
            return this;
        }

        /**
         * The decision threshold of a binary classifier, for precision, recall, accuracy and the challenger's
         * agreement: a probability at or above it means class 1. Default 0.5; a pipeline file takes the
         * {@code score} postprocessor's.
         */
        public Builder threshold(double threshold) {
            if (!Double.isFinite(threshold)) {
                throw new IllegalArgumentException("threshold must be a finite number, got " + threshold);
            }
            if (!Double.isNaN(this.threshold)) {
                throw new IllegalStateException("threshold was already set to " + this.threshold);
            }
            this.threshold = threshold;
            return this;
        }

        /** The class names of a multi-class model, in output order, so labels can be given by name. */
        public Builder classes(List<String> names) {
            List<String> copy = List.copyOf(Objects.requireNonNull(names, "names"));
            if (copy.size() < 2 || new HashSet<>(copy).size() != copy.size()) {
                throw new IllegalArgumentException("classes must be two or more distinct names, got " + copy);
            }
            this.classes = once(this.classes, copy, "classes");
            return this;
        }

        /**
         * Predictions kept waiting for their labels at most: 1 to 10,000,000. Beyond it each new prediction evicts
         * the oldest, counted in {@link QualitySnapshot.Predictions#evicted()}. Size it to the records scored
         * within the time labels take to arrive. Default 100,000.
         */
        public Builder capacity(int predictions) {
            check("capacity", predictions, 1, MAX_CAPACITY);
            this.capacity = onceInt(this.capacity, predictions, "capacity");
            return this;
        }

        /**
         * How long a prediction waits for its label: 1 s to 30 days, judged to about a tenth of a second (the
         * store keeps clock readings in units of 2^27 ns). A later label gets {@link FeedbackOutcome#EXPIRED}.
         * Default 1 hour.
         */
        public Builder timeToLive(Duration ttl) {
            checkDuration("timeToLive", Objects.requireNonNull(ttl, "ttl"), Duration.ofSeconds(1));
            this.timeToLive = once(this.timeToLive, ttl, "timeToLive");
            return this;
        }

        /** The count window: metrics over the last {@code records} labelled records, 1 to 1,000,000. Default 10,000. */
        public Builder window(int records) {
            check("window", records, 1, MAX_WINDOW);
            this.window = onceInt(this.window, records, "window");
            return this;
        }

        /**
         * The time window: metrics over the labels that arrived in the last {@code period}, kept in 12 steps of a
         * twelfth each (so it covers between eleven twelfths of the period and the period): 1 s to 30 days.
         * Default 1 hour.
         */
        public Builder timeWindow(Duration period) {
            checkDuration("timeWindow", Objects.requireNonNull(period, "period"), Duration.ofSeconds(1));
            this.timeWindow = once(this.timeWindow, period, "timeWindow");
            return this;
        }

        /**
         * Fires a {@link QualityEvent} when {@code metric} over the count window crosses {@code threshold}: falls
         * below it for a metric where higher is better (AUC, precision, recall, accuracy), rises above it
         * otherwise. Checked every {@link #checkEvery} labels once the window is full, per model version; fires
         * once per crossing, and again only after the metric has come back.
         */
        public Builder alert(Metric metric, double threshold) {
            Objects.requireNonNull(metric, "metric");
            if (!Double.isFinite(threshold)) {
                throw new IllegalArgumentException("alert threshold must be a finite number, got " + threshold);
            }
            if (alerts.containsKey(metric)) {
                throw new IllegalStateException("an alert on " + metric + " was already set");
            }
            alerts.put(metric, threshold);
            return this;
        }

        /** How often, in labels per model version, alerts are checked: 1 to 1,000,000. Default a tenth of the window. */
        public Builder checkEvery(int labels) {
            check("checkEvery", labels, 1, MAX_WINDOW);
            this.checkEvery = onceInt(this.checkEvery, labels, "checkEvery");
            return this;
        }

        /** Receives alerts. Default: each is logged at WARN. */
        public Builder listener(QualityListener listener) {
            this.listener = once(this.listener, Objects.requireNonNull(listener, "listener"), "listener");
            return this;
        }

        /**
         * Builds the monitor.
         *
         * @throws IllegalArgumentException when an option does not fit the task (an alert on a metric the task does
         *     not have, an index for a multi-class model, classes for another task)
         * @throws IllegalStateException if the builder was used before
         */
        public QualityMonitor build() {
            if (built) {
                throw new IllegalStateException("build() was already called on this builder");
            }
            Task t = task == null ? Task.BINARY : task;
            for (Metric m : alerts.keySet()) {
                if (!m.appliesTo(t)) {
                    throw new IllegalArgumentException("alert on " + m.jsonName() + ": a " + t.name().toLowerCase(Locale.ROOT)
                            + " model has no such metric");
                }
            }
            if (t == Task.MULTICLASS && index != -1) {
                throw new IllegalArgumentException("index is for binary and regression models; a multi-class model "
                        + "reads the whole output");
            }
            if (t != Task.MULTICLASS && classes != null) {
                throw new IllegalArgumentException("classes are for multi-class models");
            }
            int w = window == -1 ? 10_000 : window;
            built = true;
            return new QualityMonitor(new QualityConfig(t, output, index, Double.isNaN(threshold) ? 0.5 : threshold,
                    classes == null ? List.of() : classes, capacity == -1 ? 100_000 : capacity,
                    timeToLive == null ? Duration.ofHours(1) : timeToLive, w,
                    timeWindow == null ? Duration.ofHours(1) : timeWindow, checkEvery == -1 ? Math.max(1, w / 10)
                    : checkEvery, alerts, listener));
        }

        private static void check(String property, int value, int min, int max) {
            if (value < min || value > max) {
                throw new IllegalArgumentException(property + " must be between " + min + " and " + max + ", got " + value);
            }
        }

        private static void checkDuration(String property, Duration value, Duration min) {
            if (value.compareTo(min) < 0 || value.compareTo(MAX_DURATION) > 0) {
                throw new IllegalArgumentException(property + " must be between " + min + " and " + MAX_DURATION
                        + ", got " + value);
            }
        }

        private static <T> T once(@Nullable T current, T value, String property) {
            if (current != null) {
                throw new IllegalStateException(property + " was already set to " + current);
            }
            return value;
        }

        private static int onceInt(int current, int value, String property) {
            if (current != -1) {
                throw new IllegalStateException(property + " was already set to " + current);
            }
            return value;
        }
    }
}
