package dev.nearline.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.onnx.testing.OnnxModelWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failures inside ONNX Runtime that depend on the record alone are {@code INVALID_INPUT} (a host must not retry
 * them), through predict and predictBatch, with messages that name the model and describe shapes, not values.
 */
@ExtendWith(ModelLeakCheck.class)
class OnnxModelErrorKindTest {
    /** A value that would show up in a message that echoes tensor values. */
    private static final float MARKER = 4242.125f;

    @TempDir
    Path dir;

    /** {@code a} [-1, 2] and {@code b} [-1, 3] joined along axis 1: both inputs must have the same row count. */
    private Path concat() {
        Path file = dir.resolve("concat.onnx");
        OnnxModelTypesTest.write(file, new OnnxModelWriter("concat")
                .input("a", OnnxModelWriter.FLOAT, -1, 2)
                .input("b", OnnxModelWriter.FLOAT, -1, 3)
                .output("y", OnnxModelWriter.FLOAT, -1, 5)
                .node("Concat", new String[] {"a", "b"}, new String[] {"y"}, "axis", 1));
        return file;
    }

    private static Tensors rows(int rowsA, int rowsB) {
        float[] a = new float[rowsA * 2];
        float[] b = new float[rowsB * 3];
        Arrays.fill(a, MARKER);
        Arrays.fill(b, MARKER);
        return Tensors.of("a", Tensor.ofFloats(a, rowsA, 2)).with("b", Tensor.ofFloats(b, rowsB, 3));
    }

    @Test
    void predict_inputsDisagreeOnRowCount_failsWithInvalidInputNamingModelAndShapes() {
        Path file = concat();
        try (OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).build()) {
            assertThat(model.predict(rows(2, 2)).require("y").shape()).containsExactly(2, 5);

            assertThatThrownBy(() -> model.predict(rows(2, 3)))
                    .isInstanceOfSatisfying(ScoringException.class, e -> {
                        assertThat(e.kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT);
                        assertThat(e.isRetryable()).isFalse();
                    })
                    .hasMessageStartingWith("model '" + file + "' rejected the input: ")
                    .hasMessageContaining("Concat node")
                    .hasMessageContaining("Axis 0 has mismatched dimensions of 3 and 2")
                    .hasMessageNotContaining("4242");
        }
    }

    @Test
    void predictBatch_recordWhoseInputsDisagreeOnRowCount_failsWithInvalidInput() {
        try (OnnxModel model = OnnxModel.builder(concat()).intraOpThreads(1).build()) {
            // the bad record cannot join the batch (its inputs disagree), so predictBatch scores per record
            assertThatThrownBy(() -> model.predictBatch(List.of(rows(1, 1), rows(2, 3))))
                    .isInstanceOfSatisfying(ScoringException.class,
                            e -> assertThat(e.kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT))
                    .hasMessageContaining("mismatched dimensions");
            // and the model keeps working
            assertThat(model.predictBatch(List.of(rows(1, 1), rows(2, 2)))).extracting(t -> t.require("y").dim(0))
                    .containsExactly(1L, 2L);
        }
    }

    @Test
    void predict_inputsThatCannotBroadcast_failWithInvalidInput() {
        Path file = dir.resolve("add.onnx");
        OnnxModelTypesTest.write(file, new OnnxModelWriter("add")
                .input("a", OnnxModelWriter.FLOAT, -1, -1)
                .input("b", OnnxModelWriter.FLOAT, -1, -1)
                .output("y", OnnxModelWriter.FLOAT, -1, -1)
                .node("Add", new String[] {"a", "b"}, new String[] {"y"}));
        try (OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).build()) {
            Tensors bad = Tensors.of("a", Tensor.ofFloats(new float[6], 2, 3)).with("b", Tensor.ofFloats(new float[4], 2, 2));

            assertThatThrownBy(() -> model.predict(bad))
                    .isInstanceOfSatisfying(ScoringException.class,
                            e -> assertThat(e.kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT))
                    .hasMessageContaining("Attempting to broadcast an axis by a dimension other than 1");
            assertThatThrownBy(() -> model.predictBatch(List.of(bad, bad)))
                    .isInstanceOfSatisfying(ScoringException.class,
                            e -> assertThat(e.kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT));
        }
    }

    /**
     * Two small records whose broadcast asks for 2^42 floats (16 TiB): ONNX Runtime's allocation fails, and since
     * no machine that runs this test has that much memory, the record is at fault, not a passing shortage.
     */
    @Test
    void predict_broadcastNeedingMoreThanPhysicalMemory_failsWithInvalidInput() {
        Path file = dir.resolve("add.onnx");
        OnnxModelTypesTest.write(file, new OnnxModelWriter("add")
                .input("a", OnnxModelWriter.FLOAT, -1, -1)
                .input("b", OnnxModelWriter.FLOAT, -1, -1)
                .output("y", OnnxModelWriter.FLOAT, -1, -1)
                .node("Add", new String[] {"a", "b"}, new String[] {"y"}));
        int n = 1 << 21;
        try (OnnxModel model = OnnxModel.builder(file).intraOpThreads(1).build()) {
            Tensors huge = Tensors.of("a", Tensor.ofFloats(new float[n], n, 1)).with("b", Tensor.ofFloats(new float[n], 1, n));

            assertThatThrownBy(() -> model.predict(huge))
                    .isInstanceOfSatisfying(ScoringException.class,
                            e -> assertThat(e.kind()).isEqualTo(ScoringException.Kind.INVALID_INPUT))
                    .hasMessageContaining("it needs a buffer of 17592186044416 bytes, more than the");
        }
    }
}
