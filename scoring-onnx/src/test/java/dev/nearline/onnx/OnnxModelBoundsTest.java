package dev.nearline.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.onnx.testing.OnnxModelWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Native memory a record's shape makes OnnxModel hold stays bounded, and odd shapes are scored, not thrown at. */
@ExtendWith(ModelLeakCheck.class)
class OnnxModelBoundsTest {
    @TempDir
    Path dir;

    private Path identity(long... outputDims) {
        Path file = dir.resolve("identity.onnx");
        OnnxModelTypesTest.write(file, new OnnxModelWriter("identity")
                .input("x", OnnxModelWriter.FLOAT, -1, -1)
                .output("y", OnnxModelWriter.FLOAT, outputDims)
                .node("Identity", new String[] {"x"}, new String[] {"y"}));
        return file;
    }

    @Test
    void predict_firstRecordLargerThanASlot_isScoredWithoutPoolingItsShape() {
        try (OnnxModel model = OnnxModel.builder(identity(-1, -1)).intraOpThreads(1).build()) {
            // 2048 x 2100 floats: 17 MB, more than one pooled slot may take (16 MB)
            float[] values = new float[2048 * 2100];
            values[values.length - 1] = 7;
            Tensor large = Tensor.ofFloats(values, 2048, 2100);

            assertThat(model.predict(Tensors.of("x", large)).require("y")).isEqualTo(large);
            assertThat(model.slotPool()).as("no pool latched on the large shape").isNull();

            Tensor small = Tensor.ofFloats(new float[] {1, 2, 3}, 1, 3);
            assertThat(model.predict(Tensors.of("x", small)).require("y")).isEqualTo(small);
            assertThat(model.slotPool()).isNotNull();
            assertThat(model.slotPool().inputShape(0)).containsExactly(1, 3);
        }
    }

    /**
     * The output is declared [-1, 2^20]; a record of 3000 rows would make pinned outputs of 3 billion floats,
     * more than a buffer holds. The model still answers (ONNX Runtime, not the declaration, shapes the output).
     */
    @Test
    void predict_declaredOutputTooLargeToPin_scoresInsteadOfThrowing() {
        try (OnnxModel model = OnnxModel.builder(identity(-1, 1 << 20)).intraOpThreads(1).build()) {
            Tensor x = Tensor.ofFloats(new float[3000], 3000, 1);

            assertThat(model.predict(Tensors.of("x", x)).require("y")).isEqualTo(x);
            assertThat(model.predictBatch(List.of(Tensors.of("x", x), Tensors.of("x", x))))
                    .extracting(t -> t.require("y")).containsExactly(x, x);
        }
    }

    @Test
    void predictBatch_outputsBeyondThePinnedLimit_runUnpinnedAndStayExact() {
        int width = 8192;
        float[] w = new float[width];
        for (int i = 0; i < width; i++) {
            w[i] = i % 7 - 3;
        }
        Path file = dir.resolve("wide.onnx");
        OnnxModelTypesTest.write(file, new OnnxModelWriter("wide")
                .input("x", OnnxModelWriter.FLOAT, -1, 1)
                .output("y", OnnxModelWriter.FLOAT, -1, width)
                .initializer("w", w, 1, width)
                .node("MatMul", new String[] {"x", "w"}, new String[] {"y"}));
        try (OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).build()) {
            List<Tensors> small = records(3);
            assertThat(model.predictBatch(small)).hasSize(3); // confirms the declared shapes: pins batch outputs
            assertThat(model.batchOutputsPinned()).isTrue();

            // 600 rows x 8192 floats: 19.7 MB of outputs, above the 16 MB kept pinned
            List<Tensors> large = records(600);
            List<Tensors> out = model.predictBatch(large);

            for (int r = 0; r < large.size(); r += 97) {
                assertThat(out.get(r)).as("record %d", r).isEqualTo(model.predict(large.get(r)));
            }
            assertThat(model.batchOutputsPinned()).isTrue();
            List<Tensors> again = model.predictBatch(small);
            for (int r = 0; r < small.size(); r++) {
                assertThat(again.get(r)).isEqualTo(model.predict(small.get(r)));
            }
        }
    }

    private static List<Tensors> records(int n) {
        List<Tensors> out = new ArrayList<>(n);
        for (int r = 0; r < n; r++) {
            out.add(Tensors.of("x", Tensor.ofFloats(new float[] {r * 0.25f - 3}, 1, 1)));
        }
        return out;
    }
}
