package dev.nearline.core;

import static dev.nearline.core.QualityFixtures.brier;
import static dev.nearline.core.QualityFixtures.calibration;
import static dev.nearline.core.QualityFixtures.confusion;
import static dev.nearline.core.QualityFixtures.exactAuc;
import static dev.nearline.core.QualityFixtures.last;
import static dev.nearline.core.QualityFixtures.logLoss;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.nearline.core.QualityFixtures.EchoModel;
import dev.nearline.core.QualityFixtures.Rec;
import dev.nearline.core.testing.FakeTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The live metrics equal an exact offline computation on the same joined pairs. */
@ExtendWith(ModelLeakChecker.class)
class QualityMetricsTest {
    private static final double EXACT = 1e-9;
    private final FakeTicker ticker = new FakeTicker();

    @Test
    void binary_labelsInAnyOrder_metricsEqualExactComputationOverTheLastWindow() {
        QualityMonitor quality = QualityMonitor.builder().window(500).threshold(0.4).build();
        Random rnd = new Random(7);
        List<Rec> records = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            float score = (float) rnd.nextDouble();
            records.add(new Rec("r-" + i, score));
            labels.add(rnd.nextDouble() < Math.pow(score, 0.7) ? 1 : 0);
        }
        List<Double> p = QualityFixtures.list();
        List<Double> y = QualityFixtures.list();
        try (ManagedScorer<Rec, Float> scorer = QualityFixtures.scorer(quality, ticker, QualityFixtures.echo())) {
            records.forEach(scorer::score);
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < records.size(); i++) {
                order.add(i);
            }
            Collections.shuffle(order, rnd);
            for (int i : order) {
                assertThat(quality.feedback(records.get(i).id(), labels.get(i))).isEqualTo(FeedbackOutcome.JOINED);
                p.add((double) records.get(i).values()[0]);
                y.add((double) labels.get(i));
            }
        }
        double[] wp = last(p, 500);
        double[] wy = last(y, 500);
        QualitySnapshot s = quality.snapshot();
        QualitySnapshot.Window w = s.current().lastRecords();
        assertThat(w.count()).isEqualTo(500);
        assertThat(w.positives()).isEqualTo((long) java.util.Arrays.stream(wy).sum());
        assertThat(w.logLoss()).isCloseTo(logLoss(wp, wy), within(EXACT));
        assertThat(w.brier()).isCloseTo(brier(wp, wy), within(EXACT));
        double[] c = confusion(wp, wy, 0.4);
        assertThat(w.precision()).isCloseTo(c[0], within(EXACT));
        assertThat(w.recall()).isCloseTo(c[1], within(EXACT));
        assertThat(w.accuracy()).isCloseTo(c[2], within(EXACT));
        double[][] cal = calibration(wp, wy);
        for (int b = 0; b < 10; b++) {
            QualitySnapshot.CalibrationBin bin = w.calibration().get(b);
            assertThat(bin.count()).isEqualTo((long) cal[b][0]);
            assertThat(bin.meanPredicted()).isCloseTo(cal[b][1], within(EXACT));
            assertThat(bin.observedRate()).isCloseTo(cal[b][2], within(EXACT));
        }
        double exact = exactAuc(wp, wy);
        assertThat(Math.abs(w.auc() - exact)).isLessThanOrEqualTo(w.aucErrorBound() + 1e-12);
        assertThat(w.aucErrorBound()).as("continuous scores share few bins").isLessThan(0.01);
        // Labels came shuffled: the joined ones whose prediction was older than one joined before are counted.
        assertThat(s.labels().outOfOrder()).isPositive().isLessThan(2_000);
        assertThat(s.labels().joined()).isEqualTo(2_000);
        assertThat(s.predictions().pending()).isZero();
    }

    @Test
    void binary_scoresWithManyTies_aucWithinTheReportedBoundOfTheExactOne() {
        QualityMonitor quality = QualityMonitor.builder().window(1_000).build();
        Random rnd = new Random(11);
        double[] p = new double[1_000];
        double[] y = new double[1_000];
        try (ManagedScorer<Rec, Float> scorer = QualityFixtures.scorer(quality, ticker, QualityFixtures.echo())) {
            for (int i = 0; i < 1_000; i++) {
                float score = Math.round(rnd.nextDouble() * 20) / 20f; // 21 distinct values
                scorer.score(new Rec("t-" + i, score));
                p[i] = score;
                y[i] = rnd.nextDouble() < score ? 1 : 0;
                quality.feedback("t-" + i, y[i]);
            }
        }
        QualitySnapshot.Window w = quality.snapshot().current().lastRecords();
        double exact = exactAuc(p, y);
        assertThat(Math.abs(w.auc() - exact)).isLessThanOrEqualTo(w.aucErrorBound() + 1e-12);
        assertThat(w.aucErrorBound()).as("tied scores are reported as uncertain pairs").isPositive();
    }

    @Test
    void multiclass_labelsByIndexOrName_accuracyAndLogLossEqualExactComputation() {
        QualityMonitor quality = QualityMonitor.builder().task(QualityMonitor.Task.MULTICLASS)
                .classes(List.of("cat", "dog", "owl")).window(300).build();
        Random rnd = new Random(3);
        double correct = 0;
        double loss = 0;
        int n = 300;
        try (ManagedScorer<Rec, Float> scorer = Pipeline.builder(QualityFixtures.PRE).ticker(ticker)
                .model("m", new EchoModel("probabilities", 3)).quality(quality, Rec::id)
                .build(out -> out.get(0).floatAt(0))) {
            for (int i = 0; i < n; i++) {
                float a = (float) rnd.nextDouble();
                float b = (float) rnd.nextDouble();
                float c = (float) rnd.nextDouble();
                float sum = a + b + c;
                float[] probs = {a / sum, b / sum, c / sum};
                scorer.score(new Rec("m-" + i, probs));
                int label = rnd.nextInt(3);
                FeedbackOutcome outcome = i % 2 == 0 ? quality.feedback("m-" + i, label)
                        : quality.feedback("m-" + i, List.of("cat", "dog", "owl").get(label));
                assertThat(outcome).isEqualTo(FeedbackOutcome.JOINED);
                int best = probs[0] >= probs[1] && probs[0] >= probs[2] ? 0 : probs[1] >= probs[2] ? 1 : 2;
                correct += best == label ? 1 : 0;
                loss += -Math.log(QualityFixtures.clip(probs[label]));
            }
            assertThat(quality.feedback("m-0", "ferret")).isEqualTo(FeedbackOutcome.INVALID);
            assertThat(quality.feedback("m-0", 3)).isEqualTo(FeedbackOutcome.INVALID);
        }
        QualitySnapshot.Window w = quality.snapshot().current().lastRecords();
        assertThat(w.count()).isEqualTo(n);
        assertThat(w.accuracy()).isCloseTo(correct / n, within(EXACT));
        assertThat(w.logLoss()).isCloseTo(loss / n, within(EXACT));
        assertThat(w.auc()).isNaN();
        assertThat(w.mae()).isNaN();
    }

    @Test
    void regression_maeAndRmseEqualExactComputation() {
        QualityMonitor quality = QualityMonitor.builder().task(QualityMonitor.Task.REGRESSION).window(250).build();
        Random rnd = new Random(5);
        List<Double> err = QualityFixtures.list();
        try (ManagedScorer<Rec, Float> scorer = QualityFixtures.scorer(quality, ticker, QualityFixtures.echo())) {
            for (int i = 0; i < 1_000; i++) {
                float prediction = (float) (rnd.nextGaussian() * 50 + 100);
                scorer.score(new Rec("g-" + i, prediction));
                double label = prediction + rnd.nextGaussian() * 5;
                assertThat(quality.feedback("g-" + i, label)).isEqualTo(FeedbackOutcome.JOINED);
                err.add(prediction - label);
            }
        }
        double[] e = last(err, 250);
        double abs = 0;
        double sq = 0;
        for (double v : e) {
            abs += Math.abs(v);
            sq += v * v;
        }
        QualitySnapshot.Window w = quality.snapshot().current().lastRecords();
        assertThat(w.mae()).isCloseTo(abs / e.length, within(EXACT));
        assertThat(w.rmse()).isCloseTo(Math.sqrt(sq / e.length), within(EXACT));
        assertThat(w.logLoss()).isNaN();
    }

    @Test
    void timeWindow_labelsOlderThanThePeriod_leaveTheWindow() {
        QualityMonitor quality = QualityMonitor.builder().timeWindow(Duration.ofHours(1)).timeToLive(Duration.ofHours(3))
                .build();
        Random rnd = new Random(9);
        List<Double> p = QualityFixtures.list();
        List<Double> y = QualityFixtures.list();
        try (ManagedScorer<Rec, Float> scorer = QualityFixtures.scorer(quality, ticker, QualityFixtures.echo())) {
            for (int batch = 0; batch < 3; batch++) {
                for (int i = 0; i < 100 * (batch + 1); i++) {
                    String id = "b" + batch + "-" + i;
                    float score = (float) rnd.nextDouble();
                    scorer.score(new Rec(id, score));
                    int label = rnd.nextDouble() < score ? 1 : 0;
                    quality.feedback(id, label);
                    if (batch > 0) {
                        p.add((double) score);
                        y.add((double) label);
                    }
                }
                if (batch < 2) {
                    ticker.advance(Duration.ofMinutes(30));
                }
            }
            ticker.advance(Duration.ofMinutes(20));
            // Labels at 0, 30 and 60 min; now 80 min: the first batch is more than an hour old.
            QualitySnapshot.Window period = quality.snapshot().current().lastPeriod();
            double[] wp = p.stream().mapToDouble(Double::doubleValue).toArray();
            double[] wy = y.stream().mapToDouble(Double::doubleValue).toArray();
            assertThat(period.count()).isEqualTo(500);
            assertThat(period.logLoss()).isCloseTo(logLoss(wp, wy), within(EXACT));
            assertThat(period.brier()).isCloseTo(brier(wp, wy), within(EXACT));
            assertThat(Math.abs(period.auc() - exactAuc(wp, wy))).isLessThanOrEqualTo(period.aucErrorBound() + 1e-12);
            assertThat(quality.snapshot().current().lastRecords().count()).isEqualTo(600);

            ticker.advance(Duration.ofMinutes(65));
            assertThat(quality.snapshot().current().lastPeriod().count()).as("all labels are older than the period")
                    .isZero();
        }
    }
}
