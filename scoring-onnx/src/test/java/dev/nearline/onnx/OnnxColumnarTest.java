package dev.nearline.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.nearline.api.Batching;
import dev.nearline.api.DataType;
import dev.nearline.api.Outcome;
import dev.nearline.api.RowBatch;
import dev.nearline.api.RowPreprocessor;
import dev.nearline.api.RowWriter;
import dev.nearline.api.ScoringException;
import dev.nearline.api.ScoringListener;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.core.ManagedScorer;
import dev.nearline.core.Pipeline;
import dev.nearline.core.Stages;
import dev.nearline.onnx.testing.DemoModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The columnar path on ONNX Runtime: records written straight into the model's native batch buffers, one run,
 * results read from the (pinned) outputs in place, equal to scoring each record alone.
 */
class OnnxColumnarTest {
    private static final int FEATURES = 13;
    @TempDir
    Path dir;

    private static List<float[]> records(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] r = new float[FEATURES];
            for (int j = 0; j < FEATURES; j++) {
                r[j] = (float) random.nextDouble(-1, 1);
            }
            out.add(r);
        }
        return out;
    }

    @Test
    void scoreAll_floatStagesOnOnnx_equalScoreOfEachRecordOverManyBatches() {
        Path file = DemoModels.logistic(dir.resolve("lr.onnx"), FEATURES, 3);
        for (Batching declared : new Batching[] {Batching.undeclared(), Batching.alongAxis(0)}) {
            OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).batching(declared).build();
            String input = model.signature().inputs().get(0).name();
            String output = model.signature().outputs().get(0).name();
            try (ManagedScorer<float[], Float> scorer = Pipeline.builder(Stages.floats(input, FEATURES)).model(model)
                    .build(Stages.floatAt(output, 0))) {
                for (int round = 0; round < 5; round++) {
                    List<float[]> records = records(7 + 13 * round, round);
                    records.add(3, new float[2]); // a bad record in the middle
                    List<Outcome<Float>> all = scorer.scoreAll(records);
                    for (int i = 0; i < records.size(); i++) {
                        if (i == 3) {
                            assertThat(all.get(i).error().getMessage()).contains("record has 2 values, expected 13");
                            continue;
                        }
                        assertThat(all.get(i).get()).as("%s round %d record %d", declared, round, i)
                                .isCloseTo(scorer.score(records.get(i)), within(1e-6f));
                    }
                }
            }
        }
    }

    @Test
    void newRowBatch_rowsWrittenInPlace_runOnceAndReuseThePinnedOutputs() {
        Path file = DemoModels.logistic(dir.resolve("lr.onnx"), FEATURES, 5);
        try (OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).build()) {
            List<float[]> records = records(16, 9);
            for (int round = 0; round < 3; round++) {
                try (RowBatch batch = model.newRowBatch(16)) {
                    assertThat(batch).isNotNull();
                    for (int r = 0; r < 16; r++) {
                        RowWriter w = batch.row(r);
                        int in = w.input(model.signature().inputs().get(0).name());
                        for (int j = 0; j < FEATURES; j++) {
                            w.setFloat(in, j, records.get(r)[j]);
                        }
                    }
                    Tensors out = batch.run(16, null);
                    assertThat(out.get(0).dim(0)).isEqualTo(16);
                    for (int r = 0; r < 16; r++) {
                        Tensors alone = model.predict(Tensors.of(model.signature().inputs().get(0).name(),
                                dev.nearline.api.Tensor.ofFloats(records.get(r), 1, FEATURES)));
                        assertThat(out.get(0).floatAt(r)).as("round %d row %d", round, r)
                                .isCloseTo(alone.get(0).floatAt(0), within(1e-6f));
                    }
                }
            }
        }
    }

    /**
     * A row preprocessor that writes a one-hot record element by element: the rest of its row must read as zeros,
     * although the reused native buffers hold dense rows from earlier batches and a record that failed half-way
     * wrote into the same row just before.
     */
    @Test
    void scoreAll_sparseRowsAfterDenseAndFailedRecords_readZerosWhereNothingWasWritten() {
        Path file = DemoModels.logistic(dir.resolve("lr.onnx"), FEATURES, 7);
        OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).batching(Batching.alongAxis(0)).build();
        String input = model.signature().inputs().get(0).name();
        String output = model.signature().outputs().get(0).name();
        RowPreprocessor<Object> mixed = new RowPreprocessor<>() {
            @Override
            public Tensors preprocess(Object record) {
                float[] values = new float[FEATURES];
                if (record instanceof float[]) {
                    values = (float[]) record;
                } else if (record instanceof Integer) {
                    values[(Integer) record] = 1f;
                } else {
                    throw new IllegalArgumentException("bad record");
                }
                return Tensors.of(input, Tensor.ofFloats(values, 1, FEATURES));
            }

            @Override
            public List<TensorSpec> rowLayout() {
                return List.of(TensorSpec.of(input, DataType.FP32, 1, FEATURES));
            }

            @Override
            public void preprocessRow(Object record, RowWriter row) {
                int in = row.input(input);
                if (record instanceof float[]) {
                    row.setFloats(in, (float[]) record);
                } else if (record instanceof Integer) {
                    row.setFloat(in, (Integer) record, 1f);
                } else {
                    for (int j = 0; j < FEATURES; j += 2) {
                        row.setFloat(in, j, 9f); // half the row, then the record fails
                    }
                    throw new IllegalArgumentException("bad record");
                }
            }
        };
        try (ManagedScorer<Object, Float> scorer = Pipeline.builder(mixed).model(model)
                .build(Stages.floatAt(output, 0))) {
            for (int round = 0; round < 4; round++) {
                List<Object> dense = new ArrayList<>(records(24, round));
                for (Outcome<Float> o : scorer.scoreAll(dense)) {
                    assertThat(o.isSuccess()).isTrue();
                }
                List<Object> sparse = new ArrayList<>();
                for (int i = 0; i < 24; i++) {
                    sparse.add(i % 3 == 1 ? (Object) "bad" : (Object) ((i + round) % FEATURES));
                }
                List<Outcome<Float>> all = scorer.scoreAll(sparse);
                for (int i = 0; i < sparse.size(); i++) {
                    if (i % 3 == 1) {
                        assertThat(all.get(i).isSuccess()).isFalse();
                        continue;
                    }
                    assertThat(all.get(i).get()).as("round %d record %d", round, i)
                            .isCloseTo(scorer.score(sparse.get(i)), within(1e-6f));
                }
            }
        }
    }

    /** A pipeline of the ready-made row stages over {@code file}, and the same with lambdas (the per-record path). */
    private static ManagedScorer<float[], Float> rows(OnnxModel model) {
        String input = model.signature().inputs().get(0).name();
        String output = model.signature().outputs().get(0).name();
        return Pipeline.builder(Stages.floats(input, FEATURES)).model(model).build(Stages.floatAt(output, 0));
    }

    private static ManagedScorer<float[], Float> lambdas(OnnxModel model) {
        String input = model.signature().inputs().get(0).name();
        return Pipeline.builder((float[] r) -> Tensors.of(input, Tensor.ofFloats(r, 1, r.length))).model(model)
                .build(out -> out.get(0).floatAt(0));
    }

    @Test
    void score_rowStages_oneRowPerRecordEqualsThePerRecordPathAndFailsTheSameWay() {
        Path file = DemoModels.logistic(dir.resolve("lr.onnx"), FEATURES, 11);
        OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).build();
        try (ManagedScorer<float[], Float> rows = rows(model);
             ManagedScorer<float[], Float> reference = lambdas(OnnxModel.builder(file).intraOpThreads(1).build())) {
            List<float[]> records = records(200, 5);
            long before = model.rowBatches();
            for (float[] r : records) {
                assertThat(rows.score(r)).isEqualTo(reference.score(r));
            }
            assertThat(model.rowBatches() - before).as("every record on a row of one").isEqualTo(records.size());
            float[] shortRecord = new float[2];
            assertThatThrownBy(() -> rows.score(shortRecord)).isInstanceOfSatisfying(ScoringException.class, e -> {
                assertThat(e.kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT);
                assertThat(e.getMessage()).contains("record has 2 values, expected 13");
            });
            assertThatThrownBy(() -> rows.score(records.get(0), Duration.ZERO)) // passed at once: no timing
                    .isInstanceOfSatisfying(ScoringException.class,
                            e -> assertThat(e.kind()).isEqualTo(ScoringException.Kind.DEADLINE_EXCEEDED));
            assertThat(rows.score(records.get(0), Duration.ofSeconds(30))).isEqualTo(reference.score(records.get(0)));
        }
    }

    @Test
    void score_rowStagesWithListener_reportsEachRecordAndModelCallAsThePerRecordPathDoes() {
        Path file = DemoModels.logistic(dir.resolve("lr.onnx"), FEATURES, 12);
        OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).build();
        AtomicInteger scored = new AtomicInteger();
        AtomicInteger steps = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        AtomicInteger untimed = new AtomicInteger();
        AtomicInteger notOne = new AtomicInteger();
        ScoringListener listener = new ScoringListener() {
            @Override
            public void recordScored(String pipeline, long queueNanos, long inputNanos, long inferNanos,
                                     long outputNanos) {
                if (inferNanos < 0) {
                    untimed.incrementAndGet(); // asserted below: the engine swallows what a listener throws
                }
                scored.incrementAndGet();
            }

            @Override
            public void recordFailed(String pipeline, ScoringException.Kind kind, long totalNanos) {
                failed.incrementAndGet();
            }

            @Override
            public void stepCompleted(String pipeline, String step, int batchSize, long nanos) {
                if (batchSize != 1) {
                    notOne.incrementAndGet();
                }
                steps.incrementAndGet();
            }
        };
        String input = model.signature().inputs().get(0).name();
        String output = model.signature().outputs().get(0).name();
        try (ManagedScorer<float[], Float> scorer = Pipeline.builder(Stages.floats(input, FEATURES)).model(model)
                .listener(listener).build(Stages.floatAt(output, 0))) {
            long before = model.rowBatches();
            for (float[] r : records(50, 6)) {
                scorer.score(r);
            }
            assertThatThrownBy(() -> scorer.score(new float[1])).isInstanceOf(ScoringException.class);
            assertThat(model.rowBatches() - before).isEqualTo(51);
            assertThat(scored.get()).isEqualTo(50);
            assertThat(steps.get()).isEqualTo(50);
            assertThat(failed.get()).isEqualTo(1);
            assertThat(untimed.get()).as("records reported without their model time").isZero();
            assertThat(notOne.get()).as("model calls reported with a batch size other than 1").isZero();
        }
    }

    /**
     * Many threads scoring on rows of one while others run scoreAll over the same model: the row batches and
     * their buffers are reused across calls (kept by the leases), and no record may see another's row.
     */
    @Test
    void score_manyThreadsOnRowsOfOneWithScoreAllBetween_everyResultIsItsRecords() throws Exception {
        Path file = DemoModels.logistic(dir.resolve("lr.onnx"), FEATURES, 13);
        OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).batching(Batching.alongAxis(0)).build();
        List<float[]> records = records(64, 7);
        List<Float> expected = new ArrayList<>();
        try (ManagedScorer<float[], Float> reference = lambdas(OnnxModel.builder(file).intraOpThreads(1).build())) {
            for (float[] r : records) {
                expected.add(reference.score(r));
            }
        }
        int threads = 8;
        int perThread = 2_000;
        AtomicInteger checked = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (ManagedScorer<float[], Float> scorer = rows(model)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = t;
                done.add(pool.submit(() -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    for (int i = 0; i < perThread; i++) {
                        int k = random.nextInt(records.size());
                        if (i % 100 == 99) {
                            List<Outcome<Float>> all = scorer.scoreAll(records.subList(0, 1 + k % 40));
                            for (int j = 0; j < all.size(); j++) {
                                assertThat(all.get(j).get()).isCloseTo(expected.get(j), within(1e-6f));
                            }
                        }
                        assertThat(scorer.score(records.get(k))).isEqualTo(expected.get(k));
                        checked.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(2, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(checked.get()).isEqualTo(threads * perThread);
    }

    /**
     * With micro-batching on, a synchronous record the policy keeps inline ({@code NEVER}: all of them) is scored
     * on a row of one, and one that joins a batch ({@code ALWAYS}) takes the batcher's tensors path; both give the
     * per-record answers.
     */
    @Test
    void score_microBatchingOn_inlineRecordsOnRowsOfOneBatchedRecordsInTheBatcher() {
        Path file = DemoModels.logistic(dir.resolve("lr.onnx"), FEATURES, 14);
        List<float[]> records = records(40, 8);
        List<Float> expected = new ArrayList<>();
        try (ManagedScorer<float[], Float> reference = lambdas(OnnxModel.builder(file).intraOpThreads(1).build())) {
            for (float[] r : records) {
                expected.add(reference.score(r));
            }
        }
        for (Pipeline.BatchMode mode : new Pipeline.BatchMode[] {Pipeline.BatchMode.NEVER, Pipeline.BatchMode.ALWAYS}) {
            OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).batching(Batching.alongAxis(0)).build();
            String input = model.signature().inputs().get(0).name();
            String output = model.signature().outputs().get(0).name();
            try (ManagedScorer<float[], Float> scorer = Pipeline.builder(Stages.floats(input, FEATURES)).model(model)
                    .batching(8, Duration.ZERO, mode).build(Stages.floatAt(output, 0))) {
                long before = model.rowBatches();
                for (int i = 0; i < records.size(); i++) {
                    assertThat(scorer.score(records.get(i))).as("%s record %d", mode, i).isEqualTo(expected.get(i));
                }
                long rowsOfOne = model.rowBatches() - before;
                if (mode == Pipeline.BatchMode.NEVER) {
                    assertThat(rowsOfOne).as("inline records on rows of one").isEqualTo(records.size());
                } else {
                    // a synchronous record that joins a batch is preprocessed on its caller's thread into tensors
                    assertThat(rowsOfOne).as("no row batches for records that join the batcher").isZero();
                }
            }
        }
    }
}
