package dev.nearline.core;

import static dev.nearline.core.Fixtures.LINEAR_SIGNATURE;
import static dev.nearline.core.Fixtures.ROW;
import static dev.nearline.core.Fixtures.SCORE;
import static dev.nearline.core.Fixtures.linear;
import static dev.nearline.core.Fixtures.row;
import static dev.nearline.core.Fixtures.scoringFailure;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.DataType;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.Preprocessor;
import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Input validation before the backend, and how failures of each stage map to kinds. */
@ExtendWith(ModelLeakChecker.class)
class ScorerErrorsTest {

    /** Scores {@code bad} through a pipeline whose preprocessor emits it, expecting INVALID_INPUT before the model. */
    private static ScoringException rejectedBeforeModel(Tensors bad) {
        FakeLinearModel model = linear();
        Preprocessor<float[]> pre = r -> r.length == 0 ? bad : Tensors.of("input", Tensor.ofFloats(r, 1, r.length));
        try (Scorer<float[], Float> scorer = Pipeline.builder(pre).model("fraud", model).build(SCORE)) {
            ScoringException e = scoringFailure(() -> scorer.score(new float[0]));

            assertThat(e.kind()).isEqualTo(Kind.INVALID_INPUT);
            assertThat(model.predictCalls).as("model called").hasValue(0);
            assertThat(scorer.score(row(1, 2, 3))).as("next record").isEqualTo(model.expected(row(1, 2, 3)));
            return e;
        }
    }

    @Test
    void score_missingTensor_failsWithInvalidInputBeforeModel() {
        ScoringException e = rejectedBeforeModel(Tensors.of(
                "amount", Tensor.ofFloats(new float[3], 1, 3), "other", Tensor.ofFloats(new float[3], 1, 3)));

        assertThat(e.getMessage()).contains("step 'fraud'", "'input'", "[amount, other]");
    }

    @Test
    void score_wrongType_failsWithInvalidInputNamingExpectedAndActual() {
        ScoringException e = rejectedBeforeModel(Tensors.of("input", Tensor.ofDoubles(new double[3], 1, 3)));

        assertThat(e.getMessage()).isEqualTo("step 'fraud' input 'input' expects FP32 [-1, 3], got FP64 [1, 3]");
    }

    @Test
    void score_wrongRank_failsWithInvalidInputNamingExpectedAndActual() {
        ScoringException e = rejectedBeforeModel(Tensors.of("input", Tensor.ofFloats(new float[3], 3)));

        assertThat(e.getMessage()).isEqualTo("step 'fraud' input 'input' expects FP32 [-1, 3], got FP32 [3]");
    }

    @Test
    void score_wrongFixedDimension_failsWithInvalidInputNamingExpectedAndActual() {
        ScoringException e = rejectedBeforeModel(Tensors.of("input", Tensor.ofFloats(new float[4], 1, 4)));

        assertThat(e.getMessage()).isEqualTo("step 'fraud' input 'input' expects FP32 [-1, 3], got FP32 [1, 4]");
    }

    @Test
    void score_missingSecondInput_failsNamingIt() {
        RecordingModel model = new RecordingModel(new ModelSignature(
                List.of(TensorSpec.of("a", DataType.FP32, 1), TensorSpec.of("b", DataType.FP32, 1)), List.of()),
                in -> in);
        try (Scorer<float[], Tensors> scorer = Pipeline.<float[]>builder(r -> Tensors.of("a", Tensor.ofFloats(r, 1)))
                .model("two", model).build(out -> out)) {
            ScoringException e = scoringFailure(() -> scorer.score(row(1)));

            assertThat(e.kind()).isEqualTo(Kind.INVALID_INPUT);
            assertThat(e.getMessage()).contains("step 'two'", "tensor 'b'", "[a]");
            assertThat(model.received).isEmpty();
        }
    }

    @Test
    void score_preprocessorThrowsIllegalArgument_failsWithInvalidInput() {
        IllegalArgumentException cause = new IllegalArgumentException("amount must be positive");
        FakeLinearModel model = linear();
        try (Scorer<float[], Float> scorer = Pipeline.<float[]>builder(r -> {
            throw cause;
        }).name("fraud").model(model).build(SCORE)) {
            ScoringException e = scoringFailure(() -> scorer.score(row(1, 2, 3)));

            assertThat(e.kind()).isEqualTo(Kind.INVALID_INPUT);
            assertThat(e.getMessage()).contains("pipeline 'fraud'", "amount must be positive");
            assertThat(e.getCause()).isSameAs(cause);
            assertThat(model.predictCalls).hasValue(0);
        }
    }

    @Test
    void score_preprocessorThrowsScoringException_passesItThroughUnchanged() {
        ScoringException thrown = new ScoringException(Kind.UNAVAILABLE, "feature store down");
        try (Scorer<float[], Float> scorer = Pipeline.<float[]>builder(r -> {
            throw thrown;
        }).model(linear()).build(SCORE)) {
            assertThat(scoringFailure(() -> scorer.score(row(1, 2, 3)))).isSameAs(thrown);
        }
    }

    @Test
    void score_preprocessorReturnsNull_failsWithInternal() {
        try (Scorer<float[], Float> scorer = Pipeline.<float[]>builder(r -> null).model(linear()).build(SCORE)) {
            assertThat(scoringFailure(() -> scorer.score(row(1, 2, 3))).kind()).isEqualTo(Kind.INTERNAL);
        }
    }

    @Test
    void score_nullRecord_failsWithInvalidInputWithoutCallingPreprocessor() {
        AtomicInteger calls = new AtomicInteger();
        try (Scorer<float[], Float> scorer = Pipeline.<float[]>builder(r -> {
            calls.incrementAndGet();
            return ROW.preprocess(r);
        }).model(linear()).build(SCORE)) {
            ScoringException e = scoringFailure(() -> scorer.score(null));

            assertThat(e.kind()).isEqualTo(Kind.INVALID_INPUT);
            assertThat(e.getMessage()).contains("null");
            assertThat(calls).hasValue(0);
        }
    }

    @Test
    void score_postprocessorThrows_failsWithInternal() {
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(linear()).build(out -> {
            throw new IllegalStateException("no such label");
        })) {
            ScoringException e = scoringFailure(() -> scorer.score(row(1, 2, 3)));

            assertThat(e.kind()).isEqualTo(Kind.INTERNAL);
            assertThat(e.getMessage()).contains("postprocessor", "no such label");
            assertThat(e.getCause()).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void score_postprocessorReturnsNull_failsWithInternal() {
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(linear()).build(out -> null)) {
            ScoringException e = scoringFailure(() -> scorer.score(row(1, 2, 3)));

            assertThat(e.kind()).isEqualTo(Kind.INTERNAL);
            assertThat(e.getMessage()).contains("returned null");
        }
    }

    @Test
    void score_modelThrowsRuntimeException_failsWithInternalAndKeepsScoring() {
        FakeLinearModel model = linear();
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model("fraud", model).build(SCORE)) {
            ScoringException e = scoringFailure(() -> scorer.score(row(FakeLinearModel.POISON, 0, 0)));

            assertThat(e.kind()).isEqualTo(Kind.INTERNAL);
            assertThat(e.getMessage()).contains("step 'fraud'", "poisoned row");
            assertThat(e.getCause()).isInstanceOf(IllegalArgumentException.class);
            assertThat(scorer.score(row(1, 2, 3))).isEqualTo(model.expected(row(1, 2, 3)));
        }
    }

    @Test
    void score_modelThrowsScoringException_keepsItsKind() {
        ScoringException down = new ScoringException(Kind.UNAVAILABLE, "triton down");
        RecordingModel model = new RecordingModel(LINEAR_SIGNATURE, in -> {
            throw down;
        });
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).build(SCORE)) {
            assertThat(scoringFailure(() -> scorer.score(row(1, 2, 3)))).isSameAs(down);
        }
    }

    @Test
    void score_modelReturnsNull_failsWithInternal() {
        RecordingModel model = new RecordingModel(LINEAR_SIGNATURE, in -> null);
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model("m", model).build(SCORE)) {
            ScoringException e = scoringFailure(() -> scorer.score(row(1, 2, 3)));

            assertThat(e.kind()).isEqualTo(Kind.INTERNAL);
            assertThat(e.getMessage()).contains("step 'm'", "null");
        }
    }

    @Test
    void score_transformThrows_failsNamingTransformWithoutCallingNextModel() {
        FakeLinearModel first = linear();
        FakeLinearModel second = new FakeLinearModel("scaled", "out", new float[] {1}, 0);
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(first)
                .transform("scale", t -> {
                    throw new IllegalStateException("cannot scale");
                })
                .model(second).build(out -> out.get(0).floatAt(0))) {
            ScoringException e = scoringFailure(() -> scorer.score(row(1, 2, 3)));

            assertThat(e.getMessage()).contains("transform 'scale'", "cannot scale");
            assertThat(first.predictCalls).hasValue(1);
            assertThat(second.predictCalls).hasValue(0);
        }
    }
}
