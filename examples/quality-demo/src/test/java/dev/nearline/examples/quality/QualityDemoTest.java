package dev.nearline.examples.quality;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.core.QualityEvent;
import dev.nearline.core.QualityMonitor;
import dev.nearline.core.QualitySnapshot;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo on a shorter stream: the alert fires after the change, the challenger wins, the promotion recovers. */
class QualityDemoTest {
    @TempDir
    Path dir;

    @Test
    void demo_qualityDropsHalfway_alertFiresChallengerWinsAndPromotionRecovers() throws Exception {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        QualityDemo.Result r;
        try (PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8)) {
            r = QualityDemo.run(20_000, dir, out);
        }
        String text = buffer.toString(StandardCharsets.UTF_8);

        assertThat(r.alerts()).isNotEmpty();
        QualityEvent first = r.alerts().get(0);
        assertThat(first.version()).isEqualTo(1);
        assertThat(first.metric()).isEqualTo(QualityMonitor.Metric.AUC);
        assertThat(first.value()).isLessThan(QualityDemo.ALERT_AUC);
        assertThat(text).contains(">>> ALERT at record").contains(">>> PROMOTE at record 16,000");
        // Before the change the champion is good; after it, on the same sampled records, the challenger is better.
        QualityDemo.Point beforeChange = pointAt(r, r.changeAt());
        assertThat(beforeChange.championAuc()).isGreaterThan(0.80);
        QualityDemo.Point beforePromotion = pointAt(r, r.promoteAt());
        assertThat(beforePromotion.championAuc()).isLessThan(0.80);
        assertThat(beforePromotion.challengerAuc()).isGreaterThan(beforePromotion.championSampledAuc() + 0.05);

        QualitySnapshot last = r.last();
        assertThat(last.labels().joined()).isEqualTo(20_000);
        assertThat(last.current().version()).isEqualTo(2);
        assertThat(last.current().lastRecords().auc()).isGreaterThan(last.version(1).orElseThrow().lastRecords().auc());
        assertThat(last.challenger().failed()).isZero();
        assertThat(r.maxScorePsi()).as("the inputs do not drift").isLessThan(0.2);

        Path png = Chart.write(r, dir.resolve("chart.png"));
        byte[] bytes = Files.readAllBytes(png);
        assertThat(bytes.length).isGreaterThan(10_000);
        assertThat(new String(bytes, 1, 3, StandardCharsets.US_ASCII)).isEqualTo("PNG");
    }

    @Test
    void pipelineFile_sameMonitorAndChallengerAsTheCode_loadsAndJoinsLabels() throws Exception {
        QualityDemo.writeModels(dir);
        Path file = dir.resolve("quality-pipeline.json");
        try (java.io.InputStream in = QualityDemo.class.getResourceAsStream("/quality/quality-pipeline.json")) {
            Files.copy(java.util.Objects.requireNonNull(in), file);
        }
        CardFraudWorld.Transaction tx = CardFraudWorld.transactions(1, 42, "tx").get(0);
        try (dev.nearline.core.ManagedScorer<Object, Object> scorer = dev.nearline.core.Pipeline.load(file)) {
            Object result = scorer.score(tx.record());
            assertThat(((java.util.Map<?, ?>) result).get("score")).isInstanceOf(Double.class);
            QualityMonitor quality = scorer.quality().orElseThrow();
            assertThat(quality.feedback(tx.id(), 0)).isEqualTo(dev.nearline.core.FeedbackOutcome.JOINED);
            assertThat(quality.snapshot().challenger()).isNotNull();
        }
    }

    private static QualityDemo.Point pointAt(QualityDemo.Result r, int records) {
        QualityDemo.Point best = null;
        for (QualityDemo.Point p : r.points()) {
            if (p.records() <= records) {
                best = p;
            }
        }
        assertThat(best).isNotNull();
        return best;
    }
}
