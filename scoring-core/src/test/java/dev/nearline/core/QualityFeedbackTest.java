package dev.nearline.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.core.QualityFixtures.Rec;
import dev.nearline.core.testing.FakeTicker;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Labels that cannot be joined get a counted outcome, never an exception; memory stays within the capacity. */
@ExtendWith(ModelLeakChecker.class)
class QualityFeedbackTest {
    private final FakeTicker ticker = new FakeTicker();

    @Test
    void feedback_unknownExpiredDuplicateInvalidAndEarly_areCountedOutcomes() {
        QualityMonitor quality = QualityMonitor.builder().timeToLive(Duration.ofMinutes(10)).build();
        try (ManagedScorer<Rec, Float> scorer = QualityFixtures.scorer(quality, ticker, QualityFixtures.echo())) {
            assertThat(quality.feedback("early", 1)).as("a label before its prediction")
                    .isEqualTo(FeedbackOutcome.UNKNOWN);
            scorer.score(new Rec("early", 0.9f));
            scorer.score(new Rec("a", 0.8f));
            scorer.score(new Rec("b", 0.2f));
            assertThat(quality.feedback("a", 1)).isEqualTo(FeedbackOutcome.JOINED);
            assertThat(quality.feedback("a", 0)).isEqualTo(FeedbackOutcome.DUPLICATE);
            assertThat(quality.feedback("never-scored", 1)).isEqualTo(FeedbackOutcome.UNKNOWN);
            assertThat(quality.feedback("b", 2)).isEqualTo(FeedbackOutcome.INVALID);
            assertThat(quality.feedback("b", Double.NaN)).isEqualTo(FeedbackOutcome.INVALID);
            assertThat(quality.feedback("b", "maybe")).isEqualTo(FeedbackOutcome.INVALID);
            assertThat(quality.feedback("x".repeat(5_000), 1)).isEqualTo(FeedbackOutcome.UNKNOWN);
            ticker.advance(Duration.ofMinutes(11));
            assertThat(quality.feedback("b", "false")).isEqualTo(FeedbackOutcome.EXPIRED);
            assertThat(quality.feedback("b", 0)).as("still expired, and counted once more").isEqualTo(FeedbackOutcome.EXPIRED);
            assertThat(quality.feedback("a", 1)).as("labelled before it expired").isEqualTo(FeedbackOutcome.DUPLICATE);
        }
        QualitySnapshot s = quality.snapshot();
        assertThat(s.labels()).isEqualTo(new QualitySnapshot.Labels(1, 3, 2, 2, 3, 0));
        assertThat(s.predictions()).isEqualTo(new QualitySnapshot.Predictions(3, 0, 1, 0, 0, 1));
        assertThat(s.current().lastRecords().count()).isEqualTo(1);
    }

    @Test
    void observe_recordWithoutIdOrReadablePrediction_isScoredAndCountedUntracked() {
        QualityMonitor quality = QualityMonitor.builder().build();
        try (ManagedScorer<Rec, Float> scorer = Pipeline.builder(QualityFixtures.PRE).ticker(ticker)
                .model(QualityFixtures.echo()).quality(quality, r -> r.id().isEmpty() ? null : r.id())
                .build(out -> out.get(0).floatAt(0))) {
            assertThat(scorer.score(new Rec("", 0.5f))).isEqualTo(0.5f);
            assertThat(scorer.score(new Rec("p", 1.5f))).as("not a probability: scored, not tracked").isEqualTo(1.5f);
            assertThat(scorer.score(new Rec("q", 0.25f))).isEqualTo(0.25f);
        }
        QualitySnapshot.Predictions p = quality.snapshot().predictions();
        assertThat(p.untracked()).isEqualTo(2);
        assertThat(p.tracked()).isEqualTo(1);
    }

    @Test
    void store_tenTimesTheCapacity_holdsAtMostTheCapacityAndCountsEvictions() {
        int capacity = 1_000;
        QualityMonitor quality = QualityMonitor.builder().capacity(capacity).build();
        Random rnd = new Random(1);
        try (ManagedScorer<Rec, Float> scorer = QualityFixtures.scorer(quality, ticker, QualityFixtures.echo())) {
            for (int i = 0; i < 10 * capacity; i++) {
                scorer.score(new Rec("id-" + i, (float) rnd.nextDouble()));
                assertThat(quality.tracker().held()).isLessThanOrEqualTo(capacity);
            }
            // A label flood: ten times as many labels, mostly for ids no longer (or never) held.
            long joined = 0;
            for (int i = 0; i < 10 * capacity; i++) {
                FeedbackOutcome o = quality.feedback("id-" + i, rnd.nextInt(2));
                joined += o == FeedbackOutcome.JOINED ? 1 : 0;
                assertThat(quality.feedback("flood-" + i, 1)).isEqualTo(FeedbackOutcome.UNKNOWN);
            }
            // Only the newest predictions are still held: at most the capacity (a few fewer when ids crowd one
            // part of the index).
            assertThat(joined).isBetween((long) (0.995 * capacity), (long) capacity);
            assertThat(quality.tracker().held()).isLessThanOrEqualTo(capacity);
            QualitySnapshot s = quality.snapshot();
            assertThat(s.predictions().evicted()).isEqualTo(10L * capacity - joined);
            assertThat(s.predictions().pending()).isZero();
            assertThat(s.labels().unknown()).isEqualTo(10L * capacity - joined + 10L * capacity);
        }
    }

    @Test
    void store_sameIdScoredTwice_laterPredictionReplacesTheEarlierOne() {
        QualityMonitor quality = QualityMonitor.builder().build();
        try (ManagedScorer<Rec, Float> scorer = QualityFixtures.scorer(quality, ticker, QualityFixtures.echo())) {
            scorer.score(new Rec("same", 0.1f));
            scorer.score(new Rec("same", 0.9f));
            assertThat(quality.feedback("same", 1)).isEqualTo(FeedbackOutcome.JOINED);
        }
        QualitySnapshot s = quality.snapshot();
        assertThat(s.predictions().replaced()).isEqualTo(1);
        assertThat(s.current().lastRecords().brier()).as("joined with 0.9, not 0.1").isCloseTo(0.01, org.assertj.core.api.Assertions.within(1e-6));
    }

    @Test
    void store_predictionsPastTheirTimeToLive_expireWhenOverwrittenAndAreCounted() {
        QualityMonitor quality = QualityMonitor.builder().capacity(10).timeToLive(Duration.ofSeconds(30)).build();
        try (ManagedScorer<Rec, Float> scorer = QualityFixtures.scorer(quality, ticker, QualityFixtures.echo())) {
            for (int i = 0; i < 10; i++) {
                scorer.score(new Rec("old-" + i, 0.5f));
            }
            ticker.advance(Duration.ofSeconds(31));
            for (int i = 0; i < 10; i++) {
                scorer.score(new Rec("new-" + i, 0.5f));
            }
        }
        QualitySnapshot.Predictions p = quality.snapshot().predictions();
        assertThat(p.expired()).isEqualTo(10);
        assertThat(p.evicted()).isZero();
        assertThat(p.pending()).isEqualTo(10);
    }

    @Test
    void monitor_usedForASecondScorer_isRefused() {
        QualityMonitor quality = QualityMonitor.builder().build();
        try (ManagedScorer<Rec, Float> scorer = QualityFixtures.scorer(quality, ticker, QualityFixtures.echo())) {
            assertThat(scorer.quality()).contains(quality);
            QualityFixtures.EchoModel other = QualityFixtures.echo();
            try {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> QualityFixtures.scorer(quality, ticker, other))
                        .isInstanceOf(IllegalStateException.class).hasMessageContaining("one per scorer");
            } finally {
                other.close();
            }
        }
    }
}
