package dev.nearline.onnx;

import dev.nearline.api.Model;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.core.testing.ModelContract;
import dev.nearline.onnx.testing.DemoModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The ONNX model keeps the Model contract (a 13-feature logistic regression, batching undeclared). */
class OnnxModelContractTest extends ModelContract {
    private static final int FEATURES = 13;
    @TempDir
    static Path dir;
    static Path file;

    @BeforeAll
    static void writeModel() {
        file = DemoModels.logistic(dir.resolve("logistic.onnx"), FEATURES, 7);
    }

    @Override
    protected Model newModel() {
        return OnnxModel.builder(file).intraOpThreads(1).build();
    }

    @Override
    protected List<Tensors> records(Model model, int n) {
        List<Tensors> records = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] x = new float[FEATURES];
            for (int j = 0; j < FEATURES; j++) {
                x[j] = (i + 1) * 0.1f * (j % 3 - 1) + 0.01f * j;
            }
            records.add(Tensors.of(model.signature().inputs().get(0).name(), Tensor.ofFloats(x, 1, FEATURES)));
        }
        return records;
    }
}
