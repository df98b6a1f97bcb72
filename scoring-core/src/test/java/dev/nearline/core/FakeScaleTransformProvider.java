package dev.nearline.core;

import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.api.Transform;
import dev.nearline.api.spi.Settings;
import dev.nearline.api.spi.TransformProvider;

/** {@code fake-scale}: multiplies the FP32 tensor {@code from} by {@code factor} into tensor {@code to}. */
public final class FakeScaleTransformProvider implements TransformProvider {

    @Override
    public String type() {
        return "fake-scale";
    }

    @Override
    public Transform create(Settings s) {
        String from = s.string("from");
        String to = s.string("to");
        float factor = (float) s.number("factor");
        return tensors -> {
            Tensor t = tensors.require(from);
            float[] v = t.toFloatArray();
            for (int i = 0; i < v.length; i++) {
                v[i] *= factor;
            }
            return Tensors.of(to, Tensor.ofFloats(v, t.shape()));
        };
    }
}
