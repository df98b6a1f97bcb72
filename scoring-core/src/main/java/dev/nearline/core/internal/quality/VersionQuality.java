package dev.nearline.core.internal.quality;

import dev.nearline.core.QualityEvent;
import dev.nearline.core.QualityMonitor.Metric;
import dev.nearline.core.QualitySnapshot;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The quality of one model version: its count and time windows, its alert state, and, with a challenger, the
 * comparison on the sampled records (agreement and score differences over the last {@code window} compared
 * records, and both models' metrics on the labelled ones). Thread-safe: every method locks this object; the
 * callers are the threads that give labels, the challenger's threads and snapshots, never a scoring thread.
 */
final class VersionQuality {
    /** {@link #retiredNanos} of a version still current. */
    static final long CURRENT = Long.MIN_VALUE;

    final int version;
    /**
     * No prediction of this version has a smaller number (the store's count when the version began). Predictions
     * keep a version's number modulo 256; this tells a version from one 256 swaps later.
     */
    final long firstNumber;
    private final QualityConfig config;
    private final CountWindow records;
    private final TimeWindow period;
    private final @Nullable Comparison comparison;
    private final Metric[] alertMetrics;
    private final double[] alertThresholds;
    private final boolean[] alarmed;
    private int untilCheck;
    /** When a newer version took over (ticker nanos), or {@link #CURRENT}. */
    volatile long retiredNanos = CURRENT;

    VersionQuality(int version, long firstNumber, QualityConfig config, boolean challenger) {
        this.version = version;
        this.firstNumber = firstNumber;
        this.config = config;
        this.records = new CountWindow(config.task(), config.threshold(), config.window());
        this.period = timeWindow(config);
        this.comparison = challenger ? new Comparison(config) : null;
        Map<Metric, Double> alerts = config.alerts();
        this.alertMetrics = alerts.keySet().toArray(new Metric[0]);
        this.alertThresholds = new double[alertMetrics.length];
        for (int i = 0; i < alertMetrics.length; i++) {
            alertThresholds[i] = alerts.get(alertMetrics[i]);
        }
        this.alarmed = new boolean[alertMetrics.length];
        this.untilCheck = config.checkEvery();
    }

    private static TimeWindow timeWindow(QualityConfig config) {
        return new TimeWindow(config.task(), config.threshold(), config.timeWindow().toNanos(), QualityConfig.TIME_BUCKETS);
    }

    /** Adds a joined champion pair; returns the alerts it raised, or null. */
    synchronized @Nullable List<QualityEvent> join(double a, double y, long nowNanos) {
        records.add(a, y);
        period.add(a, y, nowNanos);
        if (alertMetrics.length == 0 || --untilCheck > 0) {
            return null;
        }
        untilCheck = config.checkEvery();
        if (!records.isFull()) {
            return null; // a part-filled window is too small a sample: it would raise false alarms
        }
        List<QualityEvent> events = null;
        Stats s = records.stats();
        double[] auc = null;
        for (int i = 0; i < alertMetrics.length; i++) {
            Metric m = alertMetrics[i];
            double value;
            double bound = 0;
            if (m == Metric.AUC) {
                auc = auc == null ? s.auc() : auc;
                value = auc[0];
                bound = auc[1];
            } else {
                value = s.toWindow().get(m);
            }
            if (Double.isNaN(value)) {
                continue;
            }
            boolean bad = m.higherIsBetter() ? value < alertThresholds[i] : value > alertThresholds[i];
            if (bad && !alarmed[i]) {
                alarmed[i] = true;
                if (events == null) {
                    events = new ArrayList<>(2);
                }
                events.add(new QualityEvent(version, m, value, alertThresholds[i], s.n, bound));
            } else if (!bad) {
                alarmed[i] = false;
            }
        }
        return events;
    }

    /** Records a challenger prediction next to the champion's (agreement and difference). */
    synchronized void compare(boolean agree, double difference) {
        if (comparison != null) {
            comparison.compare(agree, difference);
        }
    }

    /** Adds a labelled sampled record: the champion's and the challenger's pairs. */
    synchronized void joinChallenger(double championA, double championY, double challengerA, double challengerY,
                                     long nowNanos) {
        if (comparison != null) {
            comparison.champion.add(championA, championY);
            comparison.championPeriod.add(championA, championY, nowNanos);
            comparison.challenger.add(challengerA, challengerY);
            comparison.challengerPeriod.add(challengerA, challengerY, nowNanos);
        }
    }

    synchronized QualitySnapshot.Version snapshot(long nowNanos, boolean current) {
        QualitySnapshot.Comparison c = null;
        if (comparison != null) {
            c = comparison.snapshot(nowNanos);
        }
        return new QualitySnapshot.Version(version, current, records.toWindow(), period.toWindow(nowNanos), c);
    }

    /** The count window's pairs, oldest first (for tests). */
    synchronized double[][] recordPairs() {
        return records.pairs();
    }

    /** The challenger's comparison: over the last {@code window} compared records, and the labelled ones. */
    private static final class Comparison {
        private final boolean[] agreed;
        private final double[] differences;
        private int size;
        private int next;
        private int agreements;
        final CountWindow champion;
        final CountWindow challenger;
        final TimeWindow championPeriod;
        final TimeWindow challengerPeriod;

        Comparison(QualityConfig config) {
            this.agreed = new boolean[config.window()];
            this.differences = new double[config.window()];
            this.champion = new CountWindow(config.task(), config.threshold(), config.window());
            this.challenger = new CountWindow(config.task(), config.threshold(), config.window());
            this.championPeriod = timeWindow(config);
            this.challengerPeriod = timeWindow(config);
        }

        void compare(boolean agree, double difference) {
            if (size == agreed.length) {
                if (agreed[next]) {
                    agreements--;
                }
            } else {
                size++;
            }
            agreed[next] = agree;
            differences[next] = difference;
            if (agree) {
                agreements++;
            }
            next = next + 1 == agreed.length ? 0 : next + 1;
        }

        QualitySnapshot.Comparison snapshot(long nowNanos) {
            double[] d = Arrays.copyOf(differences, size);
            Arrays.sort(d);
            double sum = 0;
            double sumAbs = 0;
            for (double v : d) {
                sum += v;
                sumAbs += Math.abs(v);
            }
            double nan = Double.NaN;
            QualitySnapshot.Difference difference = size == 0
                    ? new QualitySnapshot.Difference(0, nan, nan, nan, nan, nan, nan)
                    : new QualitySnapshot.Difference(size, sum / size, sumAbs / size, rank(d, 0.05), rank(d, 0.50),
                    rank(d, 0.95), Math.max(Math.abs(d[0]), Math.abs(d[size - 1])));
            return new QualitySnapshot.Comparison(size, size == 0 ? nan : (double) agreements / size, difference,
                    champion.toWindow(), challenger.toWindow(), championPeriod.toWindow(nowNanos),
                    challengerPeriod.toWindow(nowNanos));
        }

        /** The nearest-rank quantile of ascending {@code v}. */
        private static double rank(double[] v, double q) {
            int r = (int) Math.ceil(q * v.length);
            return v[Math.min(v.length, Math.max(1, r)) - 1];
        }
    }

    @Override
    public String toString() {
        return "VersionQuality[" + version + ", " + config.task() + "]";
    }
}
