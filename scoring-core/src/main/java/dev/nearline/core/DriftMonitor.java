package dev.nearline.core;

import dev.nearline.api.DataType;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.api.spi.Settings;
import dev.nearline.core.internal.DriftWindow;
import dev.nearline.core.internal.Ranges;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
    private static final Logger log = LoggerFactory.getLogger(DriftMonitor.class);
    private static final String SCORE = "score";
    /** Quantile bins of a captured reference at most; its two outer bins come on top (within DriftWindow.MAX_BINS). */
    private static final int MAX_CAPTURED_BINS = 100;
    private static final int MISSING_TENSOR = 0;
    private static final int UNREADABLE = 1;
    private static final int WIDTH = 2;
    private static final int BROKEN = 3;
    /** Values binned per scored record on average, by default: see {@link Builder#sampleEvery}. */
    private static final int VALUES_PER_RECORD = 4;
    private static final VarHandle LOCK;

    static {
        try {
            LOCK = MethodHandles.lookup().findVarHandle(DriftMonitor.class, "lock", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final @Nullable String featuresTensor;
    private final @Nullable List<String> featureNames;
    private final @Nullable String scoreOutput;
    private final int scoreIndex;
    private final int windowSize;
    private final int captureRecords;
    private final int bins;
    private final double threshold;
    private final boolean autoSample;
    private final int checkEvery;
    private final Map<String, Reference> references;
    private final @Nullable DriftListener listener;
    private final LongAdder dropped = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final AtomicBoolean warnedRead = new AtomicBoolean();
    private final AtomicBoolean warnedListener = new AtomicBoolean();

    /** Read without the lock; set once, when the row width is known, if sampling is automatic. */
    private volatile int sampleEvery;

    /** 0 when free, 1 while a thread updates the state below; taken with a CAS, never waited for on the hot path. */
    @SuppressWarnings("unused")
    private volatile int lock;

    // Guarded by lock.
    private @Nullable DriftWindow window;
    private @Nullable String brokenReason;
    private List<String> columnNames = List.of();
    private float[] row = new float[0];
    private boolean[] alarmed = new boolean[0];
    private long observed;
    private int untilCheck;

    private DriftMonitor(Builder b) {
        this.featuresTensor = b.features;
        this.featureNames = b.featureNames;
        this.scoreOutput = b.scoreOutput;
        this.scoreIndex = b.scoreIndex;
        this.windowSize = b.window == -1 ? 10_000 : b.window;
        this.captureRecords = b.captureReference == -1 ? 10_000 : b.captureReference;
        this.bins = b.bins == -1 ? 10 : b.bins;
        this.threshold = Double.isNaN(b.psiThreshold) ? 0.2 : b.psiThreshold;
        this.autoSample = b.sampleEvery == -1;
        this.sampleEvery = autoSample ? 1 : b.sampleEvery;
        this.checkEvery = b.checkEvery == -1 ? Math.max(1, windowSize / 10) : b.checkEvery;
        this.references = b.reference == null ? Map.of() : b.reference;
        this.listener = b.listener;
        this.untilCheck = checkEvery;
        if (featureNames != null) {
            // Known width: allocate now, so that a window too large for memory fails the build, not scoring.
            layout(featureNames.size());
        }
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
        Builder b = builder();
        if (s.has("features")) {
            b.features(s.string("features"));
        }
        List<String> names = null;
        if (s.has("featureNames")) {
            names = s.strings("featureNames");
            String problem = featureNamesProblem(names);
            if (problem != null) {
                throw s.error("featureNames", problem);
            }
            b.featureNames(names);
        }
        Settings score = s.optionalObject("score");
        if (score != null) {
            b.scoreOutput = score.string("output", null);
            if (score.has("index")) {
                int index = score.integer("index");
                if (index < 0) {
                    throw score.error("index", "expected an element index of 0 or more, got " + index);
                }
                b.scoreIndex = index;
            }
        }
        if (s.has("window")) {
            b.window(records(s, "window"));
        }
        if (s.has("captureReference")) {
            b.captureReference(records(s, "captureReference"));
        }
        if (s.has("bins")) {
            int n = s.integer("bins");
            if (n < 2 || n > MAX_CAPTURED_BINS) {
                throw s.error("bins", "expected an integer from 2 to " + MAX_CAPTURED_BINS + ", got " + n);
            }
            b.bins(n);
        }
        if (s.has("psiThreshold")) {
            double t = s.number("psiThreshold");
            if (!(t > 0) || Double.isInfinite(t)) {
                throw s.error("psiThreshold", "expected a positive number such as 0.2, got " + t);
            }
            b.psiThreshold(t);
        }
        if (s.has("sampleEvery")) {
            b.sampleEvery(records(s, "sampleEvery"));
        }
        if (s.has("checkEvery")) {
            b.checkEvery(records(s, "checkEvery"));
        }
        Settings refs = s.optionalObject("reference");
        if (refs != null) {
            Map<String, Reference> map = new LinkedHashMap<>();
            for (String name : refs.keys()) {
                String problem = referenceNameProblem(name, names);
                if (problem != null) {
                    throw refs.error(name, problem);
                }
                Settings r = refs.object(name);
                double[] edges = toArray(r.numbers("edges"));
                double[] proportions = toArray(r.numbers("proportions"));
                String[] bad = Reference.problem(edges, proportions);
                if (bad != null) {
                    throw r.error(bad[0], bad[1]);
                }
                map.put(name, new Reference(edges, proportions));
            }
            b.reference(map);
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            // Reference names were checked above: what is left is a window too large for memory.
            throw s.error("window", e.getMessage());
        }
    }

    /**
     * Observes one scored record: its preprocessed tensors and the last step's outputs. Called by the
     * engine after each record scored successfully. Fast, thread-safe, allocation-free in steady state, and
     * never throws.
     */
    public void observe(Tensors inputs, Tensors outputs) {
        try {
            if (sampleEvery > 1 && ThreadLocalRandom.current().nextInt(sampleEvery) != 0) {
                return;
            }
            // Test before the CAS so that a busy monitor costs readers a shared cache line, not a write.
            if ((int) LOCK.getOpaque(this) != 0 || !LOCK.compareAndSet(this, 0, 1)) {
                dropped.increment();
                return;
            }
            DriftEvent[] events;
            try {
                events = record(inputs, outputs);
            } finally {
                LOCK.setRelease(this, 0);
            }
            if (events != null) {
                publish(events);
            }
        } catch (Throwable t) {
            // Monitoring must never fail a record, whatever went wrong (even running out of memory for the window).
            errors.increment();
            if (warnedRead.compareAndSet(false, true)) {
                log.warn("drift monitor failed on a record (logged once, counted in errors): {}", t.toString(), t);
            }
        }
    }

    /**
     * What the monitor sees now. Copies the window under the monitor's lock (records observed meanwhile are
     * dropped) and computes the statistics from the copy, which costs a sort per feature: call it to export
     * metrics every few seconds, not per record.
     */
    public DriftSnapshot snapshot() {
        DriftWindow.Copy copy;
        List<String> names;
        long seen;
        acquire();
        try {
            copy = window == null ? null : window.copy();
            names = columnNames;
            seen = observed;
        } finally {
            LOCK.setRelease(this, 0);
        }
        List<DriftSnapshot.Stats> features = new ArrayList<>();
        DriftSnapshot.Stats score;
        if (copy == null) {
            Reference ref = references.get(SCORE);
            score = new DriftSnapshot.Stats(SCORE, 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                    ref);
        } else {
            int n = names.size() - 1;
            for (int c = 0; c < n; c++) {
                features.add(stats(names.get(c), copy, c));
            }
            score = stats(SCORE, copy, n);
        }
        return new DriftSnapshot(sampleEvery, seen, dropped.sum(), errors.sum(), features, score);
    }

    @Override
    public String toString() {
        return "DriftMonitor[window=" + windowSize + ", psiThreshold=" + threshold + ", sampleEvery=" + sampleEvery
                + "]";
    }

    // ------------------------------------------------------------------ hot path (lock held)

    private DriftEvent @Nullable [] record(Tensors inputs, Tensors outputs) {
        if (brokenReason != null) {
            return reject(BROKEN, inputs, outputs);
        }
        Tensor x = featuresTensor == null ? (inputs.isEmpty() ? null : inputs.get(0)) : inputs.get(featuresTensor);
        Tensor y = scoreOutput == null ? (outputs.isEmpty() ? null : outputs.get(0)) : outputs.get(scoreOutput);
        if (x == null || y == null) {
            return reject(MISSING_TENSOR, inputs, outputs);
        }
        int n = x.rank() == 0 ? 1 : (int) Math.min(Integer.MAX_VALUE, x.dim(x.rank() - 1));
        int index = scoreIndex < 0 ? y.size() - 1 : scoreIndex;
        if (x.type() == DataType.BYTES || y.type() == DataType.BYTES || x.size() < n || index < 0
                || index >= y.size()) {
            return reject(UNREADABLE, inputs, outputs);
        }
        DriftWindow w = window;
        if (w == null) {
            w = layout(n);
            if (w == null) {
                return reject(BROKEN, inputs, outputs);
            }
        } else if (w.columns() != n + 1) {
            return reject(WIDTH, inputs, outputs);
        }
        float[] r = row;
        for (int c = 0; c < n; c++) {
            r[c] = x.floatAt(c);
        }
        r[n] = y.floatAt(index);
        boolean captured = w.add(r);
        observed++;
        if (captured || --untilCheck == 0) {
            untilCheck = checkEvery;
            return check(w);
        }
        return null;
    }

    /** Counts a record that cannot be read and logs the first; the message is built only then, so this allocates nothing. */
    private DriftEvent @Nullable [] reject(int problem, Tensors inputs, Tensors outputs) {
        errors.increment();
        if (warnedRead.compareAndSet(false, true)) {
            String what;
            switch (problem) {
                case MISSING_TENSOR:
                    what = "it needs the features in " + (featuresTensor == null ? "the first input" : "input '"
                            + featuresTensor + "'") + " and the score in " + (scoreOutput == null ? "the first output"
                            : "output '" + scoreOutput + "'");
                    break;
                case UNREADABLE:
                    what = "it needs a numeric features tensor and element "
                            + (scoreIndex < 0 ? "-1 (the last)" : Integer.toString(scoreIndex)) + " of a numeric score";
                    break;
                case WIDTH:
                    what = "the feature rows must keep their width of " + (columnNames.size() - 1) + " values";
                    break;
                default:
                    what = String.valueOf(brokenReason);
            }
            // Tensors print names, types and shapes only, never values.
            log.warn("drift monitor skips records it cannot read (logged once, counted in errors): {}; got inputs {}"
                    + " and outputs {}", what, inputs, outputs);
        }
        return null;
    }

    /** Sets up the window for rows of {@code n} features; null (with brokenReason set) when it cannot. */
    private @Nullable DriftWindow layout(int n) {
        List<String> names = new ArrayList<>(n + 1);
        for (int c = 0; c < n; c++) {
            names.add(featureNames != null ? featureNames.get(c) : "f" + c);
        }
        names.add(SCORE);
        double[][][] refs = new double[n + 1][][];
        for (int c = 0; c <= n; c++) {
            Reference ref = references.get(names.get(c));
            refs[c] = ref == null ? null : new double[][] {ref.edges, ref.proportions};
        }
        for (String key : references.keySet()) {
            if (!names.contains(key)) {
                log.warn("drift monitor: the reference for '{}' names no feature (rows have {} features); ignored",
                        key, n);
            }
        }
        try {
            window = new DriftWindow(windowSize, captureRecords, bins, refs);
        } catch (IllegalArgumentException | OutOfMemoryError e) {
            if (featureNames != null) {
                throw e instanceof IllegalArgumentException ? (IllegalArgumentException) e
                        : new IllegalArgumentException("drift monitor: not enough memory for a window of " + windowSize
                                + " records of " + (n + 1) + " values", e);
            }
            brokenReason = "monitoring is off: " + e.getMessage();
            return null;
        }
        columnNames = List.copyOf(names);
        if (autoSample) {
            sampleEvery = autoSampleEvery(n + 1);
        }
        row = new float[n + 1];
        alarmed = new boolean[n + 1];
        return window;
    }

    /** Compares each column's PSI with the threshold; the events of upward crossings, or null. */
    private DriftEvent @Nullable [] check(DriftWindow w) {
        if (!w.isFull()) {
            // A part-filled window is too small a sample: it would raise false alarms.
            return null;
        }
        DriftEvent[] events = null;
        int k = 0;
        for (int c = 0; c < alarmed.length; c++) {
            double psi = w.psi(c);
            if (psi > threshold) {
                if (!alarmed[c]) {
                    alarmed[c] = true;
                    if (events == null) {
                        events = new DriftEvent[alarmed.length];
                    }
                    events[k++] = new DriftEvent(columnNames.get(c), psi, threshold, w.size());
                }
            } else if (psi <= threshold) {
                alarmed[c] = false;
            }
        }
        return events;
    }

    // ------------------------------------------------------------------ off the hot path

    private void publish(DriftEvent[] events) {
        for (DriftEvent e : events) {
            if (e == null) {
                break;
            }
            if (listener == null) {
                log.warn("drift: PSI of '{}' is {} over the last {} records, above the threshold {}", e.name(),
                        String.format(Locale.ROOT, "%.4f", e.psi()), e.windowCount(), e.threshold());
                continue;
            }
            try {
                listener.onDrift(e);
            } catch (RuntimeException | Error t) {
                if (warnedListener.compareAndSet(false, true)) {
                    log.warn("drift listener {} threw (logged once): {}", listener, t.toString(), t);
                }
            }
        }
    }

    /** Takes the lock for a snapshot, waiting (briefly: holders never block) for observers to finish. */
    private void acquire() {
        int spins = 0;
        while (!LOCK.compareAndSet(this, 0, 1)) {
            if (++spins < 100) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    private static DriftSnapshot.Stats stats(String name, DriftWindow.Copy copy, int c) {
        float[] v = copy.sorted(c);
        double mean = Double.NaN;
        if (v.length > 0) {
            double sum = 0;
            for (float f : v) {
                sum += f;
            }
            mean = sum / v.length;
        }
        double[] edges = copy.edges(c);
        double[] proportions = copy.proportions(c);
        Reference ref = edges == null || proportions == null ? null : new Reference(edges, proportions);
        return new DriftSnapshot.Stats(name, copy.size(), copy.missing(c), mean, quantile(v, 0.50), quantile(v, 0.90),
                quantile(v, 0.99), copy.psi(c), ref);
    }

    /**
     * One record in this many keeps the average work per record near that of binning {@link #VALUES_PER_RECORD}
     * values, whatever the width of the row.
     */
    static int autoSampleEvery(int columns) {
        return Math.max(1, (columns + VALUES_PER_RECORD - 1) / VALUES_PER_RECORD);
    }

    /** The nearest-rank quantile of ascending {@code v}; NaN when empty. */
    static double quantile(float[] v, double q) {
        if (v.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(q * v.length);
        return v[Math.min(v.length, Math.max(1, rank)) - 1];
    }

    /** A count of records in a pipeline file: from 1 to {@link Ranges#MAX_MONITORING_RECORDS}. */
    private static int records(Settings s, String key) {
        int v = s.integer(key);
        if (v < 1) {
            throw s.error(key, "expected a positive integer, got " + v);
        }
        if (v > Ranges.MAX_MONITORING_RECORDS) {
            throw s.error(key, "must be between 1 and " + Ranges.MAX_MONITORING_RECORDS + ", got " + v);
        }
        return v;
    }

    private static double[] toArray(List<Double> list) {
        double[] out = new double[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = list.get(i);
        }
        return out;
    }

    private static @Nullable String featureNamesProblem(List<String> names) {
        Set<String> seen = new HashSet<>();
        for (String n : names) {
            if (n == null || n.isEmpty()) {
                return "expected non-empty names, got " + names;
            }
            if (n.equals(SCORE)) {
                return "'score' is reserved for the model's score; rename that feature";
            }
            if (!seen.add(n)) {
                return "expected distinct names, got '" + n + "' twice";
            }
        }
        return null;
    }

    private static @Nullable String referenceNameProblem(String name, @Nullable List<String> featureNames) {
        if (name.equals(SCORE)) {
            return null;
        }
        if (featureNames != null) {
            return featureNames.contains(name) ? null
                    : "names no feature; expected one of " + featureNames + " or 'score'";
        }
        return name.matches("f(0|[1-9][0-9]{0,8})") ? null
                : "names no feature; without featureNames features are named f0, f1, ... (or use 'score')";
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
            String[] problem = problem(Objects.requireNonNull(edges, "edges"),
                    Objects.requireNonNull(proportions, "proportions"));
            if (problem != null) {
                throw new IllegalArgumentException("reference " + problem[0] + ": " + problem[1]);
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

        @Override
        public int hashCode() {
            return Arrays.hashCode(edges) * 31 + Arrays.hashCode(proportions);
        }

        /** Edges and proportions, such as {@code Reference[edges=[0.5], proportions=[0.5, 0.5]]}. */
        @Override
        public String toString() {
            return "Reference[edges=" + Arrays.toString(edges) + ", proportions=" + Arrays.toString(proportions) + "]";
        }

        /** The first problem as {key, message}, or null. */
        static String @Nullable [] problem(double[] edges, double[] proportions) {
            for (int i = 0; i < edges.length; i++) {
                if (Double.isNaN(edges[i]) || (i > 0 && !(edges[i] > edges[i - 1]))) {
                    return new String[] {"edges", "expected strictly ascending numbers, got " + edges[i]
                            + (i > 0 ? " after " + edges[i - 1] : "")};
                }
            }
            if (proportions.length != edges.length + 1) {
                return new String[] {"proportions", "expected " + (edges.length + 1) + " proportions (one more than "
                        + "the edges), got " + proportions.length};
            }
            if (proportions.length > DriftWindow.MAX_BINS) {
                return new String[] {"proportions", "expected at most " + DriftWindow.MAX_BINS + " bins, got "
                        + proportions.length};
            }
            double sum = 0;
            for (double p : proportions) {
                if (!(p >= 0) || Double.isInfinite(p)) {
                    return new String[] {"proportions", "expected numbers of 0 or more, got " + p};
                }
                sum += p;
            }
            if (Math.abs(sum - 1) > 0.01) {
                return new String[] {"proportions", "expected proportions summing to 1, got a sum of " + sum};
            }
            return null;
        }
    }

    /**
     * Configures a {@link DriftMonitor}; every option has a default and may be set at most once. Not
     * thread-safe; use once.
     */
    public static final class Builder {
        private @Nullable String features;
        private @Nullable List<String> featureNames;
        private @Nullable String scoreOutput;
        private int scoreIndex = -1;
        private boolean scoreSet;
        private int window = -1;
        private int captureReference = -1;
        private int bins = -1;
        private double psiThreshold = Double.NaN;
        private int sampleEvery = -1;
        private int checkEvery = -1;
        private @Nullable Map<String, Reference> reference;
        private @Nullable DriftListener listener;
        private boolean built;

        private Builder() {
        }

        /**
         * The preprocessed tensor that holds the feature row: its last axis, first row ({@code [1, n]} or
         * {@code [n]}). Default: the first input tensor.
         */
        public Builder features(String tensorName) {
            this.features = requireUnset(this.features, Objects.requireNonNull(tensorName, "tensorName"), "features");
            return this;
        }

        /**
         * Names of the features, in row order, used in snapshots, events and reference keys; rows of another
         * width are counted as errors. Default: {@code f0, f1, ...} for as many as the first row has.
         *
         * @throws IllegalArgumentException when names repeat, are empty, or one is {@code score}
         */
        public Builder featureNames(List<String> names) {
            List<String> copy = List.copyOf(Objects.requireNonNull(names, "names"));
            String problem = featureNamesProblem(copy);
            if (problem != null) {
                throw new IllegalArgumentException("featureNames: " + problem);
            }
            this.featureNames = requireUnset(this.featureNames, copy, "featureNames");
            return this;
        }

        /**
         * Where the score is: element {@code index} (row-major) of output {@code outputName} of the last step.
         * Default: the last element of the first output (the positive class of a two-class model).
         */
        public Builder score(String outputName, int index) {
            Objects.requireNonNull(outputName, "outputName");
            if (index < 0) {
                throw new IllegalArgumentException("score index must not be negative, got " + index);
            }
            if (scoreSet) {
                throw new IllegalStateException("score was already set to '" + scoreOutput + "' element " + scoreIndex);
            }
            scoreSet = true;
            this.scoreOutput = outputName;
            this.scoreIndex = index;
            return this;
        }

        /** The sliding window: statistics and PSI cover the last {@code records} observed. Default 10,000. */
        public Builder window(int records) {
            this.window = positiveOnce(this.window, records, "window");
            return this;
        }

        /**
         * Captures the reference of every feature (and the score) without an explicit one from the first
         * {@code records} observed. Default 10,000.
         */
        public Builder captureReference(int records) {
            this.captureReference = positiveOnce(this.captureReference, records, "captureReference");
            return this;
        }

        /**
         * Explicit references by feature name (or {@code score}), for example shipped with the model or taken
         * from an earlier {@link DriftSnapshot.Stats#reference()}. Names without one are captured.
         *
         * @throws IllegalArgumentException at {@link #build()} when a name is neither a feature nor {@code score}
         */
        public Builder reference(Map<String, Reference> references) {
            Map<String, Reference> copy = Map.copyOf(Objects.requireNonNull(references, "references"));
            this.reference = requireUnset(this.reference, copy, "reference");
            return this;
        }

        /**
         * Quantile bins of a captured reference, from 2 to 100; features with fewer distinct values get fewer.
         * Captured references also get a bin below the smallest and one above the largest reference value,
         * so values outside the reference range show as drift. Default 10.
         */
        public Builder bins(int bins) {
            if (bins < 2 || bins > MAX_CAPTURED_BINS) {
                throw new IllegalArgumentException("bins must be from 2 to " + MAX_CAPTURED_BINS + ", got " + bins);
            }
            this.bins = positiveOnce(this.bins, bins, "bins");
            return this;
        }

        /**
         * The PSI above which a {@link DriftEvent} fires. Default 0.2, the usual level of a significant shift
         * (0.1 to 0.2 is usually read as moderate).
         */
        public Builder psiThreshold(double threshold) {
            if (!(threshold > 0) || Double.isInfinite(threshold)) {
                throw new IllegalArgumentException("psiThreshold must be a positive number, got " + threshold);
            }
            if (!Double.isNaN(psiThreshold)) {
                throw new IllegalStateException("psiThreshold was already set to " + psiThreshold);
            }
            this.psiThreshold = threshold;
            return this;
        }

        /**
         * Observes a random one in {@code n} records (random rather than every n-th, so that periodic traffic
         * cannot alias with it). Default: one in {@code ceil((features + 1) / 4)}, which keeps the average cost
         * per scored record near that of binning four values whatever the row width (every record up to three
         * features, one in 8 for 30); set 1 to observe every record.
         */
        public Builder sampleEvery(int n) {
            this.sampleEvery = positiveOnce(this.sampleEvery, n, "sampleEvery");
            return this;
        }

        /**
         * How often, in observed records, the PSI is recomputed and compared with the threshold. Events fire
         * only once the window is full. Default: a tenth of the window.
         */
        public Builder checkEvery(int records) {
            this.checkEvery = positiveOnce(this.checkEvery, records, "checkEvery");
            return this;
        }

        /** Receives drift events. Default: each event is logged at WARN. */
        public Builder listener(DriftListener listener) {
            this.listener = requireUnset(this.listener, Objects.requireNonNull(listener, "listener"), "listener");
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
            if (built) {
                throw new IllegalStateException("build() was already called on this builder");
            }
            if (reference != null) {
                for (String name : reference.keySet()) {
                    String problem = referenceNameProblem(name, featureNames);
                    if (problem != null) {
                        throw new IllegalArgumentException("reference '" + name + "' " + problem);
                    }
                }
            }
            built = true;
            return new DriftMonitor(this);
        }

        private static int positiveOnce(int current, int value, String property) {
            if (value < 1) {
                throw new IllegalArgumentException(property + " must be positive, got " + value);
            }
            if (current != -1) {
                throw new IllegalStateException(property + " was already set to " + current);
            }
            return value;
        }

        private static <T> T requireUnset(@Nullable T current, T value, String property) {
            if (current != null) {
                throw new IllegalStateException(property + " was already set to " + current);
            }
            return value;
        }
    }
}
