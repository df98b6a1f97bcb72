package dev.nearline.core;

import dev.nearline.api.DataType;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import java.util.ArrayList;
import java.util.List;

/**
 * A sequence model whose dynamic first axis is time, not the batch: the output is the running sum of the
 * input rows (FP32 {@code [-1, 2]} in and out), as a recurrent model carries state along its sequence. Its
 * {@link #predictBatch} concatenates records along the first axis, as a naive backend does, so a batched
 * record's answer depends on the records before it: exactly the silently wrong answer the batching rule must
 * prevent. It declares nothing about batching.
 */
public class FakeSequenceModel extends FakeModel {

    @Override
    public ModelSignature signature() {
        return new ModelSignature(List.of(TensorSpec.of("input", DataType.FP32, -1, 2)),
                List.of(TensorSpec.of("sum", DataType.FP32, -1, 2)));
    }

    @Override
    protected Tensors compute(Tensors inputs) {
        float[] x = inputs.require("input").toFloatArray();
        float[] out = new float[x.length];
        float a = 0;
        float b = 0;
        for (int i = 0; i < x.length; i += 2) {
            a += x[i];
            b += x[i + 1];
            out[i] = a;
            out[i + 1] = b;
        }
        return Tensors.of("sum", Tensor.ofFloats(out, x.length / 2, 2));
    }

    @Override
    public List<Tensors> predictBatch(List<Tensors> batch) {
        batchCalls.incrementAndGet();
        return guarded(() -> {
            int rows = 0;
            for (Tensors t : batch) {
                rows += (int) t.require("input").dim(0);
            }
            float[] all = new float[rows * 2];
            int at = 0;
            for (Tensors t : batch) {
                float[] v = t.require("input").toFloatArray();
                System.arraycopy(v, 0, all, at, v.length);
                at += v.length;
            }
            float[] sums = compute(Tensors.of("input", Tensor.ofFloats(all, rows, 2))).require("sum").toFloatArray();
            List<Tensors> out = new ArrayList<>();
            at = 0;
            for (Tensors t : batch) {
                int k = (int) t.require("input").dim(0);
                float[] part = new float[k * 2];
                System.arraycopy(sums, at, part, 0, part.length);
                at += part.length;
                out.add(Tensors.of("sum", Tensor.ofFloats(part, k, 2)));
            }
            return out;
        });
    }
}
