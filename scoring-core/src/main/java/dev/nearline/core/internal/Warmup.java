package dev.nearline.core.internal;

import dev.nearline.api.DataType;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;

/** Builds synthetic records from a model's signature, so the first real record does not pay for warm-up. */
final class Warmup {
    private Warmup() {
    }

    /**
     * Zeros (empty strings for BYTES) of every input's declared type and shape, with dynamic dimensions set
     * to 1 and undeclared shapes as {@code [1]}.
     */
    static Tensors syntheticInputs(ModelSignature signature) {
        Tensors.Builder b = Tensors.builder();
        for (TensorSpec spec : signature.inputs()) {
            long[] declared = spec.shape();
            long[] shape = declared == null ? new long[] {1} : declared.clone();
            for (int i = 0; i < shape.length; i++) {
                if (shape[i] < 0) {
                    shape[i] = 1;
                }
            }
            DataType type = spec.type();
            b.add(spec.name(), Tensor.zeros(type, shape));
        }
        return b.build();
    }
}
