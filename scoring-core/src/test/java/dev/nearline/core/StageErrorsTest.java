package dev.nearline.core;

import static dev.nearline.core.Fixtures.ROW;
import static dev.nearline.core.Fixtures.SCORE;
import static dev.nearline.core.Fixtures.failureOf;
import static dev.nearline.core.Fixtures.row;
import static dev.nearline.core.Fixtures.scoringFailure;
import static dev.nearline.core.Fixtures.valueOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.Outcome;
import dev.nearline.api.Preprocessor;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.core.testing.FakeTicker;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Whatever a stage throws, an {@link Error} included, fails that record alone with a kind: never the caller
 * with an Error, never a batch-mate, never a pool thread; and the record's deadline is checked between stages.
 */
@ExtendWith(ModelLeakChecker.class)
class StageErrorsTest {
    /** A record whose first value is negative makes this preprocessor throw {@code error}. */
    private static Preprocessor<float[]> throwingOnNegative(Error error) {
        return r -> {
            if (r[0] < 0) {
                throw error;
            }
            return ROW.preprocess(r);
        };
    }

    @Test
    void score_preprocessorOverflowsTheStack_failsInvalidInputAndKeepsServing() {
        FakeLinearModel model = Fixtures.linear();
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(throwingOnNegative(new StackOverflowError()))
                .model(model).build(SCORE)) {
            assertThat(scoringFailure(() -> scorer.score(row(-1, 0, 0))).kind()).isEqualTo(Kind.INVALID_INPUT);
            assertThat(scorer.score(row(1, 2, 3))).isEqualTo(model.expected(row(1, 2, 3)));
            assertThat(scorer.inFlight()).isZero();
        }
    }

    @Test
    void scoreAll_oneRecordRunsOutOfMemory_failsThatRecordOnly() {
        FakeLinearModel model = Fixtures.linear();
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(throwingOnNegative(new OutOfMemoryError("test")))
                .model(model).build(SCORE)) {
            List<Outcome<Float>> out = scorer.scoreAll(List.of(row(1, 2, 3), row(-1, 0, 0), row(3, 2, 1)));

            assertThat(out.get(1).error().kind()).isEqualTo(Kind.INTERNAL);
            assertThat(out.get(1).error().getMessage()).contains("out of memory");
            assertThat(out.get(0).get()).isEqualTo(model.expected(row(1, 2, 3)));
            assertThat(out.get(2).get()).isEqualTo(model.expected(row(3, 2, 1)));
        }
    }

    @Test
    void scoreAsync_batchingAndPreprocessorThrowsError_failsTheFutureNotTheCaller() {
        FakeLinearModel model = Fixtures.linear();
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(throwingOnNegative(new StackOverflowError()))
                .model(model).batching(4, Duration.ofMillis(1)).build(SCORE)) {
            assertThat(failureOf(scorer.scoreAsync(row(-1, 0, 0))).kind()).isEqualTo(Kind.INVALID_INPUT);
            assertThat(valueOf(scorer.scoreAsync(row(1, 2, 3)))).isEqualTo(model.expected(row(1, 2, 3)));
        }
    }

    @Test
    void scoreAsync_modelThrowsError_failsInternalAndThePoolThreadLivesOn() {
        Set<String> threads = ConcurrentHashMap.newKeySet();
        FakeLinearModel model = new FakeLinearModel(Fixtures.WEIGHTS, Fixtures.BIAS) {
            @Override
            protected Tensors compute(Tensors inputs) {
                threads.add(Thread.currentThread().getName());
                if (inputs.get(0).floatAt(0) < 0) {
                    throw new AssertionError("a plugin's bug");
                }
                return super.compute(inputs);
            }
        };
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).asyncThreads(1).build(SCORE)) {
            for (int i = 0; i < 3; i++) {
                assertThat(failureOf(scorer.scoreAsync(row(-1, 0, 0))).kind()).isEqualTo(Kind.INTERNAL);
                assertThat(valueOf(scorer.scoreAsync(row(1, 2, 3)))).isEqualTo(model.expected(row(1, 2, 3)));
            }
            assertThat(threads).as("one pool thread served every record: none died").hasSize(1);
        }
    }

    @Test
    void score_postprocessorThrowsError_failsInternal() {
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(ROW).model(Fixtures.linear())
                .build(out -> {
                    throw new NoClassDefFoundError("missing plugin class");
                })) {
            assertThat(scoringFailure(() -> scorer.score(row(1, 2, 3))).kind()).isEqualTo(Kind.INTERNAL);
        }
    }

    @Test
    void score_transformUsesUpTheDeadline_laterStepAndPostprocessorDoNotRun() {
        FakeTicker ticker = new FakeTicker(0);
        FakeLinearModel second = new FakeLinearModel("score", "final", new float[] {2}, 0);
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(ROW).ticker(ticker)
                .model("first", Fixtures.linear())
                .transform("slow", t -> {
                    ticker.advance(Duration.ofMillis(20));
                    return Tensors.of("score", t.require("score"));
                })
                .model("second", second).timeout(Duration.ofMillis(10))
                .build(out -> out.require("final").floatAt(0))) {
            var e = scoringFailure(() -> scorer.score(row(1, 2, 3)));

            assertThat(e.kind()).isEqualTo(Kind.DEADLINE_EXCEEDED);
            assertThat(e.getMessage()).contains("before step 'second'");
            assertThat(second.predictCalls).hasValue(0);
        }
    }

    @Test
    void score_preprocessingUsesUpTheDeadline_noModelCall() {
        FakeTicker ticker = new FakeTicker(0);
        FakeLinearModel model = Fixtures.linear();
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder((float[] r) -> {
                    ticker.advance(Duration.ofMillis(20));
                    return Tensors.of("input", Tensor.ofFloats(r, 1, r.length));
                }).ticker(ticker).model(model).timeout(Duration.ofMillis(10)).build(SCORE)) {
            assertThat(scoringFailure(() -> scorer.score(row(1, 2, 3))).kind()).isEqualTo(Kind.DEADLINE_EXCEEDED);
            assertThat(model.predictCalls).hasValue(0);
        }
    }
}
