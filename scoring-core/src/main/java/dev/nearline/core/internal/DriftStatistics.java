package dev.nearline.core.internal;

import dev.nearline.core.DriftMonitor.Reference;
import dev.nearline.core.DriftSnapshot;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The numbers of drift monitoring, as pure functions: which bin a value falls in, the population stability
 * index of bin counts against a reference, quantile bin edges for a captured reference, and the window
 * statistics (mean, nearest-rank quantiles) of a snapshot. Thread-safe: no state.
 */
final class DriftStatistics {
    /** Stand-in for an empty bin, on either side, so that PSI stays finite (as Evidently does). */
    static final double EPSILON = 1e-4;

    private DriftStatistics() {
    }

    /**
     * The bin of {@code v} (not NaN): how many of the ascending {@code edges} are less than or equal to it.
     * Branch-free binary search: quantile bins make the outcome of each comparison a coin flip, which a
     * branch would mispredict half the time.
     */
    static int bin(float[] edges, float v) {
        int n = edges.length;
        if (n == 0) {
            return 0;
        }
        int base = 0;
        while (n > 1) {
            int half = n >>> 1;
            base = edges[base + half - 1] <= v ? base + half : base;
            n -= half;
        }
        return base + (edges[base] <= v ? 1 : 0);
    }

    /** Edges rounded up to floats, so that {@code v >= edge} holds for a float as for the double. */
    static float[] toFloatEdges(double[] edges) {
        float[] fe = new float[edges.length];
        for (int i = 0; i < fe.length; i++) {
            fe[i] = ceilToFloat(edges[i]);
        }
        return fe;
    }

    /** The smallest float at or above {@code d}: for a float {@code v}, {@code v >= d} exactly when {@code v >= f}. */
    static float ceilToFloat(double d) {
        float f = (float) d;
        return f < d ? Math.nextUp(f) : f;
    }

    /**
     * PSI = sum over bins of (a - e) * ln(a / e), with a and e the actual and expected proportions, each at
     * least {@link #EPSILON}; the last count (NaN values) is left out. NaN when there are no other values.
     */
    static double psi(int[] counts, double[] expected, double[] logExpected) {
        int bins = counts.length - 1;
        long total = 0;
        for (int b = 0; b < bins; b++) {
            total += counts[b];
        }
        if (total == 0) {
            return Double.NaN;
        }
        double inv = 1.0 / total;
        double sum = 0;
        for (int b = 0; b < bins; b++) {
            double a = Math.max(counts[b] * inv, EPSILON);
            sum += (a - expected[b]) * (Math.log(a) - logExpected[b]);
        }
        return sum;
    }

    /**
     * Bin edges for a sorted sample: its values at ranks {@code k * n / bins} for {@code k = 1 .. bins - 1}
     * as interior edges, duplicates dropped (so a column with few distinct values gets one bin per value),
     * plus an edge at the smallest value and one just above the largest, so that values outside the range
     * land in bins the reference (all but) left empty, and count as drift.
     */
    static double[] quantileEdges(float[] sorted, int bins) {
        int n = sorted.length;
        if (n == 0) {
            return new double[0];
        }
        double[] out = new double[bins + 1];
        int k = 0;
        out[k++] = sorted[0];
        for (int q = 1; q < bins; q++) {
            double e = sorted[(int) ((long) q * n / bins)];
            if (e > out[k - 1]) {
                out[k++] = e;
            }
        }
        // The next double above a float is below the next float, so "v >= edge" means "v > max" for floats.
        double above = Math.nextUp((double) sorted[n - 1]);
        if (above > out[k - 1]) {
            out[k++] = above;
        }
        return Arrays.copyOf(out, k);
    }

    /** The nearest-rank quantile of ascending {@code v}; NaN when empty. */
    static double quantile(float[] v, double q) {
        if (v.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(q * v.length);
        return v[Math.min(v.length, Math.max(1, rank)) - 1];
    }

    /**
     * The statistics of every feature column of a copied window: all columns of {@code names} but the last
     * (the score); empty without a window.
     */
    static List<DriftSnapshot.Stats> features(DriftWindow.@Nullable Copy copy, List<String> names) {
        List<DriftSnapshot.Stats> features = new ArrayList<>();
        if (copy != null) {
            for (int c = 0; c < names.size() - 1; c++) {
                features.add(stats(names.get(c), copy, c));
            }
        }
        return features;
    }

    /**
     * The statistics of the score, the last column of a copied window; without a window, empty ones with
     * the configured reference, if any.
     */
    static DriftSnapshot.Stats score(DriftWindow.@Nullable Copy copy, List<String> names, @Nullable Reference configured) {
        if (copy == null) {
            return new DriftSnapshot.Stats(DriftOptions.SCORE, 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                    Double.NaN, configured);
        }
        return stats(DriftOptions.SCORE, copy, names.size() - 1);
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
}
