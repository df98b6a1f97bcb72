package dev.nearline.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.nearline.api.DataType;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.onnx.testing.DemoModels;
import dev.nearline.onnx.testing.OnnxModelWriter;
import dev.nearline.onnx.testing.SharedModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@link OnnxModel#predictBatch} gives what {@link OnnxModel#predict} gives per record. */
@ExtendWith(ModelLeakCheck.class)
class OnnxModelBatchTest {
    @TempDir
    Path dir;

    @Test
    void predictBatch_logistic_equalsPerRecordPredict() {
        int features = 30;
        try (OnnxModel model = OnnxModel.builder(DemoModels.logistic(dir.resolve("tiny.onnx"), features, 5))
                .intraOpThreads(1).build()) {
            List<Tensors> batch = new ArrayList<>();
            for (int r = 0; r < 7; r++) {
                int rows = 1 + r % 3;
                float[] x = new float[rows * features];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) Math.cos(r * 13 + i);
                }
                batch.add(Tensors.of("input", Tensor.ofFloats(x, rows, features)));
            }

            // first pass before any single call (outputs not yet confirmed), second with pinned outputs
            for (int pass = 0; pass < 2; pass++) {
                List<Tensors> batched = model.predictBatch(batch);

                assertThat(batched).hasSize(batch.size());
                for (int r = 0; r < batch.size(); r++) {
                    Tensor expected = model.predict(batch.get(r)).require("score");
                    Tensor actual = batched.get(r).require("score");
                    assertThat(actual.shape()).isEqualTo(expected.shape());
                    for (int i = 0; i < expected.size(); i++) {
                        assertThat(actual.floatAt(i)).isCloseTo(expected.floatAt(i), within(1e-6f));
                    }
                }
            }
            assertThat(model.slotPool()).isNotNull();
            assertThat(model.slotPool().pinned()).isTrue();
        }
    }

    @Test
    void predictBatch_zipMapModel_splitsProbabilitiesAndSharesKeys() {
        Path file = SharedModels.modelFile(SharedModels.folder("go_sklearn_randomforest"));
        try (OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).build()) {
            assertThat(model.signature().outputs()).containsExactly(
                    TensorSpec.of("output_label", DataType.INT64, -1),
                    TensorSpec.of("output_probability", DataType.FP32, -1, -1),
                    TensorSpec.of("output_probability.keys", DataType.INT64, -1));
            List<Tensors> batch = List.of(
                    Tensors.of("X", Tensor.ofFloats(new float[] {5.1f, 3.5f, 1.4f, 0.2f}, 1, 4)),
                    Tensors.of("X", Tensor.ofFloats(new float[] {6.2f, 2.9f, 4.3f, 1.3f, 7.7f, 3.0f, 6.1f, 2.3f}, 2, 4)));

            List<Tensors> batched = model.predictBatch(batch);

            for (int r = 0; r < batch.size(); r++) {
                Tensors single = model.predict(batch.get(r));
                assertThat(batched.get(r).names()).containsExactlyElementsOf(single.names());
                assertThat(batched.get(r).require("output_label")).isEqualTo(single.require("output_label"));
                assertThat(batched.get(r).require("output_probability.keys")).isEqualTo(Tensor.ofLongs(new long[] {0, 1, 2}, 3));
                Tensor p = batched.get(r).require("output_probability");
                assertThat(p.shape()).containsExactly(batch.get(r).require("X").dim(0), 3);
                assertThat(p.toFloatArray()).containsExactly(single.require("output_probability").toFloatArray(), within(1e-6f));
            }
        }
    }

    @Test
    void predictBatch_outputNotPerRow_fallsBackToPerRecordCalls() {
        Path file = dir.resolve("sum.onnx");
        OnnxModelTypesTest.write(file, new OnnxModelWriter("sum")
                .input("x", OnnxModelWriter.FLOAT, -1, 3)
                .output("total", OnnxModelWriter.FLOAT, 1, 1)
                .node("ReduceSum", new String[] {"x"}, new String[] {"total"}));
        try (OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).build()) {
            Tensors a = Tensors.of("x", Tensor.ofFloats(new float[] {1, 2, 3}, 1, 3));
            Tensors b = Tensors.of("x", Tensor.ofFloats(new float[] {10, 20, 30}, 1, 3));

            List<Tensors> out = model.predictBatch(List.of(a, b));

            assertThat(out.get(0).require("total").toFloatArray()).containsExactly(6f);
            assertThat(out.get(1).require("total").toFloatArray()).containsExactly(60f);
        }
    }

    @Test
    void predictBatch_recordsOfDifferentWidths_fallBackToPerRecordCalls() {
        Path file = dir.resolve("identity.onnx");
        OnnxModelTypesTest.write(file, new OnnxModelWriter("identity")
                .input("x", OnnxModelWriter.FLOAT, -1, -1)
                .output("y", OnnxModelWriter.FLOAT, -1, -1)
                .node("Identity", new String[] {"x"}, new String[] {"y"}));
        try (OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).build()) {
            Tensor narrow = Tensor.ofFloats(new float[] {1, 2}, 1, 2);
            Tensor wide = Tensor.ofFloats(new float[] {3, 4, 5}, 1, 3);

            List<Tensors> out = model.predictBatch(List.of(Tensors.of("x", narrow), Tensors.of("x", wide)));

            assertThat(out).extracting(t -> t.require("y")).containsExactly(narrow, wide);
        }
    }

    @Test
    void predictBatch_fixedBatchModel_loopsOverRecords() {
        Path file = SharedModels.modelFile(SharedModels.folder("skl2018_linear_regression"));
        try (OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).build()) {
            Tensors a = Tensors.of("input", Tensor.ofFloats(new float[] {1, 2, 3, 4}, 1, 4));
            Tensors b = Tensors.of("input", Tensor.ofFloats(new float[] {4, 3, 2, 1}, 1, 4));

            List<Tensors> out = model.predictBatch(List.of(a, b));

            assertThat(out).containsExactly(model.predict(a), model.predict(b));
            assertThat(model.predictBatch(List.of())).isEmpty();
        }
    }

    @Test
    void predictBatch_badRecord_failsWithInvalidInput() {
        try (OnnxModel model = OnnxModel.builder(DemoModels.logistic(dir.resolve("tiny.onnx"), 4, 1))
                .intraOpThreads(1).build()) {
            Tensors good = Tensors.of("input", Tensor.ofFloats(new float[4], 1, 4));
            Tensors bad = Tensors.of("input", Tensor.ofFloats(new float[5], 1, 5));

            assertThatThrownBy(() -> model.predictBatch(List.of(good, bad)))
                    .isInstanceOfSatisfying(ScoringException.class,
                            e -> assertThat(e.kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT))
                    .hasMessageContaining("input 'input' expects FP32 [-1, 4], got FP32 [1, 5]");
        }
    }

    @Test
    void predictBatch_withoutAnySingleCall_pinsBatchOutputs() {
        try (OnnxModel model = OnnxModel.builder(DemoModels.logistic(dir.resolve("tiny.onnx"), 6, 3))
                .intraOpThreads(1).build()) {
            List<Tensors> batch = records(6, 5, 11);

            List<Tensors> first = model.predictBatch(batch); // unpinned: confirms the declared output shapes
            assertThat(model.batchOutputsPinned()).isTrue();
            List<Tensors> second = model.predictBatch(batch); // pinned, over the lease's cached feed

            assertThat(second).isEqualTo(first);
            for (int r = 0; r < batch.size(); r++) {
                assertThat(second.get(r)).isEqualTo(model.predict(batch.get(r)));
            }
        }
    }

    @Test
    void predictBatch_sizesGrowingAndShrinking_reuseFeedsAndStayExact() {
        int features = 9;
        try (OnnxModel model = OnnxModel.builder(DemoModels.logistic(dir.resolve("tiny.onnx"), features, 8))
                .intraOpThreads(1).build()) {
            // 2..40 grows the lease's buffers (dropping the feeds made over the old ones); back down reuses feeds
            int[] sizes = {2, 3, 2, 17, 40, 3, 17, 2, 40, 64, 5};
            for (int round = 0; round < 3; round++) {
                for (int size : sizes) {
                    List<Tensors> batch = records(features, size, round * 100 + size);
                    List<Tensors> batched = model.predictBatch(batch);
                    assertThat(batched).hasSize(size);
                    for (int r = 0; r < size; r++) {
                        assertThat(batched.get(r)).as("round %d, size %d, record %d", round, size, r)
                                .isEqualTo(model.predict(batch.get(r)));
                    }
                }
            }
        }
    }

    @Test
    void predictBatch_manyThreads_eachGetsItsOwnRecordsBack() throws Exception {
        int features = 5;
        int threads = 8;
        int batchesPerThread = 150;
        try (OnnxModel model = OnnxModel.builder(DemoModels.logistic(dir.resolve("tiny.onnx"), features, 4))
                .intraOpThreads(1).build()) {
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
            try {
                List<java.util.concurrent.Future<Integer>> done = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int seed = t;
                    done.add(pool.submit(() -> {
                        int checked = 0;
                        for (int b = 0; b < batchesPerThread; b++) {
                            List<Tensors> batch = records(features, 2 + (seed + b) % 7, seed * 1000 + b);
                            List<Tensors> batched = model.predictBatch(batch);
                            for (int r = 0; r < batch.size(); r++) {
                                assertThat(batched.get(r)).isEqualTo(model.predict(batch.get(r)));
                                checked++;
                            }
                        }
                        return checked;
                    }));
                }
                int total = 0;
                for (java.util.concurrent.Future<Integer> f : done) {
                    total += f.get(60, java.util.concurrent.TimeUnit.SECONDS);
                }
                int expected = 0;
                for (int t = 0; t < threads; t++) {
                    for (int b = 0; b < batchesPerThread; b++) {
                        expected += 2 + (t + b) % 7;
                    }
                }
                assertThat(total).isEqualTo(expected);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** {@code count} one-row records of {@code features} values, different for every seed. */
    private static List<Tensors> records(int features, int count, int seed) {
        List<Tensors> batch = new ArrayList<>();
        for (int r = 0; r < count; r++) {
            float[] x = new float[features];
            for (int i = 0; i < features; i++) {
                x[i] = (float) Math.sin(seed * 31 + r * 7 + i);
            }
            batch.add(Tensors.of("input", Tensor.ofFloats(x, 1, features)));
        }
        return batch;
    }
}
