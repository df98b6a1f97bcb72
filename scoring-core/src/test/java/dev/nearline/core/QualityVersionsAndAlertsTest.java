package dev.nearline.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.core.QualityFixtures.EchoModel;
import dev.nearline.core.QualityFixtures.Rec;
import dev.nearline.core.testing.FakeTicker;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Metrics per model version across a hot swap, and alerts like drift's. */
@ExtendWith(ModelLeakChecker.class)
class QualityVersionsAndAlertsTest {
    private final FakeTicker ticker = new FakeTicker();

    /** Inverts the score: a model that ranks every record the wrong way round. */
    static final class InvertedModel extends EchoModel {
        InvertedModel() {
            super("score", 1);
        }

        @Override
        float[] transform(float[] in) {
            return new float[] {1 - in[0]};
        }
    }

    @Test
    void swapModel_newPredictionsCountForTheNewVersion_andTheOldVersionDrainsUntilItsTimeToLive() {
        QualityMonitor quality = QualityMonitor.builder().timeToLive(Duration.ofMinutes(5)).build();
        try (ManagedScorer<Rec, Float> scorer = QualityFixtures.scorer(quality, ticker, QualityFixtures.echo())) {
            assertThat(quality.version()).isEqualTo(1);
            scorer.score(new Rec("v1-a", 0.9f));
            scorer.score(new Rec("v1-b", 0.1f));
            scorer.swapModel("m", new InvertedModel());
            assertThat(quality.version()).isEqualTo(2);
            scorer.score(new Rec("v2-a", 0.9f)); // the inverted model predicts 0.1
            scorer.score(new Rec("v2-b", 0.1f));
            // Labels arrive after the swap, each for the version that made its prediction.
            quality.feedback("v1-a", 1);
            quality.feedback("v1-b", 0);
            quality.feedback("v2-a", 1);
            quality.feedback("v2-b", 0);

            QualitySnapshot s = quality.snapshot();
            assertThat(s.versions()).extracting(QualitySnapshot.Version::version).containsExactly(2, 1);
            assertThat(s.current().version()).isEqualTo(2);
            assertThat(s.version(1).orElseThrow().lastRecords().auc()).isEqualTo(1.0);
            assertThat(s.version(1).orElseThrow().current()).isFalse();
            assertThat(s.version(2).orElseThrow().lastRecords().auc()).isEqualTo(0.0);

            EchoModel same = new InvertedModel();
            scorer.swapModel("m", same);
            scorer.swapModel("m", same);
            assertThat(quality.version()).as("swapping in the model the step runs changes nothing").isEqualTo(3);

            ticker.advance(Duration.ofMinutes(6));
            assertThat(quality.snapshot().versions()).as("retired versions leave after the time-to-live")
                    .extracting(QualitySnapshot.Version::version).containsExactly(3);
        }
    }

    @Test
    void swapModel_manyTimesWithinTheTimeToLive_anOldPredictionIsNeverCountedForALaterVersion() {
        QualityMonitor quality = QualityMonitor.builder().timeToLive(Duration.ofHours(1)).build();
        try (ManagedScorer<Rec, Float> scorer = QualityFixtures.scorer(quality, ticker, QualityFixtures.echo())) {
            scorer.score(new Rec("v1", 0.9f));
            // 256 swaps later the version number modulo 256 is 1 again: the label must not go to version 257.
            for (int i = 0; i < 256; i++) {
                scorer.swapModel("m", i % 2 == 0 ? new InvertedModel() : QualityFixtures.echo());
            }
            assertThat(quality.version()).isEqualTo(257);
            scorer.score(new Rec("v257", 0.9f));
            assertThat(quality.feedback("v1", 1)).isEqualTo(FeedbackOutcome.EXPIRED);
            assertThat(quality.feedback("v257", 1)).isEqualTo(FeedbackOutcome.JOINED);
            assertThat(quality.snapshot().version(257).orElseThrow().lastRecords().count()).isEqualTo(1);
        }
    }

    @Test
    void alert_aucFallsBelowThreshold_firesOncePerCrossingAndAgainAfterRecovery() {
        List<QualityEvent> events = new CopyOnWriteArrayList<>();
        QualityMonitor quality = QualityMonitor.builder().window(200).checkEvery(50)
                .alert(QualityMonitor.Metric.AUC, 0.80).alert(QualityMonitor.Metric.LOG_LOSS, 5.0)
                .listener(events::add).build();
        Random rnd = new Random(2);
        int[] next = {0};
        try (ManagedScorer<Rec, Float> scorer = QualityFixtures.scorer(quality, ticker, QualityFixtures.echo())) {
            Runnable good = () -> label(scorer, quality, rnd, next, false);
            Runnable bad = () -> label(scorer, quality, rnd, next, true);
            repeat(400, good);
            assertThat(events).isEmpty();
            repeat(400, bad);
            assertThat(events).hasSize(1);
            QualityEvent e = events.get(0);
            assertThat(e.version()).isEqualTo(1);
            assertThat(e.metric()).isEqualTo(QualityMonitor.Metric.AUC);
            assertThat(e.value()).isLessThan(0.80);
            assertThat(e.threshold()).isEqualTo(0.80);
            assertThat(e.windowCount()).isEqualTo(200);
            repeat(400, good);
            repeat(400, bad);
            assertThat(events).extracting(QualityEvent::metric)
                    .containsExactly(QualityMonitor.Metric.AUC, QualityMonitor.Metric.AUC);
        }
    }

    @Test
    void alert_throwingListener_neverReachesTheLabellingThread() {
        QualityMonitor quality = QualityMonitor.builder().window(10).checkEvery(1)
                .alert(QualityMonitor.Metric.AUC, 0.99).listener(e -> {
                    throw new AssertionError("listener failure");
                }).build();
        Random rnd = new Random(4);
        int[] next = {0};
        try (ManagedScorer<Rec, Float> scorer = QualityFixtures.scorer(quality, ticker, QualityFixtures.echo())) {
            repeat(50, () -> label(scorer, quality, rnd, next, true));
        }
        assertThat(quality.snapshot().labels().joined()).isEqualTo(50);
    }

    @Test
    void alert_onAMetricTheTaskLacks_isRefusedAtBuild() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> QualityMonitor.builder()
                        .task(QualityMonitor.Task.REGRESSION).alert(QualityMonitor.Metric.AUC, 0.8).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("auc");
    }

    /** Scores one record and labels it: a good model ranks positives above negatives, a bad one the other way. */
    private static void label(ManagedScorer<Rec, Float> scorer, QualityMonitor quality, Random rnd, int[] next,
                              boolean bad) {
        String id = "r" + next[0]++;
        int y = rnd.nextInt(2);
        float high = 0.6f + 0.4f * (float) rnd.nextDouble();
        float low = 0.4f * (float) rnd.nextDouble();
        scorer.score(new Rec(id, (y == 1) != bad ? high : low));
        quality.feedback(id, y);
    }

    private static void repeat(int n, Runnable r) {
        for (int i = 0; i < n; i++) {
            r.run();
        }
    }
}
