package dev.nearline.core;

import static dev.nearline.core.Fixtures.SCORE;
import static dev.nearline.core.Fixtures.failureOf;
import static dev.nearline.core.Fixtures.linear;
import static dev.nearline.core.Fixtures.row;
import static dev.nearline.core.Fixtures.scoringFailure;
import static dev.nearline.core.Fixtures.valueOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.Outcome;
import dev.nearline.api.Preprocessor;
import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.core.testing.FakeTicker;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Deadlines, driven by a fake ticker that the preprocessor advances. */
@ExtendWith(ModelLeakChecker.class)
class ScorerDeadlineTest {

    /** A preprocessor that spends {@code record[0]} milliseconds of fake time. */
    private static Preprocessor<float[]> slowRow(FakeTicker ticker) {
        return r -> {
            ticker.advance(Duration.ofMillis((long) r[0]));
            return Tensors.of("input", Tensor.ofFloats(r, 1, r.length));
        };
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1_000_000_000_000L, -5_000_000_000L, Long.MAX_VALUE - 5_000_000L, Long.MIN_VALUE})
    void score_timeoutPassesDuringPreprocessing_failsWithDeadlineExceededBeforeModel(long tickerOrigin) {
        FakeTicker ticker = new FakeTicker(tickerOrigin);
        FakeLinearModel model = linear();
        try (Scorer<float[], Float> scorer = Pipeline.builder(slowRow(ticker)).model("fraud", model)
                .ticker(ticker).build(SCORE)) {
            ScoringException e = scoringFailure(() -> scorer.score(row(20, 0, 0), Duration.ofMillis(10)));

            assertThat(e.kind()).isEqualTo(Kind.DEADLINE_EXCEEDED);
            assertThat(e.getMessage()).contains("step 'fraud'");
            assertThat(model.predictCalls).hasValue(0);
            assertThat(scorer.score(row(5, 0, 0), Duration.ofMillis(10))).isEqualTo(model.expected(row(5, 0, 0)));
        }
    }

    @Test
    void score_hugeTimeout_meansNoDeadline() {
        FakeTicker ticker = new FakeTicker(123);
        FakeLinearModel model = linear();
        try (Scorer<float[], Float> scorer = Pipeline.builder(slowRow(ticker)).model(model).ticker(ticker).build(SCORE)) {
            assertThat(scorer.score(row(1_000_000, 0, 0), ChronoUnit.FOREVER.getDuration()))
                    .isEqualTo(model.expected(row(1_000_000, 0, 0)));
            assertThat(scorer.score(row(1_000_000, 0, 0), Duration.ofNanos(Long.MAX_VALUE)))
                    .isEqualTo(model.expected(row(1_000_000, 0, 0)));
        }
    }

    @Test
    void score_zeroTimeout_failsWithDeadlineExceeded() {
        FakeTicker ticker = new FakeTicker(0);
        FakeLinearModel model = linear();
        try (Scorer<float[], Float> scorer = Pipeline.builder(slowRow(ticker)).model(model).ticker(ticker).build(SCORE)) {
            assertThat(scoringFailure(() -> scorer.score(row(0, 0, 0), Duration.ZERO)).kind())
                    .isEqualTo(Kind.DEADLINE_EXCEEDED);
            assertThat(model.predictCalls).hasValue(0);
        }
    }

    @Test
    void score_defaultTimeout_appliesWithoutExplicitOne() {
        FakeTicker ticker = new FakeTicker(0);
        FakeLinearModel model = linear();
        try (Scorer<float[], Float> scorer = Pipeline.builder(slowRow(ticker)).model(model)
                .ticker(ticker).timeout(Duration.ofMillis(10)).build(SCORE)) {
            assertThat(scoringFailure(() -> scorer.score(row(11, 0, 0))).kind()).isEqualTo(Kind.DEADLINE_EXCEEDED);
            assertThat(scorer.score(row(9, 0, 0))).isEqualTo(model.expected(row(9, 0, 0)));
            assertThat(model.predictCalls).hasValue(1);
        }
    }

    @Test
    void score_explicitTimeout_overridesDefault() {
        FakeTicker ticker = new FakeTicker(0);
        FakeLinearModel model = linear();
        try (Scorer<float[], Float> scorer = Pipeline.builder(slowRow(ticker)).model(model)
                .ticker(ticker).timeout(Duration.ofMillis(10)).build(SCORE)) {
            assertThat(scorer.score(row(50, 0, 0), Duration.ofSeconds(1))).isEqualTo(model.expected(row(50, 0, 0)));
        }
    }

    @Test
    void score_deadlinePassesInFirstModel_secondModelNotCalled() {
        FakeTicker ticker = new FakeTicker(0);
        FakeLinearModel first = new FakeLinearModel(Fixtures.WEIGHTS, 0) {
            @Override
            protected Tensors compute(Tensors inputs) {
                ticker.advance(Duration.ofMillis(30));
                return super.compute(inputs);
            }
        };
        FakeLinearModel second = new FakeLinearModel("score", "final", new float[] {1}, 0);
        try (Scorer<float[], Float> scorer = Pipeline.builder(Fixtures.ROW).model("first", first)
                .model("second", second).ticker(ticker).timeout(Duration.ofMillis(20)).build(SCORE)) {
            ScoringException e = scoringFailure(() -> scorer.score(row(1, 2, 3)));

            assertThat(e.kind()).isEqualTo(Kind.DEADLINE_EXCEEDED);
            assertThat(e.getMessage()).contains("step 'second'");
            assertThat(first.predictCalls).hasValue(1);
            assertThat(second.predictCalls).hasValue(0);
        }
    }

    @Test
    void scoreAll_defaultTimeoutPasses_everyRecordFailsWithDeadlineExceeded() {
        FakeTicker ticker = new FakeTicker(0);
        FakeLinearModel model = linear();
        try (Scorer<float[], Float> scorer = Pipeline.builder(slowRow(ticker)).model(model)
                .ticker(ticker).timeout(Duration.ofMillis(10)).build(SCORE)) {
            List<Outcome<Float>> out = scorer.scoreAll(List.of(row(4, 0, 0), row(4, 0, 0), row(4, 0, 0)));

            assertThat(out).allSatisfy(o -> assertThat(o.error().kind()).isEqualTo(Kind.DEADLINE_EXCEEDED));
            assertThat(model.predictCalls.get() + model.batchCalls.get()).isZero();
        }
    }

    @Test
    void scoreAsync_deadlinePassesWhileQueued_failsWithDeadlineExceeded() throws InterruptedException {
        FakeTicker ticker = new FakeTicker(0);
        BlockingModel model = new BlockingModel(1);
        try (Scorer<float[], Float> scorer = Pipeline.builder(Fixtures.ROW).model(model).ticker(ticker)
                .timeout(Duration.ofMillis(10)).asyncThreads(1).build(SCORE)) {
            CompletableFuture<Float> first = scorer.scoreAsync(row(1));
            assertThat(model.entered.await(10, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Float> queued = scorer.scoreAsync(row(2));

            ticker.advance(Duration.ofMillis(15));
            model.release.countDown();

            // The running record's deadline passed too: it is checked again before the postprocessor.
            assertThat(failureOf(first).kind()).isEqualTo(Kind.DEADLINE_EXCEEDED);
            assertThat(failureOf(first).getMessage()).contains("before the postprocessor");
            assertThat(failureOf(queued).kind()).isEqualTo(Kind.DEADLINE_EXCEEDED);
            assertThat(model.predictCalls).hasValue(1);
        }
    }
}
