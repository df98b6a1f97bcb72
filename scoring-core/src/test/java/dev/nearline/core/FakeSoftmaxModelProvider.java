package dev.nearline.core;

import dev.nearline.api.DataType;
import dev.nearline.api.Model;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.api.spi.ModelProvider;
import dev.nearline.api.spi.Settings;
import java.util.List;

/**
 * {@code fake-softmax}: input FP32 {@code [-1, classes]} to output {@code probabilities} (softmax of the
 * row), plus a {@code probabilities.keys} tensor from {@code keys} (BYTES) or {@code intKeys} (INT64), as
 * the ONNX backend adds for scikit-learn ZipMap outputs.
 */
public final class FakeSoftmaxModelProvider implements ModelProvider {

    @Override
    public String type() {
        return "fake-softmax";
    }

    @Override
    public Model create(Settings s) {
        int classes = s.integer("classes");
        Tensor keys = null;
        if (s.has("keys")) {
            keys = Tensor.ofStrings(s.strings("keys").toArray(new String[0]), classes);
        } else if (s.has("intKeys")) {
            List<Double> k = s.numbers("intKeys");
            long[] l = new long[k.size()];
            for (int i = 0; i < l.length; i++) {
                l[i] = k.get(i).longValue();
            }
            keys = Tensor.ofLongs(l, classes);
        }
        s.strings("keys", List.of());
        return new Softmax(classes, keys);
    }

    static final class Softmax extends FakeModel {
        private final int classes;
        private final Tensor keys;

        Softmax(int classes, Tensor keys) {
            this.classes = classes;
            this.keys = keys;
        }

        @Override
        public ModelSignature signature() {
            return new ModelSignature(List.of(TensorSpec.of("input", DataType.FP32, -1, classes)),
                    List.of(TensorSpec.of("probabilities", DataType.FP32, -1, classes)));
        }

        @Override
        protected Tensors compute(Tensors inputs) {
            float[] x = inputs.require("input").toFloatArray();
            float[] p = new float[x.length];
            double sum = 0;
            for (float v : x) {
                sum += Math.exp(v);
            }
            for (int i = 0; i < x.length; i++) {
                p[i] = (float) (Math.exp(x[i]) / sum);
            }
            Tensors out = Tensors.of("probabilities", Tensor.ofFloats(p, 1, classes));
            return keys == null ? out : out.with("probabilities.keys", keys);
        }
    }
}
