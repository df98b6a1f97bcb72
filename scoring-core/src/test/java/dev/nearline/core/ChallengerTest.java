package dev.nearline.core;

import static dev.nearline.core.QualityFixtures.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.nearline.api.Outcome;
import dev.nearline.api.Tensors;
import dev.nearline.core.QualityFixtures.EchoModel;
import dev.nearline.core.QualityFixtures.Rec;
import dev.nearline.core.internal.quality.ChallengerRunner;
import dev.nearline.core.testing.FakeTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The challenger scores a sample off the caller's path and never changes, fails or holds up the champion. */
@ExtendWith(ModelLeakChecker.class)
class ChallengerTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private final FakeTicker ticker = new FakeTicker();

    /** A challenger whose score is a fixed function of the champion's. */
    static final class ShiftedModel extends EchoModel {
        ShiftedModel() {
            super("score", 1);
        }

        static float shift(float champion) {
            return (float) Math.min(1, Math.max(0, 0.8 * champion + 0.15));
        }

        @Override
        float[] transform(float[] in) {
            return new float[] {shift(in[0])};
        }
    }

    /** A challenger that throws what it is given, an Error included. */
    static final class ThrowingModel extends EchoModel {
        private final Throwable failure;

        ThrowingModel(Throwable failure) {
            super("score", 1);
            this.failure = failure;
        }

        @Override
        float[] transform(float[] in) {
            if (failure instanceof Error) {
                throw (Error) failure;
            }
            throw (RuntimeException) failure;
        }
    }

    private ManagedScorer<Rec, Float> scorer(QualityMonitor quality, Challenger challenger) {
        return Pipeline.builder(QualityFixtures.PRE).name("cc").ticker(ticker).closeGracePeriod(Duration.ofMillis(200))
                .model("m", QualityFixtures.echo()).quality(quality, Rec::id).challenger(challenger)
                .build(out -> out.get(0).floatAt(0));
    }

    @Test
    void challenger_onEveryPath_neverChangesAChampionResult() throws Exception {
        QualityMonitor quality = QualityMonitor.builder().build();
        Random rnd = new Random(1);
        try (ManagedScorer<Rec, Float> scorer = scorer(quality,
                Challenger.builder().model("m", new ShiftedModel()).sample(1.0).build())) {
            List<Rec> batch = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                float v = (float) rnd.nextDouble();
                Rec r = new Rec("s" + i, v);
                assertThat(scorer.score(r)).isEqualTo(v);
                assertThat(scorer.scoreAsync(new Rec("a" + i, v)).get(10, TimeUnit.SECONDS)).isEqualTo(v);
                batch.add(new Rec("b" + i, v));
            }
            List<Outcome<Float>> all = scorer.scoreAll(batch);
            for (int i = 0; i < batch.size(); i++) {
                assertThat(all.get(i).get()).isEqualTo(batch.get(i).values()[0]);
            }
            await("900 challenger scores", () -> quality.snapshot().challenger().scored() == 900, WAIT);
        }
        QualitySnapshot.ChallengerCounts c = quality.snapshot().challenger();
        assertThat(c.sampled()).isEqualTo(900);
        assertThat(c.failed()).isZero();
        assertThat(c.dropped()).isZero();
    }

    @Test
    void challenger_throwsErrorsAndExceptions_championResultsStandAndFailuresAreCounted() {
        for (Throwable failure : List.of(new StackOverflowError(), new OutOfMemoryError("challenger"),
                new AssertionError("challenger bug"), new IllegalStateException("challenger bug"))) {
            QualityMonitor quality = QualityMonitor.builder().build();
            try (ManagedScorer<Rec, Float> scorer = scorer(quality,
                    Challenger.builder().model("m", new ThrowingModel(failure)).sample(1.0).build())) {
                for (int i = 0; i < 50; i++) {
                    assertThat(scorer.score(new Rec("e" + i, 0.25f))).isEqualTo(0.25f);
                }
                await("50 failures of " + failure, () -> quality.snapshot().challenger().failed() == 50, WAIT);
                assertThat(quality.feedback("e1", 1)).as("labels still join").isEqualTo(FeedbackOutcome.JOINED);
            }
        }
    }

    @Test
    void challenger_blocked_queueFillsAndDropsAreCounted_championAndCloseAreNotHeldUp() throws Exception {
        BlockingModel blocked = new BlockingModel(1);
        QualityMonitor quality = QualityMonitor.builder().build();
        ManagedScorer<Rec, Float> scorer = scorer(quality,
                Challenger.builder().model("m", blocked).sample(1.0).queueCapacity(4).build());
        try {
            scorer.score(new Rec("first", 0.5f));
            assertThat(blocked.entered.await(10, TimeUnit.SECONDS)).as("the challenger holds a record").isTrue();
            // The champion goes on while its challenger is stuck: 99 more calls, none waits for it.
            CompletableFuture<Void> champion = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 99; i++) {
                    if (scorer.score(new Rec("r" + i, 0.5f)) != 0.5f) {
                        throw new AssertionError("champion result changed");
                    }
                }
            });
            champion.get(10, TimeUnit.SECONDS);
            QualitySnapshot.ChallengerCounts c = quality.snapshot().challenger();
            assertThat(c.sampled()).as("one running, four queued").isEqualTo(5);
            assertThat(c.dropped()).isEqualTo(95);
            // close() is bounded although the challenger is still inside its model.
            CompletableFuture.runAsync(scorer::close).get(10, TimeUnit.SECONDS);
            QualitySnapshot.ChallengerCounts after = quality.snapshot().challenger();
            assertThat(after.sampled()).as("the queued four are discarded at close").isEqualTo(1);
            assertThat(after.dropped()).isEqualTo(99);
        } finally {
            blocked.release.countDown();
            scorer.close();
        }
        assertThat(blocked.awaitClosed()).as("the challenger's model closes once its call returns").isTrue();
    }

    @Test
    void challenger_sideBySide_metricsAgreementAndDifferencesEqualExactOnTheSampledRecords() {
        QualityMonitor quality = QualityMonitor.builder().threshold(0.5).window(5_000).build();
        Random rnd = new Random(6);
        int n = 2_000;
        double sample = 0.3;
        List<double[]> sampled = new ArrayList<>(); // {champion, challenger, label}
        try (ManagedScorer<Rec, Float> scorer = scorer(quality,
                Challenger.builder().model("m", new ShiftedModel()).sample(sample).build())) {
            float[] scores = new float[n];
            for (int i = 0; i < n; i++) {
                scores[i] = (float) rnd.nextDouble();
                scorer.score(new Rec("x" + i, scores[i]));
            }
            int expected = 0;
            for (int i = 0; i < n; i++) {
                expected += ChallengerRunner.inSample("x" + i, sample) ? 1 : 0;
            }
            int inSample = expected;
            assertThat(inSample).isBetween((int) (n * 0.25), (int) (n * 0.35));
            await("the sample scored", () -> quality.snapshot().challenger().scored() == inSample, WAIT);
            for (int i = 0; i < n; i++) {
                int label = rnd.nextDouble() < scores[i] ? 1 : 0;
                quality.feedback("x" + i, label);
                if (ChallengerRunner.inSample("x" + i, sample)) {
                    float challenger = ShiftedModel.shift(scores[i]);
                    sampled.add(new double[] {scores[i], challenger, label});
                }
            }
        }
        double[] champ = sampled.stream().mapToDouble(r -> r[0]).toArray();
        double[] chall = sampled.stream().mapToDouble(r -> r[1]).toArray();
        double[] y = sampled.stream().mapToDouble(r -> r[2]).toArray();
        QualitySnapshot.Comparison c = quality.snapshot().current().challenger();
        assertThat(c.compared()).isEqualTo(sampled.size());
        double agree = 0;
        double[] diff = new double[champ.length];
        for (int i = 0; i < champ.length; i++) {
            agree += (champ[i] >= 0.5) == (chall[i] >= 0.5) ? 1 : 0;
            diff[i] = chall[i] - champ[i];
        }
        assertThat(c.agreement()).isCloseTo(agree / champ.length, within(1e-12));
        assertThat(c.difference().mean()).isCloseTo(Arrays.stream(diff).average().orElseThrow(), within(1e-9));
        Arrays.sort(diff);
        assertThat(c.difference().p50()).isEqualTo(diff[(int) Math.ceil(0.5 * diff.length) - 1]);
        assertThat(c.champion().count()).isEqualTo(sampled.size());
        assertThat(c.champion().logLoss()).isCloseTo(QualityFixtures.logLoss(champ, y), within(1e-9));
        assertThat(c.challenger().logLoss()).isCloseTo(QualityFixtures.logLoss(chall, y), within(1e-9));
        assertThat(c.challenger().brier()).isCloseTo(QualityFixtures.brier(chall, y), within(1e-9));
        assertThat(Math.abs(c.challenger().auc() - QualityFixtures.exactAuc(chall, y)))
                .isLessThanOrEqualTo(c.challenger().aucErrorBound() + 1e-12);
        assertThat(c.challengerPeriod().count()).isEqualTo(sampled.size());
    }

    @Test
    void challenger_labelBeforeTheChallengerScores_isComparedWhenTheChallengerIsDone() throws Exception {
        BlockingModel gate = new BlockingModel(1);
        QualityMonitor quality = QualityMonitor.builder().build();
        try (ManagedScorer<Rec, Float> scorer = scorer(quality,
                Challenger.builder().model("m", gate).sample(1.0).build())) {
            scorer.score(new Rec("late", 0.75f));
            assertThat(gate.entered.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(quality.feedback("late", 1)).isEqualTo(FeedbackOutcome.JOINED);
            assertThat(quality.snapshot().current().challenger().challenger().count()).isZero();
            gate.release.countDown();
            await("the late comparison", () -> quality.snapshot().current().challenger().challenger().count() == 1,
                    WAIT);
            assertThat(quality.snapshot().current().challenger().champion().count()).isEqualTo(1);
        }
    }

    @Test
    void challenger_withoutQualityMonitor_isRefused() {
        EchoModel champion = QualityFixtures.echo();
        EchoModel candidate = QualityFixtures.echo();
        try {
            assertThatThrownBy(() -> Pipeline.builder(QualityFixtures.PRE).model(champion)
                    .challenger(Challenger.builder().model(candidate).build()).build(Tensors::size))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("quality");
        } finally {
            champion.close();
            candidate.close();
        }
    }
}
