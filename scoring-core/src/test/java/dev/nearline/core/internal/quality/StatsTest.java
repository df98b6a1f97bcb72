package dev.nearline.core.internal.quality;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.nearline.core.QualityMonitor.Task;
import dev.nearline.core.QualitySnapshot;
import java.util.Arrays;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/** The binned AUC against the exact one, and the sliding and merging of statistics. */
class StatsTest {

    /** Exact AUC by comparing every pair (ties one half): the definition, for checking. */
    static double exactAuc(double[] p, double[] y) {
        double sum = 0;
        double pairs = 0;
        for (int i = 0; i < p.length; i++) {
            if (y[i] != 1) {
                continue;
            }
            for (int j = 0; j < p.length; j++) {
                if (y[j] == 1) {
                    continue;
                }
                pairs++;
                sum += p[i] > p[j] ? 1 : p[i] == p[j] ? 0.5 : 0;
            }
        }
        return sum / pairs;
    }

    @Test
    void auc_manyDistributions_withinTheReportedBoundOfTheExactAuc() {
        DoubleUnaryOperator[] shapes = {
            u -> u,                                    // uniform
            u -> Math.pow(u, 8),                       // most scores near 0, as a fraud model's
            u -> 1 - Math.pow(u, 8),                   // most near 1
            u -> Math.round(u * 10) / 10.0,            // heavy ties
            u -> 1e-9 + u * 1e-6,                      // all in a sliver near 0: the histogram's worst case
        };
        Random rnd = new Random(42);
        for (int shape = 0; shape < shapes.length; shape++) {
            for (int trial = 0; trial < 20; trial++) {
                int n = 50 + rnd.nextInt(1_500);
                double[] p = new double[n];
                double[] y = new double[n];
                Stats s = new Stats(Task.BINARY, 0.5);
                for (int i = 0; i < n; i++) {
                    p[i] = (float) shapes[shape].applyAsDouble(rnd.nextDouble());
                    y[i] = rnd.nextDouble() < 0.2 + 0.6 * rnd.nextDouble() * (p[i] > 0.5 ? 1 : 0.5) ? 1 : 0;
                    s.add(p[i], y[i], 1);
                }
                if (Arrays.stream(y).sum() == 0 || Arrays.stream(y).sum() == n) {
                    continue;
                }
                double[] auc = s.auc();
                assertThat(Math.abs(auc[0] - exactAuc(p, y))).as("shape %d trial %d", shape, trial)
                        .isLessThanOrEqualTo(auc[1] + 1e-12);
                if (shape == 0) {
                    // Uniform scores over 1,024 log-odds bins: few pairs share a bin.
                    assertThat(auc[1]).isLessThan(0.01);
                }
            }
        }
    }

    @Test
    void countWindow_slidesAndRebases_equalsStatisticsOfTheLastPairs() {
        CountWindow w = new CountWindow(Task.BINARY, 0.5, 100);
        Random rnd = new Random(8);
        double[] p = new double[1_050];
        double[] y = new double[1_050];
        for (int i = 0; i < p.length; i++) {
            p[i] = rnd.nextDouble();
            y[i] = rnd.nextInt(2);
            w.add(p[i], y[i]);
        }
        Stats exact = new Stats(Task.BINARY, 0.5);
        for (int i = p.length - 100; i < p.length; i++) {
            exact.add(p[i], y[i], 1);
        }
        QualitySnapshot.Window a = w.toWindow();
        QualitySnapshot.Window b = exact.toWindow();
        assertThat(a.count()).isEqualTo(100);
        assertThat(a.logLoss()).isCloseTo(b.logLoss(), within(1e-12));
        assertThat(a.brier()).isCloseTo(b.brier(), within(1e-12));
        assertThat(a.auc()).isEqualTo(b.auc());
        for (int i = 0; i < 10; i++) {
            assertThat(a.calibration().get(i).count()).isEqualTo(b.calibration().get(i).count());
            assertThat(a.calibration().get(i).meanPredicted())
                    .isCloseTo(b.calibration().get(i).meanPredicted(), within(1e-12));
        }
        assertThat(w.pairs()[0]).containsExactly(Arrays.copyOfRange(p, p.length - 100, p.length));
    }

    @Test
    void timeWindow_mergesTheBucketsOfThePeriod() {
        TimeWindow w = new TimeWindow(Task.REGRESSION, 0.5, 120_000, 12); // buckets of 10,000 ns
        w.add(1, 0, 5_000);        // bucket 0
        w.add(3, 0, 65_000);       // bucket 6
        w.add(5, 0, 125_000);      // bucket 12: bucket 0 is now out of the period
        QualitySnapshot.Window now = w.toWindow(125_000);
        assertThat(now.count()).isEqualTo(2);
        assertThat(now.mae()).isEqualTo(4.0);
        assertThat(w.toWindow(115_000 + 120_000).count()).as("only bucket 12 is left").isEqualTo(1);
    }
}
