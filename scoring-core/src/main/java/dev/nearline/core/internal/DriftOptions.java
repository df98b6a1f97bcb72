package dev.nearline.core.internal;

import dev.nearline.api.internal.SetOnce;
import dev.nearline.core.DriftListener;
import dev.nearline.core.DriftMonitor.Reference;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The options of a drift monitor as they are being set, and the rules each value must meet: the state and
 * checks behind {@code DriftMonitor.Builder}, which forwards each setter here, and the name and reference
 * rules the pipeline-file reader ({@link DriftSettings}) applies too. Each option may be set at most once;
 * {@link #build()} fills in the defaults. Not thread-safe; use once.
 */
public final class DriftOptions {
    /** The name of the score column, reserved among feature names. */
    public static final String SCORE = "score";
    /** Quantile bins of a captured reference at most; its two outer bins come on top (within DriftWindow.MAX_BINS). */
    public static final int MAX_CAPTURED_BINS = 100;
    /** An integer option not set (every one must be positive). */
    private static final int UNSET = -1;

    private @Nullable String features;
    private @Nullable List<String> featureNames;
    private @Nullable String scoreOutput;
    private int scoreIndex = UNSET;
    private boolean scoreSet;
    private int window = UNSET;
    private int captureReference = UNSET;
    private int bins = UNSET;
    private double psiThreshold = Double.NaN;
    private int sampleEvery = UNSET;
    private int checkEvery = UNSET;
    private @Nullable Map<String, Reference> reference;
    private @Nullable DriftListener listener;
    private boolean built;

    /** Sets the preprocessed tensor that holds the feature row. */
    public void features(String tensorName) {
        this.features = SetOnce.check(this.features, Objects.requireNonNull(tensorName, "tensorName"), "features");
    }

    /** Sets (a copy of) the feature names. */
    public void featureNames(List<String> names) {
        List<String> copy = List.copyOf(Objects.requireNonNull(names, "names"));
        String problem = featureNamesProblem(copy);
        if (problem != null) {
            throw new IllegalArgumentException("featureNames: " + problem);
        }
        this.featureNames = SetOnce.check(this.featureNames, copy, "featureNames");
    }

    /** Sets where the score is: element {@code index} of output {@code outputName}. */
    public void score(String outputName, int index) {
        Objects.requireNonNull(outputName, "outputName");
        if (index < 0) {
            throw new IllegalArgumentException("score index must not be negative, got " + index);
        }
        if (scoreSet) {
            throw new IllegalStateException("score was already set to '" + scoreOutput + "' element " + scoreIndex);
        }
        scoreSet = true;
        scoreElement(outputName, index);
    }

    /**
     * Where the score is, either part left at its default: null for the first output, -1 for the last
     * element. Only a pipeline file can leave one out, once.
     */
    void scoreElement(@Nullable String outputName, int index) {
        this.scoreOutput = outputName;
        this.scoreIndex = index;
    }

    /** Sets the window size in records. */
    public void window(int records) {
        this.window = positiveOnce(this.window, records, "window");
    }

    /** Sets how many first records a captured reference comes from. */
    public void captureReference(int records) {
        this.captureReference = positiveOnce(this.captureReference, records, "captureReference");
    }

    /** Sets (a copy of) the explicit references; their names are checked by {@link #build()}. */
    public void reference(Map<String, Reference> references) {
        Map<String, Reference> copy = Map.copyOf(Objects.requireNonNull(references, "references"));
        this.reference = SetOnce.check(this.reference, copy, "reference");
    }

    /** Sets the quantile bins of a captured reference. */
    public void bins(int bins) {
        if (!validBins(bins)) {
            throw new IllegalArgumentException("bins must be from 2 to " + MAX_CAPTURED_BINS + ", got " + bins);
        }
        this.bins = positiveOnce(this.bins, bins, "bins");
    }

    /** Sets the PSI above which an event fires. */
    public void psiThreshold(double threshold) {
        if (!validThreshold(threshold)) {
            throw new IllegalArgumentException("psiThreshold must be a positive number, got " + threshold);
        }
        if (!Double.isNaN(psiThreshold)) {
            throw new IllegalStateException("psiThreshold was already set to " + psiThreshold);
        }
        this.psiThreshold = threshold;
    }

    /** Sets the sampling: one record in {@code n}. */
    public void sampleEvery(int n) {
        this.sampleEvery = positiveOnce(this.sampleEvery, n, "sampleEvery");
    }

    /** Sets how often, in observed records, the PSI is compared with the threshold. */
    public void checkEvery(int records) {
        this.checkEvery = positiveOnce(this.checkEvery, records, "checkEvery");
    }

    /** Sets the receiver of drift events. */
    public void listener(DriftListener listener) {
        this.listener = SetOnce.check(this.listener, Objects.requireNonNull(listener, "listener"), "listener");
    }

    /**
     * The options with every default filled in.
     *
     * @throws IllegalArgumentException when a reference names no feature
     * @throws IllegalStateException    if called before
     */
    public DriftConfig build() {
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
        int windowSize = or(window, 10_000);
        return new DriftConfig(features, featureNames, scoreOutput, scoreIndex, windowSize,
                or(captureReference, 10_000), or(bins, 10), Double.isNaN(psiThreshold) ? 0.2 : psiThreshold,
                or(sampleEvery, DriftConfig.AUTO_SAMPLE), or(checkEvery, Math.max(1, windowSize / 10)),
                reference == null ? Map.of() : reference, listener);
    }

    private static int or(int option, int defaultValue) {
        return option == UNSET ? defaultValue : option;
    }

    // ------------------------------------------------------------------ rules shared with the pipeline file

    /** Whether {@code n} is an accepted number of captured quantile bins. */
    static boolean validBins(int n) {
        return n >= 2 && n <= MAX_CAPTURED_BINS;
    }

    /** Whether {@code t} is an accepted PSI threshold: positive and finite. */
    static boolean validThreshold(double t) {
        return t > 0 && !Double.isInfinite(t);
    }

    /** What is wrong with feature names, or null. */
    static @Nullable String featureNamesProblem(List<String> names) {
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

    /** What is wrong with a reference's name, given the feature names if configured, or null. */
    static @Nullable String referenceNameProblem(String name, @Nullable List<String> featureNames) {
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

    /** A problem with one array of a reference: which ({@code edges} or {@code proportions}) and what. */
    public record ReferenceProblem(String key, String message) {
    }

    /**
     * The first problem with a reference's arrays (see {@code DriftMonitor.Reference}), or null.
     */
    public static @Nullable ReferenceProblem referenceProblem(double[] edges, double[] proportions) {
        for (int i = 0; i < edges.length; i++) {
            if (Double.isNaN(edges[i]) || (i > 0 && !(edges[i] > edges[i - 1]))) {
                return new ReferenceProblem("edges", "expected strictly ascending numbers, got " + edges[i]
                        + (i > 0 ? " after " + edges[i - 1] : ""));
            }
        }
        if (proportions.length != edges.length + 1) {
            return new ReferenceProblem("proportions", "expected " + (edges.length + 1) + " proportions (one more "
                    + "than the edges), got " + proportions.length);
        }
        if (proportions.length > DriftWindow.MAX_BINS) {
            return new ReferenceProblem("proportions", "expected at most " + DriftWindow.MAX_BINS + " bins, got "
                    + proportions.length);
        }
        double sum = 0;
        for (double p : proportions) {
            if (!(p >= 0) || Double.isInfinite(p)) {
                return new ReferenceProblem("proportions", "expected numbers of 0 or more, got " + p);
            }
            sum += p;
        }
        if (Math.abs(sum - 1) > 0.01) {
            return new ReferenceProblem("proportions", "expected proportions summing to 1, got a sum of " + sum);
        }
        return null;
    }

    private static int positiveOnce(int current, int value, String property) {
        if (value < 1) {
            throw new IllegalArgumentException(property + " must be positive, got " + value);
        }
        return SetOnce.check(current, UNSET, value, property);
    }
}
