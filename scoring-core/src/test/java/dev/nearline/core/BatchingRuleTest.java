package dev.nearline.core;

import static dev.nearline.core.Fixtures.ROW;
import static dev.nearline.core.Fixtures.SCORE;
import static dev.nearline.core.Fixtures.row;
import static dev.nearline.core.Fixtures.valueOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.Batching;
import dev.nearline.api.Outcome;
import dev.nearline.api.Scorer;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The batching rule: records share a model call only where the model declares a batch axis, or a probe
 * showed batched answers equal single ones. A sequence model that declares nothing must never get a batched
 * (silently wrong) answer through {@code scoreAll} or the micro-batcher.
 */
@ExtendWith(ModelLeakChecker.class)
class BatchingRuleTest {
    private static Pipeline.Builder<float[]> pairs() {
        return Pipeline.builder((float[] r) -> Tensors.of("input", Tensor.ofFloats(r, 1, 2)));
    }

    private static float[] first(Tensors out) {
        return out.require("sum").toFloatArray();
    }

    private static List<float[]> distinctPairs(int n) {
        List<float[]> records = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            records.add(new float[] {i + 1, 10 * (i + 1)});
        }
        return records;
    }

    /** A linear model that batches correctly but does not say so. */
    private static FakeLinearModel undeclaredLinear() {
        return new FakeLinearModel(Fixtures.WEIGHTS, Fixtures.BIAS) {
            @Override
            public Batching batching() {
                return Batching.undeclared();
            }
        };
    }

    @Test
    void scoreAll_undeclaredSequenceModel_answersEqualSinglesAndBatchingTurnsOff() {
        FakeSequenceModel model = new FakeSequenceModel();
        try (Scorer<float[], float[]> scorer = pairs().model(model).build(BatchingRuleTest::first)) {
            List<float[]> records = distinctPairs(5);

            List<Outcome<float[]>> first = scorer.scoreAll(records);
            List<Outcome<float[]>> second = scorer.scoreAll(records);

            for (int i = 0; i < records.size(); i++) {
                // alone, a one-row sequence's running sum is the row itself
                assertThat(first.get(i).get()).as("record %d", i).containsExactly(records.get(i));
                assertThat(second.get(i).get()).as("record %d", i).containsExactly(records.get(i));
            }
            assertThat(model.batchCalls).as("only the probe's batched call").hasValue(1);
            assertThat(model.predictCalls).hasValue(10);
        }
    }

    @Test
    void scoreAll_undeclaredRowModel_probeProvesItThenBatches() {
        FakeLinearModel model = undeclaredLinear();
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).build(SCORE)) {
            List<float[]> records = List.of(row(1, 2, 3), row(4, 5, 6), row(7, 8, 9));

            List<Outcome<Float>> probed = scorer.scoreAll(records);
            int singlesAfterProbe = model.predictCalls.get();
            List<Outcome<Float>> batched = scorer.scoreAll(records);

            assertThat(singlesAfterProbe).isEqualTo(3);
            assertThat(model.predictCalls).as("no single call once proven").hasValue(3);
            assertThat(model.batchCalls).hasValue(2);
            for (int i = 0; i < 3; i++) {
                assertThat(probed.get(i).get()).isEqualTo(model.expected(records.get(i)));
                assertThat(batched.get(i).get()).isEqualTo(model.expected(records.get(i)));
            }
        }
    }

    /**
     * The sequence model with a backend that, like ONNX Runtime's, combines only records of the same length and
     * otherwise falls back to one call per record inside {@code predictBatch}.
     */
    static final class SameLengthSequenceModel extends FakeSequenceModel {
        private static boolean sameLength(List<Tensors> batch) {
            long rows = batch.get(0).require("input").dim(0);
            return batch.stream().allMatch(t -> t.require("input").dim(0) == rows);
        }

        @Override
        public List<Tensors> predictBatch(List<Tensors> batch) {
            if (sameLength(batch)) {
                return super.predictBatch(batch);
            }
            List<Tensors> out = new ArrayList<>();
            for (Tensors t : batch) {
                out.add(predict(t));
            }
            return out;
        }

        @Override
        public List<Tensors> predictCombined(List<Tensors> batch, Duration timeout) {
            return sameLength(batch) ? super.predictBatch(batch) : null;
        }
    }

    @Test
    void scoreAll_probeBatchTheModelWouldNotCombine_provesNothingAndALaterCombinableBatchIsProbedAgain() {
        SameLengthSequenceModel model = new SameLengthSequenceModel();
        try (Scorer<float[], float[]> scorer = Pipeline
                .builder((float[] r) -> Tensors.of("input", Tensor.ofFloats(r, r.length / 2, 2)))
                .model(model).build(BatchingRuleTest::first)) {
            // a one-row and a two-row record: the backend would run them one by one, which proves nothing
            List<Outcome<float[]>> uneven = scorer.scoreAll(List.of(new float[] {1, 2}, new float[] {3, 4, 5, 6}));
            assertThat(uneven.get(0).get()).containsExactly(1, 2);
            assertThat(uneven.get(1).get()).containsExactly(3, 4, 8, 10);

            // two one-row records: combined, they would be one sequence and the second would carry the first's sum
            List<Outcome<float[]>> even = scorer.scoreAll(List.of(new float[] {1, 2}, new float[] {3, 4}));
            List<Outcome<float[]>> again = scorer.scoreAll(List.of(new float[] {1, 2}, new float[] {3, 4}));

            assertThat(even.get(1).get()).as("the record's own answer").containsExactly(3, 4);
            assertThat(again.get(1).get()).as("batching was turned off by the second probe").containsExactly(3, 4);
            assertThat(model.batchCalls).as("one combined call: the probe of the even batch").hasValue(1);
        }
    }

    @Test
    void scoreAll_recordTheModelRejectsInTheProbeBatch_isLeftOutAndTheOthersProveBatching() {
        FakeLinearModel model = undeclaredLinear();
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).build(SCORE)) {
            float[] poisoned = row(FakeLinearModel.POISON, 2, 3); // fails in the model, alone or batched
            List<Outcome<Float>> probed = scorer.scoreAll(List.of(row(1, 2, 3), poisoned, row(7, 8, 9)));
            assertThat(probed.get(0).get()).isEqualTo(model.expected(row(1, 2, 3)));
            assertThat(probed.get(1).isSuccess()).as("the rejected record fails alone").isFalse();
            assertThat(probed.get(2).get()).isEqualTo(model.expected(row(7, 8, 9)));
            int singles = model.predictCalls.get();

            List<Outcome<Float>> batched = scorer.scoreAll(List.of(row(4, 5, 6), row(3, 2, 1)));

            assertThat(batched.get(0).get()).isEqualTo(model.expected(row(4, 5, 6)));
            assertThat(batched.get(1).get()).isEqualTo(model.expected(row(3, 2, 1)));
            assertThat(model.predictCalls.get()).as("proven by the two good records: no single call now")
                    .isEqualTo(singles);
            assertThat(model.batchCalls).as("the probe over the good records, then one batched call").hasValue(2);
        }
    }

    @Test
    void scoreAll_identicalRecords_proveNothingAndRunOneByOne() {
        FakeLinearModel model = undeclaredLinear();
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).build(SCORE)) {
            List<Outcome<Float>> out = scorer.scoreAll(List.of(row(1, 2, 3), row(1, 2, 3), row(1, 2, 3)));

            assertThat(out).allMatch(Outcome::isSuccess);
            assertThat(model.batchCalls).hasValue(0);
            assertThat(model.predictCalls).hasValue(3);

            scorer.scoreAll(List.of(row(1, 2, 3), row(3, 2, 1)));
            assertThat(model.batchCalls).as("distinct records: the probe runs").hasValue(1);
        }
    }

    @Test
    void scoreAll_modelDeclaresNone_neverCallsPredictBatch() {
        FakeLinearModel model = new FakeLinearModel(Fixtures.WEIGHTS, Fixtures.BIAS) {
            @Override
            public Batching batching() {
                return Batching.none();
            }
        };
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).build(SCORE)) {
            List<Outcome<Float>> out = scorer.scoreAll(List.of(row(1, 2, 3), row(4, 5, 6)));

            assertThat(out).allMatch(Outcome::isSuccess);
            assertThat(model.batchCalls).hasValue(0);
            assertThat(model.predictCalls).hasValue(2);
        }
    }

    @Test
    void scoreAll_batchedCallKeepsFailingWhereSinglesWork_givesUpAfterThreeProbes() {
        FakeLinearModel model = new FakeLinearModel(Fixtures.WEIGHTS, Fixtures.BIAS) {
            @Override
            public Batching batching() {
                return Batching.undeclared();
            }

            @Override
            public List<Tensors> predictBatch(List<Tensors> batch) {
                batchCalls.incrementAndGet();
                throw new IllegalStateException("this backend cannot batch");
            }
        };
        try (Scorer<float[], Float> scorer = Pipeline.builder(ROW).model(model).build(SCORE)) {
            for (int i = 0; i < 5; i++) {
                assertThat(scorer.scoreAll(List.of(row(1, 2, 3), row(4, 5, i)))).allMatch(Outcome::isSuccess);
            }
            assertThat(model.batchCalls).hasValue(3);
        }
    }

    @Test
    void microBatcher_undeclaredSequenceModel_asyncAnswersEqualSingles() {
        FakeSequenceModel model = new FakeSequenceModel();
        try (Scorer<float[], float[]> scorer = pairs().model(model)
                .batching(16, Duration.ofMillis(20), Pipeline.BatchMode.ALWAYS).build(BatchingRuleTest::first)) {
            List<float[]> records = distinctPairs(200);
            List<CompletableFuture<float[]>> futures = new ArrayList<>();
            for (float[] r : records) {
                futures.add(scorer.scoreAsync(r));
            }
            for (int i = 0; i < records.size(); i++) {
                assertThat(valueOf(futures.get(i))).as("record %d", i).containsExactly(records.get(i));
            }
        }
    }

    @Test
    void batching_modelDeclaresNone_runsWithoutBatcherAndScores() {
        FakeLinearModel model = new FakeLinearModel(Fixtures.WEIGHTS, Fixtures.BIAS) {
            @Override
            public Batching batching() {
                return Batching.none();
            }
        };
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(ROW).model(model)
                .batching(8, Duration.ofMillis(1), Pipeline.BatchMode.ALWAYS).build(SCORE)) {
            assertThat(valueOf(scorer.scoreAsync(row(1, 2, 3)))).isEqualTo(model.expected(row(1, 2, 3)));
            assertThat(scorer.score(row(3, 2, 1))).isEqualTo(model.expected(row(3, 2, 1)));
            assertThat(model.batchCalls).hasValue(0);
        }
    }
}
