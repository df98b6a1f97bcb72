package dev.nearline.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.nearline.api.DataType;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.onnx.testing.DemoModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(ModelLeakCheck.class)
class DemoModelsTest {
    @TempDir
    Path dir;

    @Test
    void logistic_sameSeed_writesSameBytes() throws Exception {
        Path a = DemoModels.logistic(dir.resolve("a.onnx"), 30, 7);
        Path b = DemoModels.logistic(dir.resolve("b.onnx"), 30, 7);
        Path c = DemoModels.logistic(dir.resolve("c.onnx"), 30, 8);

        assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));
        assertThat(Files.readAllBytes(a)).isNotEqualTo(Files.readAllBytes(c));
    }

    @Test
    void logistic_scoresSigmoidOfWeightedSum() {
        int features = 30;
        long seed = 42;
        try (OnnxModel model = OnnxModel.builder(DemoModels.logistic(dir.resolve("nested/tiny.onnx"), features, seed))
                .intraOpThreads(1).build()) {
            assertThat(model.signature()).isEqualTo(new ModelSignature(
                    java.util.List.of(TensorSpec.of("input", DataType.FP32, -1, features)),
                    java.util.List.of(TensorSpec.of("score", DataType.FP32, -1, 1))));

            // The same draws the generator makes: weights first, then the bias.
            SplittableRandom random = new SplittableRandom(seed);
            double limit = 1.0 / Math.sqrt(features);
            float[] w = new float[features];
            for (int i = 0; i < features; i++) {
                w[i] = (float) random.nextDouble(-limit, limit);
            }
            float bias = (float) random.nextDouble(-0.1, 0.1);
            float[] x = new float[features];
            double logit = bias;
            for (int i = 0; i < features; i++) {
                x[i] = (i - 15) / 10f;
                logit += x[i] * w[i];
            }

            Tensors out = model.predict(Tensors.of("input", Tensor.ofFloats(x, 1, features)));

            assertThat(out.names()).containsExactly("score");
            assertThat(out.require("score").shape()).containsExactly(1, 1);
            assertThat(out.require("score").floatAt(0)).isCloseTo((float) (1 / (1 + Math.exp(-logit))), within(1e-6f));
        }
    }

    @Test
    void logistic_givenWeights_scoresWithThem() {
        Path file = DemoModels.logistic(dir.resolve("fraud.onnx"), new float[] {2f, -1f}, 0.5f);
        try (OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).build()) {
            Tensor score = model.predict(Tensors.of("input", Tensor.ofFloats(new float[] {1f, 3f}, 1, 2))).require("score");

            assertThat(score.floatAt(0)).isCloseTo((float) (1 / (1 + Math.exp(-(2 - 3 + 0.5)))), within(1e-6f));
        }
    }

    @Test
    void mlp_returnsProbabilitiesThatSumToOne() {
        try (OnnxModel model = OnnxModel.builder(DemoModels.mlp(dir.resolve("mlp.onnx"), 1)).intraOpThreads(1).build()) {
            assertThat(model.signature().inputs()).containsExactly(TensorSpec.of("input", DataType.FP32, -1, 256));
            assertThat(model.signature().outputs()).containsExactly(TensorSpec.of("probabilities", DataType.FP32, -1, 10));
            float[] x = new float[2 * 256];
            for (int i = 0; i < x.length; i++) {
                x[i] = (i % 17) / 17f;
            }

            Tensor p = model.predict(Tensors.of("input", Tensor.ofFloats(x, 2, 256))).require("probabilities");

            assertThat(p.shape()).containsExactly(2, 10);
            for (int row = 0; row < 2; row++) {
                double sum = 0;
                for (int c = 0; c < 10; c++) {
                    assertThat(p.floatAt(row * 10 + c)).isBetween(0f, 1f);
                    sum += p.floatAt(row * 10 + c);
                }
                assertThat(sum).isCloseTo(1.0, within(1e-5));
            }
        }
    }
}
