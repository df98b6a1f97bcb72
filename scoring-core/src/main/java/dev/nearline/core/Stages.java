package dev.nearline.core;

import dev.nearline.api.DataType;
import dev.nearline.api.RowPostprocessor;
import dev.nearline.api.RowPreprocessor;
import dev.nearline.api.RowWriter;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.core.internal.RowsReader;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Ready-made stages for code-built pipelines over plain arrays. They work record by record and also row by row,
 * so that {@code scoreAll} and micro-batching take the columnar path (each record written straight into the
 * model's batch buffers, each result read from its row of the outputs) when the model batches along axis 0.
 * Every stage is immutable and thread-safe.
 */
public final class Stages {
    private Stages() {
    }

    /**
     * A {@code float[]} record of {@code width} features as the FP32 tensor {@code tensorName} of shape
     * {@code [1, width]}. A record of another length fails with {@code INVALID_INPUT}.
     */
    public static RowPreprocessor<float[]> floats(String tensorName, int width) {
        // interned, as ONNX models' input names are: the per-row name lookup then compares by identity
        String tensor = Objects.requireNonNull(tensorName, "tensor").intern();
        if (width < 1) {
            throw new IllegalArgumentException("width must be at least 1, got " + width);
        }
        List<TensorSpec> layout = List.of(TensorSpec.of(tensor, DataType.FP32, 1, width));
        long[] shape = {1, width};
        return new RowPreprocessor<>() {
            @Override
            public Tensors preprocess(float[] record) {
                check(record);
                return Tensors.of(tensor, Tensor.ofFloats(record, shape));
            }

            @Override
            public List<TensorSpec> rowLayout() {
                return layout;
            }

            @Override
            public void preprocessRow(float[] record, RowWriter row) {
                check(record);
                int input = row.input(tensor);
                if (input < 0) {
                    return;
                }
                row.setFloats(input, record);
            }

            private void check(float[] record) {
                if (record.length != width) {
                    throw ScoringException.invalidInput("record has " + record.length + " values, expected " + width
                            + " for tensor '" + tensor + "'");
                }
            }

            @Override
            public String toString() {
                return "floats(" + tensor + ", " + width + ")";
            }
        };
    }

    /**
     * Element {@code index} of the record's own part of output {@code outputName} (of a one-record output
     * {@code [1, n]}: element {@code index} of its row), as a float.
     */
    public static RowPostprocessor<Float> floatAt(String outputName, int index) {
        String output = Objects.requireNonNull(outputName, "output").intern(); // see floats
        if (index < 0) {
            throw new IllegalArgumentException("index must not be negative, got " + index);
        }
        return new FloatAt(output, index);
    }

    /** {@link #floatAt}: row by row, and every row of a batch in one pass. */
    private static final class FloatAt implements RowPostprocessor<Float>, RowsReader {
        private final String output;
        private final int index;

        FloatAt(String output, int index) {
            this.output = output;
            this.index = index;
        }

        @Override
        public Float postprocess(Tensors outputs) {
            return outputs.require(output).floatAt(index);
        }

        @Override
        public Float postprocessRow(Tensors batchOutputs, int row) {
            Tensor t = batchOutputs.require(output);
            return t.floatAt(row * rowSize(t) + index);
        }

        @Override
        public void postprocessRows(Tensors batchOutputs, int rows, int[] at, @Nullable Object[] results) {
            Tensor t = batchOutputs.require(output);
            int rowSize = rowSize(t);
            for (int r = 0, element = index; r < rows; r++, element += rowSize) {
                results[at[r]] = t.floatAt(element);
            }
        }

        /** Elements per row: a product of the few dimensions after the first, not a division per row. */
        private int rowSize(Tensor t) {
            long rowSize = 1;
            for (int d = 1; d < t.rank(); d++) {
                rowSize *= t.dim(d);
            }
            if (index >= rowSize) {
                throw new IndexOutOfBoundsException("index " + index + " is outside one row of output '" + output
                        + "' " + t);
            }
            return (int) rowSize;
        }

        @Override
        public String toString() {
            return "floatAt(" + output + ", " + index + ")";
        }
    }
}
