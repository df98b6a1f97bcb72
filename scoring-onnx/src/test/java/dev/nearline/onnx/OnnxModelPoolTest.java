package dev.nearline.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.onnx.testing.OnnxModelWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Output pinning only where the declared output shapes hold, and recovery where they do not. */
@ExtendWith(ModelLeakCheck.class)
class OnnxModelPoolTest {
    @TempDir
    Path dir;

    @Test
    void predict_firstRecord_alreadyWritesIntoPinnedOutputs() {
        Path file = dir.resolve("identity.onnx");
        OnnxModelTypesTest.write(file, new OnnxModelWriter("identity")
                .input("x", OnnxModelWriter.FLOAT, -1, 3)
                .output("y", OnnxModelWriter.FLOAT, -1, 3)
                .node("Identity", new String[] {"x"}, new String[] {"y"}));
        try (OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).build()) {
            // The first record takes the path of every later one, so the second meets no first-time work.
            assertThat(model.slotPool().pinned()).isTrue();
            Tensor x = Tensor.ofFloats(new float[] {1, 2, 3}, 1, 3);
            assertThat(model.predict(Tensors.of("x", x)).require("y")).isEqualTo(x);
            assertThat(model.slotPool().pinned()).isTrue();
            assertThat(model.slotPool().slotsCreated()).isEqualTo(1);
        }
    }

    @Test
    void predict_wronglyDeclaredOutputShape_stopsPinningAndReturnsActualShape() {
        Path file = dir.resolve("liar.onnx");
        OnnxModelTypesTest.write(file, new OnnxModelWriter("liar")
                .input("x", OnnxModelWriter.FLOAT, -1, 3)
                .output("y", OnnxModelWriter.FLOAT, -1, 2) // Identity really returns [-1, 3]
                .node("Identity", new String[] {"x"}, new String[] {"y"}));
        try (OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).build()) {
            Tensor x = Tensor.ofFloats(new float[] {1, 2, 3}, 1, 3);
            for (int call = 0; call < 3; call++) {
                assertThat(model.predict(Tensors.of("x", x)).require("y")).isEqualTo(x);
            }
            assertThat(model.slotPool()).isNotNull();
            assertThat(model.slotPool().pinned()).isFalse();
        }
    }

    @Test
    void predict_dataDependentOutputShape_stopsPinningAndStaysCorrect() {
        Path file = dir.resolve("reshape.onnx");
        OnnxModelTypesTest.write(file, new OnnxModelWriter("reshape")
                .input("x", OnnxModelWriter.FLOAT, -1, 3)
                .input("shape", OnnxModelWriter.INT64, 2)
                .output("y", OnnxModelWriter.FLOAT, -1, 3)
                .node("Reshape", new String[] {"x", "shape"}, new String[] {"y"}));
        try (OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).build()) {
            float[] values = {1, 2, 3};
            Tensors asDeclared = Tensors.of("x", Tensor.ofFloats(values, 1, 3), "shape", Tensor.ofLongs(new long[] {1, 3}, 2));
            model.predict(asDeclared);
            assertThat(model.predict(asDeclared).require("y")).isEqualTo(Tensor.ofFloats(values, 1, 3));
            assertThat(model.slotPool().pinned()).isTrue();

            Tensors transposed = asDeclared.with("shape", Tensor.ofLongs(new long[] {3, 1}, 2));
            assertThat(model.predict(transposed).require("y")).isEqualTo(Tensor.ofFloats(values, 3, 1));
            assertThat(model.slotPool().pinned()).isFalse();
            assertThat(model.predict(asDeclared).require("y")).isEqualTo(Tensor.ofFloats(values, 1, 3));
        }
    }
}
