package dev.nearline.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.nearline.api.Batching;
import dev.nearline.api.DataType;
import dev.nearline.api.Outcome;
import dev.nearline.api.RowBatch;
import dev.nearline.api.RowPreprocessor;
import dev.nearline.api.RowWriter;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.core.ManagedScorer;
import dev.nearline.core.Pipeline;
import dev.nearline.core.Stages;
import dev.nearline.onnx.testing.DemoModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
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
}
