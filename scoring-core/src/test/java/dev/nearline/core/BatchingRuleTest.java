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
