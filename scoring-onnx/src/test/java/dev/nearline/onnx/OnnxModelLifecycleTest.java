package dev.nearline.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.onnx.testing.DemoModels;
import dev.nearline.onnx.testing.SharedModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Loading, failure modes, devices and closing. */
@ExtendWith(ModelLeakCheck.class)
class OnnxModelLifecycleTest {
    @TempDir
    Path dir;

    private Path tiny() {
        return DemoModels.logistic(dir.resolve("tiny.onnx"), 4, 11);
    }

    private static Tensors record() {
        return Tensors.of("input", Tensor.ofFloats(new float[] {1, 2, 3, 4}, 1, 4));
    }

    @Test
    void close_calledTwice_isIdempotent() {
        OnnxModel model = ModelLeakCheck.track(OnnxModel.builder(tiny()).build());
        model.predict(record());

        model.close();
        model.close();
    }

    @Test
    void predict_afterClose_failsWithUnavailable() {
        OnnxModel model = ModelLeakCheck.track(OnnxModel.builder(tiny()).build());
        model.close();

        assertThatThrownBy(() -> model.predict(record()))
                .isInstanceOfSatisfying(ScoringException.class,
                        e -> assertThat(e.kind()).isEqualTo(ScoringException.Kind.UNAVAILABLE))
                .hasMessageContaining("is closed");
        assertThatThrownBy(() -> model.predictBatch(List.of(record(), record())))
                .isInstanceOfSatisfying(ScoringException.class,
                        e -> assertThat(e.kind()).isEqualTo(ScoringException.Kind.UNAVAILABLE));
    }

    @Test
    void build_cudaWithoutGpu_failsNamingTheFix() {
        assertThatThrownBy(() -> OnnxModel.builder(tiny()).cuda(0).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("device cuda:0 requested")
                .hasMessageContaining("onnxruntime_gpu")
                .hasMessageContaining("fallbackToCpu");
        assertThatThrownBy(() -> OnnxModel.builder(tiny()).tensorrt(1).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("device tensorrt:1 requested");
    }

    @Test
    void build_cudaWithFallback_runsOnCpu() {
        try (OnnxModel model = OnnxModel.builder(tiny()).cuda(0).fallbackToCpu(true).build()) {
            assertThat(model.device()).isEqualTo(OnnxModel.Device.CPU);
            assertThat(model.predict(record()).require("score").floatAt(0)).isBetween(0f, 1f);
        }
    }

    @Test
    void build_everyOption_loadsAndPredicts() {
        try (OnnxModel model = OnnxModel.builder(tiny())
                .device(OnnxModel.Device.CPU)
                .fallbackToCpu(false)
                .intraOpThreads(1)
                .interOpThreads(1)
                .optimization(OnnxModel.GraphOptimization.BASIC)
                .executionMode(OnnxModel.ExecutionMode.PARALLEL)
                .allowSpinning(false)
                .build()) {
            assertThat(model.predict(record()).require("score").shape()).containsExactly(1, 1);
            assertThat(model.toString()).contains("tiny.onnx").contains("CPU");
        }
    }

    @Test
    void builder_propertySetTwice_throws() {
        OnnxModel.Builder b = OnnxModel.builder(tiny()).cuda(0).intraOpThreads(2).allowSpinning(true);

        assertThatThrownBy(() -> b.device(OnnxModel.Device.CPU)).isInstanceOf(IllegalStateException.class)
                .hasMessage("device was already set");
        assertThatThrownBy(() -> b.tensorrt(0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> b.intraOpThreads(2)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> b.allowSpinning(false)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> OnnxModel.builder(tiny()).interOpThreads(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OnnxModel.builder(tiny()).cuda(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void build_missingFile_failsNamingThePath() {
        Path missing = dir.resolve("nope/model.onnx");

        assertThatThrownBy(() -> OnnxModel.builder(missing).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not found")
                .hasMessageContaining(missing.toString());
        assertThatThrownBy(() -> OnnxModel.builder(dir).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(dir.toString());
    }

    @Test
    void build_fileIsNotOnnx_failsNamingThePath() throws Exception {
        Path text = Files.writeString(dir.resolve("notes.onnx"), "this is not a model\n", StandardCharsets.UTF_8);
        Path empty = Files.write(dir.resolve("empty.onnx"), new byte[0]);

        assertThatThrownBy(() -> OnnxModel.builder(text).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot load ONNX model " + text);
        assertThatThrownBy(() -> OnnxModel.builder(empty).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(empty.toString());
    }

    @Test
    void predict_missingOrMistypedInput_failsWithInvalidInput() {
        try (OnnxModel model = OnnxModel.builder(tiny()).build()) {
            assertThatThrownBy(() -> model.predict(Tensors.of("features", Tensor.ofFloats(new float[4], 1, 4))))
                    .isInstanceOfSatisfying(ScoringException.class,
                            e -> assertThat(e.kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT))
                    .hasMessageContaining("missing input 'input' (FP32 [-1, 4]), got [features]");
            assertThatThrownBy(() -> model.predict(Tensors.of("input", Tensor.ofDoubles(new double[4], 1, 4))))
                    .isInstanceOfSatisfying(ScoringException.class,
                            e -> assertThat(e.kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT))
                    .hasMessageContaining("input 'input' expects FP32 [-1, 4], got FP64 [1, 4]");
        }
    }

    @Test
    void predict_extraTensors_areIgnored() {
        try (OnnxModel model = OnnxModel.builder(tiny()).build()) {
            Tensors withExtra = record().with("unrelated", Tensor.ofStrings(new String[] {"x"}, 1));

            assertThat(model.predict(withExtra)).isEqualTo(model.predict(record()));
        }
    }

    @Test
    void predict_valuesOnnxRuntimeRejects_failWithInvalidInputNamingTheModel() {
        Path file = SharedModels.modelFile(SharedModels.folder("tribuo_tinybert"));
        try (OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).build()) {
            long[] ids = {1, 2, 3, 4};
            long[] ones = {1, 1, 1, 1};
            long[] badTypes = {0, 7, 0, 0}; // token types outside {0, 1}
            Tensors bad = Tensors.builder()
                    .add("input_ids", Tensor.ofLongs(ids, 1, 4))
                    .add("attention_mask", Tensor.ofLongs(ones, 1, 4))
                    .add("token_type_ids", Tensor.ofLongs(badTypes, 1, 4))
                    .build();

            assertThatThrownBy(() -> model.predict(bad))
                    .isInstanceOfSatisfying(ScoringException.class,
                            e -> assertThat(e.kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT))
                    .hasMessageContaining(file.toString())
                    .hasMessageContaining("out of data bounds")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));

            // the bad record did not break the model
            Tensors good = bad.with("token_type_ids", Tensor.ofLongs(new long[4], 1, 4));
            assertThat(model.predict(good).names()).containsExactly("output_0", "output_1");
        }
    }
}
