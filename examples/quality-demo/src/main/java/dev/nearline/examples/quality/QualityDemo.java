package dev.nearline.examples.quality;

import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.core.Challenger;
import dev.nearline.core.DriftMonitor;
import dev.nearline.core.DriftSnapshot;
import dev.nearline.core.ManagedScorer;
import dev.nearline.core.Pipeline;
import dev.nearline.core.QualityEvent;
import dev.nearline.core.QualityMonitor;
import dev.nearline.core.QualitySnapshot;
import dev.nearline.examples.quality.CardFraudWorld.Transaction;
import dev.nearline.onnx.OnnxModel;
import dev.nearline.onnx.testing.DemoModels;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Model quality, live: plays a labelled stream of card transactions through a fraud model whose quality drops
 * halfway, and watches it the way a team would in production.
 *
 * <ol>
 *   <li>writes the production model ({@code fraud.onnx}) and a challenger retrained on recent labels
 *       ({@code fraud-retrained.onnx}, a logistic regression fitted here to data of the new fraud pattern);
 *   <li>builds a scorer with a {@link QualityMonitor} (predictions kept by transaction id, metrics over the last
 *       2,000 labels, an alert when AUC falls below 0.80), the challenger on half of the records, off the
 *       caller's path, and a drift monitor;
 *   <li>scores the stream; each label arrives 2,000 transactions after its record (a chargeback comes later);
 *       the fraud pattern changes at the middle of the stream, while the inputs keep their distribution;
 *   <li>prints the live AUC of the champion and of the challenger side by side as it goes, and the alert when
 *       it fires; promotes the challenger (a hot swap) at 80% of the stream, after which version 2 recovers;
 *   <li>writes the AUC series as CSV and as a chart ({@code quality-auc.png}, XChart).
 * </ol>
 *
 * <p>Run: {@code java -jar examples/quality-demo/target/quality-demo.jar [records] [folder]}: the chart and the
 * CSV go to the folder (default: a new temporary folder), the models to a temporary folder.
 */
public final class QualityDemo {
    static final int WINDOW = 2_000;
    static final int LABEL_DELAY = 2_000;
    static final double ALERT_AUC = 0.80;

    private QualityDemo() {
    }

    /** One point of the series: the metrics after {@code records} records were scored. */
    record Point(int records, int version, double championAuc, double championBound, double challengerAuc,
                 double championSampledAuc, double agreement) {
    }

    /** What a run saw, for the chart and for tests. */
    record Result(List<Point> points, List<QualityEvent> alerts, int changeAt, int promoteAt,
                  QualitySnapshot last, double maxScorePsi) {
    }

    /** Runs the demo; see the class documentation. */
    public static void main(String[] args) throws IOException {
        int records = args.length > 0 ? Integer.parseInt(args[0]) : 80_000;
        Path folder = args.length > 1 ? Path.of(args[1]) : Files.createTempDirectory("nearline-quality-demo");
        Result r = run(records, Files.createTempDirectory("nearline-quality-models"), System.out);
        Path chart = Chart.write(r, folder.resolve("quality-auc.png"));
        Chart.writeCsv(r, folder.resolve("quality-auc.csv"));
        System.out.printf("%nChart: %s (and the series in quality-auc.csv)%n", chart);
    }

    /** Plays {@code records} transactions; writes the two models into {@code folder}; reports to {@code out}. */
    static Result run(int records, Path folder, PrintStream out) throws IOException {
        int changeAt = records / 2;
        int promoteAt = records * 4 / 5;
        int reportEvery = Math.max(1_000, records / 20);
        int pointEvery = Math.max(100, records / 200);
        Path champion = writeModels(folder);
        Path retrained = folder.resolve("fraud-retrained.onnx");

        List<QualityEvent> alerts = new CopyOnWriteArrayList<>();
        int[] at = {0};
        QualityMonitor quality = QualityMonitor.builder()
                .window(WINDOW)
                .threshold(0.2)
                .capacity(4 * LABEL_DELAY)
                .alert(QualityMonitor.Metric.AUC, ALERT_AUC)
                .listener(e -> {
                    alerts.add(e);
                    out.printf(Locale.ROOT, "  >>> ALERT at record %,d: model version %d: AUC %.3f (within %.3f) over the "
                            + "last %,d labelled records, below %.2f%n", at[0], e.version(), e.value(), e.errorBound(),
                            e.windowCount(), e.threshold());
                })
                .build();
        DriftMonitor drift = DriftMonitor.builder().captureReference(5_000).window(5_000).sampleEvery(1).build();
        List<Transaction> stream = CardFraudWorld.transactions(records, 42, "tx");
        SplittableRandom labelRandom = new SplittableRandom(4242);
        int[] labels = new int[records];
        for (int i = 0; i < records; i++) {
            labels[i] = CardFraudWorld.label(stream.get(i).x(), i >= changeAt, labelRandom);
        }

        out.printf(Locale.ROOT, "Nearline quality demo: %,d card transactions, each labelled %,d transactions later.%n",
                records, LABEL_DELAY);
        out.printf(Locale.ROOT, "The fraud pattern changes at %,d (the inputs keep their distribution); the challenger "
                + "was retrained on the new pattern and scores half of the records off the caller's path.%n%n", changeAt);
        out.println("  records  labels   champion AUC, last 2,000 labels   challenger AUC   champion AUC   agreement");
        out.println("                     (version, ± error bound)         (its sample)     (same sample)");

        List<Point> points = new ArrayList<>();
        QualitySnapshot last;
        double psi = Double.NaN;
        try (ManagedScorer<Transaction, Float> scorer = Pipeline
                .builder((Transaction t) -> Tensors.of("input", Tensor.ofFloats(t.x(), 1, CardFraudWorld.FEATURES)))
                .name("card-fraud")
                .model("fraud", OnnxModel.builder(champion).intraOpThreads(1).build())
                .monitor(drift)
                .quality(quality, Transaction::id)
                .challenger(Challenger.builder()
                        .model("fraud", OnnxModel.builder(retrained).intraOpThreads(1).build())
                        .sample(0.5).queueCapacity(8_192).build())
                .build(o -> o.get(0).floatAt(0))) {
            int labelled = 0;
            for (int i = 0; i < records; i++) {
                at[0] = i + 1;
                if (i == promoteAt) {
                    psi = largestPsi(drift.snapshot());
                    // Promotion is the hot swap: records from now on are scored by a new instance of the challenger.
                    scorer.swapModel("fraud", OnnxModel.builder(retrained).intraOpThreads(1).build());
                    out.printf(Locale.ROOT, "  >>> PROMOTE at record %,d: swapModel(\"fraud\", retrained model): new "
                            + "records count for version %d%n", i, quality.version());
                }
                scorer.score(stream.get(i));
                if (i >= LABEL_DELAY) {
                    int j = i - LABEL_DELAY;
                    quality.feedback(stream.get(j).id(), labels[j]);
                    labelled++;
                }
                if ((i + 1) % pointEvery == 0) {
                    points.add(point(i + 1, quality.snapshot()));
                }
                if ((i + 1) % reportEvery == 0) {
                    report(out, i + 1, labelled, quality.snapshot());
                }
            }
            for (int j = Math.max(0, records - LABEL_DELAY); j < records; j++) {
                quality.feedback(stream.get(j).id(), labels[j]);
            }
            awaitChallenger(quality);
            last = quality.snapshot();
        }
        summary(out, last, psi);
        return new Result(points, List.copyOf(alerts), changeAt, promoteAt, last, psi);
    }

    /** Waits (at most 30 s) until the challenger has worked through its queue, so the summary counts all. */
    private static void awaitChallenger(QualityMonitor quality) {
        long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() - end < 0) {
            QualitySnapshot.ChallengerCounts c = quality.snapshot().challenger();
            if (c == null || c.scored() + c.failed() >= c.sampled()) {
                return;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
        }
    }

    /** The largest PSI of a feature or the score; NaN while the reference is being captured. */
    private static double largestPsi(DriftSnapshot d) {
        double psi = d.score().psi();
        for (DriftSnapshot.Stats s : d.features()) {
            psi = Double.isNaN(psi) || s.psi() > psi ? s.psi() : psi;
        }
        return psi;
    }

    /**
     * Writes {@code fraud.onnx} (the production model) and {@code fraud-retrained.onnx} (the challenger) into
     * {@code folder}, where {@code quality-pipeline.json} expects them; returns the first.
     */
    static Path writeModels(Path folder) throws IOException {
        Files.createDirectories(folder);
        retrain(folder.resolve("fraud-retrained.onnx"));
        return DemoModels.logistic(folder.resolve("fraud.onnx"), CardFraudWorld.CHAMPION_WEIGHTS,
                CardFraudWorld.CHAMPION_BIAS);
    }

    /** Fits the challenger to 30,000 transactions labelled with the new pattern (as if from recent labels). */
    private static Path retrain(Path out) {
        List<Transaction> recent = CardFraudWorld.transactions(30_000, 7, "recent");
        SplittableRandom rnd = new SplittableRandom(77);
        List<float[]> rows = new ArrayList<>();
        int[] y = new int[recent.size()];
        for (int i = 0; i < recent.size(); i++) {
            rows.add(recent.get(i).x());
            y[i] = CardFraudWorld.label(recent.get(i).x(), true, rnd);
        }
        float[] fitted = CardFraudWorld.fit(rows, y, 300, 0.5, 1e-4);
        float[] w = java.util.Arrays.copyOf(fitted, CardFraudWorld.FEATURES);
        return DemoModels.logistic(out, w, fitted[CardFraudWorld.FEATURES]);
    }

    private static Point point(int records, QualitySnapshot s) {
        QualitySnapshot.Version v = s.current();
        // Right after a swap the new version has no labels yet: its predecessor's window is what is known.
        if (v.lastRecords().count() < WINDOW / 4 && s.versions().size() > 1) {
            v = s.versions().get(1);
        }
        QualitySnapshot.Comparison c = v.challenger();
        return new Point(records, v.version(), v.lastRecords().auc(), v.lastRecords().aucErrorBound(),
                c == null ? Double.NaN : c.challenger().auc(), c == null ? Double.NaN : c.champion().auc(),
                c == null ? Double.NaN : c.agreement());
    }

    private static void report(PrintStream out, int records, int labelled, QualitySnapshot s) {
        Point p = point(records, s);
        out.printf(Locale.ROOT, "  %,7d %,7d   v%d  %s ± %.3f                  %s            %s          %s%n",
                records, labelled, p.version(), fmt(p.championAuc()), p.championBound(), fmt(p.challengerAuc()),
                fmt(p.championSampledAuc()), Double.isNaN(p.agreement()) ? "   -  "
                        : String.format(Locale.ROOT, "%5.1f%%", 100 * p.agreement()));
    }

    private static void summary(PrintStream out, QualitySnapshot s, double psi) {
        out.println();
        QualitySnapshot.Labels l = s.labels();
        QualitySnapshot.Predictions p = s.predictions();
        out.printf(Locale.ROOT, "Labels: %,d joined, %,d unknown, %,d expired, %,d duplicate, %,d invalid. Predictions: "
                + "%,d kept, %,d evicted, %,d still waiting.%n", l.joined(), l.unknown(), l.expired(), l.duplicate(),
                l.invalid(), p.tracked(), p.evicted(), p.pending());
        QualitySnapshot.ChallengerCounts c = s.challenger();
        if (c != null) {
            out.printf(Locale.ROOT, "Challenger: %,d records sampled, %,d scored, %,d dropped (queue full), %,d failed.%n",
                    c.sampled(), c.scored(), c.dropped(), c.failed());
        }
        for (QualitySnapshot.Version v : s.versions()) {
            QualitySnapshot.Window w = v.lastRecords();
            out.printf(Locale.ROOT, "Version %d%s, last %,d labels: AUC %s (within %.3f), log loss %.3f, Brier %.4f, "
                    + "precision %s, recall %s at 0.2%n", v.version(), v.current() ? " (current)" : "", w.count(),
                    fmt(w.auc()), w.aucErrorBound(), w.logLoss(), w.brier(), fmt(w.precision()), fmt(w.recall()));
        }
        out.printf(Locale.ROOT, "Drift monitor, just before the promotion: largest PSI of a feature or the score %.3f "
                + "(alarm above 0.2): the inputs did not move; only the labels show that the model got worse.%n", psi);
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "  -  " : String.format(Locale.ROOT, "%.3f", v);
    }
}
