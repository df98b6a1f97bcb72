package dev.nearline.core;

import dev.nearline.api.DataType;
import dev.nearline.api.Model;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.core.testing.FunctionModel;
import dev.nearline.core.testing.ModelContract;
import java.util.ArrayList;
import java.util.List;

/** A model made from a lambda keeps the Model contract. */
class FunctionModelContractTest extends ModelContract {
    private static final ModelSignature SIGNATURE = new ModelSignature(
            List.of(TensorSpec.of("x", DataType.FP32, -1, 2)), List.of(TensorSpec.of("y", DataType.FP32, -1, 1)));

    @Override
    protected Model newModel() {
        return new FunctionModel(SIGNATURE, in -> {
            float[] x = in.require("x").toFloatArray();
            float[] y = new float[x.length / 2];
            for (int r = 0; r < y.length; r++) {
                y[r] = 2 * x[2 * r] - x[2 * r + 1];
            }
            return Tensors.of("y", Tensor.ofFloats(y, y.length, 1));
        });
    }

    @Override
    protected List<Tensors> records(Model model, int n) {
        List<Tensors> records = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            records.add(Tensors.of("x", Tensor.ofFloats(new float[] {i, 1 - i}, 1, 2)));
        }
        return records;
    }
}
