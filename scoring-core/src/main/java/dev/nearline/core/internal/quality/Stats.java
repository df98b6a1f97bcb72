package dev.nearline.core.internal.quality;

import dev.nearline.core.QualityMonitor.Task;
import dev.nearline.core.QualitySnapshot;
import java.util.ArrayList;
import java.util.List;

/**
 * The sufficient statistics of a window of joined pairs, from which every metric of {@link QualitySnapshot.Window}
 * follows: counts, sums, a confusion matrix at the threshold, calibration bins and, for binary classifiers, a
 * histogram of scores per class for the AUC. Pairs can be added and removed (for a sliding window) and
 * statistics merged (for a window of time buckets). Not thread-safe: its owner locks.
 *
 * <p>A pair is {@code (a, y)}: for a binary classifier the probability of class 1 and the label (0 or 1); for
 * a multi-class one the probability given to the true class and whether the most probable class was right (1
 * or 0); for a regression the prediction and the label.
 */
final class Stats {
    /** Bins of the AUC histogram, evenly spaced in log-odds over [-{@link #LOGIT_SPAN}, {@link #LOGIT_SPAN}]. */
    static final int AUC_BINS = 1024;
    static final double LOGIT_SPAN = 12;
    static final int CALIBRATION_BINS = 10;
    static final double EPS = 1e-15;

    private final Task task;
    private final double threshold;
    long n;
    long positives;
    long truePositives;
    long falsePositives;
    long correct;
    double sumLogLoss;
    double sumBrier;
    double sumAbs;
    double sumSq;
    private final long[] calCount;
    private final long[] calPositives;
    private final double[] calPredicted;
    private final int[] histPos;
    private final int[] histNeg;

    Stats(Task task, double threshold) {
        this.task = task;
        this.threshold = threshold;
        boolean binary = task == Task.BINARY;
        this.calCount = new long[binary ? CALIBRATION_BINS : 0];
        this.calPositives = new long[binary ? CALIBRATION_BINS : 0];
        this.calPredicted = new double[binary ? CALIBRATION_BINS : 0];
        this.histPos = new int[binary ? AUC_BINS : 0];
        this.histNeg = new int[binary ? AUC_BINS : 0];
    }

    /** Adds ({@code sign} 1) or removes ({@code sign} -1) one pair. */
    void add(double a, double y, int sign) {
        n += sign;
        switch (task) {
            case BINARY: {
                boolean positive = y == 1;
                boolean decided = a >= threshold;
                if (positive) {
                    positives += sign;
                    if (decided) {
                        truePositives += sign;
                    }
                } else if (decided) {
                    falsePositives += sign;
                }
                double p = clip(a);
                sumLogLoss += sign * -(positive ? Math.log(p) : Math.log(1 - p));
                sumBrier += sign * (a - y) * (a - y);
                int c = calibrationBin(a);
                calCount[c] += sign;
                calPredicted[c] += sign * a;
                int b = aucBin(a);
                if (positive) {
                    calPositives[c] += sign;
                    histPos[b] += sign;
                } else {
                    histNeg[b] += sign;
                }
                break;
            }
            case MULTICLASS:
                if (y == 1) {
                    correct += sign;
                }
                sumLogLoss += sign * -Math.log(clip(a));
                break;
            default: {
                double e = a - y;
                sumAbs += sign * Math.abs(e);
                sumSq += sign * e * e;
            }
        }
    }

    /** Adds every pair counted in {@code other}. */
    void merge(Stats other) {
        n += other.n;
        positives += other.positives;
        truePositives += other.truePositives;
        falsePositives += other.falsePositives;
        correct += other.correct;
        sumLogLoss += other.sumLogLoss;
        sumBrier += other.sumBrier;
        sumAbs += other.sumAbs;
        sumSq += other.sumSq;
        for (int i = 0; i < calCount.length; i++) {
            calCount[i] += other.calCount[i];
            calPositives[i] += other.calPositives[i];
            calPredicted[i] += other.calPredicted[i];
        }
        for (int i = 0; i < histPos.length; i++) {
            histPos[i] += other.histPos[i];
            histNeg[i] += other.histNeg[i];
        }
    }

    void clear() {
        n = 0;
        positives = 0;
        truePositives = 0;
        falsePositives = 0;
        correct = 0;
        sumLogLoss = 0;
        sumBrier = 0;
        sumAbs = 0;
        sumSq = 0;
        java.util.Arrays.fill(calCount, 0);
        java.util.Arrays.fill(calPositives, 0);
        java.util.Arrays.fill(calPredicted, 0);
        java.util.Arrays.fill(histPos, 0);
        java.util.Arrays.fill(histNeg, 0);
    }

    /** The metrics of the pairs counted. */
    QualitySnapshot.Window toWindow() {
        double nan = Double.NaN;
        if (n == 0) {
            return new QualitySnapshot.Window(0, 0, nan, nan, nan, nan, nan, nan, calibration(), nan, nan, nan);
        }
        switch (task) {
            case BINARY: {
                long negatives = n - positives;
                double[] auc = auc();
                long trueNegatives = negatives - falsePositives;
                return new QualitySnapshot.Window(n, positives, auc[0], auc[1], sumLogLoss / n, sumBrier / n,
                        ratio(truePositives, truePositives + falsePositives), ratio(truePositives, positives),
                        calibration(), (double) (truePositives + trueNegatives) / n, nan, nan);
            }
            case MULTICLASS:
                return new QualitySnapshot.Window(n, 0, nan, nan, sumLogLoss / n, nan, nan, nan, List.of(),
                        (double) correct / n, nan, nan);
            default:
                return new QualitySnapshot.Window(n, 0, nan, nan, nan, nan, nan, nan, List.of(), nan, sumAbs / n,
                        Math.sqrt(Math.max(0, sumSq) / n));
        }
    }

    /** {AUC, error bound} from the histogram, or NaNs when a class is missing. */
    double[] auc() {
        long negatives = n - positives;
        if (positives <= 0 || negatives <= 0) {
            return new double[] {Double.NaN, Double.NaN};
        }
        double below = 0;
        double sum = 0;
        double ties = 0;
        for (int b = 0; b < histPos.length; b++) {
            double pos = histPos[b];
            double neg = histNeg[b];
            sum += pos * (below + neg * 0.5);
            ties += pos * neg;
            below += neg;
        }
        double pairs = (double) positives * negatives;
        return new double[] {sum / pairs, ties * 0.5 / pairs};
    }

    private List<QualitySnapshot.CalibrationBin> calibration() {
        List<QualitySnapshot.CalibrationBin> bins = new ArrayList<>(calCount.length);
        for (int i = 0; i < calCount.length; i++) {
            long c = calCount[i];
            bins.add(new QualitySnapshot.CalibrationBin(i / (double) CALIBRATION_BINS, (i + 1) / (double) CALIBRATION_BINS,
                    c, c == 0 ? Double.NaN : calPredicted[i] / c, c == 0 ? Double.NaN : (double) calPositives[i] / c));
        }
        return bins;
    }

    private static double ratio(long a, long b) {
        return b == 0 ? Double.NaN : (double) a / b;
    }

    static double clip(double p) {
        return Math.min(Math.max(p, EPS), 1 - EPS);
    }

    static int calibrationBin(double p) {
        return Math.min(CALIBRATION_BINS - 1, Math.max(0, (int) (p * CALIBRATION_BINS)));
    }

    /** The AUC bin of probability {@code p}: monotone in {@code p}, so pairs in different bins are ordered right. */
    static int aucBin(double p) {
        double c = clip(p);
        double logit = Math.log(c / (1 - c));
        int b = (int) Math.floor((logit + LOGIT_SPAN) * (AUC_BINS / (2 * LOGIT_SPAN)));
        return Math.min(AUC_BINS - 1, Math.max(0, b));
    }
}
