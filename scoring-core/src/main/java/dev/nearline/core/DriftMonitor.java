package dev.nearline.core;

import dev.nearline.api.Tensors;
import dev.nearline.api.spi.Settings;
import dev.nearline.core.internal.DriftConfig;
import dev.nearline.core.internal.DriftOptions;
import dev.nearline.core.internal.DriftRecorder;
import dev.nearline.core.internal.DriftSettings;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Watches the distribution of model inputs (per feature) and outputs (the score) over a sliding window of
 * the last records, and compares it with a reference distribution by the population stability index
 * (PSI). The reference is given (bin edges and proportions per feature, for example saved from an earlier
 * {@link #snapshot()}) or captured from the first records observed. When the PSI of a feature or of the
 * score rises above the threshold, the {@link DriftListener} hears of it once, and again only after it has
 * fallen back.
 *
 * <pre>{@code
 * DriftMonitor monitor = DriftMonitor.builder()
 *     .featureNames(List.of("amount", "hour", "distance"))
 *     .listener(event -> alerts.send(event.name() + " drifted, PSI " + event.psi()))
 *     .build();
 * ManagedScorer<float[], Float> scorer = Pipeline.builder(pre).model(model).monitor(monitor).build(post);
 * ...
 * DriftSnapshot now = monitor.snapshot();
 * }</pre>
 *
 * <p>Cheap enough to leave on. For each observed record, {@link #observe} copies the row into a ring
 * buffer and moves each value from the bin counter of the value it evicts to its own, allocating nothing,
 * so the PSI is a short sum recomputed every {@code checkEvery} records; window means and quantiles are
 * computed by {@link #snapshot()}, off the scoring path. Binning costs a few nanoseconds per value, so by
 * default a wide row is sampled ({@link Builder#sampleEvery}). Memory is about
 * {@code window x (features + 1) x 5} bytes (1.5 MB for 30 features and the defaults), plus
 * {@code captureReference x (features + 1) x 4} until the reference is captured if that is longer than the
 * window. The record that completes a captured reference pays once for binning it (a few milliseconds for
 * 30 features and the defaults).
 *
 * <p>Thread-safe without making threads wait: a record that arrives while another thread is updating the
 * monitor is skipped and counted as dropped, which thins the sample but never slows scoring down.
 * {@code observe} never throws: records it cannot read are counted as errors and the first is logged.
 */
public final class DriftMonitor {
    private final DriftConfig config;
    private final DriftRecorder recorder;

    private DriftMonitor(DriftConfig config) {
        this.config = config;
        this.recorder = new DriftRecorder(config);
    }

    /** A builder with every option at its default. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A monitor configured by the {@code "monitoring"} object of a pipeline file. Keys, all optional:
     * {@code features}, {@code featureNames}, {@code score} ({@code {"output": name, "index": n}}),
     * {@code window}, {@code captureReference}, {@code bins}, {@code psiThreshold}, {@code sampleEvery},
     * {@code checkEvery} and {@code reference} ({@code {"<feature or score>": {"edges": [...], "proportions":
     * [...]}}}), with the meanings and defaults of the {@link Builder} setters of the same names. Counts of
     * records ({@code window}, {@code captureReference}, {@code sampleEvery}, {@code checkEvery}) are 1 to
     * 1,000,000, {@code bins} 2 to 100, {@code psiThreshold} positive and finite. Drift events are logged at
     * WARN.
     *
     * @throws IllegalArgumentException naming the JSON path of a bad value, such as
     *     {@code $.monitoring.window: expected a positive integer, got 0}
     */
    public static DriftMonitor fromSettings(Settings s) {
        return DriftSettings.read(s, DriftMonitor::new);
    }

    /**
     * Observes one scored record: its preprocessed tensors and the last step's outputs. Called by the
     * engine after each record scored successfully. Fast, thread-safe, allocation-free in steady state, and
     * never throws.
     */
    public void observe(Tensors inputs, Tensors outputs) {
        recorder.observe(inputs, outputs);
    }

    /**
     * What the monitor sees now. Copies the window under the monitor's lock (records observed meanwhile are
     * dropped) and computes the statistics from the copy, which costs a sort per feature: call it to export
     * metrics every few seconds, not per record.
     */
    public DriftSnapshot snapshot() {
        return recorder.snapshot();
    }

    /** The window, threshold and current sampling: {@code DriftMonitor[window=10000, psiThreshold=0.2, sampleEvery=1]}. */
    @Override
    public String toString() {
        return "DriftMonitor[window=" + config.window() + ", psiThreshold=" + config.psiThreshold()
                + ", sampleEvery=" + recorder.sampleEvery() + "]";
    }

    /**
     * A reference distribution of one feature or of the score: {@code edges.length + 1} bins, where bin
     * {@code i} holds the values {@code v} with {@code edges[i - 1] <= v < edges[i]} (bin 0 everything below
     * {@code edges[0]}, the last bin everything from the last edge up), and the proportion of reference
     * values in each bin. NaN values are counted apart (as missing), not binned. Immutable: the arrays are
     * copied in and out.
     *
     * @param edges       strictly ascending bin edges (infinities allowed, NaN not)
     * @param proportions the share of each bin, each at least 0, summing to 1 (within 0.01, as rounded
     *                    numbers in a file do; they are then scaled to sum to 1)
     */
    public record Reference(double[] edges, double[] proportions) {

        /**
         * Checks and copies the arrays.
         *
         * @throws IllegalArgumentException when the edges are not strictly ascending, there are not
         *     {@code edges.length + 1} proportions, or they do not sum to 1
         */
        public Reference {
            DriftOptions.ReferenceProblem problem = DriftOptions.referenceProblem(
                    Objects.requireNonNull(edges, "edges"), Objects.requireNonNull(proportions, "proportions"));
            if (problem != null) {
                throw new IllegalArgumentException("reference " + problem.key() + ": " + problem.message());
            }
            edges = edges.clone();
            double sum = 0;
            for (double p : proportions) {
                sum += p;
            }
            proportions = proportions.clone();
            if (Math.abs(sum - 1) > 1e-9) {
                for (int i = 0; i < proportions.length; i++) {
                    proportions[i] /= sum;
                }
            }
        }

        /** A copy of the edges. */
        @Override
        public double[] edges() {
            return edges.clone();
        }

        /** A copy of the proportions. */
        @Override
        public double[] proportions() {
            return proportions.clone();
        }

        /** Equal when edges and proportions are equal element by element. */
        @Override
        public boolean equals(@Nullable Object o) {
            return o instanceof Reference && Arrays.equals(edges, ((Reference) o).edges)
                    && Arrays.equals(proportions, ((Reference) o).proportions);
        }

        /** Consistent with {@link #equals}. */
        @Override
        public int hashCode() {
            return Arrays.hashCode(edges) * 31 + Arrays.hashCode(proportions);
        }

        /** Edges and proportions, such as {@code Reference[edges=[0.5], proportions=[0.5, 0.5]]}. */
        @Override
        public String toString() {
            return "Reference[edges=" + Arrays.toString(edges) + ", proportions=" + Arrays.toString(proportions) + "]";
        }
    }

    /**
     * Configures a {@link DriftMonitor}; every option has a default and may be set at most once. Not
     * thread-safe; use once.
     */
    public static final class Builder {
        private final DriftOptions options = new DriftOptions();

        private Builder() {
        }

        /**
         * The preprocessed tensor that holds the feature row: its last axis, first row ({@code [1, n]} or
         * {@code [n]}). Default: the first input tensor.
         */
        public Builder features(String tensorName) {
            options.features(tensorName);
            return this;
        }

        /**
         * Names of the features, in row order, used in snapshots, events and reference keys; rows of another
         * width are counted as errors. Default: {@code f0, f1, ...} for as many as the first row has.
         *
         * @throws IllegalArgumentException when names repeat, are empty, or one is {@code score}
         */
        public Builder featureNames(List<String> names) {
            options.featureNames(names);
            return this;
        }

        /**
         * Where the score is: element {@code index} (row-major) of output {@code outputName} of the last step.
         * Default: the last element of the first output (the positive class of a two-class model).
         */
        public Builder score(String outputName, int index) {
            options.score(outputName, index);
            return this;
        }

        /** The sliding window: statistics and PSI cover the last {@code records} observed. Default 10,000. */
        public Builder window(int records) {
            options.window(records);
            return this;
        }

        /**
         * Captures the reference of every feature (and the score) without an explicit one from the first
         * {@code records} observed. Default 10,000.
         */
        public Builder captureReference(int records) {
            options.captureReference(records);
            return this;
        }

        /**
         * Explicit references by feature name (or {@code score}), for example shipped with the model or taken
         * from an earlier {@link DriftSnapshot.Stats#reference()}. Names without one are captured.
         *
         * @throws IllegalArgumentException at {@link #build()} when a name is neither a feature nor {@code score}
         */
        public Builder reference(Map<String, Reference> references) {
            options.reference(references);
            return this;
        }

        /**
         * Quantile bins of a captured reference, from 2 to 100; features with fewer distinct values get fewer.
         * Captured references also get a bin below the smallest and one above the largest reference value,
         * so values outside the reference range show as drift. Default 10.
         */
        public Builder bins(int bins) {
            options.bins(bins);
            return this;
        }

        /**
         * The PSI above which a {@link DriftEvent} fires. Default 0.2, the usual level of a significant shift
         * (0.1 to 0.2 is usually read as moderate).
         */
        public Builder psiThreshold(double threshold) {
            options.psiThreshold(threshold);
            return this;
        }

        /**
         * Observes a random one in {@code n} records (random rather than every n-th, so that periodic traffic
         * cannot alias with it). Default: one in {@code ceil((features + 1) / 4)}, which keeps the average cost
         * per scored record near that of binning four values whatever the row width (every record up to three
         * features, one in 8 for 30); set 1 to observe every record.
         */
        public Builder sampleEvery(int n) {
            options.sampleEvery(n);
            return this;
        }

        /**
         * How often, in observed records, the PSI is recomputed and compared with the threshold. Events fire
         * only once the window is full. Default: a tenth of the window.
         */
        public Builder checkEvery(int records) {
            options.checkEvery(records);
            return this;
        }

        /** Receives drift events. Default: each event is logged at WARN. */
        public Builder listener(DriftListener listener) {
            options.listener(listener);
            return this;
        }

        /**
         * Builds the monitor; with {@link #featureNames} set, it allocates the window now.
         *
         * @throws IllegalArgumentException when a reference names no feature, or the window does not fit in
         *     an array
         * @throws IllegalStateException if the builder was used before
         */
        public DriftMonitor build() {
            return new DriftMonitor(options.build());
        }
    }
}
