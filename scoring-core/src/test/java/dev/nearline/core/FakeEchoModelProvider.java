package dev.nearline.core;

import dev.nearline.api.DataType;
import dev.nearline.api.Model;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.api.spi.ModelProvider;
import dev.nearline.api.spi.Settings;
import java.util.ArrayList;
import java.util.List;

/** {@code fake-echo}: returns its inputs; {@code tensors} lists their names and datatypes (any shape). */
public final class FakeEchoModelProvider implements ModelProvider {

    @Override
    public String type() {
        return "fake-echo";
    }

    @Override
    public Model create(Settings s) {
        List<TensorSpec> specs = new ArrayList<>();
        for (Settings t : s.objects("tensors")) {
            specs.add(new TensorSpec(t.string("name"), DataType.fromName(t.string("datatype")), null));
        }
        ModelSignature signature = new ModelSignature(specs, specs);
        return new FakeModel() {
            @Override
            public ModelSignature signature() {
                return signature;
            }

            @Override
            protected Tensors compute(Tensors inputs) {
                return inputs;
            }
        };
    }
}
