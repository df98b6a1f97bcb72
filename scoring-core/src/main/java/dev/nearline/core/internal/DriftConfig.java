package dev.nearline.core.internal;

import dev.nearline.core.DriftListener;
import dev.nearline.core.DriftMonitor.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The settled options of a drift monitor, every default filled in (by {@link DriftOptions#build()}), and
 * what follows from them once the width of a row is known: the column names, their references, and the
 * automatic sampling rate. Immutable.
 *
 * @param featuresTensor the input that holds the feature row, or null for the first
 * @param featureNames   the names of the features, or null for {@code f0, f1, ...} as wide as the first row
 * @param scoreOutput    the output that holds the score, or null for the first
 * @param scoreIndex     the score's element in it, or -1 for the last
 * @param window         records in the sliding window
 * @param captureRecords first records a captured reference is taken from
 * @param bins           quantile bins of a captured reference
 * @param psiThreshold   the PSI above which an event fires
 * @param sampleEvery    one record in this many is observed, or {@link #AUTO_SAMPLE} to follow the row width
 * @param checkEvery     observed records between two comparisons of the PSI with the threshold
 * @param references     explicit references by column name, names already checked
 * @param listener       the receiver of events, or null to log them
 */
public record DriftConfig(@Nullable String featuresTensor, @Nullable List<String> featureNames,
                          @Nullable String scoreOutput, int scoreIndex, int window, int captureRecords, int bins,
                          double psiThreshold, int sampleEvery, int checkEvery, Map<String, Reference> references,
                          @Nullable DriftListener listener) {
    /** {@code sampleEvery} when it follows the width of the row: see {@link #sampleEveryFor}. */
    public static final int AUTO_SAMPLE = 0;
    /** Values binned per scored record on average under automatic sampling. */
    private static final int VALUES_PER_RECORD = 4;

    /** Whether the sampling rate follows the width of the row, known only at the first record without names. */
    boolean autoSample() {
        return sampleEvery == AUTO_SAMPLE;
    }

    /**
     * The sampling rate for rows of {@code columns} values (features and score): automatic sampling takes one
     * record in as many as keeps the average work per record near that of binning {@link #VALUES_PER_RECORD}
     * values, whatever the width of the row.
     */
    int sampleEveryFor(int columns) {
        return autoSample() ? Math.max(1, (columns + VALUES_PER_RECORD - 1) / VALUES_PER_RECORD) : sampleEvery;
    }

    /** The names of the columns of rows of {@code features} features: the features', then {@code score}. */
    List<String> columnNames(int features) {
        List<String> names = new ArrayList<>(features + 1);
        for (int c = 0; c < features; c++) {
            names.add(featureNames != null ? featureNames.get(c) : "f" + c);
        }
        names.add(DriftOptions.SCORE);
        return List.copyOf(names);
    }

    /** Per column, {@code {edges, proportions}} of its explicit reference, or null to capture one. */
    double[] @Nullable [][] windowReferences(List<String> columnNames) {
        double[][][] refs = new double[columnNames.size()][][];
        for (int c = 0; c < refs.length; c++) {
            Reference ref = references.get(columnNames.get(c));
            refs[c] = ref == null ? null : new double[][] {ref.edges(), ref.proportions()};
        }
        return refs;
    }
}
