package dev.nearline.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.Outcome;
import dev.nearline.api.ScoringException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The columnar {@code scoreAll} path (records written straight into rows of one batch, results read from
 * their rows) gives exactly the results and errors of scoring each record alone, and falls back to the
 * per-record path where it cannot prove the same answer.
 */
class ColumnarScoreAllTest {
    private static final PluginRegistry PLUGINS = PluginRegistry.discover();

    private static final String FRAUD = """
            {
              "preprocessor": {"type": "json-features", "fields": [
                  {"name": "amount"}, {"name": "hour", "default": 12},
                  {"name": "merchant", "categories": ["grocery", "travel"], "unknown": "error"}]},
              "steps": [{"name": "linear", "type": "fake-linear", "weights": [0.01, -0.02, 1, 2], "bias": 0.5}],
              "postprocessor": {"type": "score", "threshold": 1.0, "labels": ["ok", "fraud"]}
            }
            """;

    private static List<Object> records() {
        List<Object> r = new ArrayList<>();
        r.add(Map.of("amount", 10, "hour", 3, "merchant", "grocery"));
        r.add(Map.of("amount", "lots", "merchant", "travel"));                 // not a number
        r.add(Map.of("amount", 99.5, "merchant", "travel"));                   // default hour
        r.add("{\"amount\": 5, \"merchant\": \"casino\"}");                    // unknown category
        r.add("{\"hour\": 1, \"merchant\": \"grocery\"}");                     // missing field
        r.add(null);
        r.add("{\"amount\": 7.25, \"hour\": 23, \"merchant\": \"travel\"}");
        r.add("{\"amount\": 1} {\"amount\": 2}");                               // content after the object
        return r;
    }

    private static FakeLinearModel lastModel() {
        FakeLinearModel m = null;
        for (FakeLinearModel x : FakeLinearModelProvider.CREATED) {
            m = x;
        }
        return m;
    }

    @Test
    void scoreAll_jsonPipeline_sameResultsAndMessagesAsScoringEachRecordInOneModelCall() {
        try (ManagedScorer<Object, Object> scorer = Pipeline.fromJson(FRAUD, Path.of("."), PLUGINS)) {
            FakeLinearModel model = lastModel();
            List<Object> records = records();
            List<Object> alone = new ArrayList<>();
            for (Object r : records) {
                try {
                    alone.add(scorer.score(r));
                } catch (ScoringException e) {
                    alone.add(e.kind() + ": " + e.getMessage());
                }
            }
            int predictsBefore = model.predictCalls.get();

            List<Outcome<Object>> all = scorer.scoreAll(records);

            assertThat(model.predictCalls.get() - predictsBefore).as("one model call for the whole batch").isEqualTo(1);
            assertThat(model.batchCalls).as("no per-record tensors").hasValue(0);
            for (int i = 0; i < records.size(); i++) {
                Outcome<Object> o = all.get(i);
                Object got = o.isSuccess() ? o.get() : o.error().kind() + ": " + o.error().getMessage();
                assertThat(got).as("record %d", i).isEqualTo(alone.get(i));
            }
        }
    }

    @Test
    void scoreAll_tensorsRecordsOfSeveralRows_scoredAloneAsScoreDoes() {
        String json = """
                {"preprocessor": {"type": "tensors"},
                 "steps": [{"name": "linear", "type": "fake-linear", "weights": [1, 2], "bias": 0}],
                 "postprocessor": {"type": "score"}}
                """;
        try (ManagedScorer<Object, Object> scorer = Pipeline.fromJson(json, Path.of("."), PLUGINS)) {
            List<Object> records = List.of(
                    "{\"inputs\": [{\"name\": \"input\", \"datatype\": \"FP32\", \"shape\": [1, 2], \"data\": [1, 2]}]}",
                    "{\"inputs\": [{\"name\": \"input\", \"datatype\": \"FP32\", \"shape\": [2, 2], \"data\": [1, 2, 3, 4]}]}",
                    "{\"inputs\": [{\"name\": \"input\", \"datatype\": \"FP64\", \"shape\": [1, 2], \"data\": [1, 2]}]}",
                    "{\"inputs\": [{\"name\": \"other\", \"datatype\": \"FP32\", \"shape\": [1, 2], \"data\": [1, 2]}]}",
                    "{\"inputs\": [{\"name\": \"input\", \"datatype\": \"FP32\", \"shape\": [1, 2], \"data\": [5, 6]}]}");
            List<Outcome<Object>> all = scorer.scoreAll(records);
            for (int i = 0; i < records.size(); i++) {
                Object alone;
                try {
                    alone = scorer.score(records.get(i));
                } catch (ScoringException e) {
                    alone = e.kind();
                }
                Outcome<Object> o = all.get(i);
                assertThat(o.isSuccess() ? o.get() : o.error().kind()).as("record %d", i).isEqualTo(alone);
            }
            assertThat(all.get(1).get()).as("a two-row record is scored as score() does").isEqualTo(Map.of("score", 11.0));
        }
    }

    @Test
    void scoreAll_batchedCallFails_fallsBackSoOnlyThePoisonedRecordFails() {
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(Stages.floats("input", 3))
                .model(Fixtures.linear()).build(Stages.floatAt("score", 0))) {
            float[] poisoned = {FakeLinearModel.POISON, 0, 0};
            List<Outcome<Float>> all = scorer.scoreAll(List.of(Fixtures.row(1, 2, 3), poisoned, Fixtures.row(3, 2, 1)));

            assertThat(all.get(0).get()).isEqualTo(Fixtures.linear().expected(Fixtures.row(1, 2, 3)));
            assertThat(all.get(1).error().kind()).isEqualTo(ScoringException.Kind.INTERNAL);
            assertThat(all.get(2).get()).isEqualTo(Fixtures.linear().expected(Fixtures.row(3, 2, 1)));
        }
    }

    @Test
    void scoreAll_floatStages_columnarResultsEqualScore() {
        FakeLinearModel model = Fixtures.linear();
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(Stages.floats("input", 3)).model(model)
                .build(Stages.floatAt("score", 0))) {
            List<float[]> records = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                records.add(Fixtures.row(i, -i * 0.5f, i % 7));
            }
            records.add(Fixtures.row(1, 2)); // wrong length

            List<Outcome<Float>> all = scorer.scoreAll(records);

            assertThat(model.predictCalls).as("one call for 50 rows").hasValue(1);
            for (int i = 0; i < 50; i++) {
                assertThat(all.get(i).get()).isEqualTo(scorer.score(records.get(i)));
            }
            assertThat(all.get(50).error().getMessage()).contains("record has 2 values, expected 3");
        }
    }

    @Test
    void scoreAll_floatAtIndexOutsideTheRow_everyRecordFailsWithTheRowMessageAndOtherBatchesStillScore() {
        FakeLinearModel model = Fixtures.linear();
        try (ManagedScorer<float[], Float> outside = Pipeline.builder(Stages.floats("input", 3)).model(model)
                .build(Stages.floatAt("score", 1))) {
            List<Outcome<Float>> all = outside.scoreAll(List.of(Fixtures.row(1, 2, 3), Fixtures.row(3, 2, 1)));

            assertThat(model.predictCalls).as("the rows ran once").hasValue(1);
            for (Outcome<Float> o : all) {
                assertThat(o.error().kind()).isEqualTo(ScoringException.Kind.INTERNAL);
                assertThat(o.error()).hasStackTraceContaining("index 1 is outside one row of output 'score'");
            }
        }
    }

    @Test
    void scoreAll_bulkReaderLeavesARowOut_everyRowReadAgainOneByOne() {
        RowPostprocessorWithGap post = new RowPostprocessorWithGap();
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(Stages.floats("input", 3))
                .model(Fixtures.linear()).build(post)) {
            List<float[]> records = List.of(Fixtures.row(1, 2, 3), Fixtures.row(3, 2, 1), Fixtures.row(0, 0, 1));

            List<Outcome<Float>> all = scorer.scoreAll(records);

            assertThat(post.bulkCalls).as("the bulk read was tried").isEqualTo(1);
            for (int i = 0; i < records.size(); i++) {
                assertThat(all.get(i).get()).isEqualTo(Fixtures.linear().expected(records.get(i)));
            }
        }
    }

    @Test
    void scoreAll_withADeadline_readsRowByRowAndGivesTheSameResults() {
        RowPostprocessorWithGap post = new RowPostprocessorWithGap();
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(Stages.floats("input", 3))
                .model(Fixtures.linear()).build(post)) {
            List<float[]> records = List.of(Fixtures.row(1, 2, 3), Fixtures.row(3, 2, 1));

            List<Outcome<Float>> all = scorer.scoreAll(records, java.time.Duration.ofMinutes(5));

            assertThat(post.bulkCalls).as("a deadline is checked per row").isZero();
            assertThat(all.get(1).get()).isEqualTo(Fixtures.linear().expected(records.get(1)));
        }
    }

    /** A bulk reader (as the ready-made stages are) that forgets the second row: the engine must not trust it. */
    private static final class RowPostprocessorWithGap
            implements dev.nearline.api.RowPostprocessor<Float>, dev.nearline.core.internal.RowsReader {
        private final dev.nearline.api.RowPostprocessor<Float> rows = Stages.floatAt("score", 0);
        int bulkCalls;

        @Override
        public Float postprocess(dev.nearline.api.Tensors outputs) {
            return rows.postprocess(outputs);
        }

        @Override
        public Float postprocessRow(dev.nearline.api.Tensors batchOutputs, int row) {
            return rows.postprocessRow(batchOutputs, row);
        }

        @Override
        public void postprocessRows(dev.nearline.api.Tensors batchOutputs, int n, int[] index, Object[] results) {
            bulkCalls++;
            for (int r = 0; r < n; r++) {
                results[index[r]] = r == 1 ? null : rows.postprocessRow(batchOutputs, r);
            }
        }
    }

    @Test
    void scoreAll_withDriftMonitor_takesThePerRecordPath() {
        FakeLinearModel model = Fixtures.linear();
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(Stages.floats("input", 3)).model(model)
                .monitor(DriftMonitor.builder().window(10).build()).build(Stages.floatAt("score", 0))) {
            scorer.scoreAll(List.of(Fixtures.row(1, 2, 3), Fixtures.row(3, 2, 1)));

            assertThat(model.batchCalls).as("per-record tensors, one batched call").hasValue(1);
            assertThat(model.predictCalls).hasValue(0);
        }
    }

    @Test
    void scoreAsync_microBatchedRows_sameResultsAsScoreAndBadRecordsFailAlone() {
        FakeLinearModel model = Fixtures.linear();
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(Stages.floats("input", 3)).model(model)
                .batching(16, java.time.Duration.ofMillis(2), Pipeline.BatchMode.NEVER)
                .build(Stages.floatAt("score", 0))) {
            List<float[]> records = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                records.add(i % 50 == 7 ? Fixtures.row(1, 2) : i % 50 == 9 ? null
                        : i % 50 == 11 ? Fixtures.row(FakeLinearModel.POISON, 0, 0) : Fixtures.row(i, -i, i % 5));
            }
            List<java.util.concurrent.CompletableFuture<Float>> futures = new ArrayList<>();
            for (float[] r : records) {
                futures.add(scorer.scoreAsync(r));
            }
            for (int i = 0; i < records.size(); i++) {
                float[] r = records.get(i);
                if (r == null || r.length != 3) {
                    assertThat(Fixtures.failureOf(futures.get(i)).kind()).as("record %d", i)
                            .isEqualTo(ScoringException.Kind.INVALID_INPUT);
                } else if (r[0] == FakeLinearModel.POISON) {
                    assertThat(Fixtures.failureOf(futures.get(i)).kind()).as("record %d", i)
                            .isEqualTo(ScoringException.Kind.INTERNAL);
                } else {
                    assertThat(Fixtures.valueOf(futures.get(i))).as("record %d", i).isEqualTo(model.expected(r));
                }
            }
            assertThat(model.batchCalls).as("no per-record tensors").hasValue(0);
            AdmissionTest.await("every count given back", () -> scorer.inFlight() == 0);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * A model whose row batches answer with more rows than records: a synchronous score cannot read its row from
     * that, so the record takes the per-record path, and no later record tries a row of one (each would run the
     * model twice).
     */
    @Test
    void score_rowBatchOutputsNotOneRowPerRecord_perRecordAnswersAndRowsTriedOnce() {
        java.util.concurrent.atomic.AtomicInteger rowBatches = new java.util.concurrent.atomic.AtomicInteger();
        FakeModel model = new FakeModel() {
            @Override
            public dev.nearline.api.ModelSignature signature() {
                return new dev.nearline.api.ModelSignature(
                        List.of(dev.nearline.api.TensorSpec.of("x", dev.nearline.api.DataType.FP32, -1, 2)),
                        List.of(dev.nearline.api.TensorSpec.of("y", dev.nearline.api.DataType.FP32, -1, 1)));
            }

            @Override
            protected dev.nearline.api.Tensors compute(dev.nearline.api.Tensors inputs) {
                dev.nearline.api.Tensor x = inputs.require("x");
                return dev.nearline.api.Tensors.of("y",
                        dev.nearline.api.Tensor.ofFloats(new float[] {x.floatAt(0) + x.floatAt(1)}, 1, 1));
            }

            @Override
            public dev.nearline.api.RowBatch newRowBatch(int capacity) {
                rowBatches.incrementAndGet();
                java.nio.FloatBuffer in = java.nio.FloatBuffer.allocate(2 * capacity);
                dev.nearline.api.internal.BufferRows writer = new dev.nearline.api.internal.BufferRows(
                        new String[] {"x"}, new dev.nearline.api.DataType[] {dev.nearline.api.DataType.FP32},
                        new int[] {2}, new java.nio.Buffer[] {in});
                return new dev.nearline.api.RowBatch() {
                    @Override
                    public int capacity() {
                        return capacity;
                    }

                    @Override
                    public dev.nearline.api.RowWriter row(int row) {
                        writer.select(row);
                        return writer;
                    }

                    @Override
                    public dev.nearline.api.Tensors run(int rows, java.time.Duration timeout) {
                        return dev.nearline.api.Tensors.of("y", dev.nearline.api.Tensor.ofFloats(
                                new float[rows + 1], rows + 1, 1)); // one row too many, all zeros
                    }

                    @Override
                    public void close() {
                    }
                };
            }
        };
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(Stages.floats("x", 2)).model(model)
                .build(Stages.floatAt("y", 0))) {
            for (int i = 1; i <= 5; i++) {
                assertThat(scorer.score(new float[] {i, 10})).as("record %d", i).isEqualTo(i + 10f);
            }
        }
        assertThat(rowBatches.get()).as("rows of one tried once").isEqualTo(1);
    }
}
