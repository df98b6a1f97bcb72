package dev.nearline.core;

import static dev.nearline.core.Fixtures.ROW;
import static dev.nearline.core.Fixtures.SCORE;
import static dev.nearline.core.Fixtures.linear;
import static dev.nearline.core.Fixtures.row;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.DataType;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.Outcome;
import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(ModelLeakChecker.class)
class ScoreAllTest {

    private static List<float[]> tenRecords() {
        List<float[]> records = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            records.add(row(i, i * 0.5f, -i));
        }
        return records;
    }

    @Test
    void scoreAll_validRecords_equalPerRecordScoresWithOneBatchedCall() {
        FakeLinearModel model = linear();
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).build(SCORE)) {
            List<float[]> records = tenRecords();

            List<Outcome<Float>> outcomes = scorer.scoreAll(records);

            assertThat(model.batchCalls).hasValue(1);
            assertThat(model.batchSizes).containsExactly(10);
            assertThat(model.predictCalls).hasValue(0);
            assertThat(outcomes).hasSize(10).allMatch(Outcome::isSuccess);
            for (int i = 0; i < 10; i++) {
                assertThat(outcomes.get(i).get()).as("record %d", i).isEqualTo(scorer.score(records.get(i)));
            }
        }
    }

    @Test
    void scoreAll_oneInvalidRecord_failsAloneAndOthersShareOneBatch() {
        FakeLinearModel model = linear();
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model("fraud", model).build(SCORE)) {
            List<float[]> records = tenRecords();
            records.set(3, row(1, 2)); // wrong width

            List<Outcome<Float>> outcomes = scorer.scoreAll(records);

            assertThat(outcomes.get(3).isSuccess()).isFalse();
            assertThat(outcomes.get(3).error().kind()).isEqualTo(Kind.INVALID_INPUT);
            assertThat(outcomes.get(3).error().getMessage()).contains("step 'fraud'", "[1, 2]");
            for (int i = 0; i < 10; i++) {
                if (i != 3) {
                    assertThat(outcomes.get(i).get()).as("record %d", i).isEqualTo(model.expected(records.get(i)));
                }
            }
            assertThat(model.batchCalls).hasValue(1);
            assertThat(model.batchSizes).containsExactly(9);
            assertThat(model.predictCalls).hasValue(0);
        }
    }

    @Test
    void scoreAll_nullRecord_failsAloneWithInvalidInput() {
        FakeLinearModel model = linear();
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).build(SCORE)) {
            List<Outcome<Float>> outcomes = scorer.scoreAll(Arrays.asList(row(1, 2, 3), null, row(4, 5, 6)));

            assertThat(outcomes.get(1).error().kind()).isEqualTo(Kind.INVALID_INPUT);
            assertThat(outcomes.get(0).get()).isEqualTo(model.expected(row(1, 2, 3)));
            assertThat(outcomes.get(2).get()).isEqualTo(model.expected(row(4, 5, 6)));
        }
    }

    @Test
    void scoreAll_predictBatchThrows_fallsBackPerRecordAndIsolatesFailure() {
        FakeLinearModel model = linear();
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).build(SCORE)) {
            List<float[]> records = tenRecords();
            records.set(4, row(FakeLinearModel.POISON, 0, 0));

            List<Outcome<Float>> outcomes = scorer.scoreAll(records);

            assertThat(model.batchCalls).hasValue(1);
            assertThat(model.predictCalls).as("one by one after the failed batch").hasValue(10);
            assertThat(outcomes.get(4).error().kind()).isEqualTo(Kind.INTERNAL);
            assertThat(outcomes.get(4).error().getMessage()).contains("poisoned row");
            for (int i = 0; i < 10; i++) {
                if (i != 4) {
                    assertThat(outcomes.get(i).get()).as("record %d", i).isEqualTo(model.expected(records.get(i)));
                }
            }
        }
    }

    @Test
    void scoreAll_predictBatchReturnsWrongCount_fallsBackPerRecord() {
        FakeLinearModel model = new FakeLinearModel(Fixtures.WEIGHTS, Fixtures.BIAS) {
            @Override
            public List<Tensors> predictBatch(List<Tensors> batch) {
                batchCalls.incrementAndGet();
                return List.of();
            }
        };
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).build(SCORE)) {
            List<Outcome<Float>> outcomes = scorer.scoreAll(List.of(row(1, 1, 1), row(2, 2, 2)));

            assertThat(outcomes).extracting(Outcome::get)
                    .containsExactly(model.expected(row(1, 1, 1)), model.expected(row(2, 2, 2)));
            assertThat(model.predictCalls).hasValue(2);
        }
    }

    @Test
    void scoreAll_predictBatchReturnsNullElement_failsThatRecordWithInternalOnly() {
        FakeLinearModel first = new FakeLinearModel(Fixtures.WEIGHTS, Fixtures.BIAS) {
            @Override
            public List<Tensors> predictBatch(List<Tensors> batch) {
                List<Tensors> out = new ArrayList<>(super.predictBatch(batch));
                out.set(1, null);
                return out;
            }
        };
        FakeLinearModel second = new FakeLinearModel("score", "final", new float[] {2}, 0);
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(first).model(second)
                .build(out -> out.require("final").floatAt(0))) {
            List<Outcome<Float>> outcomes = scorer.scoreAll(List.of(row(1, 1, 1), row(2, 2, 2), row(3, 3, 3)));

            assertThat(outcomes.get(1).error().kind()).isEqualTo(Kind.INTERNAL);
            assertThat(outcomes.get(0).get()).isEqualTo(2 * first.expected(row(1, 1, 1)));
            assertThat(outcomes.get(2).get()).isEqualTo(2 * first.expected(row(3, 3, 3)));
        }
    }

    @Test
    void scoreAll_emptyList_returnsEmptyWithoutModelCalls() {
        FakeLinearModel model = linear();
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).build(SCORE)) {
            assertThat(scorer.scoreAll(List.of())).isEmpty();
            assertThat(model.predictCalls.get() + model.batchCalls.get()).isZero();
        }
    }

    @Test
    void scoreAll_oneRecord_usesPredict() {
        FakeLinearModel model = linear();
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).build(SCORE)) {
            assertThat(scorer.scoreAll(List.of(row(1, 2, 3)))).extracting(Outcome::get)
                    .containsExactly(model.expected(row(1, 2, 3)));
            assertThat(model.predictCalls).hasValue(1);
            assertThat(model.batchCalls).hasValue(0);
        }
    }

    /** A model whose inputs are bound to differently named tensors, in swapped order; the one-by-one path must not bind twice. */
    @Test
    void scoreAll_boundMultiInputModelScoredOneByOne_receivesCorrectTensors() {
        RecordingModel model = new RecordingModel(new ModelSignature(
                List.of(TensorSpec.of("a", DataType.FP32, 1), TensorSpec.of("b", DataType.FP32, 1)),
                List.of(TensorSpec.of("diff", DataType.FP32, 1))),
                in -> Tensors.of("diff", Tensor.ofFloats(
                        new float[] {in.require("a").floatAt(0) - in.require("b").floatAt(0)}, 1)));
        try (Scorer<float[], Float> scorer = Pipeline.<float[]>builder(r -> Tensors.of(
                        "x", Tensor.ofFloats(new float[] {r[0]}, 1), "y", Tensor.ofFloats(new float[] {r[1]}, 1)))
                .model("m", model, Map.of("a", "y", "b", "x"))
                .build(out -> out.require("diff").floatAt(0))) {
            assertThat(scorer.score(row(10, 3))).isEqualTo(-7f);

            assertThat(scorer.scoreAll(List.of(row(10, 3)))).extracting(Outcome::get).containsExactly(-7f);
            assertThat(scorer.scoreAll(List.of(row(10, 3), row(1, 5)))).extracting(Outcome::get).containsExactly(-7f, 4f);
        }
    }

    @Test
    void scoreAll_chainWithTransform_equalsPerRecordScores() {
        FakeLinearModel first = linear();
        FakeLinearModel second = new FakeLinearModel("scaled", "final", new float[] {1}, 1);
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(first)
                .transform("scale", t -> Tensors.of("scaled", Tensor.ofFloats(
                        new float[] {t.require("score").floatAt(0) * 3}, 1, 1)))
                .model(second).build(out -> out.require("final").floatAt(0))) {
            List<float[]> records = tenRecords();

            List<Outcome<Float>> outcomes = scorer.scoreAll(records);

            for (int i = 0; i < records.size(); i++) {
                assertThat(outcomes.get(i).get()).isEqualTo(scorer.score(records.get(i)));
            }
            assertThat(first.batchCalls).hasValue(1);
            assertThat(second.batchCalls).hasValue(1);
        }
    }

    @Test
    void scoreAll_postprocessorFailsForOneRecord_onlyThatRecordFails() {
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(linear()).build(out -> {
            float s = out.require("score").floatAt(0);
            if (s < 0) {
                throw new IllegalStateException("negative score");
            }
            return s;
        })) {
            List<Outcome<Float>> outcomes = scorer.scoreAll(List.of(row(10, 0, 0), row(-10, 0, 0), row(0, 0, 1)));

            assertThat(outcomes).extracting(Outcome::isSuccess).containsExactly(true, false, true);
            assertThat(outcomes.get(1).error().kind()).isEqualTo(Kind.INTERNAL);
        }
    }
}
