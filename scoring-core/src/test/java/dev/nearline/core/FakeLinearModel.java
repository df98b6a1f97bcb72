package dev.nearline.core;

import dev.nearline.api.DataType;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * {@code score = w·x + b} per row: input FP32 {@code [-1, n]}, output FP32 {@code [-1, 1]}.
 * {@link #predictBatch} stacks the records into one call, as a real batching backend does. A row whose
 * first value equals {@link #POISON} makes the call fail, batched or not.
 */
public class FakeLinearModel extends FakeModel {
    public static final float POISON = 666f;

    private final String input;
    private final String output;
    private final float[] weights;
    private final float bias;
    /** Records per predictBatch call, in call order. */
    public final Queue<Integer> batchSizes = new ConcurrentLinkedQueue<>();

    public FakeLinearModel(float[] weights, float bias) {
        this("input", "score", weights, bias);
    }

    public FakeLinearModel(String input, String output, float[] weights, float bias) {
        this.input = input;
        this.output = output;
        this.weights = weights.clone();
        this.bias = bias;
    }

    /** What the model computes for one row, for expected values in tests. */
    public float expected(float[] x) {
        float s = bias;
        for (int i = 0; i < weights.length; i++) {
            s += weights[i] * x[i];
        }
        return s;
    }

    @Override
    public ModelSignature signature() {
        return new ModelSignature(List.of(TensorSpec.of(input, DataType.FP32, -1, weights.length)),
                List.of(TensorSpec.of(output, DataType.FP32, -1, 1)));
    }

    @Override
    protected Tensors compute(Tensors inputs) {
        Tensor x = inputs.require(input);
        int rows = (int) x.dim(0);
        float[] out = new float[rows];
        float[] row = new float[weights.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < weights.length; c++) {
                row[c] = x.floatAt(r * weights.length + c);
            }
            if (weights.length > 0 && row[0] == POISON) {
                throw new IllegalArgumentException("poisoned row " + r);
            }
            out[r] = expected(row);
        }
        return Tensors.of(output, Tensor.ofFloats(out, rows, 1));
    }

    /** Rows are independent, so records stack along the first axis: declared, no probe needed. */
    @Override
    public dev.nearline.api.Batching batching() {
        return dev.nearline.api.Batching.alongAxis(0);
    }

    @Override
    public List<Tensors> predictBatch(List<Tensors> batch) {
        batchCalls.incrementAndGet();
        batchSizes.add(batch.size());
        return guarded(() -> {
            int n = weights.length;
            int rows = 0;
            for (Tensors t : batch) {
                rows += (int) t.require(input).dim(0);
            }
            float[] stacked = new float[rows * n];
            int at = 0;
            for (Tensors t : batch) {
                float[] v = t.require(input).toFloatArray();
                System.arraycopy(v, 0, stacked, at, v.length);
                at += v.length;
            }
            float[] scores = compute(Tensors.of(input, Tensor.ofFloats(stacked, rows, n))).require(output).toFloatArray();
            List<Tensors> out = new ArrayList<>(batch.size());
            int r = 0;
            for (Tensors t : batch) {
                int k = (int) t.require(input).dim(0);
                float[] part = new float[k];
                System.arraycopy(scores, r, part, 0, k);
                r += k;
                out.add(Tensors.of(output, Tensor.ofFloats(part, k, 1)));
            }
            return out;
        });
    }

    @Override
    public String toString() {
        return "FakeLinearModel[" + input + " -> " + output + "]";
    }
}
